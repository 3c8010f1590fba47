"""One protocol for every model: each class load_model reads is a Recommender, round-trips through
save / load unchanged, honours exclude_seen both ways, and keeps every row (fallback rows
included) inside the ``items`` allow-list and outside ``exclude_items``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import models
from workbench.data import Dataset
from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.errors import ConfigError, DataError, ModelError, UnknownItemsWarning
from workbench.models import Recommender, load_model, saved_classes, storage


def _candidates() -> models.CandidateGenerator:
    return models.CandidateGenerator(factors=8, iterations=3, n_neighbours=20, seed=0)


FACTORIES = {
    "PopularityRecommender": models.PopularityRecommender,
    "DecayedPopularity": lambda: models.DecayedPopularity(half_life="7D"),
    "RepeatRecommender": models.RepeatRecommender,
    "TIFUKNNRecommender": lambda: models.TIFUKNNRecommender(n_neighbours=20),
    "UPCFRecommender": lambda: models.UPCFRecommender(recency=3),
    "ALSRecommender": lambda: models.ALSRecommender(factors=8, iterations=3, seed=0),
    "EASERecommender": models.EASERecommender,
    "ContentRecommender": models.ContentRecommender,
    "ClusterColdStart": lambda: models.ClusterColdStart(n_clusters=3, seed=0),
    "CandidateGenerator": _candidates,
    # a content model as the warm part: its catalogue holds items nobody interacted with
    "HybridRecommender": lambda: models.HybridRecommender(
        models.ClusterColdStart(n_clusters=3, seed=0), models.ContentRecommender(), min_interactions=20
    ),
    "LightGBMReranker": lambda: models.LightGBMReranker(
        _candidates(), n_candidates=30, n_folds=2, seed=0, min_data_in_leaf=20
    ),
}
COMPOSITES = {
    "CandidateGenerator": ("als",),
    "HybridRecommender": ("cold_model", "warm_model"),
    "LightGBMReranker": ("candidates",),
}
K = 10


@pytest.fixture(scope="module")
def shop() -> Dataset:
    """The small synthetic shop with integer ids (so that "17" and 17 name the same item)."""
    return make_ecommerce(**SIZES["small"], seed=0, integer_ids=True)


class _Fitted(dict):
    """Models fitted on first use, once per module."""

    def __init__(self, shop: Dataset) -> None:
        super().__init__()
        self.shop = shop

    def __missing__(self, name: str) -> Recommender:
        self[name] = FACTORIES[name]().fit(self.shop)
        return self[name]


@pytest.fixture(scope="module")
def fitted(shop) -> dict[str, Recommender]:
    return _Fitted(shop)


@pytest.fixture(scope="module")
def users(shop) -> list:
    return [*np.sort(pd.unique(shop.interactions["user_id"]))[:30].tolist(), 10**9]  # the last one is unknown


def _popular(shop: Dataset, n: int) -> list:
    return shop.interactions["item_id"].value_counts().index[:n].tolist()


def _spread(shop: Dataset, step: int) -> list:
    """Every ``step``-th interacted item (by id)."""
    return np.sort(shop.interactions["item_id"].unique())[::step].tolist()


def test_every_loadable_class_is_covered():
    assert set(FACTORIES) == set(saved_classes())


@pytest.mark.parametrize("name", FACTORIES)
def test_is_a_recommender_with_the_contract_columns(name, fitted, users):
    model = fitted[name]
    assert isinstance(model, Recommender) and issubclass(saved_classes()[name], Recommender)
    recs = model.recommend(users, k=K)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    assert recs.groupby("user_id")["rank"].apply(list).map(lambda r: r == list(range(1, len(r) + 1))).all()
    assert recs["fallback"][recs["user_id"] == users[-1]].all()  # the unknown user is served, marked
    assert recs["user_id"].dtype == np.int64 and recs["item_id"].dtype == np.int64


@pytest.mark.parametrize("name", FACTORIES)
def test_save_load_round_trip_is_identical(name, fitted, users, shop, tmp_path):
    model = fitted[name]
    path = model.save(tmp_path / name)
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    for part in COMPOSITES.get(name, ()):
        assert (path / part / storage.MANIFEST).is_file()
        assert type(getattr(loaded, part)) is type(getattr(model, part))
    allowed = [*_popular(shop, 5), *_spread(shop, 9)]
    for kwargs in ({}, {"exclude_seen": False}, {"items": allowed, "exclude_items": allowed[:2]}):
        pd.testing.assert_frame_equal(loaded.recommend(users, k=K, **kwargs), model.recommend(users, k=K, **kwargs))


@pytest.mark.parametrize("name", FACTORIES)
def test_exclude_seen_both_ways(name, fitted, users, shop):
    model = fitted[name]
    seen = pd.MultiIndex.from_frame(shop.interactions[["user_id", "item_id"]])

    def seen_share(recs: pd.DataFrame) -> float:
        return float(pd.MultiIndex.from_frame(recs[["user_id", "item_id"]]).isin(seen).mean())

    assert seen_share(model.recommend(users, k=K)) == 0.0
    assert seen_share(model.recommend(users, k=K, exclude_seen=False)) > 0.0


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_items_is_an_allow_list_for_every_row(name, exclude_seen, fitted, users, shop):
    model = fitted[name]
    allowed = [*_popular(shop, 4), *_spread(shop, 13)]  # popular ones and a spread of others
    spelled = [str(item) if i % 2 else item for i, item in enumerate(allowed)]  # either spelling names an item
    recs = model.recommend(users, k=K, items=spelled, exclude_seen=exclude_seen)
    assert set(recs["item_id"]) <= set(allowed)
    assert recs["fallback"].any() and set(recs.loc[recs["fallback"], "item_id"]) <= set(allowed)
    assert len(recs[recs["user_id"] == users[-1]]) == K  # the fallback fills from the allowed items
    if exclude_seen:
        seen = pd.MultiIndex.from_frame(shop.interactions[["user_id", "item_id"]])
        assert not pd.MultiIndex.from_frame(recs[["user_id", "item_id"]]).isin(seen).any()
    few = model.recommend(users, k=K, items=allowed[:3], exclude_seen=exclude_seen)
    assert set(few["item_id"]) <= set(allowed[:3]) and few.groupby("user_id").size().max() <= 3
    mine = shop.interactions.loc[shop.interactions["user_id"] == users[0], "item_id"].unique()
    own = model.recommend(users[:1], k=K, items=mine, exclude_seen=exclude_seen)
    assert set(own["item_id"]) <= set(mine) and (own.empty if exclude_seen else len(own) > 0)


@pytest.mark.parametrize("name", FACTORIES)
def test_exclude_items_is_honoured_by_every_row(name, fitted, users, shop):
    model = fitted[name]
    plain = model.recommend(users, k=K)
    excluded = sorted(set(_popular(shop, 10)) | set(plain.loc[plain["rank"] <= 2, "item_id"]))
    recs = model.recommend(users, k=K, exclude_items=[str(item) for item in excluded])
    assert not set(recs["item_id"]) & set(excluded)
    assert recs["fallback"].any()
    assert len(recs[recs["user_id"] == users[-1]]) == K
    both = model.recommend(users, k=K, items=excluded[:6] + _popular(shop, 20)[10:], exclude_items=excluded)
    assert set(both["item_id"]) <= set(_popular(shop, 20)[10:])


@pytest.mark.parametrize("name", FACTORIES)
def test_bad_arguments_raise_one_clear_error(name, fitted, users, shop):
    model = fitted[name]
    for k in (0, -1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="k must be a positive integer"):
            model.recommend(users, k=k)
    for items, message in (
        ([], "allow-list is empty"),
        (["no-such-item", -5], "none of the 2 ids"),
        ([1, None], "missing ids"),
    ):
        with pytest.raises(DataError, match=message) as info:
            model.recommend(users, k=K, items=items)
        assert "\n" not in str(info.value)
    known = _popular(shop, 3)
    with pytest.warns(UnknownItemsWarning, match=r"2 of 5 ids of the allow-list are not items of the model") as caught:
        recs = model.recommend(users, k=K, items=[*known, "no-such-item", 10**9])
    assert len([w for w in caught if w.category is UnknownItemsWarning]) == 1
    assert set(recs["item_id"]) <= set(known)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownItemsWarning)
        model.recommend(users[:2], k=K, exclude_items=["no-such-item"])  # nothing to exclude: silent
    with pytest.raises(ModelError, match="fitted"):
        FACTORIES[name]().recommend(users, k=K)


@pytest.mark.parametrize("name", COMPOSITES)
def test_a_model_saved_in_the_previous_layout_is_refused(name, fitted, tmp_path):
    path = fitted[name].save(tmp_path / name)
    manifest = json.loads((path / storage.MANIFEST).read_text())
    manifest["format_version"] = 1
    (path / storage.MANIFEST).write_text(json.dumps(manifest))
    supported = type(fitted[name]).format_version
    message = rf"format version 1 is not the supported {supported}; fit and save the model again"
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_a_hybrid_knows_the_items_of_its_parts(fitted, shop):
    hybrid = fitted["HybridRecommender"]
    never_bought = shop.items.index.difference(shop.interactions["item_id"].unique())
    assert len(never_bought) and (hybrid.item_map.codes(never_bought) >= 0).all()  # its catalogue: its parts'
    heavy = shop.interactions["user_id"].value_counts().index[0]  # routed to the content model
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownItemsWarning)  # the content part knows them
        recs = hybrid.recommend([heavy], k=3, items=never_bought)
    assert len(recs) == 3 and set(recs["item_id"]) <= set(never_bought)


def test_a_bad_parameter_is_a_config_error_in_every_constructor():
    cases = [
        lambda: models.ALSRecommender(factors=0),
        lambda: models.ALSRecommender(iterations=1.5),
        lambda: models.ClusterColdStart(n_clusters=0),
        lambda: models.ClusterColdStart(candidates=(2, 0)),
        lambda: models.CandidateGenerator(n_neighbours=0),
        lambda: models.CandidateGenerator(n_candidates=True),
        lambda: models.HybridRecommender(
            models.PopularityRecommender(), models.PopularityRecommender(), min_interactions=0
        ),
        lambda: models.LightGBMReranker(n_candidates=0),
        lambda: models.LightGBMReranker(n_folds=0),
        lambda: models.TIFUKNNRecommender(n_neighbours=0),
        lambda: models.TIFUKNNRecommender(n_groups=2.5),
        lambda: models.UPCFRecommender(recency=0),
    ]
    for make in cases:
        with pytest.raises(ConfigError, match="must be a positive integer"):
            make()
