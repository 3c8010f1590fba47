"""The Dataset: an interaction log plus optional user and item tables, and IdMap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data import validate
from workbench.errors import DataError


def to_seconds(values: pd.Series) -> np.ndarray:
    """Timestamps as int seconds since the epoch (UTC for time-zone aware datetimes).

    >>> to_seconds(pd.Series(pd.to_datetime(["1970-01-02"]))).tolist()
    [86400]
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return values.to_numpy("datetime64[s]").astype(np.int64)
    return values.to_numpy(np.int64)


@dataclass(frozen=True)
class IdMap:
    """Maps external ids (any hashable scalars) to contiguous int32 codes and back.

    >>> m = IdMap.from_values(["b", "a", "b"])
    >>> m.codes(["a", "zz"]).tolist(), m.to_ids([0]).tolist()
    ([1, -1], ['b'])
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
        """Codes of ``values``; -1 for ids this map does not know."""
        return self.ids.get_indexer(pd.Index(values)).astype(np.int32, copy=False)

    def extended(self, values: pd.Series | np.ndarray | list) -> IdMap:
        """This map with the ids of ``values`` it does not know appended (existing codes unchanged)."""
        values = pd.Series(values, copy=False)
        fresh = pd.unique(values[self.codes(values) < 0])
        return IdMap(self.ids.append(pd.Index(fresh))) if len(fresh) else self

    def to_ids(self, codes: np.ndarray | list) -> np.ndarray:
        """External ids of ``codes``."""
        return self.ids.to_numpy()[np.asarray(codes, dtype=np.int64)]


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
    def has_timestamps(self) -> bool:
        return C.TIMESTAMP in self.interactions.columns

    def seconds(self, purpose: str) -> np.ndarray:
        """Interaction timestamps as int seconds; ``purpose`` names what needs them in the error."""
        if not self.has_timestamps:
            raise DataError(f"{purpose} needs a 'timestamp' column, and the interactions have none")
        return to_seconds(self.interactions[C.TIMESTAMP])

    def with_interactions(self, interactions: pd.DataFrame) -> Dataset:
        """Same user and item tables, another (already valid) interaction log."""
        return Dataset(interactions.reset_index(drop=True), self.users, self.items)

    def user_item_matrix(
        self, user_map: IdMap, item_map: IdMap, weights: np.ndarray | None = None
    ) -> sp.csr_matrix:
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
