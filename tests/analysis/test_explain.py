"""SHAP summaries and charts on a hand-made contribution frame (known answers; the ``contrib`` fixture of tests/conftest.py)."""

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.explain import (
    additivity_error,
    global_importance,
    importance_by_segment,
)
from workbench.errors import DataError


def test_additivity_error_is_the_largest_gap_to_the_score(contrib):
    # rows total base + pop + als: -0.4, 0.6, 0.3, 2.1
    recs = contrib[["user_id", "item_id"]].assign(score=[-0.4, 0.6, 0.25, 2.1], rank=[1, 2, 1, 1])
    assert additivity_error(contrib, recs) == pytest.approx(0.05)
    with pytest.raises(DataError, match="same users and k"):
        additivity_error(contrib, recs.iloc[:2])


def test_global_importance(contrib):
    table = global_importance(contrib)
    assert table["feature"].tolist() == ["als", "pop"]
    np.testing.assert_allclose(table["mean_abs_shap"], [1.0, 0.3])
    np.testing.assert_allclose(table["mean_shap"], [0.5, 0.05])


def test_importance_by_segment(contrib):
    segments = pd.Series({1: "heavy", 2: "cold", 3: "cold", 99: "heavy"})
    table = importance_by_segment(contrib, segments).set_index(["segment", "feature"])
    assert table.loc[("heavy", "als"), "mean_abs_shap"] == pytest.approx(1.0)
    assert table.loc[("heavy", "pop"), "mean_abs_shap"] == pytest.approx(0.5)
    assert table.loc[("cold", "als"), "mean_abs_shap"] == pytest.approx(1.0)
    assert table.loc[("cold", "pop"), "mean_abs_shap"] == pytest.approx(0.1)
    assert table.loc[("cold", "pop"), "share"] == pytest.approx(0.1 / 1.1)
    assert table.loc[("heavy", "als"), "n_rows"] == 2
    with pytest.raises(DataError):
        importance_by_segment(contrib, pd.Series({"x": "y"}))


def test_not_a_contrib_frame():
    with pytest.raises(DataError):
        global_importance(pd.DataFrame({"x": [1]}))


# -- against a real fitted re-ranker ------------------------------------------------


def test_real_contributions_add_up_and_importance_sums(explained_reranker):
    contrib, recs = explained_reranker.contrib, explained_reranker.recs
    shap = contrib.drop(columns=["user_id", "item_id"]).to_numpy()
    np.testing.assert_allclose(shap.sum(axis=1), recs["score"].to_numpy(), atol=1e-4)
    table = global_importance(contrib)
    features = [c for c in contrib.columns if c not in ("user_id", "item_id", "base_value")]
    assert sorted(table["feature"]) == sorted(features) and "als_prior" in features
    abs_values = np.abs(contrib[features].to_numpy())
    # the mean |SHAP| of all features sums to the mean over rows of the total |SHAP| of a row
    assert table["mean_abs_shap"].sum() == pytest.approx(abs_values.sum(axis=1).mean())
    # and the signed means sum to the mean distance of the score from the base value
    assert table["mean_shap"].sum() == pytest.approx((recs["score"] - contrib["base_value"]).mean(), abs=1e-4)
    assert table["mean_abs_shap"].is_monotonic_decreasing and table["mean_abs_shap"].iloc[0] > 0


def test_real_importance_by_activity_band(explained_reranker):
    from workbench.analysis.segments import activity_bands

    contrib = explained_reranker.contrib
    bands = activity_bands(explained_reranker.data, explained_reranker.users, bands=(1, 10, 25))
    table = importance_by_segment(contrib, bands)
    assert set(table["segment"]) == set(bands.astype(str)) - {"0 (cold)"}
    label = bands.reindex(contrib["user_id"]).astype(str).to_numpy()
    for (segment, feature), row in table.set_index(["segment", "feature"]).iterrows():
        rows = contrib.loc[label == segment, feature]
        assert row["mean_abs_shap"] == pytest.approx(rows.abs().mean())
        assert row["n_rows"] == len(rows)
    assert table.groupby("segment")["share"].sum().to_numpy() == pytest.approx(1.0)
