"""ClusterColdStart: known answers on two demographic groups that like disjoint items.

Its parts have tests of their own: test_demographics.py, test_favourites.py, test_selection.py."""

from __future__ import annotations

import subprocess
import sys

import altair as alt
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError, FallbackWarning, ModelError, UnknownItemsWarning
from workbench.evaluation import evaluate_per_user
from workbench.models import PopularityRecommender
from workbench.models.coldstart import ClusterColdStart
from workbench.models.favourites import RIDGE_PENALTIES, ridge_coefficients
from workbench.report.charts import selection_chart

A_ITEMS = ["a1", "a2", "a3", "a4"]
B_ITEMS = ["b1", "b2", "b3", "b4"]


def two_groups(seed: int = 0) -> Dataset:
    """Young women like a-items, older men b-items; b-items are more popular overall.

    Users u00..u11 are group A, u12..u31 group B (more users: popularity favours b-items).
    New users nA1, nA2 (group A) and nB1 (group B) have demographics but no interactions.
    """
    rng = np.random.default_rng(seed)
    rows, users = [], []
    for i in range(32):
        group = "A" if i < 12 else "B"
        uid = f"u{i:02d}"
        age = int(rng.integers(18, 26)) if group == "A" else int(rng.integers(55, 70))
        users.append((uid, age, "F" if group == "A" else "M"))
        liked = A_ITEMS if group == "A" else B_ITEMS
        for item in rng.choice(liked, size=3, replace=False):
            rows.append((uid, item))
    users += [("nA1", 21, "F"), ("nA2", 24, "F"), ("nB1", 60, "M")]
    log = pd.DataFrame(rows, columns=["user_id", "item_id"])
    table = pd.DataFrame(users, columns=["user_id", "age", "gender"])
    return Dataset.from_frames(log, users=table)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return two_groups()


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_new_users_get_their_groups_items_where_popularity_does_not(ds, method):
    model = ClusterColdStart(method=method, n_clusters=2, seed=0).fit(ds)
    recs = model.recommend(["nA1", "nA2", "nB1"], k=4)
    top = recs.groupby("user_id")["item_id"].apply(set)
    assert top["nA1"] == set(A_ITEMS) and top["nA2"] == set(A_ITEMS)
    assert top["nB1"] == set(B_ITEMS)
    pop = PopularityRecommender().fit(ds).recommend(["nA1"], k=4)
    assert set(pop["item_id"]) == set(B_ITEMS)
    with pytest.warns(FallbackWarning, match="3 of 3 users are unknown to the model: served their demographic cluster"):
        model.recommend(["nA1", "nA2", "nB1"], k=4)


def test_chosen_number_of_clusters_also_separates_groups(ds):
    model = ClusterColdStart(candidates=(2, 3, 4), seed=0).fit(ds)
    assert model.selection_["n_clusters"].tolist() == [2, 3, 4]
    assert list(model.selection_.columns) == ["n_clusters", "ndcg", "silhouette", "bic"]
    assert model.n_clusters_ in (2, 3, 4)
    recs = model.recommend(["nA1", "nB1"], k=4)
    assert set(recs.loc[recs.user_id == "nA1", "item_id"]) == set(A_ITEMS)


def test_known_users_get_cluster_favourites_minus_seen(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    recs = model.recommend(["u00"], k=10)
    seen = set(ds.interactions.loc[ds.interactions.user_id == "u00", "item_id"])
    assert set(recs["item_id"]).isdisjoint(seen)
    assert recs["item_id"].iloc[0] == (set(A_ITEMS) - seen).pop()


def test_users_missing_from_users_table_get_global_favourites(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    pop = PopularityRecommender().fit(ds).recommend(["stranger"], k=8)
    recs = model.recommend(["stranger"], k=8)
    np.testing.assert_allclose(recs["score"], pop["score"], rtol=1e-6)


def test_single_cluster_ranks_like_popularity(ds):
    model = ClusterColdStart(n_clusters=1, seed=0).fit(ds)
    pop = PopularityRecommender().fit(ds)
    users = ["nA1", "nB1", "u03"]
    ours, theirs = model.recommend(users, k=8), pop.recommend(users, k=8)
    np.testing.assert_allclose(ours["score"], theirs["score"], rtol=1e-6)
    assert (ours["user_id"] == theirs["user_id"]).all()


def test_shrinkage_formula_by_hand():
    # cluster X: user x1 with item p; cluster Y: users y1, y2 with item q; m = 2
    log = pd.DataFrame({"user_id": ["x1", "y1", "y2"], "item_id": ["p", "q", "q"]})
    users = pd.DataFrame({"user_id": ["x1", "y1", "y2"], "group": ["X", "Y", "Y"]})
    model = ClusterColdStart(n_clusters=2, shrinkage=2.0, seed=0).fit(Dataset.from_frames(log, users=users))
    recs = model.recommend(["x1", "y1"], k=2, exclude_seen=False).set_index(["user_id", "item_id"])["score"]
    # global shares p = 1/3, q = 2/3; cluster X: (1 + 2/3) / 3 for p, (0 + 4/3) / 3 for q
    assert recs[("x1", "p")] == pytest.approx((1 + 2 / 3) / 3)
    assert recs[("x1", "q")] == pytest.approx((4 / 3) / 3)
    # cluster Y: q = (2 + 4/3) / 4, p = (0 + 2/3) / 4
    assert recs[("y1", "q")] == pytest.approx((2 + 4 / 3) / 4)
    assert recs[("y1", "p")] == pytest.approx((2 / 3) / 4)


def test_assign_names_a_cluster_per_user(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    clusters = model.assign(ds.users)
    assert clusters.name == "cluster" and clusters.index.tolist() == ds.users.index.tolist()
    group_a = clusters[ds.users["gender"] == "F"]
    group_b = clusters[ds.users["gender"] == "M"]
    assert group_a.nunique() == 1 and group_b.nunique() == 1 and group_a.iloc[0] != group_b.iloc[0]
    fresh = pd.DataFrame({"user_id": [101], "age": [19], "gender": ["F"]})
    assert model.assign(fresh).loc[101] == group_a.iloc[0]


def test_same_seed_same_model(ds):
    first = ClusterColdStart(method="gmm", seed=3, candidates=(2, 3)).fit(ds)
    second = ClusterColdStart(method="gmm", seed=3, candidates=(2, 3)).fit(ds)
    pd.testing.assert_frame_equal(first.selection_, second.selection_)
    pd.testing.assert_frame_equal(first.recommend(ds.users.index, k=3), second.recommend(ds.users.index, k=3))


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_save_load_round_trip(ds, tmp_path, method):
    model = ClusterColdStart(method=method, candidates=(2, 3), seed=0).fit(ds)
    model.save(tmp_path / "m")
    loaded = ClusterColdStart.load(tmp_path / "m")
    users = ["u00", "u20", "nA1", "nB1", "stranger"]
    pd.testing.assert_frame_equal(model.recommend(users, k=5), loaded.recommend(users, k=5))
    pd.testing.assert_series_equal(model.assign(ds.users), loaded.assign(ds.users))
    pd.testing.assert_frame_equal(model.selection_, loaded.selection_)
    pd.testing.assert_frame_equal(model.profiles(), loaded.profiles())
    assert loaded.candidates == (2, 3)


def test_profiles_summarise_clusters(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    table = model.profiles(top=4)
    assert table["size"].sum() == len(ds.users)
    female = table.loc[table["gender"].str.startswith("F")].iloc[0]
    assert female["gender"] == "F (100%)" and female["age"] < 30
    assert set(female["top_items"]) == set(A_ITEMS)


def test_selection_by_the_evaluation_layer_matches_the_default(ds):
    """A scorer passed in (the evaluation layer's) and the default score the folds alike."""
    for options in ({"candidates": (2, 3, 4)}, {"favourites": "ridge", "candidates": (2, 3)}):
        default = ClusterColdStart(seed=0, **options).fit(ds)
        scored = ClusterColdStart(seed=0, scorer=evaluate_per_user, **options).fit(ds)
        pd.testing.assert_frame_equal(default.selection_, scored.selection_, check_exact=True)
        if default.ridge_selection_ is not None:
            pd.testing.assert_frame_equal(default.ridge_selection_, scored.ridge_selection_, check_exact=True)
        users = ["nA1", "nB1", "u03", "stranger"]
        pd.testing.assert_frame_equal(default.recommend(users, k=4), scored.recommend(users, k=4))


def test_the_scorer_is_called_and_not_saved(ds, tmp_path):
    calls = []

    def scorer(recs, truth, *, k):
        calls.append(k)
        return evaluate_per_user(recs, truth, k=k)

    model = ClusterColdStart(candidates=(2, 3), seed=0, scorer=scorer).fit(ds)
    assert calls == [10, 10]  # one call per candidate, scoring its five folds at once
    assert "scorer" not in model.get_params()
    assert ClusterColdStart.load(model.save(tmp_path / "m")).scorer is None
    with pytest.raises(ConfigError, match="scorer must be a function"):
        ClusterColdStart(scorer="ndcg")
    with pytest.raises(ConfigError, match="scorer must return a column 'ndcg'"):
        ClusterColdStart(n_clusters=2, seed=0, scorer=lambda recs, truth, k: truth).fit(ds)


def test_models_do_not_import_the_evaluation_layer():
    """Fitting (selection included), serving and onboarding load no module of workbench.evaluation."""
    code = (
        "import sys, warnings\n"
        "from workbench.data.synthetic import make_ecommerce\n"
        "from workbench.models import ClusterColdStart\n"
        "warnings.simplefilter('ignore')\n"
        "ds = make_ecommerce(60, 40, 600, seed=0)\n"
        "for favourites in ('clusters', 'ridge'):\n"
        "    model = ClusterColdStart(candidates=(2, 3), favourites=favourites, seed=0).fit(ds)\n"
        "    model.recommend(list(ds.users.index[:5]), k=3)\n"
        "    model.recommend_onboarded(list(ds.users.index[:5]), k=3)\n"
        "print(sorted(m for m in sys.modules if m.startswith('workbench.evaluation')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_selection_chart(ds):
    model = ClusterColdStart(candidates=(2, 3), seed=0).fit(ds)
    chart = selection_chart(model.selection_)
    assert isinstance(chart, alt.Chart)
    assert len(chart.data) == 6  # 2 candidates x 3 measures
    assert chart.to_dict()["encoding"]["row"]["field"] == "measure"


def test_bad_inputs_raise_one_line_errors(ds):
    with pytest.raises(DataError, match="no users table"):
        ClusterColdStart().fit(Dataset(ds.interactions))
    blank = ds.users.assign(age=np.nan, gender=None)
    with pytest.raises(DataError, match="no usable demographic column"):
        ClusterColdStart().fit(Dataset(ds.interactions, blank, None))
    with pytest.raises(ConfigError, match="method"):
        ClusterColdStart(method="dbscan")
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    with pytest.raises(DataError, match="'gender' is missing"):
        model.assign(pd.DataFrame({"age": [30]}))


# -- ridge favourites ---------------------------------------------------------------


def test_ridge_favourites_by_hand():
    # as test_shrinkage_formula_by_hand; ridge with penalty 1 on the one-hot of group (intercept free).
    # Normal equations for item p (targets x1 1, y1 0, y2 0): 2 a_X + c = 1, 3 a_Y + 2 c = 0,
    # a_X + 2 a_Y + 3 c = 1, so c = 3/7, a_X = 2/7, a_Y = -2/7: p is 5/7 for X and 1/7 for Y; q mirrors it
    log = pd.DataFrame({"user_id": ["x1", "y1", "y2"], "item_id": ["p", "q", "q"]})
    users = pd.DataFrame({"user_id": ["x1", "y1", "y2", "x9"], "group": ["X", "Y", "Y", "X"]})
    ds = Dataset.from_frames(log, users=users)
    model = ClusterColdStart(n_clusters=2, favourites="ridge", ridge_penalty=1.0, seed=0).fit(ds)
    recs = model.recommend(["x1", "y1", "x9"], k=2, exclude_seen=False).set_index(["user_id", "item_id"])["score"]
    expected = {"x1": {"p": 5 / 7, "q": 2 / 7}, "x9": {"p": 5 / 7, "q": 2 / 7}, "y1": {"q": 6 / 7, "p": 1 / 7}}
    for user, scores in expected.items():
        for item, score in scores.items():
            assert recs[(user, item)] == pytest.approx(score)
    assert model.ridge_penalty_ == 1.0 and model.ridge_selection_["penalty"].tolist() == [1.0]
    coef = ridge_coefficients(
        np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), sp.csr_matrix(np.eye(3)[[0, 1, 1], :2]), 1.0
    )
    np.testing.assert_allclose(coef * 7, [[2, -2], [-2, 2], [3, 4]])  # a_X, a_Y, c for items p, q


def test_ridge_with_a_huge_penalty_ranks_like_popularity(ds):
    model = ClusterColdStart(n_clusters=2, favourites="ridge", ridge_penalty=1e12, seed=0).fit(ds)
    pop = PopularityRecommender().fit(ds)
    users = ["nA1", "nB1", "u03"]
    ours, theirs = model.recommend(users, k=8), pop.recommend(users, k=8)
    assert (ours["user_id"] == theirs["user_id"]).all()
    # popularity's scores in the same order (items tie), times interactions / users: the intercept is
    # each item's interactions per user
    ratio = ours["score"].to_numpy() / theirs["score"].to_numpy()
    np.testing.assert_allclose(ratio, len(ds.interactions) / ds.interactions["user_id"].nunique(), rtol=1e-6)


def test_ridge_serves_each_group_its_items_and_keeps_the_clusters(ds):
    model = ClusterColdStart(n_clusters=2, favourites="ridge", seed=0).fit(ds)
    assert model.ridge_selection_["penalty"].tolist() == list(RIDGE_PENALTIES)
    best = model.ridge_selection_.sort_values(["ndcg", "penalty"], ascending=[False, False]).iloc[0]
    assert model.ridge_penalty_ == best["penalty"]
    with pytest.warns(FallbackWarning, match="unknown to the model: served the ridge favourites of their demographics"):
        recs = model.recommend(["nA1", "nA2", "nB1", "stranger"], k=4)
    top = recs.groupby("user_id")["item_id"].apply(set)
    assert top["nA1"] == top["nA2"] == set(A_ITEMS) and top["nB1"] == set(B_ITEMS)
    pop = PopularityRecommender().fit(ds).recommend(["stranger"], k=4)
    assert top["stranger"] == set(pop["item_id"])  # no demographics: the global favourites
    clusters = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    pd.testing.assert_series_equal(model.assign(ds.users), clusters.assign(ds.users))
    profiles = model.profiles(top=4)
    female = profiles.loc[profiles["gender"].str.startswith("F")].iloc[0]
    assert set(female["top_items"]) == set(A_ITEMS)
    with pytest.raises(ModelError, match="favourites='ridge'"):
        _ = clusters.ridge_penalty_


def test_onboarding_blends_the_ridge_favourites(ds):
    model = ClusterColdStart(n_clusters=2, favourites="ridge", ridge_penalty=10.0, seed=0).fit(ds)
    users = ["nA1", "nB1", "u03"]
    with pytest.warns(FallbackWarning):
        ours = model.recommend_onboarded(users, k=6)
    theirs = model.recommend(users, k=6)
    pd.testing.assert_frame_equal(ours.drop(columns="score"), theirs.drop(columns="score"))
    fresh = pd.DataFrame({"user_id": ["w1"], "age": [20], "gender": ["F"]})
    assert set(model.recommend_onboarded(fresh, k=4)["item_id"]) == set(A_ITEMS)
    recs = model.recommend_onboarded(["nB1"], first_items={"nB1": ["a1", "a2"]}, k=2)
    assert set(recs["item_id"]) == {"a3", "a4"}


def test_same_seed_same_ridge_model(ds):
    first = ClusterColdStart(favourites="ridge", seed=3, candidates=(2, 3)).fit(ds)
    second = ClusterColdStart(favourites="ridge", seed=3, candidates=(2, 3)).fit(ds)
    pd.testing.assert_frame_equal(first.ridge_selection_, second.ridge_selection_)
    pd.testing.assert_frame_equal(first.recommend(ds.users.index, k=3), second.recommend(ds.users.index, k=3))


def test_ridge_save_load_round_trip(ds, tmp_path):
    model = ClusterColdStart(favourites="ridge", candidates=(2, 3), seed=0).fit(ds)
    model.save(tmp_path / "m")
    loaded = ClusterColdStart.load(tmp_path / "m")
    users = ["u00", "u20", "nA1", "nB1", "stranger"]
    pd.testing.assert_frame_equal(model.recommend(users, k=5), loaded.recommend(users, k=5))
    pd.testing.assert_frame_equal(model.ridge_selection_, loaded.ridge_selection_)
    pd.testing.assert_frame_equal(model.profiles(), loaded.profiles())
    assert (loaded.favourites, loaded.ridge_penalty_) == ("ridge", model.ridge_penalty_)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"favourites": "soft"}, "favourites must be one of"),
        ({"ridge_penalty": 0}, "ridge_penalty must be a finite number > 0 or None, got 0"),
        ({"ridge_penalty": np.inf}, "ridge_penalty must be a finite number > 0"),
        ({"ridge_penalty": "10"}, "ridge_penalty must be a finite number > 0"),
    ],
)
def test_bad_ridge_options_raise_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClusterColdStart(**kwargs)


# -- onboarding -------------------------------------------------------------------


def onboarding_log() -> Dataset:
    """One demographic group; counts p 2, q 3, r 1, s 1 (shares 2/7, 3/7, 1/7, 1/7).

    Binary item columns: p {x1, x2}, q {x1, x2, x3}, r {x3}, s {x4}, so cos(p, q) = 2 / sqrt(6),
    cos(q, r) = 1 / sqrt(3) and every other pair of distinct items has cosine 0.
    """
    log = pd.DataFrame(
        {
            "user_id": ["x1", "x1", "x2", "x2", "x3", "x3", "x4"],
            "item_id": ["p", "q", "p", "q", "q", "r", "s"],
        }
    )
    users = pd.DataFrame({"user_id": ["x1", "x2", "x3", "x4", "n1", "n2"], "group": ["G"] * 6})
    items = pd.DataFrame({"item_id": ["p", "q", "r", "s"], "genres": ["Comedy", "Comedy|Drama", "Drama", "Horror"]})
    return Dataset.from_frames(log, users=users, items=items)


def onboarded(**weights) -> ClusterColdStart:
    return ClusterColdStart(n_clusters=1, shrinkage=0.0, seed=0, **weights).fit(onboarding_log())


def scores_of(recs: pd.DataFrame, user: str = "n1") -> dict:
    rows = recs[recs["user_id"] == user]
    return dict(zip(rows["item_id"], rows["score"], strict=True))


COS_PQ, COS_QR = 2 / np.sqrt(6), 1 / np.sqrt(3)
# favourites scaled by the top share (q): p 2/3, q 1, r 1/3, s 1/3
SCALED = {"p": 2 / 3, "q": 1.0, "r": 1 / 3, "s": 1 / 3}


def test_first_items_add_their_mean_cosine_by_hand():
    model = onboarded(item_weight=1.0, pick_weight=0.0)
    recs = model.recommend_onboarded(["n1"], first_items={"n1": ["r"]}, k=4, exclude_seen=False)
    expected = {"p": SCALED["p"], "q": 1 + COS_QR, "r": SCALED["r"] + 1.0, "s": SCALED["s"]}
    assert scores_of(recs) == pytest.approx(expected)
    assert recs["item_id"].tolist() == ["q", "r", "p", "s"] and recs["rank"].tolist() == [1, 2, 3, 4]
    assert not recs["fallback"].any()
    # two first items: the mean of their cosines, weighted by item_weight; first items are not listed again
    model = onboarded(item_weight=2.0, pick_weight=0.0)
    recs = model.recommend_onboarded(["n1"], first_items={"n1": ["p", "r"]}, k=4)
    assert scores_of(recs) == pytest.approx({"q": 1 + 2 * (COS_PQ + COS_QR) / 2, "s": SCALED["s"]})


def test_picks_multiply_by_the_share_of_picked_labels_by_hand():
    model = onboarded(item_weight=0.0, pick_weight=2.0)
    assert model.labels_ == ["Comedy", "Drama", "Horror"]
    recs = model.recommend_onboarded(["n1", "n2"], picks={"n1": ["drama"], "n2": "Horror"}, k=4)
    # q is half drama, r all drama; names match ignoring case, one pick may be a plain string
    assert scores_of(recs, "n1") == pytest.approx({"p": 2 / 3, "q": 1 * (1 + 2 * 0.5), "r": 1 / 3 * 3, "s": 1 / 3})
    assert recs.loc[recs["user_id"] == "n1", "item_id"].tolist() == ["q", "r", "p", "s"]
    assert scores_of(recs, "n2") == pytest.approx({"p": 2 / 3, "q": 1.0, "r": 1 / 3, "s": 1 / 3 * 3})
    # with first items too: (scaled favourite + cosine) x (1 + share)
    model = onboarded(item_weight=1.0, pick_weight=2.0)
    recs = model.recommend_onboarded(["n1"], first_items={"n1": ["r"]}, picks={"n1": ["Drama"]}, k=4)
    assert scores_of(recs) == pytest.approx({"p": 2 / 3, "q": (1 + COS_QR) * 2, "s": 1 / 3})


def test_without_onboarding_the_ranking_is_the_clusters(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    users = ["nA1", "nB1", "u03", "stranger"]
    with pytest.warns(FallbackWarning, match="3 of 4 users have neither"):
        ours = model.recommend_onboarded(users, k=6)
    theirs = model.recommend(users, k=6)
    pd.testing.assert_frame_equal(ours.drop(columns="score"), theirs.drop(columns="score"))
    # scores are the favourites scaled by each list's top score
    for user in users:
        a, b = ours.loc[ours.user_id == user, "score"], theirs.loc[theirs.user_id == user, "score"]
        top = model._fallback_scores(np.array([user], dtype=object)).max()  # u03 may have seen the top one
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy() / top, rtol=1e-6)


def test_first_items_outweigh_demographics(ds):
    model = ClusterColdStart(n_clusters=2, seed=0, item_weight=2.0).fit(ds)
    recs = model.recommend_onboarded(["nB1"], first_items={"nB1": ["a1", "a2"]}, k=2)
    assert set(recs["item_id"]) == {"a3", "a4"}  # a B-group newcomer who started with a-items
    assert set(model.recommend(["nB1"], k=2)["item_id"]) <= set(B_ITEMS)


def test_a_demographics_frame_serves_users_the_model_never_saw(ds):
    model = ClusterColdStart(n_clusters=2, seed=0).fit(ds)
    fresh = pd.DataFrame({"user_id": ["w1", "w2"], "age": [20, 62], "gender": ["F", "M"]})
    recs = model.recommend_onboarded(fresh, first_items={"w2": ["b1"]}, k=3)
    assert set(recs.loc[recs.user_id == "w1", "item_id"]) <= set(A_ITEMS)
    assert set(recs.loc[recs.user_id == "w2", "item_id"]) <= set(B_ITEMS) - {"b1"}
    assert recs.groupby("user_id")["fallback"].all().to_dict() == {"w1": True, "w2": False}
    # the same users by id are unknown to train.users: global favourites
    by_id = model.recommend_onboarded(["w1"], k=3)
    assert by_id["item_id"].tolist() == model.recommend(["w1"], k=3)["item_id"].tolist()


def test_unknown_first_items_are_ignored_and_counted():
    model = onboarded(item_weight=1.0, pick_weight=0.0)
    clean = model.recommend_onboarded(["n1"], first_items={"n1": ["r"]}, k=3)
    with pytest.warns(UnknownItemsWarning, match="2 of 3 first items are not items of the model"):
        noisy = model.recommend_onboarded(["n1"], first_items={"n1": ["r", "zz", 404]}, k=3)
    pd.testing.assert_frame_equal(clean, noisy)
    with pytest.warns(UnknownItemsWarning), pytest.warns(FallbackWarning, match="1 of 1 users"):
        only_unknown = model.recommend_onboarded(["n1"], first_items={"n1": "zz"}, k=3)
    assert only_unknown["fallback"].all()


def test_onboarding_bad_inputs_raise_one_line_errors(ds):
    model = onboarded()
    with pytest.raises(
        DataError, match=r"picks: 1 unknown genres / categories, e.g. 'Dramma' \(did you mean 'Drama'\?\)"
    ):
        model.recommend_onboarded(["n1"], picks={"n1": ["Dramma"]})
    with pytest.raises(DataError, match="known ones \\(3\\) include 'Comedy', 'Drama', 'Horror'"):
        model.recommend_onboarded(["n1"], picks={"n1": ["Western"]})
    with pytest.raises(DataError, match="not among the users to recommend for \\(e.g. 'n2'\\)"):
        model.recommend_onboarded(["n1"], first_items={"n2": ["p"]})
    with pytest.raises(DataError, match="expected a dict of user_id -> list, got list"):
        model.recommend_onboarded(["n1"], first_items=["p"])
    with pytest.raises(DataError, match="missing values"):
        model.recommend_onboarded(["n1"], first_items={"n1": ["p", None]})
    with pytest.raises(DataError, match="appears more than once"):
        model.recommend_onboarded(pd.DataFrame({"user_id": ["n1", "n1"], "group": ["G", "G"]}))
    with pytest.raises(ConfigError, match="item_weight must be a finite number >= 0"):
        ClusterColdStart(item_weight=-1)
    without_labels = ClusterColdStart(n_clusters=2, seed=0).fit(ds)  # no items table
    assert without_labels.labels_ == []
    with pytest.raises(DataError, match="no genres, category or department column"):
        without_labels.recommend_onboarded(["nA1"], picks={"nA1": ["Comedy"]})
    with pytest.raises(DataError) as info:
        model.recommend_onboarded(["n1"], picks={"n1": ["Western"]})
    assert "\n" not in str(info.value)


def test_onboarding_survives_save_and_load(tmp_path):
    model = onboarded(item_weight=0.7, pick_weight=0.3)
    model.save(tmp_path / "m")
    loaded = ClusterColdStart.load(tmp_path / "m")
    assert (loaded.item_weight, loaded.pick_weight, loaded.labels_) == (0.7, 0.3, model.labels_)
    call = {"first_items": {"n1": ["r"]}, "picks": {"n2": ["Comedy"]}, "k": 4}
    pd.testing.assert_frame_equal(
        model.recommend_onboarded(["n1", "n2"], **call), loaded.recommend_onboarded(["n1", "n2"], **call)
    )


def test_ridge_selection_and_profiles_do_not_depend_on_pruning(monkeypatch):
    from workbench.models import favourites

    rng = np.random.default_rng(5)
    n_users, n_items = 120, 400
    users = pd.DataFrame(
        {"user_id": np.arange(n_users), "band": rng.choice(list("abcd"), n_users), "size": rng.integers(1, 5, n_users)}
    )
    weights = 1.0 / np.arange(1, n_items + 1)
    log = pd.DataFrame(
        {"user_id": rng.integers(0, n_users, 4000), "item_id": rng.choice(n_items, 4000, p=weights / weights.sum())}
    )
    ds = Dataset.from_frames(log, users=users)

    def fit():
        model = ClusterColdStart(favourites="ridge", candidates=(2, 3), seed=0).fit(ds)
        return model.ridge_selection_, model.profiles(top=5)

    monkeypatch.setattr(favourites, "PRUNE_ITEMS", 10**9)
    whole = fit()
    monkeypatch.setattr(favourites, "PRUNE_ITEMS", 50)
    monkeypatch.setattr(favourites, "PROBE_ITEMS", 40)
    reachable, sizes = favourites.reachable_items, []

    def spy(*args):
        found = reachable(*args)
        sizes.append(n_items if found is None else len(found))
        return found

    monkeypatch.setattr(favourites, "reachable_items", spy)
    pruned = fit()
    assert sizes and min(sizes) < n_items  # the pruned path ran
    pd.testing.assert_frame_equal(whole[0], pruned[0])
    pd.testing.assert_frame_equal(whole[1], pruned[1])


def test_item_labels_without_separators_are_one_label_per_cell():
    from workbench.data.dataset import IdMap
    from workbench.models.onboarding import item_labels_matrix

    items = pd.DataFrame({"category": ["Dairy", None, " ", "Bakery ", "Dairy"]}, index=list("abcde"))
    matrix, names = item_labels_matrix(items, IdMap.from_values(list("edcbaz")))
    assert names.tolist() == ["Bakery", "Dairy"]
    assert matrix.toarray().tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
