"""Second stage: a LightGBM lambdarank model re-ranks the candidates of any recommender.

The candidate stage is a ``CandidateGenerator`` (ALS, EASE, item neighbours and popularity fused;
the default) or any single Recommender (ALS, popularity, content, the repeat baseline...).
When the training log repeats (some user bought some item twice, as in a grocery order log),
the user's own purchase history is a candidate source as well (the ``n_candidates`` items bought
most often, as "buy again" orders them), and so are the published next-basket models TIFU-KNN
and UP-CF@r (``basket_sources=True``, the default; ``tifuknn=`` and ``upcf=`` take tuned ones):
each proposes its top ``n_candidates`` with repeats allowed, its own items' neighbours among them,
and scores every candidate (``tifuknn_score``, ``upcf_score`` and their ranks). Repeat and basket
features come with them (times bought, days and baskets since the pair's last purchase, the share
of the user's baskets holding the item, plain and decayed, the pair's mean interval, how due the
item is at the next basket, the item's repurchase rate, the user's repeat share, number and size
of baskets; see ``workbench.data.features``): ``recommend(..., exclude_seen=False)`` then ranks
"buy again" among "discover", and the default holdout is each user's last baskets.
benchmarks/next_basket.py compares it with the published baselines on The Complete Journey.

``fit(train)`` carves holdouts out of ``train``: per user, ``n_folds`` random shares (each
fold in turn), the latest share by time (``holdout="temporal"``) or the last ``n_folds``
baskets one after the other (``holdout="basket"``: orders, else sessions, else order numbers
(timestamps 1, 2, 3, ... per customer), else days; ``workbench.data.repeats.basket_by``);
``holdout="auto"`` (the default) takes baskets for a repeating log with timestamps and random
shares otherwise.
For each, a copy of the candidate model is fitted on the rest and its candidates are
labelled with the holdout (1 = the user interacted); folds stop once ``max_rows`` candidate rows
are labelled (``n_folds_used_`` says how many were). The ranker is trained for ``n_rounds``
(None: 200 for a basket holdout, chosen on The Complete Journey's validation baskets; 100 otherwise)
on every labelled user (with ``valid_fraction``, early stopping on that share of the users
instead), then the candidate model is refitted on all of ``train``: serving features come
from the full training data.

The trees boost from a fixed prior, ``prior_weight`` x the within-user z-score of the ALS
score (of the single model's score for another stage; LightGBM ``init_score``): step
functions alone tie and blur the fine ALS order at the top (on MovieLens-100K they fall
below ALS alone). Rank features are monotone; an item a source did not propose has the rank
just past its list. ``exclude_features`` (names or shell patterns, e.g. ``["ease_*", "user_*"]``)
leaves features out of the trees, for ablations; a pattern that matches none is a ConfigError.

Against a random per-user test split (as in benchmarks/rerank_ml100k.py) a temporal holdout
scores below the random one: the ranker learns "recent items" where the test asks for random
ones. Use ``holdout="temporal"`` when you evaluate and serve forward in time.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import warnings
from collections.abc import Iterable, Sequence
from io import StringIO
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.features import HistoryFeatures, prepare_history
from workbench.data.repeats import basket_by, has_repeats
from workbench.data.split import next_basket_split, single_basket_reason
from workbench.errors import ConfigError, DataError, FallbackWarning, first_line
from workbench.guards import check_dense, positive_int
from workbench.models import storage
from workbench.models.base import Candidates, Recommender, top_k, unique_users
from workbench.models.candidates import CandidateGenerator
from workbench.models.tifuknn import TIFUKNNRecommender
from workbench.models.upcf import UPCFRecommender

#: Candidate columns of a CandidateGenerator handed to the feature builder as model scores.
SCORE_COLUMNS = ("als_score", "ease_score", "knn_score", "fusion_score")
#: The source whose score the trees boost from, for a CandidateGenerator; ``explain`` names the
#: prior's column ``<source>_prior`` ("als_prior").
PRIOR_SOURCE = "als"
HOLDOUTS = ("auto", "random", "temporal", "basket")
DEFAULT_LGBM = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.04,
    "num_leaves": 15,
    "min_data_in_leaf": 500,
    "lambda_l2": 10.0,
    "feature_fraction": 0.8,
    "lambdarank_truncation_level": 20,
    "num_threads": 1,  # OpenMP threads spin-wait when the cores are shared: one is faster here
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
#: Boosting rounds, chosen on tuning splits of MovieLens-100K apart from the evaluation seeds (seeds
#: 100-104, benchmarks/rerank_rounds_ml100k.py): the test gain over ALS peaks at 100 rounds there.
#: Early stopping on held-out users of the label folds is no guide: their validation nDCG is flat noise.
N_ROUNDS = 100
#: Boosting rounds when each user's last baskets label the ranker (``holdout="basket"``): chosen on The
#: Complete Journey's validation baskets (each household's second-to-last basket; the test basket
#: apart), where 200 rounds at learning rate 0.04 scored highest, above 100 and 300 rounds and above
#: rates 0.06 and 0.08 at any of 50 to 300 rounds (benchmarks/rerank_rounds_baskets.py).
BASKET_ROUNDS = 200
#: Label folds stop once this many candidate rows are labelled: the ranker's training set, and the
#: number of candidate-stage fits, stop growing with the log (MovieLens-100K's five folds stay under
#: it; The Complete Journey reaches it within its first folds).
MAX_ROWS = 1_000_000
EARLY_STOPPING = 100
#: Next-basket models whose candidates and scores join a repeating log's (parts of the re-ranker).
BASKET_SOURCES = ("tifuknn", "upcf")
RANKER_FILE = "ranker.txt"
TABLES_FILE = "tables.json"


class LightGBMReranker(Recommender):
    """Two-stage recommender: ``candidates`` (any Recommender, by default a CandidateGenerator)
    propose ``n_candidates`` unseen items per user, LightGBM re-ranks them.

    ``score`` in ``recommend`` is the ranker's raw score (prior + trees); :meth:`explain`
    splits it into the prior and exact SHAP contributions. When the training log repeats, the
    ``n_candidates`` items the user bought most often are candidates too (a grocery household buys
    hundreds of distinct items, most of them once), kept by ``exclude_seen=False``; on a log where
    nobody bought an item twice (MovieLens) nothing says a seen item comes back, so they are
    not candidates. Unknown users are ranked among the stage's fallback candidates with their
    user features missing; a user whose candidates run out is completed with popular items
    (``fallback=True``).

    >>> model = LightGBMReranker(CandidateGenerator(seed=0), n_candidates=100, seed=0).fit(train)  # doctest: +SKIP
    >>> model.recommend([1, 2], k=10)  # doctest: +SKIP
    >>> model.explain([1], k=3)  # doctest: +SKIP
    """

    format_version: ClassVar[int] = 2  # 2: saved by the base class, seen items its own
    parts: ClassVar[tuple[str, ...]] = ("candidates", *BASKET_SOURCES)
    #: Each batch of ``recommend`` draws candidates and builds features, with a fixed cost per batch:
    #: blocks of 128 MB of float64 scores (4x the base class's) make a quarter as many batches.
    batch_cells: ClassVar[int] = 1 << 24

    def __init__(
        self,
        candidates: Recommender | None = None,
        *,
        n_candidates: int = 100,
        seed: int = 0,
        holdout: str = "auto",
        n_folds: int = 5,
        n_rounds: int | None = None,
        max_rows: int = MAX_ROWS,
        valid_fraction: float | None = None,
        prior_weight: float = 0.5,
        exclude_features: Sequence[str] = (),
        basket_sources: bool = True,
        tifuknn: Recommender | None = None,
        upcf: Recommender | None = None,
        **lgbm_params: Any,
    ) -> None:
        if candidates is not None and not isinstance(candidates, Recommender):
            raise ConfigError(
                "candidates must be a recommender (ALSRecommender, PopularityRecommender, a "
                f"CandidateGenerator, ...), got {type(candidates).__name__}"
            )
        n_candidates = positive_int(n_candidates, "n_candidates")
        if holdout not in HOLDOUTS:
            raise ConfigError(f"holdout must be one of {HOLDOUTS}, got {holdout!r}")
        if positive_int(n_folds, "n_folds") < 2:
            raise ConfigError(f"n_folds must be an integer of at least 2, got {n_folds!r}")
        if valid_fraction is not None and not 0.0 < valid_fraction < 1.0:
            raise ConfigError(f"valid_fraction must be None or between 0 and 1 (exclusive), got {valid_fraction!r}")
        self.candidates = candidates if candidates is not None else CandidateGenerator(seed=seed)
        self.n_candidates = n_candidates
        self.seed = int(seed)
        self.holdout = holdout
        self.n_folds = int(n_folds)
        self.n_rounds = None if n_rounds is None else positive_int(n_rounds, "n_rounds")
        self.max_rows = positive_int(max_rows, "max_rows")
        self.valid_fraction = None if valid_fraction is None else float(valid_fraction)
        self.prior_weight = float(prior_weight)
        if isinstance(exclude_features, str) or not all(isinstance(p, str) for p in exclude_features):
            raise ConfigError(f"exclude_features must be a list of feature names or patterns, got {exclude_features!r}")
        self.exclude_features = tuple(exclude_features)
        self.basket_sources = bool(basket_sources)
        for name, model in (("tifuknn", tifuknn), ("upcf", upcf)):
            if model is not None and not isinstance(model, Recommender):
                raise ConfigError(f"{name} must be a recommender, got {type(model).__name__}")
        self.tifuknn = tifuknn if tifuknn is not None else TIFUKNNRecommender()
        self.upcf = upcf if upcf is not None else UPCFRecommender()
        self.lgbm_params = dict(lgbm_params)

    def get_params(self) -> dict[str, Any]:
        return {
            "n_candidates": self.n_candidates,
            "seed": self.seed,
            "holdout": self.holdout,
            "n_folds": self.n_folds,
            "n_rounds": self.n_rounds,
            "max_rows": self.max_rows,
            "valid_fraction": self.valid_fraction,
            "prior_weight": self.prior_weight,
            "exclude_features": list(self.exclude_features),
            "basket_sources": self.basket_sources,
            **self.lgbm_params,
        }

    # -- the candidate stage ------------------------------------------------------
    def _catalogue(self, train: Dataset) -> IdMap:
        """The interacted items, then those only the candidate stage ranks (a content model's
        catalogue): every candidate is one of the re-ranker's items."""
        return super()._catalogue(train).extended(self.candidates._catalogue(train).ids)

    @property
    def prior_source(self) -> str:
        """The source whose score is the prior: ``als`` for a CandidateGenerator, else the stage's name."""
        return PRIOR_SOURCE if isinstance(self.candidates, CandidateGenerator) else source_name(self.candidates)

    @property
    def _score_columns(self) -> tuple[str, ...]:
        """The candidate stage's score columns (their scale differs between fold and serving models)."""
        if isinstance(self.candidates, CandidateGenerator):
            return SCORE_COLUMNS
        return (f"{self.prior_source}_score",)

    @property
    def basket_models(self) -> dict[str, Recommender]:
        """The next-basket sources in use, by name: TIFU-KNN and UP-CF@r when the log repeats and
        ``basket_sources`` is on, else none."""
        if not (self.basket_sources and self.repeats_):
            return {}
        return {name: getattr(self, name) for name in BASKET_SOURCES}

    # -- training -----------------------------------------------------------------
    def _resolved_holdout(self, train: Dataset) -> str:
        if self.holdout != "auto":
            return self.holdout
        return "basket" if self.repeats_ and train.has_timestamps else "random"

    def _rounds(self, train: Dataset) -> int:
        """``n_rounds``, else BASKET_ROUNDS for a basket holdout and N_ROUNDS for the others."""
        if self.n_rounds is not None:
            return self.n_rounds
        return BASKET_ROUNDS if self._resolved_holdout(train) == "basket" else N_ROUNDS

    def _folds(self, train: Dataset) -> list[tuple[Dataset, Dataset]]:
        """(fit part, holdout) pairs. Each user's interactions are cut into ``n_folds`` shares, at
        random or by time; a random holdout uses every fold (each interaction labels once), a
        temporal one only the latest share; a basket holdout takes each user's last basket, then
        the one before it from the rest, ``n_folds`` times. A user's only interaction (or basket)
        stays on the fit side."""
        holdout = self._resolved_holdout(train)
        if holdout == "basket":
            by = basket_by(train)
            folds, rest = [], train
            for _ in range(self.n_folds):
                fit_part, basket = next_basket_split(rest, by=by)
                if len(basket) == 0:
                    break
                folds.append((fit_part, basket))
                rest = fit_part
            return folds
        log = train.interactions
        temporal = holdout == "temporal" and train.has_timestamps
        if temporal:
            key = log[C.TIMESTAMP].rank(method="first").to_numpy()
        else:
            key = np.random.default_rng(self.seed).permutation(len(log)).astype(np.float64)
        users = log[C.USER].to_numpy()
        position = pd.Series(-key).groupby(users).rank(method="first").to_numpy().astype(np.int64) - 1
        counts = log[C.USER].map(log[C.USER].value_counts()).to_numpy()
        if temporal:
            n_out = np.minimum(np.round(counts / self.n_folds), counts - 1)
            fold = np.where(position < n_out, 0, -1)
        else:
            fold = np.where(counts > 1, position % self.n_folds, -1)
        return [
            (
                train.with_interactions(log[fold != f]),
                train.with_interactions(log[fold == f]),
            )
            for f in range(1 if temporal else self.n_folds)
        ]

    def _fit(self, train: Dataset) -> None:
        import lightgbm as lgb

        self.repeats_ = has_repeats(train)
        parts, labels, groups = [], [], []
        labelled_rows, self.n_folds_used_ = 0, 0
        for number, (fit_part, holdout) in enumerate(self._folds(train)):
            if len(holdout) == 0:
                continue
            stage = copy.deepcopy(self.candidates).fit(fit_part)  # fit replaces whatever it learned
            sources = {name: copy.deepcopy(model).fit(fit_part) for name, model in self.basket_models.items()}
            features = self._features(
                stage,
                unique_users(holdout.interactions[C.USER]),
                prepare_history(fit_part, repeats=self.repeats_),
                sources=sources,
            )
            truth = holdout.interactions[[C.USER, C.ITEM]].drop_duplicates()
            hit = features[[C.USER, C.ITEM]].merge(truth, how="left", indicator=True)["_merge"].eq("both").to_numpy()
            labelled_rows += len(features)
            self.n_folds_used_ += 1
            user_rows = pd.factorize(features[C.USER])[0]
            kept = (np.bincount(user_rows, weights=hit) > 0)[user_rows]  # a user without a hit teaches nothing
            features = features[kept].reset_index(drop=True)
            parts.append(features)
            labels.append(hit[kept].astype(np.int32))
            groups.append(pd.MultiIndex.from_arrays([np.full(len(features), number), features[C.USER]]))
            if labelled_rows >= self.max_rows:
                break
        if not parts:
            by = basket_by(train) if self._resolved_holdout(train) == "basket" else None
            why = single_basket_reason(train, by) if by else "no user has two or more interactions"
            raise DataError(f"fit: {why}, so no holdout can label the ranker")
        features = pd.concat(parts, ignore_index=True)
        del parts
        label = np.concatenate(labels)
        group = pd.factorize(groups[0].append(groups[1:]) if len(groups) > 1 else groups[0])[0]
        positives = np.bincount(group, weights=label) > 0
        users = pd.unique(features[C.USER][positives[group]])
        if len(users) < 2:
            raise DataError("fit: fewer than two users have a holdout item among their candidates; nothing to learn")
        labelled = positives[group]
        is_valid = np.zeros(len(features), dtype=bool)
        if self.valid_fraction is not None:
            rng = np.random.default_rng(self.seed)
            valid_users = rng.choice(users, size=max(1, round(self.valid_fraction * len(users))), replace=False)
            is_valid = features[C.USER].isin(valid_users).to_numpy() & labelled
        X, prior = self._model_inputs(features)

        def dataset(mask: np.ndarray) -> lgb.Dataset:
            every = bool(mask.all())  # every row: no copy of the feature table
            rows = slice(None) if every else mask
            return lgb.Dataset(
                X if every else X[mask],
                label[rows],
                group=np.bincount(pd.factorize(group[rows])[0]),
                init_score=prior[rows],
                free_raw_data=False,
            )

        monotone = [-1 if name.endswith("_rank") else 0 for name in X.columns]
        early = {}
        if self.valid_fraction is not None:
            early = {
                "valid_sets": [dataset(is_valid)],
                "callbacks": [lgb.early_stopping(EARLY_STOPPING, verbose=False)],
            }
        self.booster = lgb.train(
            {
                **DEFAULT_LGBM,
                "seed": self.seed,
                "monotone_constraints": monotone,
                **self.lgbm_params,
            },
            dataset(labelled & ~is_valid),
            num_boost_round=self._rounds(train),
            **early,
        )
        self.best_iteration_ = int(self.booster.best_iteration) or self._rounds(train)
        if self.candidates._catalogue(train).ids.equals(self.item_map.ids):
            self.candidates._adopt(self)  # same train: the re-ranker's id maps, seen matrix and popularity
            self.candidates._fit(train)
        else:  # a stage with a catalogue of its own (a content model's): fitted as it is
            self.candidates.fit(train)
        for model in self.basket_models.values():
            model.fit(train)
        self._set_history(train)

    def _set_history(self, history: Dataset) -> None:
        """Keep the serving history and its features prepared once (every ``recommend`` batch reuses them)."""
        self._history = history
        self._prepared = prepare_history(history, repeats=self.repeats_)

    def _model_inputs(self, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Ranker inputs and the ALS prior. Raw scores and their z-scores are left out of the trees:
        their scale differs between the fold models and the refitted serving model."""
        scores = self._score_columns
        dropped = [C.USER, C.ITEM, *scores, *(f"{name}_z" for name in scores)]
        prior_feature = f"{self.prior_source}_score_z"
        prior = self.prior_weight * features[prior_feature].fillna(0.0).to_numpy()
        X = features.drop(columns=dropped)
        if self.exclude_features:
            X = X.drop(columns=self._excluded(X.columns))
        return X, prior

    def _excluded(self, columns: pd.Index) -> list[str]:
        """The feature columns matched by ``exclude_features`` (names or shell patterns such as ``user_*``)."""
        excluded = []
        for pattern in self.exclude_features:
            matched = [name for name in columns if fnmatch.fnmatchcase(name, pattern)]
            if not matched:
                raise ConfigError(
                    f"exclude_features: {pattern!r} matches no feature; the features are {', '.join(columns)}"
                )
            excluded += [name for name in matched if name not in excluded]
        return excluded

    def _features(
        self,
        stage: Recommender,
        user_ids: np.ndarray,
        history: HistoryFeatures,
        allowed: np.ndarray | None = None,
        *,
        sources: dict[str, Recommender],
    ) -> pd.DataFrame:
        """Candidates of ``user_ids`` from ``stage`` (plus, when the log repeats, their ``n_candidates``
        items bought most often and the top ``n_candidates`` of each fitted next-basket model in
        ``sources``, repeats allowed), of the ``allowed`` items only (a mask over this model's item
        codes; None: all), and their features from the prepared ``history`` (with each source's
        score of every candidate)."""
        items = None if allowed is None else self.item_map.ids[allowed]
        if isinstance(stage, CandidateGenerator):
            cands = stage.candidates(user_ids, k=self.n_candidates, items=items)
            cands = cands[[C.USER, C.ITEM, C.SCORE, *SCORE_COLUMNS[:-1]]].rename(columns={C.SCORE: "fusion_score"})
        else:
            with warnings.catch_warnings():  # the stage's fallback rows are marked below, not counted
                warnings.simplefilter("ignore", FallbackWarning)
                recs = stage.recommend(user_ids, k=self.n_candidates, items=items)
            score = recs[C.SCORE].where(~recs[C.FALLBACK])
            cands = pd.DataFrame({C.USER: recs[C.USER], C.ITEM: recs[C.ITEM], self._score_columns[0]: score})
        if history.repeats is not None:
            bought = _bought_pairs(history, user_ids)
            if allowed is not None:
                codes = self.item_map.codes(bought[C.ITEM])
                bought = bought[(codes >= 0) & allowed[np.maximum(codes, 0)]]
            bought = bought[bought.groupby(C.USER, sort=False).cumcount().to_numpy() < self.n_candidates]
            cands = pd.concat([cands, bought], ignore_index=True)
            cands = cands.drop_duplicates([C.USER, C.ITEM], ignore_index=True)
            by_user = np.argsort(pd.Index(user_ids).get_indexer(cands[C.USER]), kind="stable")
            cands = cands.iloc[by_user].reset_index(drop=True)  # a user's rows together: one ranking group
            cands = self._with_sources(cands, sources, user_ids, allowed)
        scores = (*self._score_columns, *(f"{name}_score" for name in sources))
        features = history.features(cands, scores=scores)
        ranks = [f"{name}_rank" for name in scores]  # not proposed by a source: past its list
        features[ranks] = features[ranks].fillna(float(self.n_candidates + 1))
        return features

    def _with_sources(
        self, cands: pd.DataFrame, sources: dict[str, Recommender], user_ids: np.ndarray, allowed: np.ndarray | None
    ) -> pd.DataFrame:
        """``cands`` (grouped by user in the order of ``user_ids``) joined by each source's top ``n_candidates``
        (repeats allowed, ``allowed`` items only), every row with each source's score (``<name>_score``, NaN
        where it gives none). Each source scores a batch of users once, for its proposals and the scores both."""
        if not sources:
            return cands
        n_items = max(len(model.item_map) for model in sources.values())
        batch = max(1, self.batch_cells // (n_items * len(sources)))
        blocked = {name: self._blocked_items(model, allowed) for name, model in sources.items()}
        user_rows = pd.Index(user_ids).get_indexer(cands[C.USER])
        parts = []
        for start in range(0, len(user_ids), batch):
            ids = user_ids[start : start + batch]
            low, high = np.searchsorted(user_rows, [start, start + len(ids)])
            found, blocks = [cands.iloc[low:high]], {}
            for name, model in sources.items():
                blocks[name] = _source_block(model, ids, blocked[name])
                index, values = top_k(blocks[name], self.n_candidates)
                rows, ranks = np.nonzero(np.isfinite(values))
                found.append(pd.DataFrame({C.USER: ids[rows], C.ITEM: model.item_map.to_ids(index[rows, ranks])}))
            part = pd.concat(found, ignore_index=True).drop_duplicates([C.USER, C.ITEM], ignore_index=True)
            part = part.iloc[np.argsort(pd.Index(ids).get_indexer(part[C.USER]), kind="stable")]
            rows = pd.Index(ids).get_indexer(part[C.USER])
            for name, model in sources.items():
                columns = model.item_map.codes(part[C.ITEM])
                values = np.where(columns >= 0, blocks[name][rows, np.maximum(columns, 0)], -np.inf)
                part[f"{name}_score"] = np.where(np.isfinite(values), values, np.nan)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _blocked_items(self, model: Recommender, allowed: np.ndarray | None) -> np.ndarray | None:
        """A mask over ``model``'s item codes of the items outside ``allowed`` (a mask over this model's item
        codes); None when every item is allowed."""
        if allowed is None:
            return None
        theirs = model.item_map.codes(self.item_map.ids[allowed])
        return np.isin(np.arange(len(model.item_map)), theirs, invert=True)

    # -- serving ------------------------------------------------------------------
    def _ranked(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Serving features of the (``allowed``) candidates of ``user_ids`` and the ranker's raw scores."""
        features = self._features(self.candidates, user_ids, self._prepared, allowed, sources=self.basket_models)
        X, prior = self._model_inputs(features)
        if not len(X):  # filters left no candidate: LightGBM refuses an empty frame
            return features, prior
        return features, prior + self.booster.predict(X, num_iteration=self.best_iteration_)

    def _candidates(
        self, ids: np.ndarray, codes: np.ndarray, k: int, exclude_seen: bool, allowed: np.ndarray | None
    ) -> Candidates:
        """The ranker's top ``k`` of each user's candidates drawn from the ``allowed`` items, with their
        feature rows (``columns``): best score first, ties to the lower item code. Unknown users are
        ranked among the stage's fallback candidates (marked fallback)."""
        features, scores = self._ranked(ids, allowed)
        user_rows = pd.Index(ids).get_indexer(features[C.USER])
        items = self.item_map.codes(features[C.ITEM])
        if exclude_seen and len(features):  # bought items are candidates when the log repeats
            known = np.flatnonzero(codes[user_rows] >= 0)
            seen = np.zeros(len(features), dtype=bool)
            seen[known] = np.asarray(self._seen[codes[user_rows[known]], items[known]]).ravel() > 0
            scores = np.where(seen, -np.inf, scores)
        finite = np.flatnonzero(np.isfinite(scores))
        order = finite[np.lexsort((items[finite], -scores[finite], user_rows[finite]))]
        order = order[np.arange(len(order)) - np.searchsorted(user_rows[order], user_rows[order]) < k]
        return Candidates(
            user_rows[order],
            items[order],
            np.asarray(scores[order], dtype=np.float64),
            codes[user_rows[order]] < 0,
            features.iloc[order].reset_index(drop=True),
        )

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        """Dense scores of every candidate of the users (-inf elsewhere), seen items included: what
        ``score_pairs`` reads; ``recommend`` ranks the candidate lists of :meth:`_candidates`."""
        user_ids = self.user_map.to_ids(user_codes)
        features, scores = self._ranked(user_ids)
        dense = np.full((len(user_ids), len(self.item_map)), -np.inf)
        rows = pd.Index(user_ids).get_indexer(features[C.USER])
        dense[rows, self.item_map.codes(features[C.ITEM])] = scores
        return dense

    def feature_table(
        self,
        users: Iterable[Any] | pd.Series | Dataset,
        *,
        k: int = 10,
        exclude_seen: bool = True,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Feature values of the top ``k`` recommendations: ``user_id, item_id`` and one column
        per feature, rows in the order of ``recommend(users, k=k, ...)`` with the same arguments
        (and of :meth:`explain`): the same candidate lists; rows completed from popularity
        (``fallback=True``) have no features.

        >>> model.feature_table([1], k=3)  # doctest: +SKIP
        """
        self._require_fitted("feature_table")
        k = positive_int(k, "k")
        allowed = self.item_filter(items, exclude_items).mask(self.item_map)
        ids = unique_users(users, self.user_map)
        check_dense(len(ids), k, what=f"recommend(k={k}) for {len(ids):,} users")
        table = self._lists(ids, k, exclude_seen, allowed).columns
        if table is None:  # no batch (no users): the columns of an empty candidate frame
            table = self._ranked(ids[:0], allowed)[0]
        return table

    def explain(
        self,
        users: Iterable[Any] | pd.Series | Dataset,
        *,
        k: int = 10,
        exclude_seen: bool = True,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """SHAP values (exact TreeSHAP, raw-score space) of the top ``k`` recommendations.

        Columns ``user_id, item_id, base_value``, ``<source>_prior`` (the fixed prior the trees
        boost from: ``als_prior`` for the default stage, see :attr:`prior_source`) and one per
        ranker feature; rows in the order of ``recommend(users, k=k, ...)`` with the same
        arguments, and ``base_value`` + the prior + the feature columns == its ``score``.

        >>> model.explain([1], k=3).iloc[0]  # doctest: +SKIP
        """
        self._require_fitted("explain")
        rows = self.feature_table(users, k=k, exclude_seen=exclude_seen, items=items, exclude_items=exclude_items)
        X, prior = self._model_inputs(rows)
        if len(X):
            contrib = self.booster.predict(X, num_iteration=self.best_iteration_, pred_contrib=True)
        else:  # nothing to explain (filters left no candidate): LightGBM refuses an empty frame
            contrib = np.zeros((0, X.shape[1] + 1))
        out = pd.DataFrame(contrib[:, :-1], columns=list(X.columns))
        out.insert(0, f"{self.prior_source}_prior", prior)
        out.insert(0, "base_value", contrib[:, -1])
        out.insert(0, C.ITEM, rows[C.ITEM].to_numpy())
        out.insert(0, C.USER, rows[C.USER].to_numpy())
        return out

    @property
    def feature_names(self) -> list[str]:
        self._require_fitted("feature_names")
        return list(self.booster.feature_name())

    # -- persistence --------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray | str]:
        """The ranker (LightGBM text) and the serving history: its log as arrays, the rest as JSON.
        The base class saves the candidate model in the sub-directory ``candidates``."""
        log = self._history.interactions
        tables = {
            name: None if table is None else table.to_json(orient="table")
            for name, table in (("users", self._history.users), ("items", self._history.items))
        }
        meta = {
            "best_iteration": self.best_iteration_,
            "columns": list(log.columns),
            "dtypes": {c: str(log[c].dtype) for c in log.columns if c not in (C.USER, C.ITEM)},
            "tables": tables,
        }
        return {
            "user_codes": self.user_map.codes(log[C.USER]),
            "item_codes": self.item_map.codes(log[C.ITEM]),
            **{f"log_{c}": _plain(log[c]) for c in log.columns if c not in (C.USER, C.ITEM)},
            RANKER_FILE: self.booster.model_to_string(),
            TABLES_FILE: json.dumps(meta),
        }

    def _restore(self, state: dict[str, np.ndarray | str]) -> None:
        import lightgbm as lgb

        try:
            self.booster = lgb.Booster(model_str=storage.checked_lightgbm_text(state[RANKER_FILE], RANKER_FILE))
        except lgb.basic.LightGBMError as exc:
            raise ValueError(f"{RANKER_FILE} is not a LightGBM model: {first_line(exc)}") from None
        meta = storage.checked_json(state[TABLES_FILE], TABLES_FILE)
        self.best_iteration_ = int(meta["best_iteration"])
        log = pd.DataFrame(
            {
                C.USER: self.user_map.to_ids(
                    storage.checked_index(state["user_codes"], len(self.user_map), "user_codes")
                ),
                C.ITEM: self.item_map.to_ids(
                    storage.checked_index(state["item_codes"], len(self.item_map), "item_codes")
                ),
                **{
                    c: pd.Series(state[f"log_{c}"]).astype(meta["dtypes"][c])
                    for c in meta["columns"]
                    if c not in (C.USER, C.ITEM)
                },
            }
        )[meta["columns"]]
        users, items = (
            None if text is None else pd.read_json(StringIO(text), orient="table")
            for text in (meta["tables"]["users"], meta["tables"]["items"])
        )
        history = Dataset(log, users, items)
        self.repeats_ = has_repeats(history)
        self._set_history(history)
        stage = self.candidates
        if stage.item_map.ids.equals(self.item_map.ids) and stage.user_map.ids.equals(self.user_map.ids):
            stage._adopt(self)  # one copy of the id maps and seen matrix, as after fit


def _source_block(model: Recommender, user_ids: np.ndarray, blocked: np.ndarray | None) -> np.ndarray:
    """``model``'s dense scores of ``user_ids`` over its items: -inf for unknown users, unscored items and the
    ``blocked`` items (a mask over its item codes, or None)."""
    codes = model.user_map.codes(user_ids)
    known = codes >= 0
    block = np.full((len(user_ids), len(model.item_map)), -np.inf)
    if known.any():
        block[known] = model._score(codes[known])
    if blocked is not None:
        block[:, blocked] = -np.inf
    return block


def _plain(values: pd.Series) -> np.ndarray:
    """A column as an array npz stores without pickle (text becomes unicode, missing numbers NaN)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        return np.asarray(values.astype(str), dtype=str)
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(np.float64, na_value=np.nan)
    return values.to_numpy()


def source_name(model: Any) -> str:
    """Short name of a candidate stage: ``als`` for ALSRecommender, ``repeat`` for RepeatRecommender.

    >>> source_name(PopularityRecommender())  # doctest: +SKIP
    'popularity'
    """
    return type(model).__name__.removesuffix("Recommender").lower()


def _bought_pairs(history: HistoryFeatures, user_ids: np.ndarray) -> pd.DataFrame:
    """``user_id, item_id`` of every item the users in ``user_ids`` bought in ``history``, each user's
    in "buy again" order: most often bought first, ties to the most recent purchase, then to the lower
    item code."""
    pairs = history.repeats.pairs
    codes = history.user_map.codes(user_ids)
    mine = np.flatnonzero(np.isin(pairs.user_codes, codes[codes >= 0]))
    order = mine[np.lexsort((pairs.item_codes[mine], -pairs.last[mine], -pairs.count[mine], pairs.user_codes[mine]))]
    return pd.DataFrame(
        {
            C.USER: history.user_map.to_ids(pairs.user_codes[order]),
            C.ITEM: history.item_map.to_ids(pairs.item_codes[order]),
        }
    )
