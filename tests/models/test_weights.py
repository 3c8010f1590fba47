"""Confidence weights from events, ratings or counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError
from workbench.models.weights import EVENT_WEIGHTS, confidence


def log(**extra) -> Dataset:
    return Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"], **extra}))


def test_events_map_to_their_default_weights():
    ds = log(event=["view", "purchase", "cart"])
    expected = [EVENT_WEIGHTS["view"], EVENT_WEIGHTS["purchase"], EVENT_WEIGHTS["cart"]]
    assert confidence(ds).tolist() == expected
    assert confidence(ds, {"view": 1, "cart": 2, "purchase": 10}).tolist() == [1.0, 10.0, 2.0]
    assert EVENT_WEIGHTS["purchase"] > EVENT_WEIGHTS["cart"] > EVENT_WEIGHTS["view"]


def test_ratings_and_binary():
    ds = log(rating=[5.0, 1.0, 3.0])
    assert confidence(ds).tolist() == [5.0, 1.0, 3.0]
    assert confidence(ds, "binary").tolist() == [1.0, 1.0, 1.0]
    assert confidence(log()).dtype == np.float32 and confidence(log()).tolist() == [1.0, 1.0, 1.0]


def test_unknown_event_is_a_data_error_naming_it():
    with pytest.raises(DataError, match="'wishlist'"):
        confidence(log(event=["view", "wishlist", "cart"]))
    with pytest.raises(DataError, match="'event'"):
        confidence(log(), "event")
    with pytest.raises(DataError, match="'rating'"):
        confidence(log(), "rating")
    with pytest.raises(ConfigError, match="weighting"):
        confidence(log(), "nonsense")
