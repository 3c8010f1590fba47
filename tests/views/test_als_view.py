"""workbench.views.als (notebook 03): popularity vs ALS, per-user nDCG, named example lists."""

import numpy as np
import pandas as pd
import pytest

from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.views.als import als_view


@pytest.fixture(scope="module")
def view(small_run):
    return als_view(small_run)


def test_metrics_of_both_models(view):
    scores = view.run.scores
    assert list(scores.index) == ["popularity", "als"]
    assert ((scores >= 0) & (scores <= 1)).all().all()
    # on the small shop ALS beats the popularity baseline (0.049 vs 0.036 nDCG@10 when written)
    assert scores.loc["als", "ndcg"] > scores.loc["popularity", "ndcg"]


def test_split_lists_and_per_user_scores(view):
    # the split is per user 75/25 with seed 42: every user with >= 2 rows keeps some in train and test
    log = make_ecommerce(**SIZES["small"], seed=0).interactions
    counts = log["user_id"].value_counts()
    train, test = view.run.train.interactions, view.run.test.interactions
    assert len(train) + len(test) == len(log)
    expected_test = np.maximum(0, counts - np.maximum(1, np.round(0.75 * counts))).astype(int)
    got_test = test["user_id"].value_counts().reindex(counts.index, fill_value=0)
    assert (got_test == expected_test).all()
    # recommendations: k per test user, none of them seen in train
    recs = view.run.recs["als"]
    assert (recs.groupby("user_id").size() == view.run.k).all()
    seen = pd.MultiIndex.from_frame(train[["user_id", "item_id"]])
    assert not pd.MultiIndex.from_frame(recs[["user_id", "item_id"]]).isin(seen).any()
    # per-user nDCG averages back to the table
    per_user = view.per_user
    assert per_user.groupby("model")["ndcg"].mean()["als"] == pytest.approx(view.run.scores.loc["als", "ndcg"])
    assert view.ndcg_summary.loc["als", "count"] == len(view.run.test_users)


def test_examples_and_neighbours_are_named(view):
    # names are joined from the item table beside the ids; the popular item is not among its own neighbours
    examples, similar = view.examples, view.similar
    assert list(examples.columns[1:3]) == ["item_id", "name"] and examples["name"].notna().all()
    assert examples["user_id"].nunique() == 3
    assert list(similar.columns).index("name") == list(similar.columns).index("similar_item_id") + 1
    assert len(similar) == 10 and view.popular_item not in set(similar["similar_item_id"])
    assert view.popular_item == view.run.train.interactions["item_id"].value_counts().idxmax()


def test_report_names_the_split_from_the_run(view):
    report = view.report("synthetic-small")
    assert report.description == "Popularity vs implicit ALS, per-user 75/25 split"
    html = report.to_html()
    assert "(per-user 75/25 split (seed 42))" in html and "top 10." in html
    assert view.headline["test_users"] == len(view.run.test_users)
