"""notebooks/07_audit.py on synthetic-small: group means, intervals, tests, flags, popularity bias, exposure."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_notebooks import run_in_process, small_log

from workbench.data.synthetic import SIZES, make_ecommerce


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("07_audit", monkeypatch, report_dir=report_dir)
    return defs, report_dir


@pytest.fixture(scope="module")
def shop():
    return make_ecommerce(**SIZES["small"], seed=0)


def test_segments_of_the_synthetic_shop(run, shop):
    defs, _ = run
    segments = defs["segments"]
    assert list(segments.columns) == ["gender", "region", "age_band", "activity_band"]
    assert set(segments.index) == set(small_log()["user_id"]) | set(shop.users.index)
    assert set(defs["audits"]) == {(m, s) for m in ("popularity", "als") for s in segments.columns}


def test_group_means_and_tests_match_a_direct_computation(run, shop):
    defs, _ = run
    per_user = defs["per_user"]["als"].set_index("user_id")
    assert set(per_user.index) == set(defs["test"].interactions["user_id"])
    gender = shop.users["gender"].reindex(per_user.index)
    expected = per_user["ndcg"].groupby(gender).agg(["mean", "size"])
    table = defs["audit_table"]
    rows = table[(table["model"] == "als") & (table["segment"] == "gender")].set_index("group")
    assert rows["ndcg"].to_dict() == pytest.approx(expected["mean"].to_dict())
    assert rows["count"].to_dict() == expected["size"].to_dict()
    assert (table["lower"] <= table["ndcg"] + 1e-12).all() and (table["ndcg"] <= table["upper"] + 1e-12).all()
    samples = [group.to_numpy() for _, group in per_user["ndcg"].groupby(gender)]
    assert defs["significance"].loc[("als", "gender"), "ndcg"] == pytest.approx(stats.kruskal(*samples).pvalue)


def test_flags_follow_the_threshold(run):
    defs, report_dir = run
    threshold, table = defs["threshold"].value, defs["audit_table"]
    expected = 0
    for (model, segment), rows in table.groupby(["model", "segment"]):
        best = rows["ndcg"].max()
        expected += int(((best - rows["ndcg"]) / best > threshold).sum())
    flagged = defs["flagged"]
    assert len(flagged) == expected
    assert ((flagged["best_value"] - flagged["value"]) / flagged["best_value"] > threshold).all()
    worst = defs["worst"]
    assert len(worst) == flagged[["model", "segment"]].drop_duplicates().shape[0]
    largest = flagged.groupby(["model", "segment"])["gap"].max()
    assert worst.set_index(["model", "segment"])["gap"].to_dict() == largest.to_dict()
    headline = json.loads((report_dir / "07_audit.json").read_text(encoding="utf-8"))["headline"]
    assert headline["flags_als"] == int((flagged["model"] == "als").sum())
    assert headline["ndcg_als"] == pytest.approx(defs["per_user"]["als"]["ndcg"].mean())
    assert "<script" not in (report_dir / "07_audit.html").read_text(encoding="utf-8")


def test_popularity_bias_by_hand(run):
    defs, _ = run
    train = defs["train"].interactions
    counts = train["item_id"].value_counts()
    k = defs["k"].value
    for name, recs in defs["recs"].items():
        bias = defs["bias"].loc[name]
        popularity = counts.reindex(recs["item_id"], fill_value=0).to_numpy()
        arp = pd.Series(popularity, index=recs.index).groupby(recs["user_id"]).mean().mean()
        assert bias["arp"] == pytest.approx(arp)
        assert bias["coverage"] == pytest.approx(recs["item_id"].nunique() / train["item_id"].nunique())
        head_cut = counts.sort_values(ascending=False).iloc[int(np.ceil(0.2 * len(counts))) - 1]
        tail = pd.Series(popularity < head_cut, index=recs.index)
        assert bias["aplt"] == pytest.approx(tail.groupby(recs["user_id"]).mean().mean())
        assert (recs.groupby("user_id").size() == k).all()
    # ALS reaches further into the catalogue than the most-popular list
    assert defs["bias"].loc["als", "coverage"] > defs["bias"].loc["popularity", "coverage"]


def test_exposure_by_category_by_hand(run, shop):
    defs, _ = run
    train = defs["train"].interactions
    category = shop.items["category"]
    wide = defs["exposure_wide"]
    train_share = category.reindex(train["item_id"]).value_counts(normalize=True)
    assert wide["train share"].to_dict() == pytest.approx(train_share.to_dict())
    for name, recs in defs["recs"].items():
        rec_share = category.reindex(recs["item_id"]).value_counts(normalize=True)
        assert wide[f"{name} share"].to_dict() == pytest.approx(rec_share.reindex(wide.index, fill_value=0).to_dict())
