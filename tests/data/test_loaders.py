"""Loaders: CSV / Parquet round trips, bad files as one-line DataErrors, MovieLens-100K shape."""

import hashlib

import pandas as pd
import pytest

from workbench.data import load_dataset, load_movielens_100k, read_interactions
from workbench.errors import DataError


def _write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_ids_with_leading_zeros_stay_text_and_columns_map(tmp_path):
    log = _write_csv(tmp_path / "log.csv", "customer,sku,rating,ts\n007,0042,5,100\n7,42,3,200\n")
    users = _write_csv(tmp_path / "users.csv", "customer,age,city\n007,31,Oslo\n7,45,Rome\n")
    items = _write_csv(tmp_path / "items.csv", "sku,price\n0042,9.5\n42,3\n")
    ds = read_interactions(
        log, columns={"customer": "user_id", "sku": "item_id", "ts": "timestamp"}, users=users, items=items
    )
    assert ds.interactions["user_id"].tolist() == ["007", "7"]  # not the same user
    assert ds.interactions["item_id"].tolist() == ["0042", "42"]
    assert ds.interactions["rating"].tolist() == [5.0, 3.0]
    assert ds.interactions["timestamp"].tolist() == [100, 200]
    assert ds.users.loc["7", "city"] == "Rome"
    assert ds.items.index.tolist() == ["0042", "42"]
    assert ds.id_kinds == {"user_id": "text", "item_id": "text"}


def test_csv_numeric_columns_of_side_tables_become_numbers(tmp_path):
    log = _write_csv(tmp_path / "log.csv", "user_id,item_id\n1,2\n")
    users = _write_csv(tmp_path / "users.csv", "user_id,age\n1,31\n")
    ds = read_interactions(log, users=users)
    assert ds.users.loc[1, "age"] == 31


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"user_id": [3, 1, 3], "item_id": ["x", "y", "x"], "event": ["view", "cart", "view"]})
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    ds = read_interactions(path)
    assert ds.interactions["user_id"].tolist() == [3, 1, 3]
    assert ds.interactions["item_id"].tolist() == ["x", "y", "x"]
    assert ds.interactions["event"].tolist() == ["view", "cart", "view"]


def _garbage(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _truncated_parquet(tmp_path):
    good = tmp_path / "good.parquet"
    pd.DataFrame({"user_id": range(100), "item_id": range(100)}).to_parquet(good)
    return good.read_bytes()[: good.stat().st_size // 2]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", "", "is empty"),
        ("header.csv", "user_id,item_id\n", "no rows"),
        ("ragged.csv", "user_id,item_id\n1,2\n3,4,5,6\n", "not a well-formed table"),
        ("binary.csv", bytes(range(256)) * 4, "not UTF-8|not a well-formed"),
        ("latin1.csv", "user_id,item_id\ncaf\xe9,1\n".encode("latin-1"), "not UTF-8"),
        ("nocols.csv", "\n\n", "no columns"),
        ("noitem.csv", "user_id,thing\n1,2\n", "required column 'item_id'"),
        ("truncated.parquet", None, "cannot read"),
    ],
)
def test_bad_files_raise_one_line_and_stay_untouched(tmp_path, name, content, match):
    path = _garbage(tmp_path, name, _truncated_parquet(tmp_path) if content is None else content)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DataError, match=match) as info:
        read_interactions(path)
    assert "\n" not in str(info.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_interactions(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_interactions(tmp_path)
    good = _write_csv(tmp_path / "log.csv", "user_id,item_id\n1,2\n")
    with pytest.raises(DataError, match="users: file not found"):
        read_interactions(good, users=tmp_path / "users.csv")


def test_movielens_100k_shape():
    ds = load_movielens_100k()
    assert (len(ds), ds.n_users, ds.n_items) == (100_000, 943, 1682)
    assert ds.users.columns.tolist() == ["age", "gender", "occupation", "zip_code"]
    assert ds.items.columns.tolist() == ["title", "year", "genres"]
    assert ds.interactions["rating"].between(1, 5).all()
    assert set(ds.users["gender"]) == {"F", "M"}
    assert ds.items["genres"].str.contains("|", regex=False).any()


def test_load_dataset_by_name(monkeypatch):
    ds = load_dataset("synthetic-small")
    assert len(ds) == 8_000
    monkeypatch.setenv("WORKBENCH_DATA", "synthetic-small")
    assert len(load_dataset()) == 8_000
    with pytest.raises(DataError, match="unknown synthetic size 'huge'"):
        load_dataset("synthetic-huge")
