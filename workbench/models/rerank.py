"""Second stage: a LightGBM lambdarank model re-ranks the candidates of a CandidateGenerator.

``fit(train)`` carves holdouts out of ``train``: per user, ``n_folds`` random shares (each
fold in turn; the default, see below) or the latest share by time (``holdout="temporal"``).
For each, a copy of the candidate model is fitted on the rest and its candidates are
labelled with the holdout (1 = the user interacted). The ranker is trained with early
stopping on a validation group of users, then the candidate model is refitted on all of
``train``: serving features come from the full training data.

The trees boost from a fixed prior, ``prior_weight`` x the within-user z-score of the ALS
score (LightGBM ``init_score``): step functions alone tie and blur the fine ALS order at
the top (on MovieLens-100K they fall below ALS alone). Rank features are monotone.

On MovieLens-100K with a random per-user test split (benchmarks/rerank_ml100k.py) a
temporal holdout fails (nDCG@10 0.21 against 0.48): the ranker learns "recent items"
where the test asks for random ones. Use ``holdout="temporal"`` when you evaluate
and serve forward in time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.features import HistoryFeatures, prepare_history
from workbench.errors import ConfigError, DataError, ModelError
from workbench.guards import check_dense
from workbench.models import storage
from workbench.models.base import Recommender, unique_users
from workbench.models.candidates import CandidateGenerator

#: Candidate columns handed to the feature builder as model scores.
SCORE_COLUMNS = ("als_score", "knn_score", "fusion_score")
#: Feature that carries the ALS prior the trees boost from.
PRIOR_FEATURE = "als_score_z"
#: Column of ``explain`` holding the prior's part of the score.
PRIOR_COLUMN = "als_prior"
HOLDOUTS = ("temporal", "random")
DEFAULT_LGBM = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.02,
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
MAX_ROUNDS = 1000
EARLY_STOPPING = 100
RANKER_FILE = "ranker.txt"
TABLES_FILE = "tables.json"
CANDIDATES_DIR = "candidates"


class LightGBMReranker(Recommender):
    """Two-stage recommender: ``candidates`` propose ``n_candidates`` items, LightGBM re-ranks them.

    ``score`` in ``recommend`` is the ranker's raw score (ALS prior + trees); :meth:`explain`
    splits it into the prior and exact SHAP contributions. Candidates never include seen
    items, whatever ``exclude_seen`` says. Unknown users are ranked among popularity
    candidates with their user features missing; a user whose candidates run out gets
    fewer than ``k`` rows.

    >>> model = LightGBMReranker(CandidateGenerator(seed=0), n_candidates=100, seed=0).fit(train)  # doctest: +SKIP
    >>> model.recommend([1, 2], k=10)  # doctest: +SKIP
    >>> model.explain([1], k=3)  # doctest: +SKIP
    """

    format_version: ClassVar[int] = 1

    def __init__(
        self,
        candidates: CandidateGenerator | None = None,
        *,
        n_candidates: int = 100,
        seed: int = 0,
        holdout: str = "random",
        n_folds: int = 5,
        valid_fraction: float = 0.2,
        prior_weight: float = 0.5,
        **lgbm_params: Any,
    ) -> None:
        if candidates is not None and not isinstance(candidates, CandidateGenerator):
            raise ConfigError(
                f"candidates must be a CandidateGenerator, got {type(candidates).__name__}"
            )
        if not isinstance(n_candidates, (int, np.integer)) or n_candidates < 1:
            raise ConfigError(
                f"n_candidates must be a positive integer, got {n_candidates!r}"
            )
        if holdout not in HOLDOUTS:
            raise ConfigError(f"holdout must be one of {HOLDOUTS}, got {holdout!r}")
        if not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
            raise ConfigError(
                f"n_folds must be an integer of at least 2, got {n_folds!r}"
            )
        if not 0.0 < valid_fraction < 1.0:
            raise ConfigError(
                f"valid_fraction must be between 0 and 1 (exclusive), got {valid_fraction!r}"
            )
        self.candidates = (
            candidates if candidates is not None else CandidateGenerator(seed=seed)
        )
        self.n_candidates = int(n_candidates)
        self.seed = int(seed)
        self.holdout = holdout
        self.n_folds = int(n_folds)
        self.valid_fraction = float(valid_fraction)
        self.prior_weight = float(prior_weight)
        self.lgbm_params = dict(lgbm_params)

    def get_params(self) -> dict[str, Any]:
        return {
            "n_candidates": self.n_candidates,
            "seed": self.seed,
            "holdout": self.holdout,
            "n_folds": self.n_folds,
            "valid_fraction": self.valid_fraction,
            "prior_weight": self.prior_weight,
            **self.lgbm_params,
        }

    # -- training -----------------------------------------------------------------
    def _folds(self, train: Dataset) -> list[tuple[Dataset, Dataset]]:
        """(fit part, holdout) pairs. Each user's interactions are cut into ``n_folds`` shares, at
        random or by time; a random holdout uses every fold (each interaction labels once), a
        temporal one only the latest share. A user's only interaction stays on the fit side."""
        log = train.interactions
        temporal = self.holdout == "temporal" and train.has_timestamps
        if temporal:
            key = log[C.TIMESTAMP].rank(method="first").to_numpy()
        else:
            key = (
                np.random.default_rng(self.seed)
                .permutation(len(log))
                .astype(np.float64)
            )
        users = log[C.USER].to_numpy()
        position = (
            pd.Series(-key)
            .groupby(users)
            .rank(method="first")
            .to_numpy()
            .astype(np.int64)
            - 1
        )
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

        parts, labels, groups = [], [], []
        for number, (fit_part, holdout) in enumerate(self._folds(train)):
            if len(holdout) == 0:
                continue
            stage = type(self.candidates)(**self.candidates.get_params()).fit(fit_part)
            features = self._features(
                stage, unique_users(holdout.interactions[C.USER]), prepare_history(fit_part)
            )
            truth = holdout.interactions[[C.USER, C.ITEM]].drop_duplicates()
            hit = (
                features[[C.USER, C.ITEM]]
                .merge(truth, how="left", indicator=True)["_merge"]
                .eq("both")
            )
            parts.append(features)
            labels.append(hit.to_numpy(np.int32))
            groups.append(
                pd.MultiIndex.from_arrays(
                    [np.full(len(features), number), features[C.USER]]
                )
            )
        if not parts:
            raise DataError(
                "fit: no user has two or more interactions, so no holdout can label the ranker"
            )
        features = pd.concat(parts, ignore_index=True)
        label = np.concatenate(labels)
        group = pd.factorize(
            groups[0].append(groups[1:]) if len(groups) > 1 else groups[0]
        )[0]
        positives = np.bincount(group, weights=label) > 0
        users = pd.unique(features[C.USER][positives[group]])
        if len(users) < 2:
            raise DataError(
                "fit: fewer than two users have a holdout item among their candidates; nothing to learn"
            )
        rng = np.random.default_rng(self.seed)
        valid_users = rng.choice(
            users, size=max(1, round(self.valid_fraction * len(users))), replace=False
        )
        is_valid = features[C.USER].isin(valid_users).to_numpy() & positives[group]
        is_train = positives[group] & ~is_valid
        X, prior = self._model_inputs(features)
        sets = [
            lgb.Dataset(
                X[mask],
                label[mask],
                group=np.bincount(pd.factorize(group[mask])[0]),
                init_score=prior[mask],
                free_raw_data=False,
            )
            for mask in (is_train, is_valid)
        ]
        monotone = [-1 if name.endswith("_rank") else 0 for name in X.columns]
        self.booster = lgb.train(
            {
                **DEFAULT_LGBM,
                "seed": self.seed,
                "monotone_constraints": monotone,
                **self.lgbm_params,
            },
            sets[0],
            num_boost_round=MAX_ROUNDS,
            valid_sets=[sets[1]],
            callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
        )
        self.best_iteration_ = int(self.booster.best_iteration)
        self.candidates._adopt(self)  # same train: the re-ranker's id maps, seen matrix and popularity
        self.candidates._fit(train)
        self._set_history(train)

    def _set_history(self, history: Dataset) -> None:
        """Keep the serving history and its features prepared once (every ``recommend`` batch reuses them)."""
        self._history = history
        self._prepared = prepare_history(history)

    def _model_inputs(self, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Ranker inputs and the ALS prior. Raw scores and their z-scores are left out of the trees:
        their scale differs between the fold models and the refitted serving model."""
        dropped = [
            C.USER,
            C.ITEM,
            *SCORE_COLUMNS,
            *(f"{name}_z" for name in SCORE_COLUMNS),
        ]
        prior = self.prior_weight * features[PRIOR_FEATURE].fillna(0.0).to_numpy()
        return features.drop(columns=dropped), prior

    def _features(
        self, stage: CandidateGenerator, user_ids: np.ndarray, history: HistoryFeatures
    ) -> pd.DataFrame:
        """Candidates of ``user_ids`` from ``stage`` and their features from the prepared ``history``."""
        cands = stage.candidates(user_ids, n=self.n_candidates).rename(
            columns={C.SCORE: "fusion_score"}
        )
        return history.features(cands, scores=SCORE_COLUMNS)

    # -- serving ------------------------------------------------------------------
    def _ranked(self, user_ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """Serving features of the candidates of ``user_ids`` and the ranker's raw scores."""
        features = self._features(self.candidates, user_ids, self._prepared)
        X, prior = self._model_inputs(features)
        return features, prior + self.booster.predict(
            X, num_iteration=self.best_iteration_
        )

    def _dense(self, user_ids: np.ndarray) -> np.ndarray:
        features, scores = self._ranked(user_ids)
        dense = np.full((len(user_ids), len(self.item_map)), -np.inf)
        rows = pd.Index(user_ids).get_indexer(features[C.USER])
        dense[rows, self.item_map.codes(features[C.ITEM])] = scores
        return dense

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return self._dense(self.user_map.to_ids(user_codes))

    def _fallback_scores(self, user_ids: np.ndarray) -> np.ndarray:
        return self._dense(user_ids)

    def feature_table(
        self, users: Iterable[Any] | pd.Series | Dataset, *, k: int = 10
    ) -> pd.DataFrame:
        """Feature values of the top ``k`` recommendations: ``user_id, item_id`` and one column
        per feature, rows in the order of ``recommend(users, k=k)`` (and of :meth:`explain`).

        >>> model.feature_table([1], k=3)  # doctest: +SKIP
        """
        self._require_fitted("feature_table")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        ids = unique_users(users)
        check_dense(len(ids), k, what=f"recommend(k={k}) for {len(ids):,} users")
        features, scores = self._ranked(ids)
        # the order of recommend: by requested user, best score first, ties to the lower item code
        # (top_k over the dense row); candidates are unseen, so its exclude_seen mask drops none
        user_rows = pd.Index(ids).get_indexer(features[C.USER])
        finite = np.flatnonzero(np.isfinite(scores))
        order = finite[
            np.lexsort(
                (
                    self.item_map.codes(features[C.ITEM])[finite],
                    -scores[finite],
                    user_rows[finite],
                )
            )
        ]
        position = np.arange(len(order)) - np.searchsorted(user_rows[order], user_rows[order])
        return features.iloc[order[position < k]].reset_index(drop=True)

    def explain(
        self, users: Iterable[Any] | pd.Series | Dataset, *, k: int = 10
    ) -> pd.DataFrame:
        """SHAP values (exact TreeSHAP, raw-score space) of the top ``k`` recommendations.

        Columns ``user_id, item_id, base_value``, ``als_prior`` (the fixed ALS prior the trees
        boost from) and one per ranker feature; rows in the order of ``recommend(users, k=k)``,
        and ``base_value`` + ``als_prior`` + the feature columns == its ``score``.

        >>> model.explain([1], k=3).iloc[0]  # doctest: +SKIP
        """
        self._require_fitted("explain")
        rows = self.feature_table(users, k=k)
        X, prior = self._model_inputs(rows)
        contrib = self.booster.predict(
            X, num_iteration=self.best_iteration_, pred_contrib=True
        )
        out = pd.DataFrame(contrib[:, :-1], columns=list(X.columns))
        out.insert(0, PRIOR_COLUMN, prior)
        out.insert(0, "base_value", contrib[:, -1])
        out.insert(0, C.ITEM, rows[C.ITEM].to_numpy())
        out.insert(0, C.USER, rows[C.USER].to_numpy())
        return out

    @property
    def feature_names(self) -> list[str]:
        self._require_fitted("feature_names")
        return list(self.booster.feature_name())

    # -- persistence --------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ranker (LightGBM text), training history (npz + JSON) and candidate model (subdirectory)."""
        self._require_fitted("save")
        log = self._history.interactions
        arrays = {
            "user_codes": self.user_map.codes(log[C.USER]),
            "item_codes": self.item_map.codes(log[C.ITEM]),
            **{
                f"log_{c}": _plain(log[c])
                for c in log.columns
                if c not in (C.USER, C.ITEM)
            },
        }
        tables = {
            name: None if table is None else table.to_json(orient="table")
            for name, table in (
                ("users", self._history.users),
                ("items", self._history.items),
            )
        }
        meta = {
            "best_iteration": self.best_iteration_,
            "columns": list(log.columns),
            "tables": tables,
        }
        return storage.write_model(
            directory,
            type(self).__name__,
            self.format_version,
            self.get_params(),
            arrays,
            {"user_ids": self.user_map.ids, "item_ids": self.item_map.ids},
            extra_files={
                RANKER_FILE: self.booster.model_to_string(),
                TABLES_FILE: json.dumps(meta),
            },
            parts={CANDIDATES_DIR: self.candidates},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Read a model written by ``save``; a damaged or foreign directory raises ModelError."""
        import lightgbm as lgb

        path = Path(directory)
        params, arrays, ids = storage.read_model(path, cls.__name__, cls.format_version)
        candidates = CandidateGenerator.load(path / CANDIDATES_DIR)
        try:
            model = cls(candidates, **params)
            meta = json.loads((path / TABLES_FILE).read_text(encoding="utf-8"))
            model.booster = lgb.Booster(
                model_str=(path / RANKER_FILE).read_text(encoding="utf-8")
            )
            model.best_iteration_ = int(meta["best_iteration"])
            model.user_map, model.item_map = (
                IdMap(ids["user_ids"]),
                IdMap(ids["item_ids"]),
            )
            log = pd.DataFrame(
                {
                    C.USER: model.user_map.to_ids(arrays["user_codes"]),
                    C.ITEM: model.item_map.to_ids(arrays["item_codes"]),
                    **{
                        c: arrays[f"log_{c}"]
                        for c in meta["columns"]
                        if c not in (C.USER, C.ITEM)
                    },
                }
            )[meta["columns"]]
            users, items = (
                None if text is None else pd.read_json(StringIO(text), orient="table")
                for text in (meta["tables"]["users"], meta["tables"]["items"])
            )
            model._set_history(Dataset(log, users, items))
            model._seen = candidates._seen
            model._popularity = candidates._popularity
        except (KeyError, ValueError, TypeError, lgb.basic.LightGBMError) as exc:
            raise ModelError(f"{path}: model files are inconsistent ({exc})") from None
        return model


def _plain(values: pd.Series) -> np.ndarray:
    """A column as an array npz stores without pickle (text becomes unicode)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        return np.asarray(values.astype(str), dtype=str)
    return values.to_numpy()
