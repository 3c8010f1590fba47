"""The Dataset: an interaction log plus optional user and item tables, and IdMap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from workbench import columns as C
from workbench.data import validate
from workbench.data.validate import are_order_numbers, to_seconds
from workbench.errors import DataError


def order_numbers_text(values: pd.Series) -> str:
    """How messages and the profile name a timestamp column of order numbers.

    >>> order_numbers_text(pd.Series([1, 2, 57]))
    "'timestamp' holds order numbers (1 to 57), not times"
    """
    return f"'{C.TIMESTAMP}' holds order numbers ({int(values.min()):,} to {int(values.max()):,}), not times"


def id_kind(values: pd.Series | pd.Index) -> str:
    """``"int"`` for integer ids, ``"text"`` for strings, ``"other"`` for anything else.

    >>> id_kind(pd.Series([1, 2])), id_kind(pd.Series(["007"])), id_kind(pd.Series([(1, 2)]))
    ('int', 'text', 'other')
    """
    return {"integer": "int", "string": "text"}.get(pd.api.types.infer_dtype(values, skipna=False), "other")


_NO_SPELLING = (np.zeros(0, np.int64), pd.Index([]))


def _scalar_spelling(value: object) -> object:
    """The other spelling of one id (see :func:`_other_spelling`), None when it has none."""
    if isinstance(value, str):
        return int(value) if validate.integer_text(pd.Series([value]))[0] else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return None
    if isinstance(value, (float, np.floating)) and not (np.isfinite(value) and value == int(value)):
        return None
    return str(int(value))


def _int_text(ints: np.ndarray) -> pd.Index:
    """Each int64 as ``str`` writes it (Arrow's cast: several times faster than pandas')."""
    return pd.Index(pd.array(pc.cast(pa.array(ints, pa.int64()), pa.string()), dtype="str"))


def _other_spelling(values: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Positions in ``values`` of the ids with another spelling, and that spelling.

    Text written as ``str(int)`` writes an int64 ("12"; not "012", "+12" or " 12") is spelled as
    that int; an int, or a whole float, as the text of the int. Anything else has none.
    """
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind == "string":
        rows = np.flatnonzero(validate.integer_text(values))
        return rows, pd.Index(pc.cast(pa.array(values[rows], pa.string()), pa.int64()).to_numpy())
    if kind == "integer":
        if values.dtype.kind == "i" or (values.dtype.kind == "u" and values.dtype.itemsize < 8):
            return np.arange(len(values)), _int_text(values.to_numpy())
        return np.arange(len(values)), pd.Index(values.astype(str))  # uint64, Python ints beyond int64
    if kind == "floating":
        numbers = values.to_numpy(dtype=np.float64)
        rows = np.flatnonzero(np.isfinite(numbers) & (numbers == np.floor(numbers)) & (np.abs(numbers) < 2.0**63))
        return rows, _int_text(numbers[rows].astype(np.int64))
    if kind in ("mixed-integer", "mixed-integer-float", "mixed"):  # a mixed list: one id at a time
        spelled = [_scalar_spelling(value) for value in values]
        rows = np.flatnonzero([value is not None for value in spelled])
        return rows, pd.Index([spelled[row] for row in rows], dtype=object)
    return _NO_SPELLING


@dataclass(frozen=True)
class IdMap:
    """Maps external ids (any hashable scalars) to contiguous int32 codes and back.

    Lookups accept both spellings of an integer id: a map of ints finds ``"12"``
    (text written as ``str(12)``; not ``"012"``, ``"+12"`` or ``" 12"``), a map of
    text finds ``12`` when it holds exactly ``"12"``. A whole float is the int it
    equals (``12.0`` finds 12, or ``"12"``); ``12.5`` is unknown. The exact id wins:
    a map holding ``"12"`` and ``"012"`` finds ``"12"`` for 12.

    >>> m = IdMap.from_values(["b", "a", "b"])
    >>> m.codes(["a", "zz"]).tolist(), m.to_ids([0]).tolist()
    ([1, -1], ['b'])
    >>> IdMap.from_values([7, 12]).codes(["12", "012", 7.0]).tolist()
    [1, -1, 0]
    """

    ids: pd.Index

    @classmethod
    def from_values(cls, values: pd.Series | np.ndarray | list) -> IdMap:
        """Codes in order of first appearance."""
        uniques = pd.unique(pd.Series(values, copy=False))
        return cls(pd.Index(uniques))

    def __len__(self) -> int:
        return len(self.ids)

    def codes(self, values: pd.Series | np.ndarray | list) -> np.ndarray:
        """Codes of ``values``; -1 for ids this map does not know (exact ids first, then the other spelling)."""
        return self._lookup(values)[0]

    def _lookup(self, values: pd.Series | np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
        """Codes of ``values`` and the positions of the values found by their other spelling."""
        values = pd.Index(values)
        if self._never_equal(values.dtype):  # ints and text: straight to the other spelling
            codes, missed = np.full(len(values), -1, np.int32), np.arange(len(values))
        else:
            codes = self.ids.get_indexer(values).astype(np.int32)
            missed = np.flatnonzero(codes < 0)
        if not len(missed) or not self._may_respell(values.dtype):
            return codes, missed[:0]
        rows, spelled = _other_spelling(values[missed])
        found = self.ids.get_indexer(spelled)
        respelled = missed[rows[found >= 0]]
        codes[respelled] = found[found >= 0]
        return codes, respelled

    def _never_equal(self, dtype: np.dtype | pd.api.extensions.ExtensionDtype) -> bool:
        """True when no value of this dtype equals an id of this map (text in a map of ints, ints in a map of text)."""
        mine = self.ids.dtype
        if pd.api.types.is_integer_dtype(mine):
            return not pd.api.types.is_object_dtype(dtype) and pd.api.types.is_string_dtype(dtype)
        if not pd.api.types.is_object_dtype(mine) and pd.api.types.is_string_dtype(mine):
            return pd.api.types.is_integer_dtype(dtype)
        return False

    def _may_respell(self, dtype: np.dtype | pd.api.extensions.ExtensionDtype) -> bool:
        """False when no value of this dtype can have a spelling this map holds (ints looked up in a
        map of ints, text in a map of text): the common miss costs one dtype check."""
        mine = self.ids.dtype
        if pd.api.types.is_integer_dtype(mine):
            return not pd.api.types.is_numeric_dtype(dtype)
        if not pd.api.types.is_object_dtype(mine) and pd.api.types.is_string_dtype(mine):
            return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
        return True

    def own_ids(self, values: pd.Series | np.ndarray | list) -> np.ndarray:
        """``values`` with each id found by its other spelling in this map's own spelling.

        >>> IdMap.from_values([7, 12]).own_ids(["12", "x"]).tolist()
        [12, 'x']
        """
        given = values if isinstance(values, np.ndarray) else pd.Index(values).to_numpy()  # [1, "x"] stays mixed
        codes, respelled = self._lookup(given)
        if not len(respelled):
            return given
        if len(respelled) == len(given):
            return self.to_ids(codes)
        out = given.astype(object)
        out[respelled] = self.to_ids(codes[respelled])
        return out

    def extended(self, values: pd.Series | np.ndarray | list) -> IdMap:
        """This map with the ids of ``values`` it does not know appended (existing codes unchanged)."""
        values = pd.Series(values, copy=False)
        fresh = pd.unique(values[self.codes(values) < 0])
        return IdMap(self.ids.append(pd.Index(fresh))) if len(fresh) else self

    def to_ids(self, codes: np.ndarray | list) -> np.ndarray:
        """External ids of ``codes``."""
        return self.ids.to_numpy()[np.asarray(codes, dtype=np.int64)]


def rows_for(
    table: pd.DataFrame | pd.Series, ids: pd.Series | pd.Index | np.ndarray | list
) -> pd.DataFrame | pd.Series:
    """Rows of ``table`` (indexed by unique ids) for ``ids``, found as :class:`IdMap` finds them;
    NaN rows for unknown ids. The result is indexed by ``ids`` as given.

    >>> rows_for(pd.Series([30, 40], index=pd.Index([1, 2], name="user_id")), ["2", "9"]).tolist()
    [40.0, nan]
    """
    positions = IdMap(table.index).codes(ids)
    return table.reset_index(drop=True).reindex(positions).set_axis(pd.Index(ids, name=table.index.name))


@dataclass(frozen=True)
class Dataset:
    """An interaction log with optional ``users`` and ``items`` tables indexed by id.

    Build one with :meth:`from_frames`, which validates and never mutates its inputs.

    >>> ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"]}))
    >>> ds.n_users, ds.n_items, len(ds)
    (1, 2, 2)
    """

    interactions: pd.DataFrame
    users: pd.DataFrame | None = None
    items: pd.DataFrame | None = None

    @classmethod
    def from_frames(
        cls,
        interactions: pd.DataFrame,
        users: pd.DataFrame | None = None,
        items: pd.DataFrame | None = None,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> Dataset:
        """Validate the frames and build a Dataset; ``columns`` maps your names to canonical ones."""
        columns = dict(columns or {})
        tables = {"interactions": interactions, "users": users, "items": items}
        for source in columns:
            present = [t for t in tables.values() if isinstance(t, pd.DataFrame) and source in t.columns]
            if not present:
                raise DataError(
                    f"column mapping names {source!r}, which no table has "
                    f"(interaction columns: {list(map(str, getattr(interactions, 'columns', [])))[:12]})"
                )

        def mapping_for(frame: pd.DataFrame | None) -> dict[str, str]:
            if not isinstance(frame, pd.DataFrame):
                return {}
            return {s: t for s, t in columns.items() if s in frame.columns}

        log = validate.validate_interactions(interactions, mapping_for(interactions))
        user_table = validate.validate_side_table(users, C.USER, "users", mapping_for(users))
        item_table = validate.validate_side_table(items, C.ITEM, "items", mapping_for(items))
        return cls(log, user_table, item_table)

    def __len__(self) -> int:
        return len(self.interactions)

    @property
    def n_users(self) -> int:
        """Distinct users with at least one interaction."""
        return int(self.interactions[C.USER].nunique())

    @property
    def n_items(self) -> int:
        """Distinct items with at least one interaction."""
        return int(self.interactions[C.ITEM].nunique())

    @property
    def id_kinds(self) -> dict[str, str]:
        """Kind of each id column of the log: ``"int"``, ``"text"`` (or ``"other"``).

        >>> Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": ["007"]})).id_kinds
        {'user_id': 'int', 'item_id': 'text'}
        """
        return {column: id_kind(self.interactions[column]) for column in (C.USER, C.ITEM)}

    @property
    def has_timestamps(self) -> bool:
        return C.TIMESTAMP in self.interactions.columns

    @property
    def has_order_numbers(self) -> bool:
        """True when ``timestamp`` holds order numbers, not times (:func:`are_order_numbers`): each
        distinct timestamp of a user is then one basket (``next_basket_split(by="timestamp")``)."""
        return self.has_timestamps and are_order_numbers(self.interactions[C.TIMESTAMP])

    def seconds(self, purpose: str) -> np.ndarray:
        """Interaction timestamps as int seconds; ``purpose`` names what needs them in the error.

        Order numbers are not seconds (:attr:`has_order_numbers`): they raise DataError too, as time
        windows and half-lives mean nothing on them. To sort rows, use :func:`to_seconds`.
        """
        if not self.has_timestamps:
            raise DataError(f"{purpose} needs a 'timestamp' column, and the interactions have none")
        stamps = self.interactions[C.TIMESTAMP]
        if are_order_numbers(stamps):
            raise DataError(
                f"{purpose} needs wall-clock timestamps, and {order_numbers_text(stamps)} "
                f"(integers below {validate.ORDER_NUMBERS_BELOW:,}, which as seconds would all fall on 1 January 1970)"
            )
        return to_seconds(stamps)

    def with_interactions(self, interactions: pd.DataFrame) -> Dataset:
        """Same user and item tables, another (already valid) interaction log."""
        return Dataset(interactions.reset_index(drop=True), self.users, self.items)

    def user_item_matrix(self, user_map: IdMap, item_map: IdMap, weights: np.ndarray | None = None) -> sp.csr_matrix:
        """CSR matrix users x items summing ``weights`` (1 per row by default); unknown ids dropped."""
        rows = user_map.codes(self.interactions[C.USER])
        cols = item_map.codes(self.interactions[C.ITEM])
        data = np.ones(len(rows), dtype=np.float32) if weights is None else np.asarray(weights, np.float32)
        keep = (rows >= 0) & (cols >= 0)
        matrix = sp.csr_matrix(
            (data[keep], (rows[keep], cols[keep])), shape=(len(user_map), len(item_map)), dtype=np.float32
        )
        matrix.sum_duplicates()
        return matrix
