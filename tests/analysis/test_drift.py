"""Drift signals: known answers on a hand-made log, scipy references, alerts and charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from workbench.analysis.drift import drift_alerts, drift_table, jensen_shannon, psi, quality_drop
from workbench.data import Dataset
from workbench.data.stream import replay
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError

DAY = 86_400


def hand_made() -> Dataset:
    """Reference days 0-3 (cut at day 10 with start_fraction 0.5); window 0 repeats the reference
    item mix; window 1 brings a new user C and a new item z."""
    rows = [
        ("A", "x", 0),
        ("A", "y", 1),
        ("B", "x", 2),
        ("B", "y", 3),
        ("A", "x", 11),
        ("A", "y", 11),
        ("B", "x", 12),
        ("B", "y", 12),
        ("C", "z", 18),
        ("A", "x", 20),
    ]
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(timestamp=lambda f: f.timestamp * DAY)
    items = pd.DataFrame({"item_id": ["x", "y", "z"], "category": ["c1", "c2|c1", "c2"]})
    return Dataset.from_frames(log, items=items)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return drift_table(hand_made(), window="7D", start_fraction=0.5)


def test_counts_and_windows(table):
    assert table["window"].tolist() == [0, 1]
    assert table["start"].tolist() == [pd.Timestamp(10 * DAY, unit="s"), pd.Timestamp(17 * DAY, unit="s")]
    assert table["n_events"].tolist() == [4, 2] and table["n_users"].tolist() == [2, 2]


def test_a_window_like_the_reference_shows_no_drift(table):
    first = table.iloc[0]
    assert first["popularity_js"] == pytest.approx(0.0, abs=1e-12)
    assert first["popularity_psi"] == pytest.approx(0.0, abs=1e-12)
    assert first["category_js"] == pytest.approx(0.0, abs=1e-12)
    assert first["new_user_share"] == 0 and first["new_item_share"] == 0


def test_known_answers_of_the_drifting_window(table):
    second = table.iloc[1]
    # items (x, z) half and half against (x, y): m = (.5, .25, .25), both KL terms are 0.5 bits
    assert second["popularity_js"] == pytest.approx(0.5)
    assert second["new_user_share"] == pytest.approx(0.5)  # C is new, A is not
    assert second["new_item_share"] == pytest.approx(0.5)  # z is new
    # categories: reference c1 4, c2 2; window x -> c1, z -> c2: (1/2, 1/2) vs (2/3, 1/3)
    assert second["category_js"] == pytest.approx(jensenshannon([0.5, 0.5], [2 / 3, 1 / 3], base=2) ** 2)


def test_activity_drift_against_weekly_reference(table):
    # reference weeks before day 10: A has 2 events in one, B 1 and 1 -> bins (1, 2-3) = (2, 1);
    # window 0: A 2 and B 2 -> (0, 2)
    assert table.iloc[0]["activity_js"] == pytest.approx(jensenshannon([0, 1], [2 / 3, 1 / 3], base=2) ** 2)


def test_jensen_shannon_and_psi_match_references():
    rng = np.random.default_rng(0)
    p, q = rng.integers(0, 20, (4, 30)), rng.integers(0, 20, 30)
    expected = [jensenshannon(row, q, base=2) ** 2 for row in p]
    np.testing.assert_allclose(jensen_shannon(p, q), expected, atol=1e-12)
    # PSI: 0.25 ln 2 + 0.25 ln 1.5
    assert psi(np.array([[50, 50]]), np.array([25, 75]))[0] == pytest.approx(0.25 * np.log(2) + 0.25 * np.log(1.5))


def test_popularity_js_matches_a_per_window_loop_on_the_shop():
    ds = make_ecommerce(300, 150, 6_000, seed=1)
    table = drift_table(ds, window="3D", start_fraction=0.6)
    stamps = ds.interactions["timestamp"]
    cut = stamps.min() + 0.6 * (stamps.max() - stamps.min())
    reference = ds.interactions.loc[stamps < cut, "item_id"].value_counts()
    catalog = pd.Index(ds.interactions["item_id"].unique())
    q = reference.reindex(catalog, fill_value=0).to_numpy()
    batches = [b for b in replay(ds, window="3D", start=int(np.ceil(cut))) if len(b)]
    assert len(batches) == len(table)
    for row, batch in zip(table.itertuples(), batches, strict=True):
        p = batch.interactions["item_id"].value_counts().reindex(catalog, fill_value=0).to_numpy()
        assert row.popularity_js == pytest.approx(jensenshannon(p, q, base=2) ** 2)
        assert row.n_events == len(batch) and row.n_users == batch.interactions["user_id"].nunique()


def test_quality_drop_and_alerts(table):
    quality = pd.DataFrame({"window": [0, 0, 1, 1], "strategy": ["frozen", "refit"] * 2, "ndcg": [0.4, 0.4, 0.3, 0.5]})
    assert quality_drop(quality)["ndcg_drop"].tolist() == pytest.approx([0.0, 0.25])
    merged = drift_table(hand_made(), window="7D", start_fraction=0.5, quality=quality)
    alerts = drift_alerts(merged, {"popularity_js": 0.4})
    fired = set(zip(alerts["window"], alerts["signal"], strict=False))
    assert (1, "popularity_js") in fired and (1, "ndcg_drop") in fired and (1, "new_item_share") in fired
    assert {s for w, s in fired if w == 0} == {"activity_js"}  # 0.46: every user doubled their weekly activity
    assert (alerts["value"] > alerts["threshold"]).all()
    message = alerts.set_index("signal").loc["ndcg_drop", "message"]
    assert message.startswith("Window from 1970-01-18") and "25%" in message


def test_bad_arguments(table):
    with pytest.raises(ConfigError, match="unknown drift signal"):
        drift_alerts(table, {"popularity": 0.1})
    with pytest.raises(ConfigError, match="category column"):
        drift_table(hand_made(), start_fraction=0.5, category="brand")
