"""Hyper-parameter tuning of ALS and the LightGBM re-ranker with optuna, and the protocol to report an honest test score.

Protocol (:func:`tune_and_test`): carve a validation set out of train
(:func:`validation_split`), tune on it, refit on the full train with the best
parameters, and score the test set once. Tuning on the test set would report an
optimistic number.

Pruning is not used: implicit's ALS has no cheap partial result (a model after
a few iterations ranks differently from the final one, and scoring it costs as
much as scoring the final model), so every trial runs to the end; the re-ranker's
boosting rounds are one of the searched parameters.

Work chosen by size (:func:`plan_als_search`): on a large log the trials, the factor and
iteration ranges and the validation users follow from the estimated cost of one trial (a rule of
the data's size, never a clock), so the same data always gets the same search.

>>> fit, valid = validation_split(train, seed=0)  # doctest: +SKIP
>>> study = tune_als(fit, valid, n_trials=40, seed=0)  # doctest: +SKIP
>>> ALSRecommender(**study.best_params, seed=0).fit(train)  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.repeats import basket_by, purchase_rows
from workbench.data.split import next_basket_split, single_basket_reason, stratified_split, user_sample
from workbench.errors import ConfigError, DataError, FallbackWarning, ModelError
from workbench.evaluation import evaluate
from workbench.guards import positive_int
from workbench.models import ALSRecommender, LightGBMReranker
from workbench.models.als import fit_seconds, log_size, rank_seconds
from workbench.models.base import Recommender
from workbench.tracking import quiet_loggers


def validation_split(train: Dataset, *, ratio: float = 0.75, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(fit, valid): per user, a random ``ratio`` of ``train`` to fit on and the rest to validate on.

    >>> fit, valid = validation_split(train, ratio=0.75, seed=0)  # doctest: +SKIP
    """
    return stratified_split(train, ratio=ratio, seed=seed)


@dataclass(frozen=True)
class AlsSpace:
    """The ranges :func:`tune_als` searches for ALS's factors (log scale) and iterations; regularization
    (0.01..100) and alpha (0.1..50), both on a log scale, are searched whatever the space.

    >>> AlsSpace().describe()
    '16-256 factors, 5-30 iterations'
    """

    factors: tuple[int, int] = (16, 256)
    iterations: tuple[int, int] = (5, 30)

    def __post_init__(self) -> None:
        for name, (low, high) in (("factors", self.factors), ("iterations", self.iterations)):
            if not 1 <= low <= high:
                raise ConfigError(f"AlsSpace: {name} must be a range 1 <= low <= high, got {(low, high)!r}")

    def describe(self) -> str:
        """The two ranges in words."""
        return f"{self.factors[0]}-{self.factors[1]} factors, {self.iterations[0]}-{self.iterations[1]} iterations"

    def trial_seconds(self, n_users: int, n_items: int, n_pairs: int, *, n_ranked: int) -> float:
        """Estimated seconds of one core of an average trial: an ALS fit on the sizes given, then a ranking
        of every item for ``n_ranked`` validation users (:func:`workbench.models.als.fit_seconds`,
        :func:`workbench.models.als.rank_seconds`; means over the ranges)."""
        fit = fit_seconds(n_users, n_items, n_pairs, factors=self.factors, iterations=self.iterations)
        return fit + rank_seconds(n_ranked, n_items, factors=self.factors)

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """One trial's keyword arguments of :class:`ALSRecommender`."""
        return {
            "factors": trial.suggest_int("factors", *self.factors, log=True),
            "regularization": trial.suggest_float("regularization", 0.01, 100.0, log=True),
            "alpha": trial.suggest_float("alpha", 0.1, 50.0, log=True),
            "iterations": trial.suggest_int("iterations", *self.iterations),
        }


#: The spaces :func:`plan_als_search` chooses from, widest first; the first is :func:`tune_als`'s default.
#: Iterations narrow first: their cost is linear and ALS has mostly converged by 15, while factors carry the
#: quality on a large catalogue (on the 150,000-line export test nDCG@10 rose from 20 factors to 144-256; that
#: run is not recorded in a results file).
ALS_SPACES = (AlsSpace(), AlsSpace((16, 256), (5, 15)), AlsSpace((16, 128), (5, 15)))
#: Seconds of one core that the trials of a planned search may cost in all, as estimated (not measured).
TUNING_BUDGET = 20.0
#: Fewest trials of a planned search, whatever they cost (fewer would barely search).
MIN_TRIALS = 8
#: Validation users of a planned search on narrowed ranges: a seeded sample of this many when the data has more.
VALID_USERS = 1_000


@dataclass(frozen=True)
class SearchPlan:
    """What :func:`plan_als_search` chose for a data set, and why (:meth:`describe`)."""

    n_trials: int
    space: AlsSpace
    #: validation users each trial is scored on, at most (a seeded sample above it); None: all of them
    max_valid_users: int | None
    #: users, items and distinct user-item pairs a trial fits on (estimated), and users it ranks for
    users: int
    items: int
    pairs: int
    ranked_users: int
    #: estimated seconds of one core of an average trial on each space weighed, widest first
    trial_seconds: tuple[float, ...]
    budget: float
    min_trials: int
    max_trials: int

    def describe(self, n_trials: int | None = None) -> str:
        """The search and the rule that chose it, in words; ``n_trials``: the trials run, when set by hand."""
        n_trials = self.n_trials if n_trials is None else int(n_trials)
        sampled = " (a seeded sample)" if self.max_valid_users is not None and self.users > self.ranked_users else ""
        text = (
            f"**{n_trials} trials** over {self.space.describe()}, each scored on up to {self.ranked_users:,} "
            f"validation users{sampled}. "
        )
        if n_trials != self.n_trials:
            text += f"The trials were set by hand; the rule chose {self.n_trials}. "
        text += (
            f"Chosen by the data's size: a trial fits ALS on about {self.pairs:,} user-item pairs ({self.users:,} "
            f"users, {self.items:,} items) and ranks every item for each validation user, an estimated "
            f"{self.trial_seconds[-1]:.2f} s of one core"
        )
        if len(self.trial_seconds) > 1:
            text += f" ({self.trial_seconds[0]:.2f} s on the widest ranges, {ALS_SPACES[0].describe()})"
        return text + (
            f". The rule: the trials get {self.budget:g} s of one core in all; the widest ranges that afford "
            f"the notebook's {self.max_trials} trials, else the narrowest, with as many trials as fit and at least "
            f"{self.min_trials}; narrowed ranges score at most {VALID_USERS:,} validation users. An estimate from "
            "sizes, not a clock: the same data gets the same search."
        )


def plan_als_search(
    data: Dataset,
    *,
    max_trials: int,
    fit_share: float = 0.75,
    budget: float = TUNING_BUDGET,
    min_trials: int = MIN_TRIALS,
    max_valid_users: int = VALID_USERS,
) -> SearchPlan:
    """The ALS search to run on ``data`` (the log whose split the trials fit on ``fit_share`` of).

    Each trial fits ALS on about ``fit_share`` of the distinct user-item pairs of ``data`` and ranks
    every item for the validation users (on the narrower spaces, a seeded sample of at most
    ``max_valid_users``; a user of ``data`` counts as a validation user). Its cost is estimated from
    those sizes (:meth:`AlsSpace.trial_seconds`); the plan takes the first space of :data:`ALS_SPACES`
    on which ``budget`` seconds afford ``max_trials`` trials, else the narrowest space with as many
    trials as the budget affords, but at least ``min_trials`` (and at most ``max_trials``).

    >>> plan_als_search(load_movielens_100k(), max_trials=20, fit_share=0.5625).n_trials  # doctest: +SKIP
    20
    """
    max_trials, min_trials = positive_int(max_trials, "max_trials"), positive_int(min_trials, "min_trials")
    max_valid_users = positive_int(max_valid_users, "max_valid_users")
    if not 0 < fit_share <= 1 or not budget > 0:
        raise ConfigError(f"fit_share must be in (0, 1] and budget > 0, got {fit_share!r}, {budget!r}")
    users, items, pairs = log_size(data)
    pairs = int(round(fit_share * pairs))
    costs: list[float] = []
    for step, space in enumerate(ALS_SPACES):
        ranked = users if step == 0 else min(users, max_valid_users)
        costs.append(space.trial_seconds(users, items, pairs, n_ranked=ranked))
        affordable = int(budget // costs[-1])
        if affordable >= max_trials:
            n_trials = max_trials
            break
    else:
        n_trials = min(max_trials, max(min_trials, affordable))
    return SearchPlan(
        n_trials=n_trials,
        space=space,
        max_valid_users=None if step == 0 else max_valid_users,
        users=users,
        items=items,
        pairs=pairs,
        ranked_users=ranked,
        trial_seconds=tuple(costs),
        budget=float(budget),
        min_trials=min_trials,
        max_trials=max_trials,
    )


def _check_datasets(**datasets: Any) -> None:
    for name, ds in datasets.items():
        if not isinstance(ds, Dataset):
            raise DataError(f"{name}: expected a workbench Dataset, got {type(ds).__name__}")
        if len(ds) == 0:
            raise DataError(f"{name}: the dataset has no interactions")


def _tune(
    train: Dataset,
    valid: Dataset,
    make: Callable[[optuna.Trial], Recommender],
    *,
    n_trials: int,
    k: int,
    seed: int,
    storage: str | None,
    study_name: str | None,
    timeout: float | None,
    show_progress_bar: bool,
    settings: dict[str, Any] | None = None,
) -> optuna.Study:
    """Seeded TPE study maximising nDCG@k on ``valid`` of ``make(trial).fit(train)``.

    Every trial stores all validation metrics in ``trial.user_attrs``; the study stores ``k``
    and ``settings`` (fixed, untuned arguments) in ``study.user_attrs``. A study resumed from
    ``storage`` gets a sampler seeded with ``seed`` + trials done.
    """
    _check_datasets(train=train, valid=valid)
    n_trials, k = positive_int(n_trials, "n_trials"), positive_int(k, "k")
    users = pd.unique(valid.interactions[C.USER])

    def objective(trial: optuna.Trial) -> float:
        model = make(trial).fit(train)
        metrics = evaluate(model.recommend(users, k=k), valid, k=k)
        for name, value in metrics.items():
            trial.set_user_attr(name, value)
        return metrics["ndcg"]

    with quiet_loggers("optuna"):  # optuna's per-trial log lines; the caller's verbosity comes back after
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            load_if_exists=storage is not None,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed),
        )
        if study.trials:
            study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
        for name, value in {"k": int(k), **(settings or {})}.items():
            study.set_user_attr(name, value)
        study.optimize(objective, n_trials=int(n_trials), timeout=timeout, show_progress_bar=show_progress_bar)
    return study


def tune_als(
    train: Dataset,
    valid: Dataset,
    *,
    n_trials: int,
    k: int = 10,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
    show_progress_bar: bool = True,
    space: AlsSpace = ALS_SPACES[0],
    max_valid_users: int | None = None,
) -> optuna.Study:
    """Search ALS hyper-parameters maximising nDCG@k on ``valid`` (models fitted on ``train``).

    Space (:class:`AlsSpace`, by default): factors 16..256 (log), regularization 0.01..100 (log),
    alpha 0.1..50 (log), iterations 5..30; TPE sampler seeded with ``seed``. With
    ``max_valid_users``, trials are scored on a seeded sample of that many validation users
    (``workbench.data.split.user_sample``, seed ``seed``) when ``valid`` has more; the space and
    the sample size are stored in ``study.user_attrs``. ``best_params``
    are keyword arguments of :class:`ALSRecommender`; every trial also stores
    all validation metrics in ``trial.user_attrs``. With ``storage``
    (e.g. ``"sqlite:///tuning.db"``) and ``study_name`` a later call resumes the
    study and adds ``n_trials`` more (its sampler seeded with ``seed`` + trials
    done, so it does not repeat the first run's start-up points).

    >>> study = tune_als(fit, valid, n_trials=40, seed=0)  # doctest: +SKIP
    >>> study.best_params  # doctest: +SKIP
    {'factors': 87, 'regularization': 12.3, 'alpha': 1.9, 'iterations': 21}
    """
    if not isinstance(space, AlsSpace):
        raise ConfigError(f"space must be an AlsSpace, got {type(space).__name__}")
    settings: dict[str, Any] = {}
    if space != ALS_SPACES[0]:
        settings.update(factors_range=list(space.factors), iterations_range=list(space.iterations))
    if max_valid_users is not None:
        _check_datasets(valid=valid)
        valid = user_sample(valid, positive_int(max_valid_users, "max_valid_users"), seed=seed)
        settings["max_valid_users"] = int(max_valid_users)
    return _tune(
        train,
        valid,
        lambda trial: ALSRecommender(**space.suggest(trial), seed=seed),
        n_trials=n_trials,
        k=k,
        seed=seed,
        storage=storage,
        study_name=study_name,
        timeout=timeout,
        show_progress_bar=show_progress_bar,
        settings=settings,
    )


def _reranker_space(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 20, 1000, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 0.1, 100.0, log=True),
        "prior_weight": trial.suggest_float("prior_weight", 0.0, 2.0),
        "n_rounds": trial.suggest_int("n_rounds", 50, 600, log=True),
    }


def tune_reranker(
    train: Dataset,
    valid: Dataset,
    *,
    n_trials: int,
    k: int = 10,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
    n_candidates: int = 50,
    n_folds: int = 2,
    show_progress_bar: bool = True,
) -> optuna.Study:
    """Search :class:`LightGBMReranker` hyper-parameters maximising nDCG@k on ``valid``.

    Space: learning_rate 0.01..0.3 (log), num_leaves 7..63 (log), min_data_in_leaf
    20..1000 (log), lambda_l2 0.1..100 (log), prior_weight 0..2, n_rounds 50..600 (log; early
    stopping on the label folds' own users proved noise, see :data:`workbench.models.rerank.N_ROUNDS`).
    ``n_candidates`` and ``n_folds`` stay fixed (stored in ``study.user_attrs``); seeding,
    storage / resume and per-trial metrics as in :func:`tune_als`.

    >>> study = tune_reranker(fit, valid, n_trials=8, seed=0)  # doctest: +SKIP
    >>> LightGBMReranker(**study.best_params, seed=0, n_candidates=50, n_folds=2).fit(train)  # doctest: +SKIP
    """
    LightGBMReranker(n_candidates=n_candidates, n_folds=n_folds, seed=seed)  # bad settings fail before any trial
    return _tune(
        train,
        valid,
        lambda trial: LightGBMReranker(**_reranker_space(trial), seed=seed, n_candidates=n_candidates, n_folds=n_folds),
        n_trials=n_trials,
        k=k,
        seed=seed,
        storage=storage,
        study_name=study_name,
        timeout=timeout,
        show_progress_bar=show_progress_bar,
        settings={"n_candidates": int(n_candidates), "n_folds": int(n_folds)},
    )


@dataclass(frozen=True)
class TuningResult:
    """Outcome of :func:`tune_and_test`: the study, the model refitted on all of train, its test metrics."""

    study: optuna.Study
    model: ALSRecommender
    test_metrics: dict[str, float]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.study.best_params)


def tune_and_test(
    train: Dataset,
    test: Dataset,
    *,
    n_trials: int,
    k: int = 10,
    ratio: float = 0.75,
    seed: int = 0,
    **tune_options: Any,
) -> TuningResult:
    """Tune on validation carved from ``train``, refit on all of ``train``, score ``test`` once.

    ``tune_options`` go to :func:`tune_als` (storage, study_name, timeout, show_progress_bar, space,
    max_valid_users).

    >>> result = tune_and_test(train, test, n_trials=40, seed=0)  # doctest: +SKIP
    >>> result.test_metrics["ndcg"], result.best_params  # doctest: +SKIP
    """
    _check_datasets(train=train, test=test)
    fit, valid = validation_split(train, ratio=ratio, seed=seed)
    study = tune_als(fit, valid, n_trials=n_trials, k=k, seed=seed, **tune_options)
    model = ALSRecommender(**study.best_params, seed=seed).fit(train)
    test_metrics = evaluate(model.recommend(test, k=k), test, k=k)
    return TuningResult(study=study, model=model, test_metrics=test_metrics)


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per completed trial: ``trial, value, best_so_far`` (what the history chart draws)."""
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise ModelError("the study has no completed trials yet; run tune_als or tune_reranker first")
    frame = pd.DataFrame({"trial": [t.number for t in done], "value": [t.value for t in done]})
    frame["best_so_far"] = frame["value"].cummax()
    return frame


def param_importances(study: optuna.Study, *, seed: int = 0) -> pd.DataFrame:
    """``parameter, importance``: optuna's fANOVA importances (seeded), most important first."""
    if len(trials_frame(study)) < 2:
        raise ModelError("parameter importances need at least 2 completed trials")
    importances = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)
    )
    return pd.DataFrame({"parameter": list(importances), "importance": list(importances.values())})


@dataclass(frozen=True)
class BasketTuning:
    """Outcome of :func:`tune_next_basket`: every setting's validation metrics and the best one."""

    #: one row per setting of the grid, best first: the parameters, then ``ndcg``, ``recall``,
    #: ``hit_rate``, ``precision``, ``map``, ``mrr`` on the validation baskets, and ``seconds`` (fit, when
    #: the setting needed one, and recommend)
    table: pd.DataFrame
    #: keyword arguments of the model: the setting with the highest validation nDCG@k (the first in grid order on ties)
    best_params: dict[str, Any]
    #: what a basket was (``next_basket_split``'s ``by``)
    by: str
    k: int
    #: users with a validation basket
    users: int


def _settings(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigError(f"grid must be a non-empty mapping of parameter name -> values, got {grid!r}")
    values = {}
    for name, options in grid.items():
        options = [options] if isinstance(options, str) or not isinstance(options, Iterable) else list(options)
        if not options:
            raise ConfigError(f"grid: parameter {name!r} has no values to try")
        values[name] = options
    return [dict(zip(values, combination, strict=True)) for combination in itertools.product(*values.values())]


def tune_next_basket(
    model: type[Recommender] | Callable[..., Recommender],
    train: Dataset,
    grid: Mapping[str, Any] | None = None,
    *,
    k: int = 10,
    by: str | None = None,
) -> BasketTuning:
    """Choose a next-basket model's hyper-parameters on each user's second-to-last basket.

    ``train`` is what is left once the test baskets are held out (``next_basket_split(ds)``); this
    function holds out each user's last basket *of train* (``next_basket_split(train, by=by)``,
    purchases only, ``by`` from ``basket_by`` when None), fits ``model(**setting)`` on the rest for
    every setting of ``grid`` (name -> values; their product is tried; None: the class's
    ``default_grid``) and scores ``recommend(users, k=k, exclude_seen=False)`` (repeats allowed) by
    nDCG@k on those baskets. The test baskets are never seen: they are not in ``train``. Refit on all
    of ``train`` with ``best_params``. Parameters a class lists in ``scoring_params`` (read at
    recommend time, such as TIFU-KNN's alpha) are varied on one fitted model instead of refitting.

    >>> train, test = next_basket_split(orders)  # doctest: +SKIP
    >>> tuned = tune_next_basket(TIFUKNNRecommender, train, k=10)  # doctest: +SKIP
    >>> model = TIFUKNNRecommender(**tuned.best_params).fit(train)  # doctest: +SKIP
    """
    _check_datasets(train=train)
    k = positive_int(k, "k")
    if grid is None:
        grid = getattr(model, "default_grid", None)
        if grid is None:
            raise ConfigError(f"tune_next_basket: {getattr(model, '__name__', model)!r} has no default_grid; pass grid")
    settings = _settings(grid)
    scoring = set(getattr(model, "scoring_params", ())) if isinstance(model, type) else set()
    orders = train.with_interactions(train.interactions[purchase_rows(train)])
    by = by or basket_by(orders)
    fit, valid = next_basket_split(orders, by=by)
    if len(valid) == 0:
        raise DataError(f"tune_next_basket: {single_basket_reason(orders, by)}, so none can be held out to validate on")
    users = pd.unique(valid.interactions[C.USER])
    keys = [
        tuple((name, repr(value)) for name, value in setting.items() if name not in scoring) for setting in settings
    ]
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    rows: list[dict[str, float]] = [{} for _ in settings]
    fitted, fitted_key = None, None
    for i in sorted(range(len(settings)), key=lambda i: first[keys[i]]):  # one fit per fitted parameters
        candidate = model(**settings[i])
        start = time.perf_counter()
        if fitted is not None and keys[i] == fitted_key:
            for name in scoring & set(settings[i]):
                setattr(fitted, name, getattr(candidate, name))  # the constructor checked the value
        else:
            fitted, fitted_key = candidate.fit(fit), keys[i]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            recs = fitted.recommend(users, k=k, exclude_seen=False)
        rows[i] = {**evaluate(recs, valid, k=k), "seconds": time.perf_counter() - start}
    table = pd.DataFrame(rows)
    for name in reversed(list(settings[0])):
        table.insert(0, name, pd.Series([setting[name] for setting in settings], dtype=object))
    order = np.argsort(-table["ndcg"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    return BasketTuning(table=table, best_params=dict(settings[order[0]]), by=by, k=k, users=len(users))
