"""First stage of a two-stage recommender: candidates from ALS, EASE, item neighbours and popularity.

Each source proposes its top ``k`` unseen items per user; the union is ordered by
reciprocal-rank fusion (sum over sources of ``1 / (60 + rank)``) and cut at ``k``.
The source scores and memberships travel with every candidate, ready to become
ranker features.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.guards import positive_int
from workbench.models import storage
from workbench.models.als import ALSRecommender
from workbench.models.base import (
    BATCH_CELLS,
    Recommender,
    apply_mask,
    mask_rows,
    top_k,
    unique_users,
)
from workbench.models.ease import EASERecommender

#: The sources, in the order of their columns.
SOURCES = ("als", "ease", "knn", "popularity")
#: The EASE source models at most this many of the most popular items. Its fit grows as n^3 and a
#: re-ranker fits it once per label fold: on one core here 3,000 items take 0.3 s, 5,000 1.25 s and
#: 10,000 14 s (benchmarks/ease_solve.py), so time caps it long before memory (4 n^2 bytes) does.
EASE_ITEMS = 3_000
#: The sources score at most this many of the most popular items (ties to the item seen first): every
#: candidate comes from them (a shop's buy-again candidates, from the history, are not limited). On The
#: Complete Journey they carry most of the interactions, and scoring them instead of all 68,509 products
#: cuts the dense work of every candidate batch.
POOL_ITEMS = 20_000
#: Reciprocal-rank-fusion constant (Cormack et al. 2009).
RRF_K = 60.0


class CandidateGenerator(Recommender):
    """Union of ALS, EASE, item-item BM25 neighbours and popularity, ``n_candidates`` per user.

    ``recommend`` ranks by the fused score; :meth:`candidates` also returns each source's
    score and whether the item is in that source's top ``k``. The ALS and EASE models are
    parts (saved in the sub-directories ``als`` and ``ease``); EASE (``ease_regularization``)
    models the :data:`EASE_ITEMS` most popular items, the others are never its candidates; every
    source proposes only the :data:`POOL_ITEMS` most popular items.

    >>> gen = CandidateGenerator(seed=0).fit(train)  # doctest: +SKIP
    >>> gen.candidates([1, 2], k=100).columns.tolist()  # doctest: +SKIP
    ['user_id', 'item_id', 'score', 'rank', 'als_score', 'ease_score', 'knn_score', 'popularity_score',
     'in_als', 'in_ease', 'in_knn', 'in_popularity']
    """

    format_version: ClassVar[int] = 3  # 2: ALS saved as the part "als"; n_candidates (was depth); 3: EASE
    parts: ClassVar[tuple[str, ...]] = ("als", "ease")
    param_names: ClassVar[tuple[str, ...]] = (
        "n_candidates",
        "factors",
        "regularization",
        "iterations",
        "alpha",
        "n_neighbours",
        "ease_regularization",
        "seed",
    )

    def __init__(
        self,
        *,
        n_candidates: int = 100,
        factors: int = 64,
        regularization: float = 20.0,
        iterations: int = 15,
        alpha: float = 0.5,
        n_neighbours: int = 100,
        ease_regularization: float = 750.0,
        seed: int = 0,
    ) -> None:
        self.n_candidates = positive_int(n_candidates, "n_candidates")
        self.n_neighbours = positive_int(n_neighbours, "n_neighbours")
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.iterations = int(iterations)
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.als = ALSRecommender(
            factors=factors,
            regularization=regularization,
            iterations=iterations,
            alpha=alpha,
            seed=seed,
        )
        self.ease = EASERecommender(regularization=ease_regularization, top_items=EASE_ITEMS)
        self.ease_regularization = self.ease.regularization

    def _fit(self, train: Dataset) -> None:
        from implicit.nearest_neighbours import BM25Recommender

        for part in (self.als, self.ease):
            part._adopt(self)  # same train: the generator's id maps, seen matrix and popularity
            part._fit(train)
        self._set_pool()
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            knn = BM25Recommender(K=self.n_neighbours, num_threads=1)
            knn.fit(self._seen if self._pool is None else self._pool_seen, show_progress=False)
        self.similarity = knn.similarity.tocsr().astype(np.float32)

    def _set_pool(self) -> None:
        """The :data:`POOL_ITEMS` most popular item codes (sorted; None: every item) and what the sources
        need of them: the seen matrix and ALS factors of those columns, and where EASE's items (the
        most popular of all, so among them) sit. The neighbour similarities are fitted on the pool's
        columns alone (pool x pool)."""
        n_items = len(self.item_map)
        if n_items <= POOL_ITEMS:
            self._pool = None
            return
        pool = np.sort(np.argsort(-self._popularity, kind="stable")[:POOL_ITEMS])
        self._pool = pool
        self._pool_seen = self._seen[:, pool].tocsr()
        self._pool_factors = self.als._item_factors_f64()[pool]
        self._pool_ease = np.searchsorted(pool, self.ease._kept)
        if not np.array_equal(pool[np.minimum(self._pool_ease, len(pool) - 1)], self.ease._kept):
            raise ValueError("the EASE items are not among the most popular items")

    @property
    def _width(self) -> int:
        """Columns of the sources' score matrices: the pool's items."""
        return len(self.item_map) if self._pool is None else len(self._pool)

    def _to_full(self, scores: np.ndarray) -> np.ndarray:
        """Pool-wide scores as catalogue-wide ones (-inf outside the pool)."""
        if self._pool is None:
            return scores
        full = np.full((scores.shape[0], len(self.item_map)), -np.inf)
        full[:, self._pool] = scores
        return full

    def _source_scores(
        self, user_codes: np.ndarray, *, exclude_seen: bool = True, allowed: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Dense scores of every source for known users over the pool's items (:meth:`_set_pool`; columns
        in pool order), seen items at -inf when ``exclude_seen``, items not ``allowed`` at -inf."""
        pool = self._pool
        if pool is None:
            scores = {
                "als": np.asarray(self.als._score(user_codes), dtype=np.float64),
                "ease": np.asarray(self.ease._score(user_codes), dtype=np.float64),
                "knn": (self._seen[user_codes] @ self.similarity).toarray().astype(np.float64),
            }
            seen, popularity = self._seen, self._popularity
        else:
            ease = np.full((len(user_codes), len(pool)), -np.inf)
            ease[:, self._pool_ease] = self.ease._weights[user_codes][:, self.ease._kept] @ self.ease._B
            scores = {
                "als": self.als.user_factors[user_codes].astype(np.float64) @ self._pool_factors.T,
                "ease": ease,
                "knn": (self._pool_seen[user_codes] @ self.similarity).toarray().astype(np.float64),
            }
            seen, popularity = self._pool_seen, self._popularity[pool]
            allowed = None if allowed is None else allowed[pool]
        scores["popularity"] = np.tile(popularity.astype(np.float64), (len(user_codes), 1))
        for matrix in scores.values():
            if exclude_seen:
                mask_rows(matrix, seen, user_codes)
            apply_mask(matrix, allowed)
        return scores

    def _fuse(self, scores: dict[str, np.ndarray], k: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fused score (-inf outside every top ``k``) and per-source top-``k`` membership."""
        first = next(iter(scores.values()))
        fused = np.zeros(first.shape, dtype=np.float64)
        member = {}
        rows = np.arange(first.shape[0])[:, None]
        for name, matrix in scores.items():
            index, _ = top_k(matrix, k)
            valid = index >= 0
            inside = np.zeros(first.shape, dtype=bool)
            inside[np.broadcast_to(rows, index.shape)[valid], index[valid]] = True
            ranks = np.broadcast_to(np.arange(1, k + 1), index.shape)
            fused[np.broadcast_to(rows, index.shape)[valid], index[valid]] += 1.0 / (RRF_K + ranks[valid])
            member[name] = inside
        in_any = np.logical_or.reduce(list(member.values()))
        return np.where(in_any, fused, -np.inf), member

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return self._to_full(self._fuse(self._source_scores(user_codes), self.n_candidates)[0])

    def _ranking_scores(
        self, user_codes: np.ndarray, exclude_seen: bool, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """Each source's top ``n_candidates`` (of the allowed items) fused, the user's seen items
        among them unless excluded."""
        scores = self._source_scores(user_codes, exclude_seen=exclude_seen, allowed=allowed)
        return self._to_full(self._fuse(scores, self.n_candidates)[0])

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Unknown users: the fused score of popularity (of the allowed items) alone."""
        popularity = self._popularity.astype(np.float64)
        if allowed is None:
            scores = np.broadcast_to(popularity, (len(user_ids), len(popularity)))
        else:
            scores = apply_mask(np.tile(popularity, (len(user_ids), 1)), allowed)
        return self._fuse({"popularity": scores}, self.n_candidates)[0]

    def candidates(
        self,
        users: Iterable[Any] | pd.Series | Dataset,
        *,
        k: int | None = None,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Top ``k`` (default ``n_candidates``) unseen candidates per user,
        with every source's score and membership; ``items`` and ``exclude_items`` as in ``recommend``.

        Columns: ``user_id, item_id, score, rank`` (fused), ``<source>_score`` and ``in_<source>``
        for ``als, ease, knn, popularity``. Users unknown to the model get popularity candidates only
        (their ALS and neighbour scores are NaN).
        """
        self._require_fitted("candidates")
        k = positive_int(self.n_candidates if k is None else k, "k")
        allowed = self.item_filter(items, exclude_items).mask(self.item_map)
        ids = unique_users(users, self.user_map)
        codes = self.user_map.codes(ids)
        width, pool = self._width, self._pool
        popularity = self._popularity if pool is None else self._popularity[pool]
        pool_allowed = allowed if allowed is None or pool is None else allowed[pool]
        batch = max(1, BATCH_CELLS // max(width, 1))
        parts = []
        for start in range(0, len(ids), batch):
            rows = slice(start, start + batch)
            part_codes = codes[rows]
            known = part_codes >= 0
            if known.all():  # the common case: every source scored every user, no NaN to spell out
                scores = finite = self._source_scores(part_codes, allowed=allowed)
            else:
                scores = {name: np.full((len(part_codes), width), np.nan) for name in SOURCES}
                scores["popularity"][:] = popularity
                apply_mask(scores["popularity"], pool_allowed)
                if known.any():
                    for name, matrix in self._source_scores(part_codes[known], allowed=allowed).items():
                        scores[name][known] = matrix
                finite = {name: np.where(np.isnan(m), -np.inf, m) for name, m in scores.items()}
            fused, member = self._fuse(finite, k)
            index, values = top_k(fused, k)
            parts.append(_candidate_frame(ids[rows], index, values, scores, member, self._column_ids))
        columns = [C.USER, C.ITEM, C.SCORE, C.RANK] + [f"{s}_score" for s in SOURCES] + [f"in_{s}" for s in SOURCES]
        if not parts:
            return pd.DataFrame({c: [] for c in columns})
        return pd.concat(parts, ignore_index=True)[columns]

    def _column_ids(self, columns: np.ndarray) -> np.ndarray:
        """Item ids of columns of the sources' score matrices."""
        return self.item_map.to_ids(columns if self._pool is None else self._pool[columns])

    def _state(self) -> dict[str, np.ndarray | str]:
        sim = self.similarity
        return {
            "similarity_data": sim.data,
            "similarity_indices": sim.indices,
            "similarity_indptr": sim.indptr,
        }

    def _restore(self, state: dict[str, np.ndarray | str]) -> None:
        for name in self.parts:
            part = getattr(self, name)
            if not part.item_map.ids.equals(self.item_map.ids) or not part.user_map.ids.equals(self.user_map.ids):
                raise ValueError(f"the {name} part was saved for other users or items")
            part._adopt(self)  # one copy of the id maps and seen matrix, as after fit
        self._set_pool()
        self.similarity = storage.checked_csr(
            state["similarity_data"],
            state["similarity_indices"],
            state["similarity_indptr"],
            (self._width, self._width),
            "similarity",
        )


def _candidate_frame(
    ids: np.ndarray,
    index: np.ndarray,
    values: np.ndarray,
    scores: dict[str, np.ndarray],
    member: dict[str, np.ndarray],
    to_ids: Any,
) -> pd.DataFrame:
    filled = index >= 0
    k = index.shape[1]
    rows = np.repeat(np.arange(len(ids)), k)[filled.ravel()]
    cols = index[filled]
    frame = {
        C.USER: ids[rows],
        C.ITEM: to_ids(cols),
        C.SCORE: values[filled],
        C.RANK: np.tile(np.arange(1, k + 1), len(ids))[filled.ravel()],
    }
    for name in SOURCES:
        frame[f"{name}_score"] = scores[name][rows, cols]
    for name in SOURCES:
        frame[f"in_{name}"] = member[name][rows, cols]
    return pd.DataFrame(frame)


def candidate_recall(candidates: pd.DataFrame, truth: pd.DataFrame | Dataset, k: int) -> float:
    """Recall of the top ``k`` candidates per user against ``truth``:
    the ceiling a re-ranker can reach.

    Averaged over the users in ``truth`` (a user without candidates scores 0).

    >>> candidate_recall(gen.candidates(test, k=100), test, 100)  # doctest: +SKIP
    0.62
    """
    k = positive_int(k, "k")
    pairs = truth.interactions if isinstance(truth, Dataset) else truth
    relevant = pairs[[C.USER, C.ITEM]].drop_duplicates()
    if relevant.empty:
        return 0.0
    top = candidates.loc[candidates[C.RANK] <= k, [C.USER, C.ITEM]].drop_duplicates()
    hits = relevant.merge(top, on=[C.USER, C.ITEM], how="left", indicator=True)["_merge"].eq("both")
    per_user = hits.groupby(relevant[C.USER].to_numpy()).mean()
    return float(per_user.mean())
