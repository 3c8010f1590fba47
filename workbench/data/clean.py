"""Cleaning on request: merge spellings of a label, drop bot-like users, impute missing attributes.

Nothing changes unless a parameter asks for it (every option defaults to False), the input
frames are never mutated and no file is written. ``clean`` acts on exactly what the profile
reports, through the same functions (:func:`~workbench.data.profile.spelling_groups`,
:func:`~workbench.data.stats.robust_z` with ``OUTLIER_Z``).

>>> items = pd.DataFrame({"item_id": [1, 2, 3], "category": ["Toys", "toys ", "Toys"]})
>>> ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]}), items=items)
>>> cleaned = clean(ds, merge_labels=True)
>>> cleaned.dataset.items["category"].tolist()
['Toys', 'Toys', 'Toys']
>>> cleaned.changes.values.tolist()
[['merge spelling', 'items', 'category', 'toys ', 'Toys', 1]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.profile import (
    LABEL_SEPARATOR,
    MULTI_VALUED,
    is_text,
    present,
    spelling_groups,
)
from workbench.data.stats import OUTLIER_Z, robust_z
from workbench.errors import ConfigError, DataError

CHANGE_COLUMNS = ["action", "table", "column", "before", "after", "rows"]
#: What ``impute=True`` writes into missing or blank text attributes (numbers get the column median).
IMPUTED_TEXT = "unknown"

Change = tuple[str, str, str, object, object, int]


@dataclass(frozen=True)
class Cleaned:
    """The cleaned Dataset and one row per change made: action, table, column, before, after, rows."""

    dataset: Dataset
    changes: pd.DataFrame


def _rejoined(values: pd.Series, mapping: dict[str, str]) -> dict[str, str]:
    """For each distinct joined value holding a spelling of ``mapping``: the value with its labels merged.

    A label present twice after merging is kept once ("Toys|toys " -> "Toys").
    """
    out = {}
    for value in values.dropna().unique():  # distinct values of a side-table column: few
        labels = value.split(LABEL_SEPARATOR)
        if any(label in mapping for label in labels):
            out[value] = LABEL_SEPARATOR.join(dict.fromkeys(mapping.get(label, label) for label in labels))
    return out


def _merge_labels(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Change]]:
    """Each spelling of a label group replaced by the group's most frequent spelling."""
    groups = spelling_groups(table, frame)
    groups = groups[groups["spelling"] != groups["canonical"]]
    replaced = {}
    for column, group in groups.groupby("column", sort=False):
        mapping = dict(zip(group["spelling"], group["canonical"], strict=True))
        if column in MULTI_VALUED:
            mapping = _rejoined(frame[column], mapping)
        replaced[column] = frame[column].replace(mapping)
    changes = [("merge spelling", table, r.column, r.spelling, r.canonical, int(r.rows)) for r in groups.itertuples()]
    return frame.assign(**replaced), changes


def _drop_outlier_users(
    log: pd.DataFrame, users: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[Change]]:
    """The interactions (and users-table rows) of users whose robust z of log interactions exceeds OUTLIER_Z."""
    codes, ids = pd.factorize(log[C.USER])
    counts = np.bincount(codes)
    flagged = np.flatnonzero(robust_z(counts) > OUTLIER_Z)
    changes = [("drop outlier user", "interactions", C.USER, ids[u], None, int(counts[u])) for u in flagged]
    if users is not None:
        listed = users.index[users.index.isin(ids[flagged])]
        changes += [("drop outlier user", "users", C.USER, user, None, 1) for user in listed]
        users = users.drop(index=listed)
    return log[~np.isin(codes, flagged)].reset_index(drop=True), users, changes


def _impute(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Change]]:
    """Missing numbers get the column median (rounded in integer columns), missing or blank text IMPUTED_TEXT."""
    filled, changes = {}, []
    for column in frame.columns:
        values = frame[column]
        missing = ~present(values)
        if not missing.any():
            continue
        if is_numeric_dtype(values.dtype) and not is_bool_dtype(values.dtype) and values.notna().any():
            fill = values.median()
            fill = round(fill) if is_integer_dtype(values.dtype) else float(fill)
        elif is_text(values):
            fill = IMPUTED_TEXT
        else:
            continue
        filled[column] = values.mask(missing, fill)
        changes.append(("impute", table, str(column), None, fill, int(missing.sum())))
    return frame.assign(**filled), changes


def clean(
    ds: Dataset, *, merge_labels: bool = False, drop_outlier_users: bool = False, impute: bool = False
) -> Cleaned:
    """A cleaned copy of ``ds`` and a tidy table of what changed; with no option set, nothing changes.

    - ``merge_labels``: in the users and items tables, every spelling of a label that the profile
      groups (accents, case, whitespace) becomes the group's most frequent spelling.
    - ``drop_outlier_users``: users with a robust z of log interactions above OUTLIER_Z (bot-like)
      lose their interactions and their users-table row.
    - ``impute``: missing attributes of the users and items tables are filled, numbers with the
      column median, text with IMPUTED_TEXT (other columns are left as they are).

    Steps run in that order. ``changes`` has one row per merged spelling, dropped user (in each
    table) and imputed column: action, table, column, before, after (None: missing or dropped), rows.

    >>> cleaned = clean(ds, drop_outlier_users=True)  # doctest: +SKIP
    >>> cleaned.changes.head(2)  # doctest: +SKIP
                  action         table   column  before after  rows
    0  drop outlier user  interactions  user_id     bot  None   200
    1  drop outlier user         users  user_id     bot  None     1
    """
    if not isinstance(ds, Dataset):
        raise DataError(f"clean expects a Dataset, got {type(ds).__name__}")
    options = {"merge_labels": merge_labels, "drop_outlier_users": drop_outlier_users, "impute": impute}
    for name, value in options.items():
        if not isinstance(value, bool):
            raise ConfigError(f"clean: {name} must be True or False, got {value!r}")
    log, tables = ds.interactions, {"users": ds.users, "items": ds.items}
    changes: list[Change] = []
    if merge_labels:
        for table, frame in tables.items():
            if frame is not None:
                tables[table], merged = _merge_labels(table, frame)
                changes += merged
    if drop_outlier_users:
        log, tables["users"], dropped = _drop_outlier_users(log, tables["users"])
        changes += dropped
    if impute:
        for table, frame in tables.items():
            if frame is not None:
                tables[table], imputed = _impute(table, frame)
                changes += imputed
    table = pd.DataFrame(changes, columns=CHANGE_COLUMNS, dtype=object).astype({"rows": np.int64})
    return Cleaned(Dataset(log, tables["users"], tables["items"]), table)
