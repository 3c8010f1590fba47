"""Onboarding: what a new user gives in their first minutes, blended with their cold-start favourites.

A new user's first interactions and their pick of genres / categories change the favourites of a
fitted cold-start model (:class:`Onboarding` wraps one; ``ClusterColdStart.recommend_onboarded``
calls it)::

    score(u, i) = (fav(u, i) / max_j fav(u, j)                     (in [0, 1])
                   + item_weight * mean over first items f of cos(f, i))
                * (1 + pick_weight * |labels(i) & picks(u)| / |labels(i)|)

``cos`` is the cosine of two items' columns of the binary training user x item matrix
(co-occurrence normalised by both popularities); ``labels(i)`` are the item's ``genres``
('|'-joined) or ``category`` in ``train.items``. A part the user did not give changes nothing.
Picks multiply rather than add, so that a pick cannot lift every obscure single-genre item above
the favourites. The default weights are measured in ``benchmarks/coldstart_ml100k.py``
(``benchmarks/README.md``).

>>> Onboarding(model).recommend(["n1"], first_items={"n1": [50]}, picks={"n1": ["Comedy"]})  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data.dataset import IdMap
from workbench.errors import DataError, FallbackWarning, UnknownItemsWarning
from workbench.guards import check_dense, positive_int
from workbench.models.base import BATCH_CELLS, apply_mask, mask_rows, top_k, unique_users

if TYPE_CHECKING:
    from workbench.models.coldstart import ClusterColdStart

#: Item columns whose labels onboarding picks name, first present wins ('|' separates several labels).
LABEL_COLUMNS = C.CATEGORIES
#: Default onboarding weights (the favourites weigh 1), measured in benchmarks/coldstart_ml100k.py.
ITEM_WEIGHT = 2.0
PICK_WEIGHT = 0.25


def item_labels_matrix(items: pd.DataFrame | None, item_map: IdMap) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary (n_items, n_labels) matrix of each item's labels and the label names, from the first
    column of :data:`LABEL_COLUMNS` in ``items`` ('|'-joined cells split; blanks dropped). No items
    table or no such column: a matrix without columns.

    >>> items = pd.DataFrame({"genres": ["Comedy|Drama", "Drama"]}, index=["a", "b"])
    >>> matrix, names = item_labels_matrix(items, IdMap.from_values(["b", "a", "c"]))
    >>> names.tolist(), matrix.toarray().tolist()
    (['Comedy', 'Drama'], [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    """
    column = next((c for c in LABEL_COLUMNS if items is not None and c in items.columns), None)
    if column is None:
        return sp.csr_matrix((len(item_map), 0), dtype=np.float64), np.array([], dtype=str)
    cells = items[column].reindex(item_map.ids)
    labels = cells.astype("string")
    if labels.str.contains("|", regex=False).any():  # else each cell is its one label (no split of every cell)
        labels = labels.str.split("|").explode()
    labels = labels.str.strip()
    labels = labels[(labels.notna() & (labels != "")).to_numpy(dtype=bool)]
    names, label_codes = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    rows = item_map.codes(labels.index)
    matrix = sp.csr_matrix(
        (np.ones(len(label_codes)), (rows, label_codes)), shape=(len(item_map), len(names)), dtype=np.float64
    )
    matrix.data[:] = 1.0  # an item naming a label twice has it once (duplicates were summed)
    return matrix, names.astype(str)


class Onboarding:
    """Recommendations of a fitted cold-start ``model`` for new users, with what they gave at sign-up.

    The model supplies the design rows and favourites of users (``_design_of``, ``_frame_design``,
    ``_favourites``), the training matrix, the labels of its items (``_item_labels``, items x labels,
    from :func:`item_labels_matrix`, and ``_label_names``) and the weights ``item_weight`` and
    ``pick_weight``, read at each call.
    """

    def __init__(self, model: ClusterColdStart) -> None:
        model._require_fitted("onboarding")
        self.model = model
        self._vectors: sp.csr_matrix | None = None  # item vectors, built on first use

    @property
    def item_labels(self) -> sp.csr_matrix:
        return self.model._item_labels

    @property
    def label_names(self) -> np.ndarray:
        return self.model._label_names

    def recommend(
        self,
        users: Iterable[Any] | pd.Series | pd.DataFrame,
        *,
        first_items: Mapping[Any, Any] | None = None,
        picks: Mapping[Any, Any] | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Top ``k`` items for new users from their favourites plus what they gave at onboarding.

        ``users``: ids (their demographics from ``train.users``, as in ``model.recommend``) or a
        demographics frame indexed by (or with a column) ``user_id`` for users the model has never
        seen. ``first_items`` maps a user to their first interactions (one id or a list);
        ``picks`` maps a user to picked genres / categories (names of ``model.labels_``, any case).
        Scores add ``item_weight`` x the mean cosine to the first items to the scaled
        favourites and multiply that by 1 + ``pick_weight`` x the share of the item's labels
        picked (module docstring).
        First items are excluded from the list when ``exclude_seen`` (so are training items of
        known users); ``items`` / ``exclude_items`` as in ``model.recommend``.

        Returns ``user_id, item_id, score, rank, fallback`` sorted by user then rank; rows of users
        with neither training interactions nor a usable first item or pick are ``fallback=True``
        (counted in one FallbackWarning). First items unknown to the model are ignored and counted
        in one UnknownItemsWarning; a pick naming an unknown label, or a user of ``first_items`` /
        ``picks`` not in ``users``, is a DataError.

        >>> model.recommend_onboarded(["n1"], first_items={"n1": [50, 181]}, picks={"n1": ["Sci-Fi"]})  # doctest: +SKIP
        """
        k = positive_int(k, "k")
        request = self.model.item_filter(items, exclude_items)
        ids, design = self._onboarding_users(users)
        requested = IdMap(pd.Index(ids, dtype=object))
        first = self._first_item_matrix(first_items, requested)
        chosen = self._pick_matrix(picks, requested)
        codes = self.model.user_map.codes(ids)
        allowed = request.mask(self.model.item_map)
        check_dense(len(ids), k, what=f"recommend_onboarded(k={k}) for {len(ids):,} users")
        index = np.full((len(ids), k), -1, dtype=np.int64)
        values = np.full((len(ids), k), -np.inf, dtype=np.float64)
        batch = max(1, BATCH_CELLS // max(len(self.model.item_map), 1))
        for start in range(0, len(ids), batch):
            part = slice(start, start + batch)
            scores = self._onboarded_scores(design[part], first[part], chosen[part])
            if exclude_seen:
                known = np.flatnonzero(codes[part] >= 0)
                if len(known):
                    known_scores = scores[known]
                    mask_rows(known_scores, self.model._seen, codes[part][known])
                    scores[known] = known_scores
                mask_rows(scores, first[part], np.arange(scores.shape[0]))
            index[part], values[part] = top_k(apply_mask(scores, allowed), k)
        signal = (first.getnnz(axis=1) > 0) | (chosen.getnnz(axis=1) > 0)
        served_fallback = (codes < 0) & ~signal
        fallback = np.broadcast_to(served_fallback[:, None], index.shape).copy()
        if served_fallback.any():
            warnings.warn(
                f"{type(self.model).__name__}: {int(served_fallback.sum()):,} of {len(ids):,} users have neither training "
                f"interactions nor a usable first item or pick: served {self.model.fallback_name} (rows marked fallback=True)",
                FallbackWarning,
                stacklevel=3,
            )
        return self.model._frame(ids, index, values, fallback)

    def _onboarding_users(self, users: Any) -> tuple[np.ndarray, np.ndarray]:
        """Distinct user ids (the model's spelling, sorted) and the design row of each (its favourites')."""
        if not isinstance(users, pd.DataFrame):
            ids = unique_users(users, self.model.user_map)
            return ids, self.model._design_of(ids)
        frame = users.set_index(C.USER) if C.USER in users.columns else users
        if frame.index.hasnans:
            raise DataError("users: the demographics frame has missing user ids")
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][0]
            raise DataError(f"users: user {dup!r} appears more than once in the demographics frame")
        ids = unique_users(frame.index, self.model.user_map)
        design = self.model._frame_design(frame, "users")
        position = IdMap(pd.Index(self.model.user_map.own_ids(frame.index), dtype=object)).codes(ids)
        return ids, design[position]

    def _per_user(
        self, mapping: Mapping[Any, Any] | None, requested: IdMap, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat (user row, value) pairs of ``mapping`` (user -> one value or a list); rows index ``requested``."""
        if mapping is None:
            return np.zeros(0, np.int64), np.zeros(0, dtype=object)
        if not isinstance(mapping, Mapping):
            raise DataError(f"{what}: expected a dict of user_id -> list, got {type(mapping).__name__}")
        keys = pd.Index(list(mapping.keys()), dtype=object)
        rows = requested.codes(keys)
        if (rows < 0).any():
            missing = keys[rows < 0]
            raise DataError(
                f"{what}: {len(missing):,} users are not among the users to recommend for (e.g. {missing[0]!r})"
            )
        lists = []
        for value in mapping.values():
            listed = [value] if np.isscalar(value) or isinstance(value, str) else list(value)
            if pd.isna(pd.Series(listed, dtype=object)).any():
                raise DataError(f"{what}: a user's list contains missing values")
            lists.append(np.array(listed, dtype=object).reshape(-1))
        lengths = np.array([len(x) for x in lists], dtype=np.int64)
        flat = np.concatenate(lists) if lists else np.zeros(0, dtype=object)
        return np.repeat(rows, lengths), flat

    def _first_item_matrix(self, first_items: Mapping[Any, Any] | None, requested: IdMap) -> sp.csr_matrix:
        """(n users, n items) binary: the known first items of each requested user; unknown ones warned of."""
        rows, values = self._per_user(first_items, requested, "first_items")
        codes = self.model.item_map.codes(pd.Index(values, dtype=object)) if len(values) else np.zeros(0, np.int64)
        unknown = codes < 0
        if unknown.any():
            warnings.warn(
                f"{type(self.model).__name__}: {int(unknown.sum()):,} of {len(codes):,} first items are not items of the "
                f"model (e.g. {values[unknown][0]!r}) and were ignored",
                UnknownItemsWarning,
                stacklevel=4,
            )
        matrix = sp.csr_matrix(
            (np.ones(int((~unknown).sum())), (rows[~unknown], codes[~unknown])),
            shape=(len(requested), len(self.model.item_map)),
            dtype=np.float64,
        )
        matrix.data[:] = 1.0  # an item given twice counts once
        return matrix

    def _pick_matrix(self, picks: Mapping[Any, Any] | None, requested: IdMap) -> sp.csr_matrix:
        """(n users, n labels) binary: the labels each requested user picked (matched ignoring case)."""
        rows, values = self._per_user(picks, requested, "picks")
        names = self.label_names
        if len(values) and not len(names):
            raise DataError(
                f"picks: the training items have no {', '.join(LABEL_COLUMNS[:-1])} or {LABEL_COLUMNS[-1]} column, so there is nothing to "
                "pick; pass picks=None"
            )
        lookup = pd.Index(np.char.lower(names.astype(str)))
        given = pd.Index([str(v).strip().lower() for v in values], dtype=object)
        label_codes = lookup.get_indexer(given) if len(given) else np.zeros(0, np.int64)
        if (label_codes < 0).any():
            unknown = sorted({str(v) for v, c in zip(values, label_codes, strict=True) if c < 0})
            close = difflib.get_close_matches(unknown[0], names.tolist(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(
                f"picks: {len(unknown):,} unknown genres / categories, e.g. {unknown[0]!r}{hint}; "
                f"known ones ({len(names):,}) include {', '.join(map(repr, names[:8].tolist()))}"
            )
        matrix = sp.csr_matrix(
            (np.ones(len(label_codes)), (rows, label_codes)), shape=(len(requested), len(names)), dtype=np.float64
        )
        matrix.data[:] = 1.0
        return matrix

    def _item_vectors(self) -> sp.csr_matrix:
        """Binary training user x item matrix with unit-norm item columns: ``V.T @ V`` is the item cosine."""
        if self._vectors is None:
            binary = self.model._seen.tocsr(copy=True).astype(np.float64)
            binary.eliminate_zeros()
            binary.data[:] = 1.0
            norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
            self._vectors = (binary @ sp.diags(1.0 / np.maximum(norms, 1e-12))).tocsr()
        return self._vectors

    def _onboarded_scores(self, design: np.ndarray, first: sp.csr_matrix, chosen: sp.csr_matrix) -> np.ndarray:
        """Dense (len(design), n_items): (max-scaled favourites + first-item cosine) x (1 + picked-label share)."""
        favourites = self.model._favourites.scores(design)
        top = favourites.max(axis=1, keepdims=True) if favourites.shape[1] else np.ones((len(design), 1))
        scores = favourites / np.where(top > 0, top, 1.0)
        if self.model.item_weight > 0 and first.nnz:
            vectors = self._item_vectors()
            mean = sp.diags(1.0 / np.maximum(first.getnnz(axis=1), 1)) @ first
            scores += self.model.item_weight * ((mean @ vectors.T) @ vectors).toarray()
        if self.model.pick_weight > 0 and chosen.nnz:
            counts = np.asarray(self.item_labels.sum(axis=1)).ravel()
            shares = sp.diags(1.0 / np.maximum(counts, 1.0)) @ self.item_labels
            scores *= 1.0 + self.model.pick_weight * (chosen @ shares.T).toarray()
        return scores
