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
from workbench.data import validate
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


def _is_csv(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() not in {".parquet", ".pq"}


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
    is_parquet = not _is_csv(path)
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


def _ids_as_written(frames: dict[str, pd.DataFrame], columns: list[tuple[str, str]]) -> None:
    """Make the text id ``columns`` (table, column) of one key int64 in place when every value, in
    every table, is an int64 written as ``str(int)`` writes it; otherwise they all stay text."""
    present = [(table, column) for table, column in columns if column in frames[table].columns]
    if present and all(validate.integer_text(frames[t][c]).all() for t, c in present):
        for table, column in present:
            frames[table][column] = frames[table][column].astype(np.int64)


def read_interactions(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    users: str | os.PathLike | None = None,
    items: str | os.PathLike | None = None,
) -> Dataset:
    """Read an interaction log (CSV or Parquet), plus optional user and item tables.

    Ids keep the type a pandas user expects. In CSV files, an id column whose
    values are all integers written plainly (``42``, ``-3``: no leading zeros, no
    ``+``, no spaces, within int64) becomes int64; anything else (``007``, UUIDs,
    ``café``, a mix) stays text exactly as written. The rule looks at a key in every
    CSV table at once: if the users table has ``007``, ``user_id`` is text
    everywhere. Parquet columns keep their own types. ``ds.id_kinds`` tells
    which way each column went; lookups (``recommend``) accept either spelling
    of an integer id. ``columns`` maps your column names to canonical ones in
    every table.

    >>> ds = read_interactions("orders.csv", columns={"product_id": "item_id"})  # doctest: +SKIP
    >>> ds.id_kinds  # doctest: +SKIP
    {'user_id': 'int', 'item_id': 'int'}
    """
    mapping = dict(columns or {})
    names = {key: [key, *(s for s, t in mapping.items() if t == key and s != key)] for key in (C.USER, C.ITEM)}
    keep_text = (*names[C.USER], *names[C.ITEM], C.EVENT)
    paths = {"interactions": path, "users": users, "items": items}
    frames = {table: read_table(p, table, keep_text=keep_text) for table, p in paths.items() if p is not None}
    keys = {"interactions": (C.USER, C.ITEM), "users": (C.USER,), "items": (C.ITEM,)}
    for key, sources in names.items():
        csv_columns = [(t, c) for t in frames if key in keys[t] and _is_csv(paths[t]) for c in sources]
        _ids_as_written(frames, csv_columns)
    return Dataset.from_frames(frames["interactions"], frames.get("users"), frames.get("items"), columns=mapping)


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
