"""The recommender protocol shared by every model: ids at the boundary, batched top-k.

``recommend(users, *, k=10, exclude_seen=True, items=None, exclude_items=None)`` returns
``user_id, item_id, score, rank, fallback``. A subclass implements ``_fit(train)`` and
``_score(user_codes)``; this base class maps external ids, excludes seen items, keeps the
lists inside ``items`` (an allow-list) and outside ``exclude_items`` (fallback rows too),
serves unknown users a fallback and saves / loads every model, its declared sub-models
(``parts``) included.

One scoring path: ``_candidates`` returns each user's scored top ``k`` as triplets (user rows,
item codes, scores; :class:`Candidates`), by default from the dense ``_score``; a model whose
natural output is a candidate list (the re-ranker) or a routing of other models' lists (the
hybrid) overrides it. ``recommend`` completes short lists with popular items and turns them
into the tidy frame; the re-ranker's ``feature_table`` and ``explain`` read the same lists.

List length: ``k`` in every call that returns lists, ``n_candidates`` for a candidate pool.

An allow-list naming ids the model does not know ignores them with one
UnknownItemsWarning counting them (a shop's stock list names new items); an allow-list
that is empty or knows none of its ids is a DataError.
"""

from __future__ import annotations

import inspect
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.errors import ConfigError, DataError, FallbackWarning, ModelError, UnknownItemsWarning, first_line
from workbench.guards import check_dense, positive_int
from workbench.models import storage

# Scores of at most this many (user, item) cells are held at once: memory stays bounded.
BATCH_CELLS = 1 << 22


@numba.njit(cache=True, nogil=True)
def _top_k_rows(scores: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """Per row, insert each finite score into a sorted length-k buffer: one pass, ~1 ns per cell."""
    k = index.shape[1]
    for r in range(scores.shape[0]):
        filled = 0
        for j in range(scores.shape[1]):
            v = scores[r, j]
            if not np.isfinite(v) or (filled == k and v <= values[r, k - 1]):
                continue
            pos = filled if filled < k else k - 1
            while pos > 0 and values[r, pos - 1] < v:  # strict: among ties the earlier column ranks first
                values[r, pos] = values[r, pos - 1]
                index[r, pos] = index[r, pos - 1]
                pos -= 1
            values[r, pos] = v
            index[r, pos] = j
            filled = min(filled + 1, k)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest finite scores per row, best first.

    Rows with fewer than ``k`` finite scores are padded with index -1 and -inf; ties go to the
    earlier column. A single numba pass (no argpartition, no copies): the hot loop of ``recommend``.

    >>> top_k(np.array([[0.1, 0.9, -np.inf]]), 3)[0].tolist()
    [[1, 0, -1]]
    """
    scores = np.ascontiguousarray(scores)
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    index = np.full((scores.shape[0], k), -1, dtype=np.int64)
    values = np.full((scores.shape[0], k), -np.inf, dtype=scores.dtype)
    _top_k_rows(scores, index, values)
    return index, values


def mask_rows(scores: np.ndarray, matrix: sp.csr_matrix, rows: np.ndarray) -> None:
    """Set ``scores[i, j] = -inf`` wherever ``matrix[rows[i], j]`` is stored (in place)."""
    sub = matrix[rows]
    row_of_entry = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    scores[row_of_entry, sub.indices] = -np.inf


def unique_users(users: Iterable[Any] | pd.Series | Dataset, id_map: IdMap | None = None) -> np.ndarray:
    """Distinct requested users, sorted when their ids are comparable; with ``id_map``, each id in
    the map's own spelling where the other one finds it (1 and "1" are one user).

    >>> unique_users(["1", "x", 1], IdMap.from_values([1, 2])).tolist()
    [1, 'x']
    """
    if isinstance(users, Dataset):
        users = users.interactions[C.USER]
    if np.isscalar(users) or isinstance(users, str):
        users = [users]
    values = pd.unique(pd.Series(list(users) if not hasattr(users, "__array__") else users, copy=False))
    if pd.isna(values).any():
        raise DataError("users: the list of users to recommend for contains missing ids")
    if id_map is not None:
        values = pd.unique(pd.Series(id_map.own_ids(values), copy=False))
    try:
        return np.sort(values)
    except TypeError:
        return values


def _id_list(values: Any, what: str) -> np.ndarray:
    """Distinct ids of ``values`` (one id, or any iterable of ids); missing ids are a DataError."""
    if np.isscalar(values) or isinstance(values, str):
        values = [values]
    elif not hasattr(values, "__array__"):
        values = list(values)
    ids = pd.unique(pd.Series(values, dtype=None if len(values) else object, copy=False))
    if pd.isna(ids).any():
        raise DataError(f"{what}: the list of items contains missing ids")
    return ids


class ItemFilter(NamedTuple):
    """The items a call may recommend: those of ``allow`` (None: every item) minus those of
    ``block``, ids in either spelling. :meth:`Recommender.item_filter` builds and checks one."""

    allow: np.ndarray | None = None
    block: np.ndarray | None = None

    def mask(self, item_map: IdMap) -> np.ndarray | None:
        """True for the codes of ``item_map`` that may be recommended; None when every item may."""
        if self.allow is None and self.block is None:
            return None
        if self.allow is None:
            allowed = np.ones(len(item_map), dtype=bool)
        else:
            allowed = np.zeros(len(item_map), dtype=bool)
            codes = item_map.codes(self.allow)
            allowed[codes[codes >= 0]] = True
        if self.block is not None and len(self.block):
            codes = item_map.codes(self.block)
            allowed[codes[codes >= 0]] = False
        return allowed


def apply_mask(scores: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    """``scores`` (a writable users x items array) with the items not ``allowed`` at -inf, in place."""
    if allowed is not None and not allowed.all():
        scores[:, ~allowed] = -np.inf
    return scores


class Candidates(NamedTuple):
    """Scored candidate lists of a batch of users (RecTools' triplets, lkpy's item lists): candidate
    ``i`` is item code ``items[i]`` for the user at position ``rows[i]`` of the batch, with score
    ``scores[i]``; rows grouped by user in batch order, each user's best first, ties to the lower
    item code. ``fallback`` marks candidates served by the model's fallback (a user unknown to it);
    ``columns``, when a model has them, holds more values per candidate (the re-ranker's features)."""

    rows: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    fallback: np.ndarray
    columns: pd.DataFrame | None = None

    @classmethod
    def from_top_k(cls, index: np.ndarray, values: np.ndarray, fallback: np.ndarray) -> Candidates:
        """The filled slots of ``top_k``'s (users x k) ``index`` and ``values``; ``fallback`` per user."""
        filled = index >= 0
        rows = np.nonzero(filled)[0]
        return cls(rows, index[filled], values[filled].astype(np.float64, copy=False), fallback[rows])

    @classmethod
    def concat(cls, parts: list[Candidates], offsets: Iterable[int] | None = None) -> Candidates:
        """``parts`` one after the other, the rows of each shifted by its offset (by default none)."""
        offsets = [0] * len(parts) if offsets is None else list(offsets)
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, np.empty(0), np.empty(0, dtype=bool))
        frames = [part.columns for part in parts]
        columns = None if any(f is None for f in frames) else pd.concat(frames, ignore_index=True)
        return cls(
            np.concatenate([part.rows + offset for part, offset in zip(parts, offsets, strict=True)]),
            np.concatenate([part.items for part in parts]),
            np.concatenate([part.scores for part in parts]),
            np.concatenate([part.fallback for part in parts]),
            columns,
        )

    def take(self, order: np.ndarray) -> Candidates:
        """The candidates at positions ``order``, in that order."""
        columns = None if self.columns is None else self.columns.iloc[order].reset_index(drop=True)
        return Candidates(self.rows[order], self.items[order], self.scores[order], self.fallback[order], columns)


class Recommender(ABC):
    """Base of all recommenders: ``fit(train) -> self``, ``recommend(users, *, k=10, exclude_seen=True,
    items=None, exclude_items=None)``, ``save(dir)`` and ``Class.load(dir)``."""

    #: Bumped when the saved layout of a model changes.
    format_version: ClassVar[int] = 1
    #: Constructor arguments, stored as attributes of the same names (saved as JSON).
    param_names: ClassVar[tuple[str, ...]] = ()
    #: Cells of the users x items score block ``recommend`` holds at once.
    batch_cells: ClassVar[int] = BATCH_CELLS
    #: Attributes holding sub-models (Recommenders): saved in sub-directories of the same names and
    #: loaded with the model, passed to the constructor when it takes them, else set afterwards. A part
    #: the fit did not use (left unfitted) is not saved, and the loaded model has the constructor's.
    parts: ClassVar[tuple[str, ...]] = ()

    user_map: IdMap
    item_map: IdMap
    #: Wall-clock seconds of the last ``fit`` (kept by ``save`` and ``load``; NaN for older saves).
    fit_seconds_: float
    _seen: sp.csr_matrix
    _popularity: np.ndarray

    @property
    def _batch_rows(self) -> int:
        """Users per block of dense scores: at most ``batch_cells`` cells of users x items at once."""
        return max(1, self.batch_cells // max(len(self.item_map), 1))

    # -- to implement -------------------------------------------------------------
    @abstractmethod
    def _fit(self, train: Dataset) -> None:
        """Learn from ``train`` (id maps, seen matrix and popularity are already set)."""

    @abstractmethod
    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        """Dense float scores, shape (len(user_codes), n_items), for known users."""

    def _catalogue(self, train: Dataset) -> IdMap:
        """The item map of the items this model ranks; it must hold every interacted item.

        By default the interacted items, in order of first appearance.
        """
        return IdMap.from_values(train.interactions[C.ITEM])

    def _ranking_scores(
        self, user_codes: np.ndarray, exclude_seen: bool, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """What ``recommend`` ranks for known users: a copy of ``_score`` in the model's dtype (float32
        halves the traffic), with the users' seen items at -inf when ``exclude_seen``.

        ``allowed`` (True for the item codes the call may recommend, None for all) lets a model draw
        its candidates from those items only; the base class sets the others to -inf in any case.
        """
        scores = np.array(self._score(user_codes))
        if exclude_seen:
            mask_rows(scores, self._seen, user_codes)
        return scores

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Scores for users unseen in training: global popularity, shape (len(user_ids), n_items).

        ``allowed`` as in :meth:`_ranking_scores`."""
        return np.broadcast_to(self._popularity, (len(user_ids), len(self._popularity)))

    # -- protocol -----------------------------------------------------------------
    def fit(self, train: Dataset) -> Self:
        """Fit on ``train`` and return self."""
        if not isinstance(train, Dataset):
            raise DataError(f"fit expects a workbench Dataset, got {type(train).__name__}")
        if len(train) == 0:
            raise DataError("fit: the training data has no interactions")
        start = time.perf_counter()
        log = train.interactions
        self.user_map = IdMap.from_values(log[C.USER])
        self.item_map = self._catalogue(train)
        self._seen = train.user_item_matrix(self.user_map, self.item_map)
        counts = np.bincount(self.item_map.codes(log[C.ITEM]), minlength=len(self.item_map))
        self._popularity = counts.astype(np.float32) / max(len(log), 1)
        self._fit(train)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _adopt(self, parent: Recommender) -> None:
        """Share ``parent``'s id maps, seen matrix and popularity: what ``fit`` would compute for a
        sub-model of ``parent`` on the same data (it then needs only ``_fit`` or ``_restore``)."""
        self.user_map, self.item_map = parent.user_map, parent.item_map
        self._seen, self._popularity = parent._seen, parent._popularity

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "item_map")

    def _require_fitted(self, action: str) -> None:
        if not self.is_fitted:
            raise ModelError(f"{type(self).__name__} must be fitted before {action}; call fit(train) first")

    def _sub_models(self) -> Iterator[Recommender]:
        """This model's fitted parts, their parts, and so on."""
        for name in self.parts:
            part = getattr(self, name)
            if part.is_fitted:
                yield part
                yield from part._sub_models()

    def item_filter(self, items: Any = None, exclude_items: Any = None) -> ItemFilter:
        """Check the ``items`` allow-list and the ``exclude_items`` filter of a call (ids in either
        spelling). Allowed ids unknown to the model (and its sub-models) are ignored with one
        UnknownItemsWarning; an empty allow-list, or one the model knows none of, is a DataError.

        >>> model.item_filter(items=in_stock, exclude_items=adult_items)  # doctest: +SKIP
        """
        self._require_fitted("filtering items")
        allow = block = None
        if items is not None:
            allow = _id_list(items, "items")
            if not len(allow):
                raise DataError(
                    "items: the allow-list is empty, so nothing may be recommended; pass None to allow every item"
                )
            maps = [self.item_map, *(part.item_map for part in self._sub_models())]
            known = np.logical_or.reduce([m.codes(allow) >= 0 for m in maps])
            if not known.any():
                raise DataError(
                    f"items: none of the {len(allow):,} ids of the allow-list is an item of the model "
                    f"(e.g. {allow[0]!r}), so nothing may be recommended"
                )
            if not known.all():
                unknown = allow[~known]
                warnings.warn(
                    f"{type(self).__name__}: {len(unknown):,} of {len(allow):,} ids of the allow-list are not "
                    f"items of the model (e.g. {unknown[0]!r}) and cannot be recommended",
                    UnknownItemsWarning,
                    stacklevel=3,
                )
        if exclude_items is not None:
            block = _id_list(exclude_items, "exclude_items")
        return ItemFilter(allow, block)

    def recommend(
        self,
        users: Iterable[Any] | pd.Series | Dataset,
        *,
        k: int = 10,
        exclude_seen: bool = True,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Top ``k`` items per user as ``user_id, item_id, score, rank, fallback``, sorted by user then rank.

        Unknown users get the fallback (popularity unless the model says otherwise), and a user
        whose own list is shorter than ``k`` is completed with popular items; those rows have
        ``fallback=True`` (their score is the fallback's) and one FallbackWarning counts them.
        ``exclude_seen=False`` lets items the user interacted with be recommended again.
        ``items`` (an allow-list: only these) and ``exclude_items`` (never these) restrict every
        row, fallback rows included; lists may then be shorter than ``k``.

        >>> model.recommend([1, 2], k=5, items=in_stock, exclude_items=["sku-adult-1"])  # doctest: +SKIP
        """
        self._require_fitted("recommend")
        k = positive_int(k, "k")
        request = self.item_filter(items, exclude_items)
        return self._recommend(unique_users(users, self.user_map), k, exclude_seen, request)

    def score_pairs(self, users: Iterable[Any], items: Iterable[Any]) -> np.ndarray:
        """The model's score of each (user, item) pair, ids in either spelling; NaN for an unknown user
        or item and where the model does not score the item for the user (-inf).

        >>> model.score_pairs([1, 1, 2], ["a", "b", "a"])  # doctest: +SKIP
        array([0.31, nan, 0.12])
        """
        self._require_fitted("score_pairs")
        user_codes = self.user_map.codes(pd.Index(users))
        item_codes = self.item_map.codes(pd.Index(items))
        if len(user_codes) != len(item_codes):
            raise ConfigError(f"score_pairs: {len(user_codes):,} users but {len(item_codes):,} items")
        out = np.full(len(user_codes), np.nan)
        known = np.flatnonzero((user_codes >= 0) & (item_codes >= 0))
        distinct, row = np.unique(user_codes[known], return_inverse=True)
        batch = self._batch_rows
        by_row = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[by_row], np.arange(0, len(distinct) + batch, batch))
        for number, start in enumerate(range(0, len(distinct), batch)):
            pairs = known[by_row[bounds[number] : bounds[number + 1]]]
            scores = np.asarray(self._score(distinct[start : start + batch]))
            values = scores[np.searchsorted(distinct, user_codes[pairs]) - start, item_codes[pairs]]
            out[pairs] = np.where(np.isfinite(values), values, np.nan)
        return out

    def _candidates(
        self, ids: np.ndarray, codes: np.ndarray, k: int, exclude_seen: bool, allowed: np.ndarray | None
    ) -> Candidates:
        """The scoring hook: each user's top ``k`` scored candidates (fewer where the model scores fewer)
        among the ``allowed`` items (True for the item codes the call may recommend; None: all) and,
        when ``exclude_seen``, not among the items the user interacted with. ``ids`` are a batch of
        distinct users in this model's spelling, ``codes`` their user codes (-1: unknown to the model,
        served its fallback and marked so).

        By default from the dense scores: ``_ranking_scores`` for known users, ``_fallback_scores``
        for unknown ones, the items not allowed at -inf, then :func:`top_k`. A model whose natural
        output is a candidate list (the re-ranker, the hybrid's routing) overrides this instead; it
        excludes seen items itself, and :meth:`_lists` drops any candidate outside ``allowed``.
        """
        known = codes >= 0
        index = np.full((len(ids), k), -1, dtype=np.int64)
        values = np.full((len(ids), k), -np.inf, dtype=np.float64)
        rows = np.flatnonzero(known)
        if len(rows):
            scores = apply_mask(self._ranking_scores(codes[rows], exclude_seen, allowed), allowed)
            index[rows], values[rows] = top_k(scores, k)
        rows = np.flatnonzero(~known)
        if len(rows):
            scores = apply_mask(np.array(self._fallback_scores(ids[rows], allowed), dtype=np.float64), allowed)
            index[rows], values[rows] = top_k(scores, k)
        return Candidates.from_top_k(index, values, ~known)

    def _lists(self, ids: np.ndarray, k: int, exclude_seen: bool, allowed: np.ndarray | None) -> Candidates:
        """:meth:`_candidates` of ``ids`` (distinct, in this model's spelling) batch by batch, so that
        at most ``batch_cells`` dense scores are held at once; rows index ``ids``."""
        codes = self.user_map.codes(ids)
        batch = self._batch_rows
        starts = range(0, len(ids), batch)
        parts = [
            self._candidates(ids[start : start + batch], codes[start : start + batch], k, exclude_seen, allowed)
            for start in tqdm(starts, desc="recommend", unit="batch", disable=len(starts) < 20, leave=False)
        ]
        lists = Candidates.concat(parts, starts)
        if allowed is not None and len(lists.items) and not allowed[lists.items].all():  # a model's own lists too
            lists = lists.take(np.flatnonzero(allowed[lists.items]))
        return lists

    def _recommend(self, ids: np.ndarray, k: int, exclude_seen: bool, request: ItemFilter) -> pd.DataFrame:
        """``recommend`` for checked arguments: ``ids`` distinct, in this model's spelling. The model's
        lists (:meth:`_lists`), short ones completed with popular items, as the tidy frame."""
        check_dense(len(ids), k, what=f"recommend(k={k}) for {len(ids):,} users")
        allowed = request.mask(self.item_map)
        lists = self._lists(ids, k, exclude_seen, allowed)
        codes = self.user_map.codes(ids)
        known = codes >= 0
        index = np.full((len(ids), k), -1, dtype=np.int64)
        values = np.full((len(ids), k), -np.inf, dtype=np.float64)
        fallback = np.broadcast_to(~known[:, None], index.shape).copy()
        slot = np.arange(len(lists.rows)) - np.searchsorted(lists.rows, lists.rows)
        if len(slot) and slot.max() >= k:
            raise ModelError(f"{type(self).__name__}._candidates returned more than k={k} candidates for a user")
        index[lists.rows, slot] = lists.items
        values[lists.rows, slot] = lists.scores
        fallback[lists.rows, slot] |= lists.fallback
        short = np.flatnonzero(index[:, -1] < 0)
        batch = self._batch_rows
        for start in range(0, len(short), batch):
            rows = short[start : start + batch]
            self._fill_with_popularity(index, values, fallback, rows, codes, exclude_seen, allowed)
        completed = int((fallback[known].any(axis=1)).sum())
        self._warn_fallbacks(len(ids), int((~known).sum()), completed, k)
        return self._frame(ids, index, values, fallback)

    #: What unknown users are served, as the fallback warning names it.
    fallback_name: ClassVar[str] = "popularity"

    def _fill_with_popularity(
        self,
        index: np.ndarray,
        values: np.ndarray,
        fallback: np.ndarray,
        rows: np.ndarray,
        codes: np.ndarray,
        exclude_seen: bool,
        allowed: np.ndarray | None = None,
    ) -> None:
        """Complete ``rows`` (fewer than k items) in place with the most popular ``allowed`` items not
        yet listed (nor seen by a known user when ``exclude_seen``), marking the added slots as fallback."""
        k = index.shape[1]
        scores = apply_mask(np.tile(self._popularity.astype(np.float64), (len(rows), 1)), allowed)
        listed = index[rows]
        r, c = np.nonzero(listed >= 0)
        scores[r, listed[r, c]] = -np.inf
        if exclude_seen:
            known = codes[rows] >= 0
            known_scores = scores[known]
            mask_rows(known_scores, self._seen, codes[rows][known])
            scores[known] = known_scores
        extra_index, extra_values = top_k(scores, k)
        have = (listed >= 0).sum(axis=1, keepdims=True)
        source = np.arange(k) - have
        added = source >= 0
        take = np.maximum(source, 0)
        index[rows] = np.where(added, np.take_along_axis(extra_index, take, axis=1), listed)
        values[rows] = np.where(added, np.take_along_axis(extra_values, take, axis=1), values[rows])
        fallback[rows] |= added & (index[rows] >= 0)

    def _warn_fallbacks(self, n_users: int, n_unknown: int, n_short: int, k: int) -> None:
        """One FallbackWarning counting the users served by a fallback, if any."""
        parts = []
        if n_unknown:
            parts.append(f"{n_unknown:,} of {n_users:,} users are unknown to the model: served {self.fallback_name}")
        if n_short:
            parts.append(
                f"{n_short:,} of {n_users:,} users have fewer than {k} items of their own: completed with popularity"
            )
        if parts:
            message = f"{type(self).__name__}: {'; '.join(parts)} (rows marked fallback=True)"
            warnings.warn(message, FallbackWarning, stacklevel=4)

    def _frame(self, ids: np.ndarray, index: np.ndarray, values: np.ndarray, fallback: np.ndarray) -> pd.DataFrame:
        filled = index >= 0
        user_rows = np.repeat(np.arange(len(ids)), k := index.shape[1])[filled.ravel()]
        return pd.DataFrame(
            {
                C.USER: ids[user_rows],
                C.ITEM: self.item_map.to_ids(index[filled]),
                C.SCORE: values[filled],
                C.RANK: np.tile(np.arange(1, k + 1), len(ids))[filled.ravel()],
                C.FALLBACK: fallback[filled],
            }
        )

    # -- persistence --------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments of this model (sub-models apart: they are saved as parts)."""
        return {name: getattr(self, name) for name in self.param_names}

    def _state(self) -> dict[str, np.ndarray | str]:
        """Learned state to save: arrays (into the .npz), and text files by file name (``str`` values,
        e.g. ``"ranker.txt"``); extend in subclasses."""
        return {}

    def _restore(self, state: dict[str, np.ndarray | str]) -> None:  # noqa: B027 (an optional hook)
        """Inverse of ``_state`` (arrays and text files in one dict); id maps, seen matrix,
        popularity and parts are already set. Raise KeyError / ValueError / TypeError on
        inconsistent files: ``load`` turns them into a ModelError."""

    def save(self, directory: str | Path) -> Path:
        """Write the model to ``directory`` (.npz arrays + JSON manifest, text files, and each
        sub-model in a sub-directory named after it; never pickle)."""
        self._require_fitted("save")
        state = self._state()
        texts = {name: value for name, value in state.items() if isinstance(value, str)}
        seen = self._seen.tocsr()
        arrays = {
            **{name: value for name, value in state.items() if not isinstance(value, str)},
            "seen_indptr": seen.indptr,
            "seen_indices": seen.indices,
            "seen_data": seen.data,
            "popularity": self._popularity,
            "fit_seconds": np.array([getattr(self, "fit_seconds_", np.nan)]),
        }
        ids = {"user_ids": self.user_map.ids, "item_ids": self.item_map.ids}
        return storage.write_model(
            directory,
            type(self).__name__,
            self.format_version,
            self.get_params(),
            arrays,
            ids,
            extra_files=texts,
            parts={name: getattr(self, name) for name in self.parts if getattr(self, name).is_fitted},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Read a model written by ``save``; a damaged, foreign or inconsistent directory raises ModelError
        (index arrays are bounds-checked: a loaded model never reads outside its arrays)."""
        from workbench.models import load_model  # the package imports this module

        path = Path(directory)
        params, arrays, ids = storage.read_model(path, cls.__name__, cls.format_version)
        saved = storage.saved_parts(path)
        parts = {name: load_model(path / name) for name in cls.parts if name in saved}
        accepted = inspect.signature(cls).parameters
        try:
            model = cls(**params, **{name: part for name, part in parts.items() if name in accepted})
        except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
            raise ModelError(f"{path}: saved parameters do not fit {cls.__name__} ({first_line(exc)})") from None
        for name, part in parts.items():
            if name not in accepted:
                setattr(model, name, part)
        try:
            model._restore_base(arrays, ids)
            model._restore({**arrays, **storage.read_texts(path)})
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ModelError(f"{path}: model files are inconsistent ({first_line(exc)})") from None
        return model

    def _restore_base(self, arrays: dict[str, np.ndarray], ids: dict[str, pd.Index]) -> None:
        """Set the id maps, seen matrix, popularity and fit time from saved arrays, checked (the ones
        used are taken out of ``arrays``); ValueError / KeyError when they do not fit together."""
        users, items = ids["user_ids"], ids["item_ids"]
        if not users.is_unique or not items.is_unique:
            raise ValueError(f"{storage.IDS} repeats a user or item id")
        self.user_map, self.item_map = IdMap(users), IdMap(items)
        shape = (len(users), len(items))
        seen = (arrays.pop(f"seen_{name}") for name in ("data", "indices", "indptr"))
        self._seen = storage.checked_csr(*seen, shape, "the seen matrix")
        popularity = arrays.pop("popularity")
        if popularity.shape != (len(items),) or popularity.dtype.kind not in "biuf":
            raise ValueError(f"popularity has shape {popularity.shape} for {len(items):,} items")
        as_float = popularity.astype(np.float64, copy=False)
        if np.isnan(as_float).any() or (as_float == np.inf).any():  # -inf: an item a model never proposes
            raise ValueError("popularity holds NaN or +inf values")
        self._popularity = popularity
        self.fit_seconds_ = float(arrays.pop("fit_seconds", [np.nan])[0])
