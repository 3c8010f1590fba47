"""Residual analysis: where a ranker's predicted relevance differs from what users then did.

For scored candidate pairs (``user_id, item_id, score``, e.g. ``reranker.recommend(users,
k=n_candidates)``), :func:`residual_table` turns the raw score into a probability of
relevance with isotonic regression and subtracts it from the observed relevance (1 when the
pair is in the test set, else 0). No test leakage: the isotonic map is fitted on the pairs of
a random ``calibration_share`` of the users, and residuals are reported for the other users
only. :func:`residuals_by_segment` averages them by user and item segment with bootstrap
intervals (users are the resampled clusters), :func:`worst_segments` says in words where the
model is most wrong. For rated data, :func:`rating_residuals` gives the RMSE by segment of a
damped user + item bias baseline (mean + b_user + b_item).

>>> scored = model.recommend(test_users, k=50)  # doctest: +SKIP
>>> table = residual_table(scored, test, train, seed=0)  # doctest: +SKIP
>>> by_segment = residuals_by_segment(table, ["activity_band", "popularity_band"], seed=0)  # doctest: +SKIP
>>> worst_segments(by_segment, min_pairs=200)["message"].tolist()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve as sklearn_calibration_curve
from sklearn.isotonic import IsotonicRegression

from workbench import columns as C
from workbench.analysis.segments import pair_segments
from workbench.analysis.stats import SEPARATOR, by_group, check_bootstrap, require_columns
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int


# -- residuals of a ranker ------------------------------------------------------------
def _truth_pairs(test: Dataset | pd.DataFrame) -> pd.MultiIndex:
    log = test.interactions if isinstance(test, Dataset) else test
    if not isinstance(log, pd.DataFrame) or any(c not in log.columns for c in (C.USER, C.ITEM)):
        raise DataError("test must be a Dataset or a DataFrame with the columns 'user_id' and 'item_id'")
    return pd.MultiIndex.from_frame(log[[C.USER, C.ITEM]])


def _check_scored(scored: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(scored, pd.DataFrame):
        raise DataError(f"scored must be a DataFrame of user_id, item_id, score, got {type(scored).__name__}")
    missing = [c for c in (C.USER, C.ITEM, C.SCORE) if c not in scored.columns]
    if missing:
        raise DataError(f"scored has no column {missing[0]!r}; expected user_id, item_id, score (e.g. recommend(...))")
    score = pd.to_numeric(scored[C.SCORE], errors="coerce").to_numpy(np.float64)
    bad = int((~np.isfinite(score)).sum())
    if bad:
        raise DataError(f"scored: column 'score' has {bad} missing or non-finite values")
    if scored.duplicated([C.USER, C.ITEM]).any():
        raise DataError("scored: some (user_id, item_id) pairs appear more than once")
    return pd.DataFrame({C.USER: scored[C.USER].to_numpy(), C.ITEM: scored[C.ITEM].to_numpy(), C.SCORE: score})


def residual_table(
    scored: pd.DataFrame,
    test: Dataset | pd.DataFrame,
    train: Dataset,
    *,
    calibration_share: float = 0.5,
    n_quantiles: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """Residual (observed - calibrated probability) of every scored pair of the report users.

    A random ``calibration_share`` of the users of ``scored`` (seeded) fits an isotonic map
    score -> P(pair in ``test``); the table holds the other users' pairs only. Columns:
    ``user_id, item_id, score, probability, observed`` (0/1), ``residual`` and the segment
    columns of :func:`pair_segments`.

    >>> residual_table(model.recommend(users, k=50), test, train, seed=0).head()  # doctest: +SKIP
    """
    if not 0.0 < calibration_share < 1.0:
        raise ConfigError(f"calibration_share must be between 0 and 1 (exclusive), got {calibration_share!r}")
    pairs = _check_scored(scored)
    truth = _truth_pairs(test)
    observed = pd.MultiIndex.from_frame(pairs[[C.USER, C.ITEM]]).isin(truth).astype(np.float64)
    users = pd.unique(pairs[C.USER])
    n_calibration = int(round(calibration_share * len(users)))
    if not 1 <= n_calibration < len(users):
        raise DataError(
            f"residual_table: {len(users)} scored users cannot be split into calibration and report users "
            f"at calibration_share={calibration_share}"
        )
    chosen = np.random.default_rng(seed).permutation(len(users))[:n_calibration]
    calibrate = pairs[C.USER].isin(users[chosen]).to_numpy()
    if observed[calibrate].sum() == 0:
        raise DataError(
            f"residual_table: none of the pairs of the {n_calibration} calibration users is in the test set; "
            "nothing to calibrate on"
        )
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(pairs[C.SCORE].to_numpy()[calibrate], observed[calibrate])
    report = pairs[~calibrate].reset_index(drop=True)
    probability = iso.predict(report[C.SCORE].to_numpy())
    report["probability"] = probability
    report["observed"] = observed[~calibrate]
    report["residual"] = report["observed"] - probability
    return pd.concat([report, pair_segments(report, train, n_quantiles=n_quantiles)], axis=1)


# -- aggregation ----------------------------------------------------------------------
def _segment_columns(table: pd.DataFrame, by: str | Sequence[str], needed: Sequence[str], what: str) -> list[str]:
    names = [by] if isinstance(by, str) else list(by)
    if not names:
        raise ConfigError(f"{what}: by names no segment column")
    require_columns(table, [*needed, *names], what)
    return names


def residuals_by_segment(
    table: pd.DataFrame,
    by: str | Sequence[str],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean probability, observed rate and residual per group of each segment column in ``by``.

    Columns: ``segment, group, pairs, users, predicted, observed, residual, lower, upper``
    (``lower``/``upper``: percentile bootstrap interval of the mean residual at ``level``,
    resampling the users of the group with all their pairs, so a user's correlated pairs move
    together). A pair with several genres
    counts in each. One :func:`workbench.analysis.stats.by_group` per segment column.

    >>> residuals_by_segment(table, ["gender", "genres"], n_boot=500, seed=0)  # doctest: +SKIP
    """
    check_bootstrap(n_boot, level)
    names = _segment_columns(table, by, (C.USER, "probability", "observed", "residual"), "residuals_by_segment")
    if len(table) == 0:
        raise DataError("residuals_by_segment: the table has no rows")
    frames = []
    for name in names:
        result = by_group(
            table,
            name,
            metrics=["probability", "observed", "residual"],
            clusters=C.USER,
            separator=SEPARATOR,
            ci="residual",
            level=level,
            n_boot=n_boot,
            seed=seed,
            what="residuals_by_segment",
        )
        groups = result.by_group
        frames.append(
            pd.DataFrame(
                {
                    "segment": name,
                    "group": groups.index.to_numpy(dtype=object),
                    "pairs": groups["count"].to_numpy(np.int64),
                    "users": groups["clusters"].to_numpy(np.int64),
                    "predicted": groups["probability"].to_numpy(),
                    "observed": groups["observed"].to_numpy(),
                    "residual": groups["residual"].to_numpy(),
                    "lower": result.ci[("residual", "lower")].to_numpy(),
                    "upper": result.ci[("residual", "upper")].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def worst_segments(by_segment: pd.DataFrame, *, min_pairs: int = 100, n: int = 10) -> pd.DataFrame:
    """The ``n`` groups with the largest |mean residual| among those with at least ``min_pairs`` pairs.

    Adds ``direction`` (``under`` when the model predicts less relevance than observed),
    ``significant`` (the interval excludes 0) and a plain-words ``message``.

    >>> worst_segments(by_segment, min_pairs=200)["message"][0]  # doctest: +SKIP
    'category=toys: predicted 2.3% relevant, observed 0.5%; the model over-predicts (residual -1.8 points, CI -2.4 to -1.0; 397 pairs, 108 users)'
    """
    min_pairs, n = positive_int(min_pairs, "min_pairs"), positive_int(n, "n")
    require_columns(by_segment, ("segment", "group", "pairs", "users", "residual", "lower", "upper"), "worst_segments")
    table = by_segment[by_segment["pairs"] >= min_pairs]
    order = np.argsort(-table["residual"].abs().to_numpy(), kind="stable")
    table = table.iloc[order[:n]].reset_index(drop=True)
    table["direction"] = np.where(table["residual"] > 0, "under", "over")
    table["significant"] = (table["lower"] > 0) | (table["upper"] < 0)
    table["message"] = [
        f"{r.segment}={r.group}: predicted {r.predicted:.1%} relevant, observed {r.observed:.1%}; "
        f"the model {r.direction}-predicts (residual {r.residual * 100:+.1f} points, "
        f"CI {r.lower * 100:+.1f} to {r.upper * 100:+.1f}{'' if r.significant else ', includes 0'}; "
        f"{r.pairs:,} pairs, {r.users:,} users)"
        for r in table.itertuples()
    ]
    return table


def calibration_curve(table: pd.DataFrame, *, n_bins: int = 10) -> pd.DataFrame:
    """Reliability curve: pairs cut into ``n_bins`` quantile bins by probability (``sklearn.calibration.
    calibration_curve`` with ``strategy="quantile"``).

    Columns ``bin`` (1..n_bins), ``predicted`` (mean probability), ``observed`` (share
    relevant), ``pairs``; a bin without pairs has no row. Equal probabilities share a bin, so
    with ties (isotonic probabilities are steps) bins hold unequal counts and some stay empty.
    A calibrated model has predicted == observed in every bin.

    >>> calibration_curve(table, n_bins=10)  # doctest: +SKIP
    """
    n_bins = positive_int(n_bins, "n_bins")
    require_columns(table, ("probability", "observed"), "calibration_curve")
    if len(table) == 0:
        raise DataError("calibration_curve: the table has no rows")
    probability = table["probability"].to_numpy(np.float64)
    observed, predicted = sklearn_calibration_curve(
        table["observed"].to_numpy(np.float64), probability, n_bins=n_bins, strategy="quantile"
    )
    # sklearn's bins, to name and count them: edges at the quantiles, a probability on an edge in the lower bin
    edges = np.percentile(probability, np.linspace(0, 1, n_bins + 1) * 100)
    pairs = np.bincount(np.searchsorted(edges[1:-1], probability), minlength=n_bins)
    keep = pairs > 0
    return pd.DataFrame(
        {"bin": np.arange(1, n_bins + 1)[keep], "predicted": predicted, "observed": observed, "pairs": pairs[keep]}
    )


# -- rating residuals -----------------------------------------------------------------
def _ratings(ds: Dataset, name: str) -> pd.DataFrame:
    if not isinstance(ds, Dataset):
        raise DataError(f"{name} must be a workbench Dataset, got {type(ds).__name__}")
    log = ds.interactions
    if C.RATING not in log.columns:
        raise DataError(
            f"rating residuals: the {name} interactions have no 'rating' column (implicit data has no ratings)"
        )
    if len(log) == 0:
        raise DataError(f"rating residuals: {name} has no interactions")
    return log[[C.USER, C.ITEM, C.RATING]]


def rating_predictions(train: Dataset, test: Dataset, *, damping: float = 5.0, n_quantiles: int = 10) -> pd.DataFrame:
    """Bias-baseline predictions of the test ratings: mean + b_user + b_item, clipped to the train range.

    b_item = sum(r - mean) / (damping + n_item); b_user = sum(r - mean - b_item) / (damping + n_user),
    over train ratings (Koren 2010); unknown users or items get 0. Columns ``user_id, item_id,
    rating, predicted, residual`` (rating - predicted) and the segments of :func:`pair_segments`.

    >>> rating_predictions(train, test)["residual"].pow(2).mean() ** 0.5  # doctest: +SKIP
    0.94
    """
    if not damping >= 0:
        raise ConfigError(f"damping must be a non-negative number, got {damping!r}")
    log, truth = _ratings(train, "train"), _ratings(test, "test")
    rating = log[C.RATING].to_numpy(np.float64)
    mean = float(rating.mean())
    item_codes, items = pd.factorize(log[C.ITEM])
    user_codes, users = pd.factorize(log[C.USER])
    item_bias = np.bincount(item_codes, weights=rating - mean) / (damping + np.bincount(item_codes))
    user_bias = np.bincount(user_codes, weights=rating - mean - item_bias[item_codes]) / (
        damping + np.bincount(user_codes)
    )
    test_items, test_users = items.get_indexer(truth[C.ITEM]), users.get_indexer(truth[C.USER])
    predicted = (
        mean
        + np.where(test_users >= 0, user_bias[test_users], 0.0)
        + np.where(test_items >= 0, item_bias[test_items], 0.0)
    )
    predicted = np.clip(predicted, rating.min(), rating.max())
    table = truth.reset_index(drop=True).astype({C.RATING: np.float64})
    table["predicted"] = predicted
    table["residual"] = table[C.RATING] - predicted
    return pd.concat([table, pair_segments(table, train, n_quantiles=n_quantiles)], axis=1)


def _rating_rows(segment: str, groups: pd.Index, counts: Sequence[int], means: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": segment,
            "group": groups.to_numpy(dtype=object),
            "ratings": np.asarray(counts, dtype=np.int64),
            "rmse": np.sqrt(means["squared"].to_numpy()),
            "mae": means["absolute"].to_numpy(),
            "mean_residual": means["residual"].to_numpy(),
        }
    )


def rating_residuals(
    train: Dataset, test: Dataset, *, by: str | Sequence[str], damping: float = 5.0, n_quantiles: int = 10
) -> pd.DataFrame:
    """RMSE, MAE and mean residual of the bias baseline (:func:`rating_predictions`) by segment.

    Columns ``segment, group, ratings, rmse, mae, mean_residual``; the first row is the
    overall one (``segment`` and ``group`` ``"all"``).

    >>> rating_residuals(train, test, by=["age_band", "genres"])  # doctest: +SKIP
    """
    table = rating_predictions(train, test, damping=damping, n_quantiles=n_quantiles)
    names = _segment_columns(table, by, (), "rating_residuals")
    residual = table["residual"].to_numpy(np.float64)
    errors = pd.DataFrame({"squared": residual**2, "absolute": np.abs(residual), "residual": residual})
    frames = []
    overall = errors.mean()
    frames.append(_rating_rows("all", pd.Index(["all"]), [len(table)], overall.to_frame().T))
    for name in names:
        result = by_group(
            pd.concat([errors, table[[name]]], axis=1),
            name,
            metrics=list(errors.columns),
            separator=SEPARATOR,
            what="rating_residuals",
        )
        frames.append(_rating_rows(name, result.by_group.index, result.by_group["count"], result.by_group))
    return pd.concat(frames, ignore_index=True)
