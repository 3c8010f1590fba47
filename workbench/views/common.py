"""The setup several notebooks share: a per-user split, the popularity and ALS baselines, their lists and scores.

>>> run = standard_run(ds, k=10, seed=42)  # doctest: +SKIP
>>> run.scores.loc["als", "ndcg"], run.describe()  # doctest: +SKIP
(0.049, 'per-user 75/25 split (seed 42)')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.split import stratified_split
from workbench.errors import DataError
from workbench.evaluation import evaluate_per_user, summarize
from workbench.guards import positive_int
from workbench.models import ALSRecommender, LightGBMReranker, PopularityRecommender, Recommender

#: How a view fits a model: ``fit(model, train) -> fitted model``. The default is ``model.fit(train)``;
#: notebooks pass ``workbench.notebooks.fitted`` so that a report run fits each model once.
Fit = Callable[[Recommender, Dataset], Recommender]


def fit_model(model: Recommender, train: Dataset) -> Recommender:
    """``model.fit(train)``: the default :data:`Fit`."""
    return model.fit(train)


#: Share of each user's interactions that trains, in every notebook built on :func:`standard_run`.
RATIO = 0.75
#: Seed of the split.
SPLIT_SEED = 42
#: Seed of the ALS model.
MODEL_SEED = 0


def shares(ratio: float) -> str:
    """A train share as train/test percentages.

    >>> shares(0.75)
    '75/25'
    """
    train = round(100 * ratio)
    return f"{train}/{100 - train}"


@dataclass(frozen=True)
class StandardRun:
    """A split, fitted baselines, their top-k lists and per-user metrics; built by :func:`standard_run`."""

    ds: Dataset
    train: Dataset
    test: Dataset
    k: int
    #: split seed and share of each user's interactions in train
    seed: int
    ratio: float
    #: ``popularity`` and ``als``, fitted on train
    models: dict[str, object]

    @cached_property
    def recs(self) -> dict[str, pd.DataFrame]:
        """Model -> top-k list of every test user."""
        return {name: model.recommend(self.test_users, k=self.k) for name, model in self.models.items()}

    @cached_property
    def per_user(self) -> dict[str, pd.DataFrame]:
        """Model -> :func:`workbench.evaluation.evaluate_per_user` frame of its list."""
        return {name: evaluate_per_user(frame, self.test, k=self.k) for name, frame in self.recs.items()}

    @property
    def fit_seconds(self) -> pd.DataFrame:
        """Wall-clock fit time of each model (``fit_seconds_``, also when a shared fit was loaded)."""
        return pd.DataFrame(
            {"model": list(self.models), "fit_seconds": [model.fit_seconds_ for model in self.models.values()]}
        )

    @property
    def test_users(self) -> np.ndarray:
        """The users with test interactions, in order of first appearance."""
        return self.test.interactions[C.USER].unique()

    @property
    def scores(self) -> pd.DataFrame:
        """Means over test users: a row per model, a column per metric."""
        return summarize(self.per_user)

    @property
    def split_name(self) -> str:
        """The split in words without its seed, e.g. ``per-user 75/25 split``."""
        return f"per-user {shares(self.ratio)} split"

    def describe(self) -> str:
        """The split in words, for report prose.

        >>> run.describe()  # doctest: +SKIP
        'per-user 75/25 split (seed 42)'
        """
        return f"{self.split_name} (seed {self.seed})"

    def at_k(self, k: int) -> StandardRun:
        """The same split and fitted models with top-``k`` lists and metrics; itself when ``k`` is its own.
        A notebook trains once and changes k without training again.

        >>> run.at_k(20).k  # doctest: +SKIP
        20
        """
        k = positive_int(k, "k")
        return self if k == self.k else replace(self, k=k)


def standard_run(
    ds: Dataset,
    *,
    k: int = 10,
    seed: int = SPLIT_SEED,
    ratio: float = RATIO,
    factors: int = 64,
    extra: dict[str, Recommender] | None = None,
    fit: Fit = fit_model,
) -> StandardRun:
    """Split ``ds`` per user (``ratio`` to train, ``seed``), fit popularity, ALS (``factors``, seed
    :data:`MODEL_SEED`) and any ``extra`` models by name with ``fit``, recommend ``k`` unseen items to
    every test user and score them.

    >>> run = standard_run(load_dataset("synthetic-small"), k=10)  # doctest: +SKIP
    >>> run.scores.index.tolist()  # doctest: +SKIP
    ['popularity', 'als']
    """
    k = positive_int(k, "k")
    train, test = stratified_split(ds, ratio=ratio, seed=seed)
    if len(test) == 0:
        raise DataError("standard run: no user has two interactions, so the per-user split leaves no test set")
    unfitted = {
        "popularity": PopularityRecommender(),
        "als": ALSRecommender(factors=factors, seed=MODEL_SEED),
        **(extra or {}),
    }
    models = {name: fit(model, train) for name, model in unfitted.items()}
    return StandardRun(ds, train, test, k, seed, ratio, models)


@dataclass(frozen=True)
class RerankerView:
    """Base of the views of a standard run with a re-ranker named ``reranker`` (notebooks 04, 05, 06)."""

    run: StandardRun

    @property
    def model(self) -> LightGBMReranker:
        """The fitted re-ranker."""
        return self.run.models["reranker"]


#: How report prose names the baseline models.
MODEL_LABELS = {"popularity": "Popularity", "als": "ALS", "reranker": "re-ranker"}


def model_names(models: dict[str, object]) -> str:
    """The models in words, for report prose.

    >>> model_names({"popularity": 1, "als": 2})
    'Popularity and ALS'
    """
    names = [MODEL_LABELS.get(name, name) for name in models]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
