"""Confidence weights of interactions: from event type, rating, or plain counts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError

#: A purchase says more than a cart, a cart more than a view.
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "cart": 3.0, "purchase": 5.0}


def confidence(train: Dataset, weighting: str | Mapping[str, float] = "auto") -> np.ndarray:
    """Per-interaction weight: ``"auto"`` (events, else ratings, else 1), ``"binary"``,
    ``"rating"``, ``"event"`` (default event weights) or a mapping event -> weight.

    >>> confidence(ds, {"view": 1, "purchase": 10})  # doctest: +SKIP
    """
    log = train.interactions
    if weighting == "auto":
        weighting = "event" if C.EVENT in log.columns else "rating" if C.RATING in log.columns else "binary"
    if weighting == "binary":
        return np.ones(len(log), dtype=np.float32)
    if weighting == "rating":
        if C.RATING not in log.columns:
            raise DataError("weighting='rating' needs a 'rating' column, and the interactions have none")
        return log[C.RATING].to_numpy(dtype=np.float32)
    mapping = EVENT_WEIGHTS if weighting == "event" else weighting
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"weighting must be 'auto', 'binary', 'rating', 'event' or a mapping, got {weighting!r}")
    if C.EVENT not in log.columns:
        raise DataError("event weighting needs an 'event' column, and the interactions have none")
    weights = log[C.EVENT].map(dict(mapping))
    unknown = weights.isna()
    if unknown.any():
        example = log[C.EVENT][unknown].iloc[0]
        raise DataError(
            f"interactions: column 'event' has {int(unknown.sum()):,} rows with event types "
            f"that have no weight (e.g. {example!r}); give weights for {sorted(log[C.EVENT].unique())[:8]}"
        )
    return weights.to_numpy(dtype=np.float32)
