"""workbench.models.demographics: usable columns, their encoding and its saved state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.models.demographics import DemographicEncoder, demographic_columns


def users_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [19, 33, np.nan, 61],
            "gender": ["F", "M", None, "F"],
            "zip_code": ["a", "b", "c", "d"],  # id-like only past max(50, rows / 2) values: kept here
            "blank": [np.nan] * 4,
        },
        index=pd.Index(["u1", "u2", "u3", "u4"], name="user_id"),
    )


def test_columns_skip_missing_and_id_like_ones():
    assert demographic_columns(users_table()) == (["age"], ["gender", "zip_code"])
    many = pd.DataFrame({"zip": [f"z{i}" for i in range(120)], "band": ["a", "b"] * 60})
    assert demographic_columns(many) == ([], ["band"])


def test_encoder_scales_bands_and_one_hot_encodes():
    encoder = DemographicEncoder.fit(users_table())
    # scaled age, 7 age bands, gender F / M / missing, 4 zip codes
    assert encoder.features.shape == (4, 1 + 7 + 3 + 4)
    assert encoder.position(pd.Index(["u4", "x", "u1"])).tolist() == [3, -1, 0]
    fresh = pd.DataFrame({"age": [20.0], "gender": ["F"], "zip_code": ["new"]}, index=["n1"])
    row = encoder.features_of(fresh, "users")
    np.testing.assert_array_equal(row[0, 1:8], encoder.features[0, 1:8])  # the same age band as u1 (19)
    with pytest.raises(DataError, match="users: demographic column 'gender' is missing"):
        encoder.features_of(fresh.drop(columns="gender"), "users")
    with pytest.raises(DataError, match="no usable demographic column"):
        DemographicEncoder.fit(users_table()[["blank"]])


def test_state_round_trip_gives_the_same_features():
    encoder = DemographicEncoder.fit(users_table())
    loaded = DemographicEncoder.from_state(encoder.state())
    np.testing.assert_array_equal(loaded.features, encoder.features)
    pd.testing.assert_frame_equal(loaded.demo, encoder.demo)
