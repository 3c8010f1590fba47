"""clean(): nothing unless asked, spellings merged, bot-like users dropped, attributes imputed, inputs untouched."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import Cleaned, Dataset, clean
from workbench.data.clean import CHANGE_COLUMNS
from workbench.data.profile import profile
from workbench.errors import ConfigError, DataError


@pytest.fixture
def shop() -> Dataset:
    """Thirty ordinary users with 2 to 4 interactions and one bot with 200; labels spelled several ways."""
    counts = [2] * 10 + [3] * 10 + [4] * 10
    users = np.repeat([f"u{i}" for i in range(30)], counts)
    log = pd.DataFrame(
        {
            "user_id": np.concatenate([users, ["bot"] * 200]),
            "item_id": np.resize(["a", "b", "c", "d"], len(users) + 200),
        }
    )
    user_table = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(30)] + ["bot"],
            "age": [30.0] * 10 + [40.0] * 10 + [50.0] * 9 + [None, 20.0],
            "region": ["North"] * 20 + ["north "] * 5 + ["Nörth"] * 3 + ["south", None, "south"],
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "category": ["Toys", "toys ", "Toys", "Books"],
            "genres": ["Action|Comedy", "action |Action", "Comedy", None],
            "price": [1.0, None, 3.0, 4.0],
            "name": ["Alpha", "Beta", " ", "Delta"],
        }
    )
    return Dataset.from_frames(log, user_table, items)


def _frames(ds: Dataset) -> list[pd.DataFrame]:
    return [ds.interactions, ds.users, ds.items]


def test_no_option_changes_nothing(shop):
    cleaned = clean(shop)
    assert isinstance(cleaned, Cleaned) and cleaned.changes.empty
    assert cleaned.changes.columns.tolist() == CHANGE_COLUMNS
    for got, expected in zip(_frames(cleaned.dataset), _frames(shop), strict=True):
        pd.testing.assert_frame_equal(got, expected)


def test_spellings_merged_into_the_most_frequent_and_listed(shop):
    cleaned = clean(shop, merge_labels=True)
    changes = cleaned.changes.drop(columns="action").values.tolist()
    assert set(cleaned.changes["action"]) == {"merge spelling"}
    assert changes == [
        ["users", "region", "north ", "North", 5],
        ["users", "region", "Nörth", "North", 3],
        ["items", "category", "toys ", "Toys", 1],
        ["items", "genres", "action ", "Action", 1],
    ]
    users, items = cleaned.dataset.users, cleaned.dataset.items
    assert users["region"].value_counts(dropna=False).to_dict() == {"North": 28, "south": 2, np.nan: 1}
    assert items["category"].tolist() == ["Toys", "Toys", "Toys", "Books"]
    assert items["genres"].tolist()[:3] == ["Action|Comedy", "Action", "Comedy"]  # "action |Action" -> "Action"
    assert profile(cleaned.dataset).spellings.empty  # the profile finds nothing left to merge
    pd.testing.assert_frame_equal(cleaned.dataset.interactions, shop.interactions)


def test_bot_like_user_dropped_from_log_and_users_table(shop):
    cleaned = clean(shop, drop_outlier_users=True)
    assert cleaned.changes.values.tolist() == [
        ["drop outlier user", "interactions", "user_id", "bot", None, 200],
        ["drop outlier user", "users", "user_id", "bot", None, 1],
    ]
    assert len(cleaned.dataset.interactions) == 90 and "bot" not in set(cleaned.dataset.interactions["user_id"])
    assert "bot" not in cleaned.dataset.users.index and len(cleaned.dataset.users) == 30
    assert profile(shop).to_dict()["outlier_users"] == 1  # what the profile reports is what clean drops


def test_impute_fills_medians_and_unknown(shop):
    cleaned = clean(shop, impute=True)
    assert cleaned.changes.drop(columns="action").values.tolist() == [
        ["users", "age", None, 40.0, 1],  # median of 10 x 30, 10 x 40, 9 x 50 and 20
        ["users", "region", None, "unknown", 1],
        ["items", "genres", None, "unknown", 1],
        ["items", "price", None, 3.0, 1],
        ["items", "name", None, "unknown", 1],  # a blank name counts as missing
    ]
    items = cleaned.dataset.items
    assert items["price"].tolist() == [1.0, 3.0, 3.0, 4.0] and items["name"].tolist()[2] == "unknown"
    assert cleaned.dataset.users.loc["bot", "age"] == 20.0 and cleaned.dataset.users["age"].isna().sum() == 0


def test_inputs_are_never_mutated(shop):
    before = [frame.copy(deep=True) for frame in _frames(shop)]
    cleaned = clean(shop, merge_labels=True, drop_outlier_users=True, impute=True)
    assert len(cleaned.changes) == 4 + 2 + 5
    assert cleaned.changes.loc[cleaned.changes["action"] == "impute", "before"].tolist() == [None] * 5
    for frame, copy in zip(_frames(shop), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_bad_input_is_one_line():
    with pytest.raises(DataError, match="clean expects a Dataset, got DataFrame"):
        clean(pd.DataFrame({"user_id": [1], "item_id": [1]}))
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [1]}))
    with pytest.raises(ConfigError, match="merge_labels must be True or False, got 'yes'"):
        clean(ds, merge_labels="yes")
