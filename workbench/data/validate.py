"""Validation of interaction, user and item tables.

Every check raises :class:`DataError` with one line naming the table, the
column, the problem, how many rows and an example value. Inputs are never
mutated: each function returns a new frame.

Ids keep their type, with three coercions: whole floats (``1.0``) become int64
(``1.5`` is an error), an object column of Python ints becomes int64 when they
fit, and a column mixing numbers and text (``[1, "a"]``) is an error, not
silently turned into text.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import DataError, DataWarning

#: An int64 written as ``str(int)`` writes it: no '+', no leading zeros, no spaces, at most 19 digits.
INTEGER_TEXT = r"0|-?[1-9][0-9]{0,18}"
_INT64_DIGITS = str(np.iinfo(np.int64).max)  # 19 digits; the same digits with a minus are in range up to ...808
_INT64_MIN_DIGITS = str(np.iinfo(np.int64).min)[1:]
#: Integer timestamps all from 0 to ORDER_NUMBERS_BELOW - 1 are order numbers (1, 2, 3, ... per customer),
#: not times: read as seconds, every row would fall on 1 January 1970, which no real log does.
ORDER_NUMBERS_BELOW = 86_400
#: Integer timestamps from this value up are epoch seconds (3 March 1973 onwards); a column holding
#: these and order numbers mixes two kinds of time.
EPOCH_SECONDS_FROM = 100_000_000
#: Integer timestamps from this value up are not seconds (they would fall after the year 5000): a
#: clock in milliseconds (from 1e11 for 1973), microseconds (1e14) or nanoseconds (1e17).
SECONDS_BELOW = 100_000_000_000
#: The units a too-large integer timestamp is most likely in, by its size, and the factor to seconds.
FINER_UNITS = ((10**17, "nanoseconds", 10**9), (10**14, "microseconds", 10**6), (SECONDS_BELOW, "milliseconds", 10**3))


#: Dates before this, or more than FUTURE_DAYS after today, are counted as implausible.
PLAUSIBLE_FROM = pd.Timestamp("1990-01-01")
FUTURE_DAYS = 365
#: A strength (``rating``) this large overflows the models' float32 arithmetic once squared.
MAX_STRENGTH = 1e15
#: Index name of a table read from a CSV file: its labels are the file's line numbers (the header is line 1).
LINE = "line"


def to_seconds(values: pd.Series) -> np.ndarray:
    """Timestamps as int seconds since the epoch (UTC for time-zone aware datetimes); integers pass
    through, so order numbers (:func:`are_order_numbers`) stay order numbers: fine to sort by, not
    times (``Dataset.seconds`` refuses them).

    >>> to_seconds(pd.Series(pd.to_datetime(["1970-01-02"]))).tolist()
    [86400]
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return values.to_numpy("datetime64[s]").astype(np.int64)
    return values.to_numpy(np.int64)


def are_order_numbers(values: pd.Series) -> bool:
    """True when timestamps are order numbers (1, 2, 3, ... per customer), not times: integers, all
    from 0 to ``ORDER_NUMBERS_BELOW - 1`` (86,399). Read as seconds, every row would fall on
    1 January 1970, which no real log does; a log of real times, even of a single day, is not.

    Gaps (1, 2, 5) and ties (several rows with one number: one basket) are fine; validation refuses
    a column mixing order numbers with epoch seconds.

    >>> are_order_numbers(pd.Series([1, 2, 2, 5])), are_order_numbers(pd.Series([1_700_000_000, 1_700_003_600]))
    (True, False)
    """
    if not len(values) or not pd.api.types.is_integer_dtype(values.dtype):
        return False
    return bool(values.min() >= 0 and values.max() < ORDER_NUMBERS_BELOW)


def integer_text(values: pd.Series | pd.Index) -> np.ndarray:
    """Which text values are int64 integers spelled exactly as ``str(int)`` spells them.

    >>> integer_text(pd.Series(["1", "-20", "007", "+3", " 4", "1.0", "99999999999999999999"])).tolist()
    [True, True, False, False, False, False, False]
    """
    text = pd.Series(values.array, copy=False).astype("str")  # a RangeIndex: the .str accessor never hashes labels
    spelled = np.array(text.str.fullmatch(INTEGER_TEXT).fillna(False), dtype=bool)
    digits = text.str.lstrip("-")
    longest = np.flatnonzero(spelled & (digits.str.len().to_numpy(dtype=np.float64, na_value=0) == len(_INT64_DIGITS)))
    if len(longest):  # 19 digits, as many as the bounds: comparing text compares numbers
        negative = text.iloc[longest].str.startswith("-").to_numpy(dtype=bool)
        bound = np.where(negative, _INT64_MIN_DIGITS, _INT64_DIGITS)
        spelled[longest] = digits.iloc[longest].to_numpy(dtype=str) <= bound
    return spelled


def _example(values: pd.Series) -> str:
    value = values.iloc[0]
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def where(values: pd.Series | pd.DataFrame, label: object) -> str:
    """How a message points at the row ``label``: ``line 7`` for a table read from a file (its index
    named ``line``: file lines), else ``row 5`` (the frame's own index label)."""
    return f"line {label}" if values.index.name == LINE else f"row {label!r}"


def _fail(table: str, column: str, problem: str, bad: pd.Series, total: int, hint: str = "") -> DataError:
    return DataError(
        f"{table}: column '{column}' {problem} in {len(bad):,} of {total:,} rows "
        f"(e.g. {where(bad, bad.index[0])}: {_example(bad)}){hint}"
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


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _one_kind(ids: pd.Series, column: str, table: str) -> pd.Series:
    """An object id column as one kind: Python ints become int64 (kept exact as objects beyond int64),
    whole floats go on to the float check; numbers mixed with text are an error."""
    inferred = pd.api.types.infer_dtype(ids, skipna=False)
    if inferred == "integer":
        try:
            return ids.astype(np.int64)
        except OverflowError:
            return ids
    if inferred in ("floating", "mixed-integer-float"):
        return ids.astype(np.float64)
    if inferred not in ("mixed-integer", "mixed"):
        return ids
    text = ids.map(_is_text).to_numpy(dtype=bool)
    numbers = ids.map(_is_number).to_numpy(dtype=bool)
    if text.any() and numbers.any():
        fewer_text = text.sum() <= numbers.sum()
        few, problem = (text, "has text ids among numbers") if fewer_text else (numbers, "has numbers among text ids")
        raise _fail(table, column, problem, ids[few], len(ids), "; make them one type, e.g. .astype(str)")
    return ids


def check_ids(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    """Check an id column: present, no missing or empty values, hashable scalars, one kind.

    Whole floats become int64 (``1.0`` is id ``1``); numbers mixed with text raise.

    >>> check_ids(pd.DataFrame({"user_id": [1.0, 2.0]}), "user_id", "interactions").tolist()
    [1, 2]
    """
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
        ids = _one_kind(ids, column, table)
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
        beyond = ids.abs() >= 2.0**63
        if beyond.any():
            raise _fail(table, column, "has numeric ids beyond the int64 range", ids[beyond], len(ids))
        ids = ids.astype(np.int64)
    return ids


def _doubt(table: str, column: str, problem: str, bad: pd.Series, total: int, consequence: str) -> None:
    """One DataWarning counting the rows of ``bad`` and naming the first."""
    warnings.warn(
        f"{table}: column '{column}' {problem} in {len(bad):,} of {total:,} rows "
        f"(e.g. {where(bad, bad.index[0])}: {_example(bad)}); {consequence}",
        DataWarning,
        stacklevel=4,
    )


def implausible_times(seconds: np.ndarray, *, today: pd.Timestamp | None = None) -> np.ndarray:
    """True for epoch seconds before 1990 or more than a year after ``today`` (now, UTC): dates a shop's
    log does not hold, such as a default 1970, a typo'd 2099 or a clock gone wrong.

    >>> implausible_times(np.array([0, 1_700_000_000, 4_070_908_800]), today=pd.Timestamp("2026-01-01")).tolist()
    [True, False, True]
    """
    latest = (today or pd.Timestamp.now(tz="UTC").tz_localize(None)) + pd.Timedelta(days=FUTURE_DAYS)
    return (seconds < PLAUSIBLE_FROM.timestamp()) | (seconds > latest.timestamp())


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
    if pd.api.types.is_complex_dtype(values.dtype):  # the imaginary part would be dropped without a word
        raise _fail(table, column, "holds complex numbers", values, len(values))
    finite = np.isfinite(values.to_numpy(dtype=np.float64, na_value=0.0))
    if not finite.all():
        raise _fail(table, column, "has infinite values", values[~finite], len(values))
    return values


def check_timestamp(frame: pd.DataFrame, table: str) -> pd.Series:
    """Timestamps are int seconds, order numbers or datetime64; text dates are parsed, bad ones raise.

    Integers all below :data:`ORDER_NUMBERS_BELOW` are order numbers (see
    ``workbench.data.dataset.are_order_numbers``); a column mixing them with epoch seconds raises.
    Text dates or datetime objects in several time zones (``+02:00`` and ``Z``) are converted to UTC, with a DataWarning
    saying so; durations (timedelta) raise. Times before 1990 or more than a year ahead
    (:func:`implausible_times`) are kept and counted in a DataWarning.
    """
    values = frame[C.TIMESTAMP]
    if isinstance(values.dtype, pd.PeriodDtype):  # months or days: their start, not their ordinal (648 for 2024-01)
        values = values.dt.to_timestamp()
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        raise _fail(
            table,
            C.TIMESTAMP,
            "holds durations (timedelta), not times",
            values,
            len(values),
            "; add them to the date they count from",
        )
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        missing = values.isna()
        if missing.any():
            raise _fail(table, C.TIMESTAMP, "has missing timestamps", values[missing], len(values))
        return _plausible(values, values, table)
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.to_numeric(values, errors="coerce").notna().all():
        numbers = check_numeric(frame, C.TIMESTAMP, table)
        missing = numbers.isna()
        if missing.any():
            raise _fail(table, C.TIMESTAMP, "has missing timestamps", values[missing], len(values))
        as_float = numbers.to_numpy(dtype=np.float64)
        out_of_range = (as_float < -(2.0**63)) | (as_float >= 2.0**63)  # would wrap around in int64
        if out_of_range.any():
            raise _fail(table, C.TIMESTAMP, "has seconds beyond the int64 range", values[out_of_range], len(values))
        seconds = _one_kind_of_time(numbers.astype(np.int64), table)
        return seconds if are_order_numbers(seconds) else _plausible(seconds, values, table)
    day_first = _day_first(values, table)
    try:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=day_first)
        # datetime objects in several zones (or with and without one): pandas makes all but the first zone NaT
        several_zones = bool(parsed.isna().any()) and _zones(values).nunique() > 1
    except ValueError:  # text in several time zones: pandas refuses to pick one
        several_zones = True
    if several_zones:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True, dayfirst=day_first)
        zoned = values.astype(str).str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True)
        zoned |= _zones(values).fillna("") != ""
        _doubt(
            table,
            C.TIMESTAMP,
            "mixes time zones",
            values[zoned],
            len(values),
            "every time was converted to UTC (a time without a zone is read as UTC)",
        )
    bad = parsed.isna()
    if bad.any():
        raise _fail(table, C.TIMESTAMP, "has values that are not dates or int seconds", values[bad], len(values))
    return _plausible(parsed, values, table)


#: A date written with numbers only, day and month in either order: 01/02/2024, 1.2.24, 01-02-2024.
NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:\D|$)"


def _day_first(values: pd.Series, table: str) -> bool:
    """Whether dates written ``NN/NN/YYYY`` put the day first, decided once for the column (pandas
    decides per value: 01/02/2024 as 2 January beside 13/02/2024 as 13 February). A day above 12 in
    first place means day-first, in second month-first; both is a DataError; neither (every field up to
    12) is read month-first with a DataWarning."""
    fields = values.astype(str).str.extract(NUMERIC_DATE).dropna()
    if not len(fields):
        return False
    first, second = fields[0].astype(int), fields[1].astype(int)
    day_first, month_first = first > 12, second > 12
    if day_first.any() and month_first.any():
        both = values[fields.index[day_first | month_first]]
        raise _fail(table, C.TIMESTAMP, "writes dates both day-first and month-first", both, len(values))
    if not (day_first.any() or month_first.any()):
        _doubt(
            table,
            C.TIMESTAMP,
            "writes dates as NN/NN/YYYY with no field above 12",
            values[fields.index],
            len(values),
            "they were read month-first (01/02/2024 as 2 January)",
        )
    return bool(day_first.any())


def _zones(values: pd.Series) -> pd.Series:
    """The time zone of each datetime object of an object column: its name, '' for a naive time, None
    for text and anything else."""
    return values.map(lambda value: str(value.tzinfo or "") if isinstance(value, datetime) else None)


def _plausible(times: pd.Series, written: pd.Series, table: str) -> pd.Series:
    """``times`` unchanged, after a DataWarning counting those :func:`implausible_times` finds (``written``:
    the column as given, for the example)."""
    odd = implausible_times(to_seconds(times))
    if odd.any():
        _doubt(
            table,
            C.TIMESTAMP,
            "has dates before 1990 or more than a year ahead",
            written[odd],
            len(written),
            "they are kept: check the clock or the unit",
        )
    return times


def _one_kind_of_time(seconds: pd.Series, table: str) -> pd.Series:
    """Integer timestamps that mix order numbers (0 to 86,399) with epoch seconds (from 1e8) raise DataError,
    and so do integers too large to be seconds (milliseconds, microseconds or nanoseconds since 1970).

    >>> _one_kind_of_time(pd.Series([1_700_000_000_000]), "interactions")
    Traceback (most recent call last):
    ...
    workbench.errors.DataError: interactions: column 'timestamp' has times too large for seconds since 1970 in 1 of 1 rows (e.g. row 0: 1700000000000); they look like milliseconds: divide them by 1,000, or write dates
    """
    too_large = (seconds >= SECONDS_BELOW).to_numpy()
    if too_large.any():
        largest = int(seconds[too_large].max())
        unit, factor = next((name, f) for floor, name, f in FINER_UNITS if largest >= floor)
        hint = f"; they look like {unit}: divide them by {factor:,}, or write dates"
        raise _fail(
            table, C.TIMESTAMP, "has times too large for seconds since 1970", seconds[too_large], len(seconds), hint
        )
    small = ((seconds >= 0) & (seconds < ORDER_NUMBERS_BELOW)).to_numpy()
    epoch = (seconds >= EPOCH_SECONDS_FROM).to_numpy()
    if small.any() and epoch.any():
        if small.sum() <= epoch.sum():
            few, problem = small, f"has order numbers (0 to {ORDER_NUMBERS_BELOW - 1:,}) among epoch seconds"
        else:
            few, problem = epoch, f"has epoch seconds among order numbers (0 to {ORDER_NUMBERS_BELOW - 1:,})"
        hint = "; use one kind: seconds since 1970 (or dates) for every row, or order numbers per customer"
        raise _fail(table, C.TIMESTAMP, problem, seconds[few], len(seconds), hint)
    return seconds


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
        huge = rating.abs() >= MAX_STRENGTH
        if huge.any():
            raise _fail(
                table,
                C.RATING,
                f"has values of {MAX_STRENGTH:.0e} or more",
                frame[C.RATING][huge],
                len(frame),
                "; strengths that large overflow the models: scale them down",
            )
        negative = rating < 0
        if negative.any():
            _doubt(
                table,
                C.RATING,
                "has negative values",
                frame[C.RATING][negative],
                len(frame),
                "implicit models (ALS, EASE, popularity) read a strength below 0 as less than no interaction",
            )
        frame[C.RATING] = rating.astype(np.float64)
    if C.TIMESTAMP in frame.columns:
        frame[C.TIMESTAMP] = check_timestamp(frame, table)
    if C.EVENT in frame.columns:
        events = frame[C.EVENT]
        missing = events.isna()
        if missing.any():
            raise _fail(table, C.EVENT, "has missing event types", events[missing], len(frame))
        frame[C.EVENT] = events.astype(str).str.strip().str.lower()
        unknown = ~frame[C.EVENT].isin(C.EVENT_TYPES)
        if unknown.any():
            kinds = frame[C.EVENT][unknown].value_counts()
            _doubt(
                table,
                C.EVENT,
                f"has types other than {', '.join(C.EVENT_TYPES)} ("
                + ", ".join(f"{kind!r}: {count:,}" for kind, count in kinds.head(5).items())
                + ")",
                events[unknown],
                len(frame),
                "they count as interactions, never as purchases",
            )
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
