"""Evaluation: vectorized ranking metrics."""

from workbench.evaluation.evaluate import (
    catalog_coverage,
    evaluate,
    evaluate_models,
    evaluate_next_basket,
    evaluate_per_user,
    summarize,
)
from workbench.evaluation.metrics import METRICS

__all__ = [
    "evaluate",
    "evaluate_next_basket",
    "evaluate_models",
    "evaluate_per_user",
    "catalog_coverage",
    "summarize",
    "METRICS",
]
