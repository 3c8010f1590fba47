"""LightGBMReranker: recommender protocol, seed reproducibility, SHAP additivity, save/load."""

import shutil

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError, ModelError
from workbench.models.candidates import CandidateGenerator
from workbench.models.rerank import LightGBMReranker


def small_model(**kwargs) -> LightGBMReranker:
    gen = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0)
    return LightGBMReranker(gen, n_candidates=30, seed=0, n_folds=3, min_data_in_leaf=20, **kwargs)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return load_dataset("synthetic-small")


@pytest.fixture(scope="module")
def model(data) -> LightGBMReranker:
    return small_model().fit(data)


@pytest.fixture(scope="module")
def users(data) -> list:
    return list(pd.unique(data.interactions["user_id"])[:25]) + ["never-seen"]


def test_protocol(model, data, users):
    recs = model.recommend(users, k=10)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    assert recs.groupby("user_id").size().eq(10).all()
    assert set(recs["user_id"]) == set(users)  # the unknown user is served too
    assert recs.sort_values(["user_id", "rank"]).index.tolist() == recs.index.tolist()
    assert (recs.groupby("user_id")["rank"].apply(list).map(lambda r: r == list(range(1, 11)))).all()
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 1e-12).all()
    seen = data.interactions[["user_id", "item_id"]].drop_duplicates()
    assert recs.merge(seen, on=["user_id", "item_id"]).empty
    # re-ranking: the top 10 come from the 30 candidates of the stage and, as this log repeats, of the
    # next-basket models (repeats allowed)
    assert model.repeats_
    cands = pd.concat(
        [
            model.candidates.candidates(users, k=30)[["user_id", "item_id"]],
            *(
                part.recommend(users, k=30, exclude_seen=False).query("~fallback")[["user_id", "item_id"]]
                for part in (model.tifuknn, model.upcf)
            ),
        ]
    ).drop_duplicates()
    proposed = recs.merge(cands, on=["user_id", "item_id"])
    assert len(proposed) == len(recs)


def test_same_seed_same_model(model, data, users):
    again = small_model().fit(data)
    pd.testing.assert_frame_equal(again.recommend(users, k=10), model.recommend(users, k=10))


def test_shap_additivity(model, users):
    recs = model.recommend(users, k=10)
    contrib = model.explain(users, k=10)
    assert contrib[["user_id", "item_id"]].values.tolist() == recs[["user_id", "item_id"]].values.tolist()
    assert list(contrib.columns[:4]) == [
        "user_id",
        "item_id",
        "base_value",
        "als_prior",
    ]
    assert set(contrib.columns[4:]) == set(model.feature_names)
    total = contrib.drop(columns=["user_id", "item_id"]).sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, recs["score"].to_numpy(), atol=1e-4)
    table = model.feature_table(users, k=10)
    assert table[["user_id", "item_id"]].values.tolist() == recs[["user_id", "item_id"]].values.tolist()


def test_recommend_and_explain_rank_candidate_lists_not_a_dense_array(model, users, monkeypatch):
    """The ranker's candidates and scores are its lists: no users x items array is spread, and
    explain's rows (and scores) are recommend's own rows by construction."""
    expected = model.recommend(users, k=10)
    dense_scores = model.score_pairs(expected["user_id"], expected["item_id"])

    def no_dense(*args, **kwargs):
        raise AssertionError("recommend asked for a dense score array")

    monkeypatch.setattr(model, "_score", no_dense)
    recs = model.recommend(users, k=10)
    pd.testing.assert_frame_equal(recs, expected)
    own = recs[~recs["fallback"] | ~recs["user_id"].isin(model.user_map.ids)]
    ranked = recs.index[~recs["fallback"]]  # known users' rows: score_pairs gives the same scores
    np.testing.assert_allclose(dense_scores[ranked], recs.loc[ranked, "score"], rtol=0, atol=1e-12)
    contrib = model.explain(users, k=10)
    assert contrib[["user_id", "item_id"]].values.tolist() == own[["user_id", "item_id"]].values.tolist()
    total = contrib.drop(columns=["user_id", "item_id"]).sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, own["score"].to_numpy(), atol=1e-4)


def test_save_load_identical(model, users, tmp_path):
    path = model.save(tmp_path / "reranker")
    loaded = LightGBMReranker.load(path)
    pd.testing.assert_frame_equal(loaded.recommend(users, k=10), model.recommend(users, k=10))
    pd.testing.assert_frame_equal(loaded.explain(users[:3], k=5), model.explain(users[:3], k=5))
    assert not list(tmp_path.rglob("*.pkl"))


def test_damaged_file_is_a_model_error(model, tmp_path):
    path = model.save(tmp_path / "reranker")
    (path / "ranker.txt").write_text("tree\nnot a model", encoding="utf-8")
    with pytest.raises(ModelError):
        LightGBMReranker.load(path)


def test_explain_before_fit_raises():
    with pytest.raises(ModelError, match="fit"):
        LightGBMReranker().explain([1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_candidates": 0},
        {"holdout": "future"},
        {"n_folds": 1},
        {"n_rounds": 0},
        {"valid_fraction": 1.5},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        LightGBMReranker(**kwargs)


def test_fixed_rounds_unless_early_stopping_is_asked(model, data):
    from workbench.models.rerank import BASKET_ROUNDS, N_ROUNDS

    # n_rounds=None: the rounds of the holdout (this log repeats and has times: baskets)
    assert model.n_rounds is None and model._resolved_holdout(data) == "basket"
    assert model.best_iteration_ == model.booster.num_trees() == BASKET_ROUNDS
    shares = small_model(holdout="random").fit(data)
    assert shares.best_iteration_ == shares.booster.num_trees() == N_ROUNDS
    assert small_model(n_rounds=7).fit(data).booster.num_trees() == 7
    stopped = small_model(n_rounds=300, valid_fraction=0.3).fit(data)
    assert 1 <= stopped.best_iteration_ < 300  # stopped on the held-out users before the last round


def test_excluded_features_leave_the_trees(model, data, tmp_path):
    ablated = small_model(exclude_features=["ease_*", "category_affinity"]).fit(data)
    kept = set(ablated.feature_names)
    assert not any(name.startswith("ease_") for name in kept) and "category_affinity" not in kept
    assert kept == {n for n in model.feature_names if not n.startswith("ease_") and n != "category_affinity"}
    loaded = LightGBMReranker.load(ablated.save(tmp_path / "ablated"))
    assert loaded.exclude_features == ("ease_*", "category_affinity") and loaded.feature_names == ablated.feature_names
    with pytest.raises(ConfigError, match="'no_such_\\*' matches no feature"):
        small_model(exclude_features=["no_such_*"]).fit(data)
    with pytest.raises(ConfigError, match="exclude_features must be a list"):
        LightGBMReranker(exclude_features="user_*")


def test_all_missing_feature_and_temporal_holdout(data):
    items = data.items.assign(price=np.nan)  # an all-missing feature column
    ds = Dataset(data.interactions, data.users, items)
    model = small_model(holdout="temporal").fit(ds)
    recs = model.recommend(pd.unique(ds.interactions["user_id"])[:5], k=5)
    assert len(recs) == 25
    assert np.isfinite(recs["score"]).all()


# -- any recommender as the candidate stage; repeat purchases -------------------------------
@pytest.fixture(scope="module")
def shop() -> Dataset:
    """The small synthetic shop as an order log (purchases only, order ids), where repeats are common."""
    from workbench.data.synthetic import SIZES, make_ecommerce, order_log

    ds = make_ecommerce(**{**SIZES["small"], "n_events": 20_000}, seed=0, integer_ids=True)
    log = order_log(ds).rename(columns={"product_id": "item_id"})
    return Dataset.from_frames(log, ds.users, ds.items)


@pytest.mark.parametrize("stage_name", ["ALSRecommender", "PopularityRecommender", "ContentRecommender"])
def test_any_recommender_is_a_candidate_stage(data, users, stage_name, tmp_path):
    from workbench import models
    from workbench.analysis.explain import additivity_error

    stage = {
        "ALSRecommender": lambda: models.ALSRecommender(factors=8, iterations=3, seed=0),
        "PopularityRecommender": models.PopularityRecommender,
        "ContentRecommender": models.ContentRecommender,
    }[stage_name]()  # its catalogue: every item
    model = LightGBMReranker(
        stage, n_candidates=30, n_folds=2, holdout="random", seed=0, min_data_in_leaf=20, basket_sources=False
    )
    model.fit(data)
    recs = model.recommend(users, k=5)
    assert recs.groupby("user_id").size().eq(5).all()
    own = stage.recommend(users, k=30)  # the fitted stage: every re-ranked item is one of its 30
    assert len(recs.merge(own, on=["user_id", "item_id"])) == len(recs)
    prior = f"{model.prior_source}_prior"
    assert (
        prior
        == {
            "ALSRecommender": "als_prior",
            "PopularityRecommender": "popularity_prior",
            "ContentRecommender": "content_prior",
        }[stage_name]
    )
    contrib = model.explain(users[:5], k=3)
    assert prior in contrib.columns
    assert additivity_error(contrib, recs[recs["user_id"].isin(users[:5]) & (recs["rank"] <= 3)]) < 1e-9
    loaded = LightGBMReranker.load(model.save(tmp_path / "model"))
    assert type(loaded.candidates) is type(stage)
    pd.testing.assert_frame_equal(loaded.recommend(users, k=5), recs)


def test_a_non_recommender_candidate_stage_is_a_config_error():
    with pytest.raises(ConfigError, match="candidates must be a recommender"):
        LightGBMReranker("als")


def test_repeats_become_candidates_and_exclude_seen_decides(shop):
    from workbench.data.split import next_basket_split
    from workbench.evaluation import evaluate
    from workbench.models import RepeatRecommender

    train, test = next_basket_split(shop, by="order")
    users = np.sort(test.interactions["user_id"].unique())
    model = small_model().fit(train)
    assert model.repeats_ and model._resolved_holdout(train) == "basket"
    bought = pd.MultiIndex.from_frame(train.interactions[["user_id", "item_id"]])
    again = model.recommend(users, k=10, exclude_seen=False)
    fresh = model.recommend(users, k=10)
    assert pd.MultiIndex.from_frame(again[["user_id", "item_id"]]).isin(bought).mean() > 0.1
    assert not pd.MultiIndex.from_frame(fresh[["user_id", "item_id"]]).isin(bought).any()
    assert again["user_id"].dtype == np.int64 and again["item_id"].dtype == np.int64
    features = model.feature_table(users[:5], k=10, exclude_seen=False)
    assert {"times_bought", "days_since_last", "due_ratio", "item_repurchase_rate"} <= set(features.columns)
    # buying again is most of the next basket here: allowing repeats must beat excluding them
    assert evaluate(again, test, k=10)["ndcg"] > evaluate(fresh, test, k=10)["ndcg"]
    repeat = RepeatRecommender().fit(train).recommend(users, k=10, exclude_seen=False)
    assert evaluate(again, test, k=10)["ndcg"] > 0.8 * evaluate(repeat, test, k=10)["ndcg"]


def test_next_basket_models_are_sources_features_and_parts(shop, tmp_path):
    from workbench.data.split import next_basket_split

    train, _ = next_basket_split(shop, by="order")
    users = np.sort(train.interactions["user_id"].unique())[:20]
    model = small_model().fit(train)
    assert {"tifuknn_score", "upcf_score_rank", "basket_share", "baskets_since_last"} <= set(model.feature_names)
    rows = model.feature_table(users, k=10, exclude_seen=False)
    for name in ("tifuknn", "upcf"):  # each candidate carries the fitted source's own score
        expected = getattr(model, name).score_pairs(rows["user_id"], rows["item_id"])
        np.testing.assert_array_equal(rows[f"{name}_score"].to_numpy(), expected)
    assert rows["tifuknn_score"].notna().mean() > 0.5
    path = model.save(tmp_path / "with")
    assert (path / "tifuknn" / "manifest.json").is_file() and (path / "upcf" / "manifest.json").is_file()
    loaded = LightGBMReranker.load(path)
    pd.testing.assert_frame_equal(
        loaded.recommend(users, k=10, exclude_seen=False), model.recommend(users, k=10, exclude_seen=False)
    )
    off = small_model(basket_sources=False).fit(train)
    assert not [name for name in off.feature_names if name.startswith(("tifuknn", "upcf"))]
    without = off.save(tmp_path / "without")
    assert not (without / "tifuknn").exists()  # an unused part is not saved
    shutil.copytree(path / "tifuknn", without / "tifuknn")  # a part the manifest does not list is not read
    assert not LightGBMReranker.load(without).tifuknn.is_fitted


def test_filters_reach_the_candidate_stage(model, data, users):
    """With an allow-list of items outside every user's usual candidates, the ranker still ranks
    (no fallback rows for known users): the stage draws its candidates from the allowed items."""
    usual = set(model.candidates.candidates(users, k=30)["item_id"])
    allowed = [item for item in data.interactions["item_id"].value_counts().index if item not in usual][:60]
    known = [u for u in users if u != "never-seen"]
    recs = model.recommend(known, k=5, items=allowed)
    assert set(recs["item_id"]) <= set(allowed)
    assert recs.groupby("user_id").size().eq(5).all() and not recs["fallback"].any()
    contrib = model.explain(known, k=5, items=allowed)
    assert contrib[["user_id", "item_id"]].values.tolist() == recs[["user_id", "item_id"]].values.tolist()
    total = contrib.drop(columns=["user_id", "item_id"]).sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, recs["score"].to_numpy(), atol=1e-4)
    blocked = model.recommend(known, k=5, exclude_items=sorted(usual))
    assert not set(blocked["item_id"]) & usual and not blocked["fallback"].any()


def test_filters_that_leave_no_candidate_give_empty_frames(model, data):
    log = data.interactions
    user = log["user_id"].iloc[0]
    mine = log[log["user_id"] == user]
    viewed_only = sorted(set(mine["item_id"]) - set(mine.loc[mine["event"] == "purchase", "item_id"]))
    assert viewed_only
    for items in (viewed_only, sorted(set(mine["item_id"]))):  # seen, so excluded; no candidate at all first
        assert model.recommend([user], k=5, items=items).empty
        explained = model.explain([user], k=5, items=items)
        assert explained.empty and list(explained.columns[:4]) == ["user_id", "item_id", "base_value", "als_prior"]


# -- shop exports whose timestamps are order numbers ------------------------------------------
@pytest.fixture(scope="module")
def numbered(shop) -> Dataset:
    """The order log as shops export it: no order id, and ``timestamp`` the customer's order number 1, 2, 3, ..."""
    log = shop.interactions
    number = log.groupby("user_id")["order_id"].rank(method="dense").astype(np.int64)
    return Dataset(log.assign(timestamp=number).drop(columns="order_id"), shop.users, shop.items)


def test_basket_holdout_fits_on_order_numbers(numbered):
    from workbench.data.repeats import basket_by

    log = numbered.interactions
    assert numbered.has_order_numbers and basket_by(numbered) == "timestamp" and log["timestamp"].max() > 20
    model = small_model()
    model.repeats_ = True
    folds = model._folds(numbered)
    assert len(folds) == 3
    _, held = folds[0]  # the first holdout: each customer's highest order number, all of its rows
    last = log.groupby("user_id")["timestamp"].transform("max")
    several = log.groupby("user_id")["timestamp"].transform("nunique") > 1
    expected = log[(log["timestamp"] == last) & several]
    assert sorted(map(tuple, held.interactions.values.tolist())) == sorted(map(tuple, expected.values.tolist()))
    model = small_model().fit(numbered)  # auto: a repeating log with timestamps holds out baskets
    assert model._resolved_holdout(numbered) == "basket"
    users = pd.unique(log["user_id"])[:10]
    recs = model.recommend(users, k=5, exclude_seen=False)
    assert recs.groupby("user_id").size().eq(5).all() and not recs["fallback"].any()


def test_a_holdout_that_cannot_be_built_names_the_cause():
    one_each = pd.DataFrame({"user_id": [1, 2, 3], "item_id": ["a", "b", "a"]})
    with pytest.raises(DataError, match=r"^fit: no user has two or more interactions, so no holdout"):
        small_model().fit(Dataset.from_frames(one_each))
    # every customer bought again, but within one day and without order ids: a basket is a day
    one_day = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "item_id": ["a", "b", "a", "b", "b"],
            "timestamp": pd.to_datetime(
                ["2024-03-01 08:00", "2024-03-01 09:00", "2024-03-01 18:00"] + ["2024-03-02 10:00"] * 2
            ),
        }
    )
    days = (
        r"^fit: no user has two or more baskets: baskets are calendar days \(UTC\) of the timestamp \(the log has "
        r"no order_id or session_id column\), and every user's timestamps fall on one day; give every row an "
        r"order_id \(or session_id\) saying which basket it belongs to, so no holdout can label the ranker$"
    )
    with pytest.raises(DataError, match=days):
        small_model().fit(Dataset.from_frames(one_day))
    with pytest.raises(DataError, match=days):
        small_model(holdout="basket").fit(Dataset.from_frames(one_day))
    numbers = r"^fit: no user has two or more baskets: baskets are a user's distinct timestamps, which look like order"
    numbers += r" numbers \(1 to 1\), and every user has a single one, so no holdout can label the ranker$"
    with pytest.raises(DataError, match=numbers):
        small_model().fit(Dataset.from_frames(one_day.assign(timestamp=1)))


def test_label_folds_stop_at_max_rows(tmp_path):
    """Folds stop once max_rows candidate rows are labelled; without the cap every fold labels."""
    shop = load_dataset("synthetic-small")
    capped = LightGBMReranker(n_candidates=20, n_folds=4, holdout="random", max_rows=1, seed=0).fit(shop)
    full = LightGBMReranker(n_candidates=20, n_folds=4, holdout="random", seed=0).fit(shop)
    assert capped.n_folds_used_ == 1 and full.n_folds_used_ == 4
    assert capped.get_params()["max_rows"] == 1
    assert LightGBMReranker.load(capped.save(tmp_path / "m")).max_rows == 1
