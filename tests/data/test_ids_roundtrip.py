"""Ids as written: kinds survive CSV, Parquet and from_frames; models find users by either spelling."""

import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset, read_interactions
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, PopularityRecommender

N_USERS, N_ITEMS, N_ROWS = 12, 15, 150

KINDS = {
    "int": ([1, 2, 3, 7, 10, 42, -5, 10**12, 0, 99, 100, 2**62], list(range(500, 500 + N_ITEMS))),
    "int_as_text": ([str(i) for i in range(1, N_USERS + 1)], [str(i) for i in range(30, 30 + N_ITEMS)]),
    "leading_zero": (
        ["007", "7", "0042", "42", "01", "1", "008", "x9", "12", "0", "00", "-3"],
        [f"{i:04d}" if i % 2 else str(i) for i in range(1, N_ITEMS + 1)],
    ),
    "uuid": ([str(uuid.UUID(int=i * 7919)) for i in range(N_USERS)], [str(uuid.UUID(int=i)) for i in range(N_ITEMS)]),
    "unicode": (  # "١٢" is 12 to Python's int(), yet not how 12 is written: no int finds it
        ["café", "用户", "Zoë", "😀", "naïve", "データ", "ß", "Ωmega", "ümlaut", "東京", "señor", "١٢"],
        [
            "寿司",
            "crème",
            "piñata",
            "مرحبا",
            "Ünïcødé",
            "ラーメン",
            "pão",
            "smörgås",
            "ёлка",
            "ñ",
            "€",
            "鍋",
            "茶",
            "粥",
        ]
        + ["饺"],
    ),
}
# CSV has no types: integers written plainly are read back as int64 (int_as_text would not stay text)
CASES = [
    (kind, source)
    for kind in KINDS
    for source in ("csv", "parquet", "frames")
    if (kind, source) != ("int_as_text", "csv")
]
MODELS = {"popularity": PopularityRecommender, "als": lambda: ALSRecommender(factors=8, iterations=3, seed=0)}


def _log(kind: str) -> pd.DataFrame:
    """Every user and item at least once, then random rows; ids in the dtype pandas gives the lists."""
    users, items = (pd.Series(ids) for ids in KINDS[kind])
    rng = np.random.default_rng(0)
    user_rows = np.r_[np.arange(N_USERS), rng.integers(0, N_USERS, N_ROWS - N_USERS)]
    item_rows = np.r_[np.arange(N_ITEMS), rng.zipf(1.6, N_ROWS - N_ITEMS) % N_ITEMS]
    return pd.DataFrame(
        {
            "user_id": users.iloc[user_rows].reset_index(drop=True),
            "item_id": items.iloc[item_rows].reset_index(drop=True),
        }
    )


def _dataset(kind: str, source: str, tmp_path) -> tuple[pd.DataFrame, Dataset]:
    log = _log(kind)
    if source == "frames":
        return log, Dataset.from_frames(log)
    path = tmp_path / f"log.{source}"
    log.to_csv(path, index=False) if source == "csv" else log.to_parquet(path)
    return log, read_interactions(path)


def _other_spelling(value: object) -> object:
    """The test's own statement of the rule: int n <-> str(n); None where text is not str(int)."""
    if isinstance(value, (int, np.integer)):
        return str(value)
    try:
        return int(value) if str(int(value)) == value else None
    except ValueError:
        return None


@pytest.mark.parametrize(("kind", "source"), CASES)
def test_ids_keep_their_dtype_and_values(kind, source, tmp_path):
    log, ds = _dataset(kind, source, tmp_path)
    for column in ("user_id", "item_id"):
        pd.testing.assert_series_equal(ds.interactions[column], log[column])
    expected = "int" if kind == "int" else "text"
    assert ds.id_kinds == {"user_id": expected, "item_id": expected}


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize(("kind", "source"), CASES)
def test_users_in_the_other_spelling_get_the_same_recommendations(kind, source, model_name, tmp_path):
    _, ds = _dataset(kind, source, tmp_path)
    model = MODELS[model_name]().fit(ds)
    pairs = [(u, _other_spelling(u)) for u in pd.unique(ds.interactions["user_id"])]
    pairs = [(own, other) for own, other in pairs if other is not None]
    assert (len(pairs) > 0) == (kind in ("int", "int_as_text", "leading_zero"))
    if not pairs:  # nothing else spells these ids: an integer finds none of them
        assert (model.user_map.codes([7, 0, 12, 1.0]) == -1).all()
        return
    own, other = (list(x) for x in zip(*pairs, strict=False))
    assert (model.user_map.codes(other) >= 0).all()  # a known user is never served as unknown
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short lists completed with popularity are not the point here
        mine, theirs = model.recommend(own, k=5), model.recommend(other, k=5)
    to_own = dict(zip(other, own, strict=False))
    theirs = theirs.assign(user_id=theirs["user_id"].map(lambda u: to_own.get(u, u)))
    order = {u: i for i, u in enumerate(own)}
    mine, theirs = (
        f.assign(_o=f["user_id"].map(order)).sort_values(["_o", "rank"]).reset_index(drop=True) for f in (mine, theirs)
    )
    for column in ("user_id", "item_id", "rank"):
        assert mine[column].tolist() == theirs[column].tolist(), column
    np.testing.assert_allclose(mine["score"], theirs["score"])


def test_returned_user_ids_are_in_the_models_spelling():
    ints = PopularityRecommender().fit(Dataset.from_frames(_log("int")))
    recs = ints.recommend(["1", "42"], k=3)
    assert recs["user_id"].dtype == np.int64 and set(recs["user_id"]) == {1, 42}
    texts = PopularityRecommender().fit(Dataset.from_frames(_log("int_as_text")))
    assert set(texts.recommend([1, 2], k=3)["user_id"]) == {"1", "2"}


def test_csv_integer_ids_round_trip_as_int64(tmp_path):
    orders = pd.DataFrame({"user_id": [1, 2, 3, 1, 2, 3, 4], "product_id": [10, 11, 10, 12, 13, 12, 10]})
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    ds = read_interactions(path, columns={"product_id": "item_id"})
    assert ds.id_kinds == {"user_id": "int", "item_id": "int"}
    for make in MODELS.values():
        model = make().fit(ds)
        assert (model.user_map.codes(orders["user_id"]) >= 0).all()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            recs = model.recommend(orders["user_id"], k=2)
        assert recs["user_id"].dtype == np.int64 and recs["item_id"].dtype == np.int64
        assert set(recs["user_id"]) == set(orders["user_id"])
        assert set(recs["item_id"]) <= set(orders["product_id"])


def test_evaluate_int_recommendations_against_int_truth():
    truth = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12]})
    recs = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [10, 12, 11, 10], "rank": [1, 2, 1, 2]})
    scores = evaluate(recs, truth, k=2)
    assert scores["hit_rate"] == pytest.approx(2 / 3) and scores["precision"] == pytest.approx(1 / 3)
    text = {"user_id": str, "item_id": str}
    assert scores == pytest.approx(evaluate(recs.astype(text), truth.astype(text), k=2))
