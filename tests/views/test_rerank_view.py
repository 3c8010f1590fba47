"""workbench.views.rerank on synthetic-small: candidate recall by source, re-ranker metrics and its paired
difference, example lists, buy again vs discover."""

import re

import numpy as np
import pandas as pd
import pytest
from reference import mean_reference

from workbench.analysis.experiment import compare
from workbench.evaluation import evaluate
from workbench.models import candidate_recall
from workbench.views.rerank import RerankView, buy_again_view


@pytest.fixture(scope="module")
def view(rerank_small):
    return RerankView(rerank_small)


@pytest.fixture(scope="module")
def buy_again(shop):
    return buy_again_view(shop, k=10, n_candidates=50, n_folds=3)


def brute_recall(pairs: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Mean over truth users of |listed items & truth items| / |truth items|, one user at a time."""
    listed = pairs.groupby("user_id")["item_id"].apply(set)
    relevant = truth.groupby("user_id")["item_id"].apply(set)
    return float(np.mean([len(items & listed.get(user, set())) / len(items) for user, items in relevant.items()]))


def test_candidate_recall_by_source(view):
    table, test = view.recall_table, view.run.test.interactions
    assert list(table.columns) == ["als", "ease", "neighbours", "popularity", "fused"]
    assert list(table.index) == [10, 20, 50]  # the re-ranker's depth, and the smaller ones
    for n in table.index:
        pool = view.model.candidates.candidates(view.run.test_users, k=n)
        assert (pool.groupby("user_id").size() <= n).all()
        assert table.loc[n, "fused"] == pytest.approx(candidate_recall(pool, test, n))
        assert table.loc[n, "fused"] == pytest.approx(brute_recall(pool, test))
        for source, flag in (
            ("als", "in_als"),
            ("ease", "in_ease"),
            ("neighbours", "in_knn"),
            ("popularity", "in_popularity"),
        ):
            assert table.loc[n, source] == pytest.approx(brute_recall(pool[pool[flag]], test))
            assert table.loc[n, source] <= table.loc[n, "fused"] + 1e-12  # a part of the pool finds no more
    assert view.headline["candidate_recall"] == pytest.approx(table.loc[50, "fused"])


def test_metrics_recomputed(view):
    run = view.run
    scores, test, k = run.scores, run.test, run.k
    assert list(scores.index) == ["popularity", "als", "reranker"]
    for name, model in run.models.items():
        assert scores.loc[name].to_dict() == pytest.approx(evaluate(model.recommend(run.test_users, k=k), test, k=k))
    reranked = run.recs["reranker"]
    assert scores.loc["reranker", "ndcg"] == pytest.approx(mean_reference(reranked, test.interactions, k, "ndcg"))
    # on the small shop the re-ranker beats both single models (0.110 vs 0.051 and 0.038 nDCG@10 when written)
    assert scores.loc["reranker", "ndcg"] > scores.loc["als", "ndcg"] > scores.loc["popularity", "ndcg"]
    fit = run.fit_seconds.set_index("model")["fit_seconds"]
    assert list(fit.index) == ["popularity", "als", "reranker"] and (fit > 0).all()
    assert view.headline["fit_seconds_reranker"] == fit["reranker"]


def test_paired_difference_against_the_best_single_model(view):
    run = view.run
    assert view.best_single == run.scores.loc[["popularity", "als"], "ndcg"].idxmax() == "als"
    a, b = run.per_user["als"], run.per_user["reranker"]
    expected = b.set_index("user_id")["ndcg"] - a.set_index("user_id")["ndcg"]
    assert view.paired.diff == pytest.approx(expected.mean())
    assert view.paired.n_users == len(run.test_users)
    assert view.paired.ci_low <= view.paired.diff <= view.paired.ci_high
    assert view.paired.diff == compare(a, b, seed=0).diff == view.headline["ndcg_gain_vs_best"]
    assert view.verdict.startswith("Re-ranker - ALS, nDCG@10: ") and "re-ranker beats ALS" in view.verdict


def test_reranked_lists_come_from_the_pool(view, shop):
    run = view.run
    recs, model = run.recs["reranker"], view.model
    assert (model.n_candidates, model.n_folds) == (50, 3)
    assert (recs.groupby("user_id").size() == run.k).all()
    seen = pd.MultiIndex.from_frame(run.train.interactions[["user_id", "item_id"]])
    assert not pd.MultiIndex.from_frame(recs[["user_id", "item_id"]]).isin(seen).any()
    pool = model.candidates.candidates(run.test_users, k=model.n_candidates)
    assert model.basket_models == {}  # the test asks for new items: no next-basket sources
    assert len(recs.merge(pool, on=["user_id", "item_id"])) == len(recs)
    assert len(shop) == len(run.train) + len(run.test)


def test_examples_flags_and_rank_moves(view):
    examples, run = view.examples, view.run
    users = list(run.test_users[:3])
    assert sorted(examples["user_id"].unique().tolist()) == sorted(users) and len(examples) == 3 * run.k
    n_items = run.train.interactions["item_id"].nunique()
    for user, rows in examples.groupby("user_id"):
        order = run.models["als"].recommend([user], k=n_items)["item_id"].tolist()
        assert rows["als_rank"].tolist() == [order.index(item) + 1 for item in rows["item_id"]]
    assert (examples["moved"] == examples["als_rank"] - examples["rank"]).all()
    pool = view.model.candidates.candidates(users, k=view.model.n_candidates)
    flags = examples[["user_id", "item_id"]].merge(pool, on=["user_id", "item_id"])
    for flag in ("in_als", "in_ease", "in_knn", "in_popularity"):
        assert examples[flag].tolist() == flags[flag].tolist()
    sources = ["in_als", "in_ease", "in_knn", "in_popularity"]
    assert examples[sources].any(axis=1).all()  # every item came from somewhere
    assert examples["name"].notna().all()
    assert list(examples.columns).index("name") == list(examples.columns).index("item_id") + 1  # name beside id


def test_buy_again_vs_discover(buy_again):
    from workbench.analysis.next_basket import STUDY_MODELS, buy_again_vs_discover
    from workbench.analysis.segments import activity_bands

    study = buy_again.study
    assert study is not None and list(study.recs) == list(STUDY_MODELS)  # the small shop buys again
    users = study.test.interactions["user_id"].unique()
    expected = buy_again_vs_discover(
        study.recs, study.test, study.train, k=10, segments=activity_bands(study.train, users, n_quantiles=3)
    )
    pd.testing.assert_frame_equal(study.table, expected)
    overall = buy_again.overall
    assert overall.loc["buy again", "repeat_share"] > overall.loc["ALS, repeats excluded", "repeat_share"] == 0.0
    assert overall.loc["ALS, repeats excluded", "ndcg_repeat"] == 0.0  # it may not show a bought item
    assert overall.loc["buy again", "ndcg_repeat"] > 0.0
    assert (
        buy_again.note.endswith(study.verdict())
        and "Best: " in buy_again.note
        and "Against buy again (" in buy_again.note
    )


def test_buy_again_does_not_apply_without_repeats():
    from workbench.data import Dataset

    log = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [10, 11, 10, 12]})
    section = buy_again_view(Dataset.from_frames(log))
    assert section.study is None and section.overall is None and section.chart is None
    assert section.note.startswith("Does not apply: nobody bought an item twice")
    # the page still has the section: its title, what it compares and why it does not apply here
    (shown,) = section.sections()
    assert (shown.key, shown.title) == ("buy_again", "Buy again vs discover")
    assert shown.parts[1:] == (section.note,) and "at k = 10 as in the Reality Check" in shown.parts[0]


def test_report_cards_sections_and_prose(view, buy_again):
    text = view.report("shop", buy_again).to_html()
    labels = re.findall(r'<div class="label">([^<]*)</div>', text)
    assert {"nDCG@10, re-ranker", "nDCG@10, ALS", "fit time, re-ranker (s)"} <= set(labels)
    assert "nDCG@10 gain over the best single model" in labels
    assert not [label for label in labels if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", label)]  # no raw keys
    for heading in ("Against the best single model", "Candidate recall", "Buy again vs discover"):
        assert f"<h3>{heading}</h3>" in text
    assert "per-user 75/25 split (seed 42)" in text and "<script" not in text
    assert "Buy again vs discover" not in view.report("shop").to_html()


def test_sections_then_the_buy_again_section(view, buy_again):
    keys = ["setup", "verdict", "recall", "metrics", "fit_time", "examples"]
    assert [section.key for section in view.sections()] == keys
    assert [section.key for section in view.sections(buy_again)] == [*keys, "buy_again"]
    titles = [section.title for section in view.sections(buy_again)]
    html = view.report("shop", buy_again).to_html()
    assert re.findall(r"<h3>([^<]*)</h3>", html) == titles[1:]  # the opening has no heading
    assert view.section("setup").parts[-1].values == view.headline
    assert view.section("verdict").parts == (view.verdict,)
    recall = view.section("recall").parts
    pd.testing.assert_frame_equal(recall[1].frame, view.recall_table)
    assert recall[2].chart.to_dict()["title"] == "Candidate recall@n by source"
    assert view.section("fit_time").parts[0].frame.equals(view.run.fit_seconds)
    assert view.section("examples").parts[1].frame is view.examples
    shown = buy_again.section("buy_again")
    assert shown.parts[1] == buy_again.note and shown.parts[3].frame is buy_again.study.table


def test_buy_again_does_not_apply_without_timestamps(shop):
    from workbench.data import Dataset

    section = buy_again_view(Dataset.from_frames(shop.interactions[["user_id", "item_id"]]))  # repeats, no time
    assert section.study is None and section.note.startswith("Does not apply: the log has no timestamps")


def test_buy_again_names_order_number_baskets_in_words():
    """A shop export whose timestamps are order numbers: the note says what a basket is, in words."""
    from workbench.data import load_dataset
    from workbench.data.split import BASKETS
    from workbench.data.synthetic import order_log
    from workbench.views.rerank import BASKET_NAMES

    assert set(BASKET_NAMES) == set(BASKETS)
    log = order_log(load_dataset("synthetic-small"))
    numbered = pd.DataFrame(
        {
            "user_id": log["user_id"],
            "item_id": log["product_id"],
            "timestamp": log.groupby("user_id")["order_id"].rank(method="dense").astype(int),
        }
    )
    from workbench.data import Dataset

    note = buy_again_view(Dataset.from_frames(numbered), n_candidates=20, n_folds=2).note
    assert note.startswith("Baskets are order numbers (a customer's distinct timestamps); ")
