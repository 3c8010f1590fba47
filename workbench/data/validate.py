"""Validation of interaction, user and item tables.

Every check raises :class:`DataError` with one line naming the table, the
column, the problem, how many rows and an example value. Inputs are never
mutated: each function returns a new frame.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import DataError


def _example(values: pd.Series) -> str:
    value = values.iloc[0]
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fail(table: str, column: str, problem: str, bad: pd.Series, total: int) -> DataError:
    return DataError(
        f"{table}: column '{column}' {problem} in {len(bad):,} of {total:,} rows "
        f"(e.g. row {bad.index[0]!r}: {_example(bad)})"
    )


def rename_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None, table: str) -> pd.DataFrame:
    """Return a copy of ``frame`` with the caller's column names mapped to canonical ones."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}")
    if columns:
        missing = [src for src in columns if src not in frame.columns]
        if missing:
            raise DataError(
                f"{table}: column mapping names {missing[0]!r}, which is not among the columns "
                f"{list(map(str, frame.columns))[:12]}"
            )
        frame = frame.rename(columns=dict(columns))
    else:
        frame = frame.copy(deep=False)
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise DataError(f"{table}: column {dup!r} appears more than once")
    return frame


def check_ids(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    """Check an id column: present, no missing or empty values, hashable scalars."""
    if column not in frame.columns:
        raise DataError(
            f"{table}: required column '{column}' is missing (columns are "
            f"{list(map(str, frame.columns))[:12]}; map yours with columns={{'yours': '{column}'}})"
        )
    ids = frame[column]
    missing = ids.isna()
    if missing.any():
        raise _fail(table, column, "has missing ids", ids[missing], len(ids))
    if ids.dtype == object:
        unhashable = ~ids.map(pd.api.types.is_hashable).astype(bool)
        if unhashable.any():
            problem = "has values that are not single ids (lists, dicts, arrays)"
            raise _fail(table, column, problem, ids[unhashable], len(ids))
    if ids.dtype == object or pd.api.types.is_string_dtype(ids.dtype):
        as_text = ids.astype(str)
        empty = as_text.str.strip() == ""
        if empty.any():
            raise _fail(table, column, "has empty ids", ids[empty], len(ids))
    elif pd.api.types.is_float_dtype(ids.dtype):
        fractional = ids != np.floor(ids)
        if fractional.any():
            raise _fail(table, column, "has non-integer numeric ids", ids[fractional], len(ids))
        infinite = ~np.isfinite(ids.to_numpy())
        if infinite.any():
            raise _fail(table, column, "has infinite ids", ids[infinite], len(ids))
        ids = ids.astype(np.int64)
    return ids


def check_numeric(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    """Coerce a column to numbers; text or infinite values raise DataError."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(np.float64)
    if not pd.api.types.is_numeric_dtype(values.dtype):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = coerced.isna() & values.notna()
        if bad.any():
            raise _fail(table, column, "has text where numbers are expected", values[bad], len(values))
        values = coerced
    finite = np.isfinite(values.to_numpy(dtype=np.float64, na_value=0.0))
    if not finite.all():
        raise _fail(table, column, "has infinite values", values[~finite], len(values))
    return values


def check_timestamp(frame: pd.DataFrame, table: str) -> pd.Series:
    """Timestamps are int seconds or datetime64; text dates are parsed, bad ones raise."""
    values = frame[C.TIMESTAMP]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        missing = values.isna()
        if missing.any():
            raise _fail(table, C.TIMESTAMP, "has missing timestamps", values[missing], len(values))
        return values
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.to_numeric(values, errors="coerce").notna().all():
        numbers = check_numeric(frame, C.TIMESTAMP, table)
        missing = numbers.isna()
        if missing.any():
            raise _fail(table, C.TIMESTAMP, "has missing timestamps", values[missing], len(values))
        as_float = numbers.to_numpy(dtype=np.float64)
        out_of_range = (as_float < -(2.0**63)) | (as_float >= 2.0**63)  # would wrap around in int64
        if out_of_range.any():
            raise _fail(table, C.TIMESTAMP, "has seconds beyond the int64 range", values[out_of_range], len(values))
        return numbers.astype(np.int64)
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        raise _fail(table, C.TIMESTAMP, "has values that are not dates or int seconds", values[bad], len(values))
    return parsed


def validate_interactions(frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return a validated copy of an interaction log with canonical columns.

    >>> validate_interactions(pd.DataFrame({"u": [1], "i": ["a"]}), {"u": "user_id", "i": "item_id"})
       user_id item_id
    0        1       a
    """
    table = "interactions"
    frame = rename_columns(frame, columns, table)
    if len(frame) == 0:
        raise DataError(f"{table}: the table has no rows")
    frame[C.USER] = check_ids(frame, C.USER, table)
    frame[C.ITEM] = check_ids(frame, C.ITEM, table)
    if C.RATING in frame.columns:
        rating = check_numeric(frame, C.RATING, table)
        missing = rating.isna()
        if missing.any():
            raise _fail(table, C.RATING, "has missing values", frame[C.RATING][missing], len(frame))
        frame[C.RATING] = rating.astype(np.float64)
    if C.TIMESTAMP in frame.columns:
        frame[C.TIMESTAMP] = check_timestamp(frame, table)
    if C.EVENT in frame.columns:
        events = frame[C.EVENT]
        missing = events.isna()
        if missing.any():
            raise _fail(table, C.EVENT, "has missing event types", events[missing], len(frame))
        frame[C.EVENT] = events.astype(str).str.strip().str.lower()
    return frame.reset_index(drop=True)


def validate_side_table(
    frame: pd.DataFrame | None, key: str, table: str, columns: Mapping[str, str] | None = None
) -> pd.DataFrame | None:
    """Validate a users or items table and return it indexed by ``key`` (ids unique)."""
    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.index.name == key and key not in frame.columns:
        frame = frame.reset_index()
    frame = rename_columns(frame, columns, table)
    ids = check_ids(frame, key, table)
    duplicated = ids.duplicated()
    if duplicated.any():
        raise _fail(table, key, "has duplicate ids", ids[duplicated], len(ids))
    frame[key] = ids
    return frame.set_index(key)
