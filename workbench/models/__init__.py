"""Recommenders sharing one protocol: fit(train) -> self, recommend(users, k=10) -> frame."""

from pathlib import Path
from typing import Any

from workbench.errors import ModelError
from workbench.models import storage
from workbench.models.als import ALSRecommender
from workbench.models.base import Recommender
from workbench.models.candidates import CandidateGenerator, candidate_recall
from workbench.models.coldstart import ClusterColdStart
from workbench.models.content import ContentRecommender, ContentSimilarity
from workbench.models.ease import EASERecommender
from workbench.models.hybrid import HybridRecommender
from workbench.models.popularity import DecayedPopularity, PopularityRecommender
from workbench.models.repeat import RepeatRecommender
from workbench.models.rerank import LightGBMReranker
from workbench.models.tifuknn import TIFUKNNRecommender
from workbench.models.upcf import UPCFRecommender

__all__ = [
    "Recommender",
    "PopularityRecommender",
    "DecayedPopularity",
    "RepeatRecommender",
    "TIFUKNNRecommender",
    "UPCFRecommender",
    "ALSRecommender",
    "EASERecommender",
    "ClusterColdStart",
    "ContentRecommender",
    "ContentSimilarity",
    "HybridRecommender",
    "CandidateGenerator",
    "candidate_recall",
    "LightGBMReranker",
    "load_model",
    "saved_classes",
]


def saved_classes() -> dict[str, type]:
    """The classes whose saved directories :func:`load_model` reads, by class name."""
    exported = (globals()[name] for name in __all__ if name[0].isupper())
    return {cls.__name__: cls for cls in exported if hasattr(cls, "load") and cls is not Recommender}


def load_model(directory: str | Path) -> Any:
    """Load a directory written by any workbench model's ``save``, whatever its class.

    >>> model = load_model("models/als")  # doctest: +SKIP
    """
    class_name = storage.saved_class(directory)
    cls = saved_classes().get(class_name)
    if cls is None:
        raise ModelError(f"{directory}: holds a {class_name!r} model, which workbench cannot load")
    return cls.load(directory)
