"""Loaders: real MovieLens-100K, your own CSV / Parquet files, and named data sets."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import DATA_ENV, DEFAULT_DATA
from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import DataError, first_line

ML100K_PACKAGE = "recbole"
ML100K_FOLDER = ("dataset_example", "ml-100k")


def _recbole_file(name: str) -> Path:
    try:
        spec = importlib.util.find_spec(ML100K_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "MovieLens-100K is read from the recbole wheel, which is not installed: "
            "run `pip install --no-deps recbole` (or `make setup`)"
        )
    # Locate the data without importing recbole (its __init__ pulls in torch).
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root.joinpath(*ML100K_FOLDER, name)
    if not path.is_file():
        raise DataError(f"MovieLens-100K file {name} is missing from the recbole package at {path.parent}")
    return path


def _read_atomic(name: str) -> pd.DataFrame:
    """Read a RecBole atomic file (tab-separated, header cells `name:type`)."""
    frame = pd.read_csv(_recbole_file(name), sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [c.split(":")[0] for c in frame.columns]
    return frame


def load_movielens_100k() -> Dataset:
    """Real MovieLens-100K: 100,000 ratings of 1,682 movies by 943 users, with demographics.

    >>> ds = load_movielens_100k()  # doctest: +SKIP
    >>> len(ds), ds.n_users, ds.n_items  # doctest: +SKIP
    (100000, 943, 1682)
    """
    inter = _read_atomic("ml-100k.inter")
    interactions = pd.DataFrame(
        {
            C.USER: inter["user_id"].astype(np.int64),
            C.ITEM: inter["item_id"].astype(np.int64),
            C.RATING: inter["rating"].astype(np.float64),
            C.TIMESTAMP: inter["timestamp"].astype(float).astype(np.int64),
        }
    )
    user = _read_atomic("ml-100k.user")
    users = pd.DataFrame(
        {
            C.USER: user["user_id"].astype(np.int64),
            "age": user["age"].astype(np.int64),
            "gender": user["gender"],
            "occupation": user["occupation"],
            "zip_code": user["zip_code"],
        }
    )
    item = _read_atomic("ml-100k.item")
    year = pd.to_numeric(item["release_year"], errors="coerce").astype("Int64")
    items = pd.DataFrame(
        {
            C.ITEM: item["item_id"].astype(np.int64),
            "title": item["movie_title"],
            "year": year,
            "genres": item["class"].str.split().str.join("|"),
        }
    )
    return Dataset.from_frames(interactions, users, items)


def _text_encoding(path: Path, table: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; NUL bytes elsewhere mean a binary file."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        raise DataError(f"{table}: {path} is not UTF-8 text: it contains NUL bytes (binary, or UTF-16 without BOM)")
    return "utf-8-sig"


def _read_table(path: str | os.PathLike, table: str) -> pd.DataFrame:
    """Read CSV or Parquet without touching the file; any failure is a one-line DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{table}: file not found: {path}")
    if path.is_dir():
        raise DataError(f"{table}: {path} is a directory, expected a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"{table}: {path} is empty")
    suffix = path.suffix.lower()
    is_parquet = suffix in {".parquet", ".pq"}
    encoding = "parquet" if is_parquet else _text_encoding(path, table)
    try:
        if is_parquet:
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pandas()
        separator = {".csv": ",", ".tsv": "\t"}.get(suffix)
        engine = "c" if separator else "python"  # the python engine sniffs the separator
        return pd.read_csv(path, sep=separator, engine=engine, dtype=str, encoding=encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise DataError(f"{table}: {path} is not {name} text (byte {exc.start}); save it as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{table}: {path} has no columns") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataError(f"{table}: {path} is not a well-formed table: {detail}") from None
    except Exception as exc:  # pyarrow and csv raise many types for damaged files
        raise DataError(f"{table}: cannot read {path}: {first_line(exc)}") from None


def _numbers_where_possible(frame: pd.DataFrame, keep_text: tuple[str, ...]) -> pd.DataFrame:
    """CSV cells arrive as text; turn wholly numeric columns back into numbers (ids stay text)."""
    out = frame.copy()
    for column in out.columns:
        is_text = out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype)
        if column in keep_text or not is_text:
            continue
        numbers = pd.to_numeric(out[column], errors="coerce")
        if numbers.notna().sum() == out[column].notna().sum():
            out[column] = numbers
    return out


def read_table(path: str | os.PathLike, table: str, *, keep_text: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read one CSV or Parquet table (any failure is a one-line DataError naming ``table``).

    CSV cells arrive as text: wholly numeric columns become numbers, except ``keep_text``.

    >>> read_table("products.csv", "items", keep_text=("item_id",))  # doctest: +SKIP
    """
    return _numbers_where_possible(_read_table(path, table), keep_text)


def read_interactions(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    users: str | os.PathLike | None = None,
    items: str | os.PathLike | None = None,
) -> Dataset:
    """Read an interaction log (CSV or Parquet), plus optional user and item tables.

    Ids in CSV files are kept as text, exactly as written. ``columns`` maps your
    column names to canonical ones in every table.

    >>> ds = read_interactions("events.csv", columns={"customer": "user_id", "sku": "item_id"})  # doctest: +SKIP
    """
    mapping = dict(columns or {})
    id_sources = tuple(s for s, t in mapping.items() if t in (C.USER, C.ITEM)) + (C.USER, C.ITEM)
    keep_text = id_sources + (C.EVENT,)
    log = read_table(path, "interactions", keep_text=keep_text)
    user_table = None if users is None else read_table(users, "users", keep_text=keep_text)
    item_table = None if items is None else read_table(items, "items", keep_text=keep_text)
    return Dataset.from_frames(log, user_table, item_table, columns=mapping)


def synthetic_size(name: str) -> str | None:
    """The size a synthetic data set name stands for (``synthetic`` is ``medium``); None for other names and files.

    An unknown size is a DataError. Nothing is generated, so this is cheap.

    >>> synthetic_size("synthetic-small"), synthetic_size("events.csv")  # doctest: +SKIP
    ('small', None)
    """
    if not name.startswith("synthetic") or Path(name).is_file():
        return None
    from workbench.data.synthetic import SIZES

    size = name.partition("-")[2] or "medium"
    if size not in SIZES:
        raise DataError(f"unknown synthetic size {size!r}; choose one of {sorted(SIZES)}")
    return size


def load_dataset(name: str | None = None) -> Dataset:
    """A data set by name: ``ml-100k``, ``synthetic``, ``synthetic-small``, or a file path.

    Without a name, the ``WORKBENCH_DATA`` environment variable decides (default ``ml-100k``):
    this is the data size switch of the notebooks.
    """
    name = name or os.environ.get(DATA_ENV, DEFAULT_DATA)
    if name == "ml-100k":
        return load_movielens_100k()
    size = synthetic_size(name)
    if size is not None:
        from workbench.data.synthetic import SIZES, make_ecommerce

        return make_ecommerce(**SIZES[size], seed=0)
    return read_interactions(name)
