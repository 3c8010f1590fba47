"""Altair charts of analysis results: residuals and calibration, SHAP explanations, A/B peeking, bandits,
drift and freshness over time, and tuning studies.

Every function draws a frame (or typed result) an analysis function returned; the computing stays in
``workbench.analysis`` and ``workbench.tuning``, which import no altair.

>>> residual_chart(residuals_by_segment(table, "gender"), "gender")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.drift import DEFAULT_THRESHOLDS, LABELS
from workbench.analysis.explain import BASE, feature_columns, global_importance, id_text, item_label
from workbench.analysis.freshness import STRATEGIES
from workbench.analysis.stats import require_columns
from workbench.errors import ConfigError, DataError
from workbench.report.charts import HEIGHT, MAX_ROWS, WIDTH
from workbench.tuning import param_importances, trials_frame

if TYPE_CHECKING:
    import optuna

#: Residual bars are a little lower than the house height (a page shows one per segment).
RESIDUAL_HEIGHT = 240


# -- residuals ------------------------------------------------------------------------
def residual_chart(by_segment: pd.DataFrame, segment: str) -> alt.LayerChart:
    """Mean residual per group of ``segment`` with its bootstrap interval; 0 = calibrated.

    >>> residual_chart(residuals_by_segment(table, "gender"), "gender")  # doctest: +SKIP
    """
    require_columns(
        by_segment,
        ("segment", "group", "pairs", "users", "predicted", "observed", "residual", "lower", "upper"),
        "residual_chart",
    )
    rows = by_segment[by_segment["segment"] == segment]
    if len(rows) == 0:
        raise DataError(f"residual_chart: no rows for segment {segment!r}")
    data = rows.assign(group=rows["group"].astype(str))[
        ["group", "pairs", "users", "predicted", "observed", "residual", "lower", "upper"]
    ]
    x = alt.X("group:N", sort=None, title=segment, axis=alt.Axis(labelAngle=-45))
    tooltip = [
        "group:N",
        alt.Tooltip("residual:Q", format="+.4f"),
        alt.Tooltip("lower:Q", format="+.4f"),
        alt.Tooltip("upper:Q", format="+.4f"),
        alt.Tooltip("predicted:Q", format=".2%"),
        alt.Tooltip("observed:Q", format=".2%"),
        "pairs:Q",
        "users:Q",
    ]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("residual:Q", title="mean residual (observed - predicted)"),
            color=alt.condition("datum.residual > 0", alt.value("#3b6fd4"), alt.value("#d4553b")),
            tooltip=tooltip,
        )
    )
    whiskers = alt.Chart(data).mark_errorbar(ticks=True).encode(x=x, y=alt.Y("lower:Q", title=""), y2="upper:Q")
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="gray").encode(y="zero:Q")
    title = f"Residual by {segment} (95% bootstrap CI; above 0: the model under-predicts)"
    return alt.layer(bars, whiskers, zero).properties(
        title=title, width=min(WIDTH * 1.4, max(200, 30 * len(data))), height=RESIDUAL_HEIGHT
    )


def calibration_chart(curve: pd.DataFrame) -> alt.LayerChart:
    """Reliability diagram of :func:`calibration_curve`: observed vs predicted, with the diagonal.

    >>> calibration_chart(calibration_curve(table))  # doctest: +SKIP
    """
    require_columns(curve, ("bin", "predicted", "observed", "pairs"), "calibration_chart")
    top = float(max(curve["predicted"].max(), curve["observed"].max(), 1e-6)) * 1.05
    scale = alt.Scale(domain=[0, top])
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0.0, top], "y": [0.0, top]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale))
    )
    curve_line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("predicted:Q", scale=scale, title="mean predicted probability", axis=alt.Axis(format="%")),
            y=alt.Y("observed:Q", scale=scale, title="observed share relevant", axis=alt.Axis(format="%")),
            tooltip=[
                "bin:Q",
                alt.Tooltip("predicted:Q", format=".2%"),
                alt.Tooltip("observed:Q", format=".2%"),
                "pairs:Q",
            ],
        )
    )
    return alt.layer(diagonal, curve_line).properties(
        title="Calibration on report users (dashed: perfect calibration)", width=WIDTH, height=WIDTH
    )


# -- SHAP explanations -----------------------------------------------------------------
def importance_by_segment_chart(
    by_segment: pd.DataFrame, features: list[str], *, title: str = "Mean |SHAP| by segment", legend: str = "Segment"
) -> alt.Chart:
    """Grouped bars of :func:`importance_by_segment` for ``features`` (in that order), one bar per segment
    in the segments' own order, coloured by segment.

    >>> importance_by_segment_chart(by_segment, ["als_prior", "item_popularity"])  # doctest: +SKIP
    """
    data = by_segment[by_segment["feature"].isin(features)]
    segments = [str(segment) for segment in dict.fromkeys(data["segment"])]
    if hasattr(data["segment"], "cat"):
        segments = [str(segment) for segment in data["segment"].cat.categories if str(segment) in set(segments)]
    data = data.assign(segment=data["segment"].astype(str))
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            x=alt.X("feature:N", sort=features, title=None, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("segment:N", sort=segments),
            y=alt.Y("mean_abs_shap:Q", title="Mean |SHAP| (raw score)"),
            color=alt.Color("segment:N", sort=segments, title=legend),
            tooltip=["segment", "feature", alt.Tooltip("mean_abs_shap:Q", format=".4f"), "n_rows"],
        )
        .properties(width=520, height=HEIGHT)
    )


def _top_features(contrib: pd.DataFrame, max_features: int) -> list[str]:
    return global_importance(contrib)["feature"].head(max_features).tolist()


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= n else frame.sample(n=n, random_state=seed)


def beeswarm_chart(
    contrib: pd.DataFrame,
    values: pd.DataFrame | None = None,
    *,
    max_features: int = 12,
    seed: int = 0,
) -> alt.Chart:
    """SHAP value per row and feature (jittered strip), features by importance; coloured by the
    feature's value percentile when ``values`` (same rows as ``contrib``) is given.

    >>> beeswarm_chart(contrib, model.feature_table(users, k=10))  # doctest: +SKIP
    """
    features = _top_features(contrib, max_features)
    per_feature = max(1, MAX_ROWS // max(len(features), 1))
    rows = _sample(contrib, per_feature, seed).index
    long = contrib.loc[rows, features].melt(var_name="feature", value_name="shap", ignore_index=False)
    if values is not None:
        if len(values) != len(contrib):
            raise DataError(
                f"values: {len(values):,} rows, but contrib has {len(contrib):,}; pass rows in the same order"
            )
        percentile = pd.DataFrame(
            {
                f: pd.to_numeric(values[f], errors="coerce").rank(pct=True).to_numpy() if f in values else np.nan
                for f in features
            },
            index=contrib.index,
        )
        long["value_percentile"] = percentile.loc[rows].melt(value_name="p")["p"].to_numpy()
    long["jitter"] = np.random.default_rng(seed).uniform(-0.4, 0.4, len(long))
    long = long.reset_index(drop=True)
    encoding = {
        "x": alt.X("shap:Q", title="SHAP value (raw score)"),
        "y": alt.Y("feature:N", sort=features, title=None),
        "yOffset": alt.YOffset("jitter:Q", title=None),
    }
    if values is not None:
        encoding["color"] = alt.Color(
            "value_percentile:Q",
            scale=alt.Scale(scheme="blueorange"),
            title="Value (pct)",
        )
    return (
        alt.Chart(long, title="SHAP values per feature")
        .mark_circle(size=12, opacity=0.6)
        .encode(**encoding)
        .properties(width=WIDTH, height=max(HEIGHT, 24 * len(features)))
    )


def dependence_chart(contrib: pd.DataFrame, values: pd.DataFrame, feature: str, *, seed: int = 0) -> alt.Chart:
    """SHAP value of ``feature`` against its value (``values``: same rows as ``contrib``).

    >>> dependence_chart(contrib, model.feature_table(users, k=10), "item_popularity")  # doctest: +SKIP
    """
    if feature not in feature_columns(contrib) or feature not in values.columns:
        raise ConfigError(f"dependence_chart: feature {feature!r} is not among {feature_columns(contrib)[:12]}")
    if len(values) != len(contrib):
        raise DataError(f"values: {len(values):,} rows, but contrib has {len(contrib):,}; pass rows in the same order")
    column = values[feature]
    numeric = pd.api.types.is_numeric_dtype(column.dtype)
    frame = pd.DataFrame(
        {
            "value": column.to_numpy() if numeric else column.astype(str).to_numpy(),
            "shap": contrib[feature].to_numpy(),
        }
    )
    frame = _sample(frame, MAX_ROWS, seed)
    return (
        alt.Chart(frame, title=f"SHAP dependence: {feature}")
        .mark_circle(size=14, opacity=0.5)
        .encode(
            x=alt.X("value:Q" if numeric else "value:N", title=feature),
            y=alt.Y("shap:Q", title="SHAP value (raw score)"),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def waterfall_chart(row: pd.Series, *, items: pd.DataFrame | None = None, max_features: int = 10) -> alt.Chart:
    """Why this item for this user: from ``base_value`` through the largest contributions to the score.

    ``row`` is one row of ``contrib``; smaller contributions are summed as "other features". With
    ``items`` (the items table), the title names the item (see :func:`item_label`).

    >>> waterfall_chart(contrib.iloc[0], items=ds.items)  # doctest: +SKIP
    """
    if not isinstance(row, pd.Series) or BASE not in row.index:
        raise DataError("waterfall_chart: expected one row of LightGBMReranker.explain (a Series with 'base_value')")
    shap = row.drop([c for c in (C.USER, C.ITEM, BASE) if c in row.index]).astype(float)
    order = shap.abs().sort_values(ascending=False, kind="stable").index
    top = shap[order[:max_features]]
    if len(order) > max_features:
        top = pd.concat([top, pd.Series({"other features": shap[order[max_features:]].sum()})])
    end = float(row[BASE]) + top.cumsum().to_numpy()
    frame = pd.DataFrame(
        {
            "feature": top.index,
            "contribution": top.to_numpy(),
            "start": end - top.to_numpy(),
            "end": end,
        }
    )
    frame["direction"] = np.where(frame["contribution"] >= 0, "raises", "lowers")
    title = alt.TitleParams(
        f"Why {item_label(row.get(C.ITEM), items)} for user {id_text(row.get(C.USER))}",
        subtitle=f"base value {float(row[BASE]):.3f} -> score {end[-1]:.3f}",
    )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=list(frame["feature"]), title=None),
            x=alt.X("start:Q", title="Raw score"),
            x2="end:Q",
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=["raises", "lowers"], range=["#d4553b", "#3b6fd4"]),
            ),
            tooltip=["feature", alt.Tooltip("contribution:Q", format=".4f")],
        )
        .properties(width=WIDTH, height=max(HEIGHT // 2, 22 * len(frame)))
    )


# -- A/B tests: peeking ----------------------------------------------------------------
def peeking_chart(curve: pd.DataFrame) -> alt.LayerChart:
    """Line chart of :func:`peeking_curve`: false positive rate against the number of looks, alpha as a rule.

    >>> peeking_chart(peeking_curve(seed=0))  # doctest: +SKIP
    """
    missing = [c for c in ("looks", "fpr_peeking", "fpr_final", "alpha") if c not in curve.columns]
    if missing:
        raise DataError(f"peeking_chart: column '{missing[0]}' is missing; pass the output of peeking_curve")
    long = curve.melt(
        id_vars=["looks", "alpha"], value_vars=["fpr_peeking", "fpr_final"], var_name="decision", value_name="fpr"
    )
    labels = {"fpr_peeking": "stop at first p < alpha", "fpr_final": "single final look"}
    long["decision"] = long["decision"].map(labels)
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("looks:Q", title="number of looks at the running test", scale=alt.Scale(type="log")),
            y=alt.Y("fpr:Q", title="false positive rate (A/A test)"),
            color=alt.Color("decision:N", title=None),
            tooltip=["looks:Q", "decision:N", alt.Tooltip("fpr:Q", format=".3f")],
        )
    )
    rule = alt.Chart(curve.head(1)).mark_rule(strokeDash=[4, 4], color="gray").encode(y="alpha:Q")
    return (lines + rule).properties(title="Peeking inflates false positives", width=420, height=260)


# -- bandits ---------------------------------------------------------------------------
def bandit_chart(result: pd.DataFrame, *, max_points: int = 300) -> alt.HConcatChart:
    """Mean reward so far and cumulative regret per policy, side by side (thinned to ``max_points`` steps).

    >>> bandit_chart(simulate_bandits(rewards, seed=0))  # doctest: +SKIP
    """
    missing = [c for c in ("step", "policy", "cumulative_reward", "cumulative_regret") if c not in result.columns]
    if missing:
        raise DataError(f"bandit_chart: column '{missing[0]}' is missing; pass the output of simulate_bandits")
    n_steps = int(result["step"].max())
    keep = np.unique(np.linspace(1, n_steps, min(max_points, n_steps)).round().astype(np.int64))
    thin = result[result["step"].isin(keep)].assign(mean_reward=lambda f: f["cumulative_reward"] / f["step"])
    base = alt.Chart(thin).encode(x=alt.X("step:Q", title="users served"), color=alt.Color("policy:N", title="policy"))
    reward = (
        base.mark_line()
        .encode(y=alt.Y("mean_reward:Q", title="mean reward so far"))
        .properties(title="Reward", width=300, height=220)
    )
    regret = (
        base.mark_line()
        .encode(y=alt.Y("cumulative_regret:Q", title="cumulative regret"))
        .properties(title="Regret against the best arm", width=300, height=220)
    )
    return alt.hconcat(reward, regret)


# -- drift -----------------------------------------------------------------------------
def drift_chart(table: pd.DataFrame, signal: str, *, threshold: float | None = None) -> alt.LayerChart:
    """A signal per window over time, with its alert threshold as a dashed rule."""
    if signal not in table.columns:
        raise ConfigError(f"drift_chart: signal {signal!r} is not among {list(table.columns)}")
    limit = DEFAULT_THRESHOLDS.get(signal) if threshold is None else threshold
    title = LABELS.get(signal, signal)
    data = table[["start", signal, "n_events"]]
    line = (
        alt.Chart(data)
        .mark_line(point=True, color="#3b6fd4")
        .encode(
            x=alt.X("start:T", title="Window start"), y=alt.Y(f"{signal}:Q", title=title), tooltip=list(data.columns)
        )
    )
    rule = alt.Chart(pd.DataFrame({"threshold": [limit]})).mark_rule(color="#c0392b", strokeDash=[5, 4])
    layers = [line] if limit is None else [line, rule.encode(y="threshold:Q")]
    return alt.layer(*layers, title=f"{title} vs reference").properties(width=420, height=220)


# -- freshness -------------------------------------------------------------------------
def freshness_chart(table: pd.DataFrame, *, metric: str = "ndcg", k: int | None = None) -> alt.Chart:
    """``metric`` per window over time, one line per strategy."""
    if metric not in table.columns:
        raise ConfigError(f"freshness_chart: metric {metric!r} is not among {list(table.columns)}")
    label = {"ndcg": "nDCG", "hit_rate": "Hit rate", "update_ms_per_1000": "Update ms per 1,000 events"}.get(
        metric, metric.replace("_", " ").capitalize()
    )
    title = f"{label}{f'@{k}' if k and metric in ('ndcg', 'hit_rate') else ''} per window"
    data = table[["start", "strategy", metric, "n_users", "n_events"]]
    return (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("start:T", title="Window start"),
            y=alt.Y(f"{metric}:Q", title=label),
            color=alt.Color("strategy:N", title="Strategy", sort=list(STRATEGIES)),
            tooltip=list(data.columns),
        )
        .properties(width=420, height=260)
    )


# -- tuning studies --------------------------------------------------------------------
def history_chart(study: optuna.Study, *, metric: str = "validation nDCG") -> alt.LayerChart:
    """Optimisation history: one dot per completed trial and the best-so-far line.

    >>> history_chart(study)  # doctest: +SKIP
    """
    frame = trials_frame(study)
    base = alt.Chart(frame).encode(x=alt.X("trial:Q", title="trial", axis=alt.Axis(format="d", tickMinStep=1)))
    dots = base.mark_circle(size=40, opacity=0.6).encode(
        y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
        tooltip=["trial:Q", alt.Tooltip("value:Q", format=".4f")],
    )
    line = base.mark_line(interpolate="step-after", color="firebrick").encode(y="best_so_far:Q")
    return (dots + line).properties(title="Optimisation history", width=420, height=260)


def importance_chart(study: optuna.Study, *, seed: int = 0) -> alt.Chart:
    """Bar chart of parameter importances (optuna's fANOVA evaluator, seeded).

    >>> importance_chart(study)  # doctest: +SKIP
    """
    frame = param_importances(study, seed=seed)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("importance:Q", title="share of explained variance of the objective"),
            y=alt.Y("parameter:N", sort="-x", title=None),
            tooltip=["parameter:N", alt.Tooltip("importance:Q", format=".3f")],
        )
        .properties(title="Parameter importances", width=420, height=160)
    )
