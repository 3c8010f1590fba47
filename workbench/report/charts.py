"""Altair charts: the data profile's and the shop's charts, model selection, audits, popularity bias and
exposure, and small generic helpers (bars, lines).

Every chart gets aggregated data (under MAX_ROWS rows), a readable title and
axis labels, and the house size of WIDTH x HEIGHT.

>>> frame = pd.DataFrame({"model": ["pop", "als"], "ndcg": [0.1, 0.2]})
>>> chart = bar_chart(frame, "model", "ndcg", title="nDCG@10")
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from workbench.analysis.audit import Audit
from workbench.analysis.stats import group_labels
from workbench.data.profile import Profile
from workbench.errors import ConfigError, DataError

WIDTH = 420
HEIGHT = 260
MAX_ROWS = 5000
COLOR = "#3b6fd4"
MIX_LABELS = 15


def _label(column: str) -> str:
    return column.replace("_", " ").capitalize()


def _check(frame: pd.DataFrame, needed: list[str | None], title: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"chart {title!r}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in needed if c is not None and c not in frame.columns]
    if missing:
        raise ConfigError(f"chart {title!r}: column {missing[0]!r} is not among {list(map(str, frame.columns))[:12]}")
    if len(frame) > MAX_ROWS:
        raise ConfigError(f"chart {title!r}: {len(frame):,} rows is too many to draw; aggregate to under {MAX_ROWS:,}")
    return frame[[c for c in dict.fromkeys(needed) if c is not None]]


def _base(frame: pd.DataFrame, title: str) -> alt.Chart:
    return alt.Chart(frame, title=title).properties(width=WIDTH, height=HEIGHT)


def _x_type(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "T"
    return "Q" if pd.api.types.is_numeric_dtype(series.dtype) else "N"


def bar_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    error_low: str | None = None,
    error_high: str | None = None,
) -> alt.LayerChart:
    """Bars of ``y`` per category ``x`` (kept in the frame's order), with optional error bars.

    Always a layer chart (bars, plus a rule layer when errors are given): one return type.

    >>> frame = pd.DataFrame({"group": ["F", "M"], "ndcg": [0.2, 0.3], "lo": [0.1, 0.25], "hi": [0.3, 0.35]})
    >>> chart = bar_chart(frame, "group", "ndcg", title="nDCG by gender", error_low="lo", error_high="hi")
    """
    if (error_low is None) != (error_high is None):
        raise ConfigError(f"chart {title!r}: give both error_low and error_high, or neither")
    data = _check(frame, [x, y, error_low, error_high], title)
    order = list(dict.fromkeys(data[x].astype(str)))
    data = data.assign(**{x: data[x].astype(str)})
    x_axis = alt.X(f"{x}:N", sort=order, title=_label(x), axis=alt.Axis(labelAngle=-30, labelLimit=160))
    y_axis = alt.Y(f"{y}:Q", title=_label(y))
    marks = [alt.Chart().mark_bar(color=COLOR).encode(x=x_axis, y=y_axis, tooltip=list(data.columns))]
    if error_low is not None:
        marks.append(
            alt.Chart()
            .mark_rule(color="#1f2430", strokeWidth=1.5)
            .encode(x=x_axis, y=alt.Y(f"{error_low}:Q", title=_label(y)), y2=f"{error_high}:Q")
        )
    return alt.layer(*marks, data=data, title=title).properties(width=WIDTH, height=HEIGHT)


def line_chart(frame: pd.DataFrame, x: str, y: str, *, color: str | None = None, title: str) -> alt.Chart:
    """A line of ``y`` against ``x`` (time, number or category), one line per ``color`` value.

    >>> chart = line_chart(pd.DataFrame({"k": [1, 5, 10], "recall": [0.1, 0.3, 0.4]}), "k", "recall", title="Recall@k")
    """
    data = _check(frame, [x, y, color], title)
    encoding = {
        "x": alt.X(f"{x}:{_x_type(data[x])}", title=_label(x)),
        "y": alt.Y(f"{y}:Q", title=_label(y)),
        "tooltip": list(data.columns),
    }
    if color is not None:
        encoding["color"] = alt.Color(f"{color}:N", title=_label(color))
    mark = {"point": True} if color is not None or len(data) <= 60 else {}
    return _base(data, title).mark_line(**mark).encode(**encoding)


def _user_activity(p: Profile) -> alt.Chart:
    data = p.user_activity
    return (
        _base(data, "Interactions per user")
        .mark_rect(color=COLOR, stroke="white")
        .encode(
            x=alt.X("low:Q", scale=alt.Scale(type="log", base=2), title="Interactions per user (log scale)"),
            x2="next:Q",
            y=alt.Y("users:Q", title="Users"),
            y2="zero:Q",
            tooltip=[alt.Tooltip("label:N", title="Interactions"), "users", alt.Tooltip("share:Q", format=".1%")],
        )
        .transform_calculate(next="datum.high + 1", zero="0")
    )


def _item_popularity(p: Profile) -> alt.Chart:
    data = p.item_popularity
    return (
        _base(data, "Item popularity: the long tail")
        .mark_line(color=COLOR)
        .encode(
            x=alt.X("rank:Q", scale=alt.Scale(type="log"), title="Item rank by popularity (log scale)"),
            y=alt.Y("interactions:Q", scale=alt.Scale(type="log"), title="Interactions (log scale)"),
            tooltip=["rank", "interactions", alt.Tooltip("cumulative_share:Q", format=".1%", title="Cumulative share")],
        )
    )


def profile_charts(p: Profile) -> dict[str, alt.Chart | alt.LayerChart]:
    """The profile's charts by name: user_activity, item_popularity, activity_over_time,
    value_mix and one ``demographics_<column>`` per demographic (empty tables give no chart).

    >>> charts = profile_charts(profile(load_movielens_100k()))  # doctest: +SKIP
    >>> sorted(charts)[:2]  # doctest: +SKIP
    ['activity_over_time', 'demographics_age']
    """
    charts: dict[str, alt.Chart | alt.LayerChart] = {}
    if len(p.user_activity):
        charts["user_activity"] = _user_activity(p)
    if len(p.item_popularity):
        charts["item_popularity"] = _item_popularity(p)
    if len(p.activity_over_time):
        charts["activity_over_time"] = line_chart(
            p.activity_over_time, "period", "interactions", title="Interactions over time"
        )
    if len(p.value_mix):
        mix = p.value_mix.assign(value=p.value_mix["column"] + ": " + p.value_mix["value"])
        charts["value_mix"] = bar_chart(mix, "value", "share", title="Mix of events and rating values")
    for column, table in p.demographics.items():
        charts[f"demographics_{column}"] = bar_chart(table, "value", "users", title=f"Users by {column}")
    return charts


def _funnel(p: Profile) -> alt.LayerChart:
    data = p.funnel.assign(
        label=[f"{share:.0%} of viewers" if share == share else "" for share in p.funnel["users_from_views"]]
    )
    data = _check(data, ["stage", "users", "events", "users_from_previous", "users_from_views", "label"], "funnel")
    base = alt.Chart().encode(
        x=alt.X("stage:N", sort=list(data["stage"]), title="Stage", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("users:Q", title="Users"),
    )
    bars = base.mark_bar(color=COLOR).encode(
        tooltip=[
            "stage:N",
            "users:Q",
            "events:Q",
            alt.Tooltip("users_from_previous:Q", format=".1%", title="Users from previous stage"),
        ]
    )
    labels = base.mark_text(dy=-7, color="#1f2430").encode(text="label:N")
    title = "Funnel: users at each stage"
    return alt.layer(bars, labels, data=data, title=title).properties(width=WIDTH, height=HEIGHT)


def _label_mix(p: Profile, column: str, catalogue: int) -> alt.Chart:
    """Share of interactions beside share of the catalogue for the MIX_LABELS labels with most interactions."""
    mix = p.label_mix[p.label_mix["column"] == column].head(MIX_LABELS)
    long = pd.concat(
        [
            pd.DataFrame({"value": mix["value"], "measure": "interactions", "share": mix["share"]}),
            pd.DataFrame({"value": mix["value"], "measure": "catalogue", "share": mix["catalogue_items"] / catalogue}),
        ],
        ignore_index=True,
    )
    shown = f" (top {MIX_LABELS})" if (p.label_mix["column"] == column).sum() > MIX_LABELS else ""
    title = f"{_label(column)}: share of interactions and of the catalogue{shown}"
    long = _check(long, ["value", "measure", "share"], title)
    return (
        _base(long, title)
        .mark_bar()
        .encode(
            x=alt.X("value:N", sort=list(mix["value"]), title=_label(column), axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("measure:N", sort=["interactions", "catalogue"]),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color("measure:N", title="Share of", sort=["interactions", "catalogue"]),
            tooltip=["value:N", "measure:N", alt.Tooltip("share:Q", format=".1%")],
        )
    )


def _spend_mix(p: Profile, column: str) -> alt.Chart:
    """Share of all spend of the MIX_LABELS labels of ``column`` with most spend (as the table orders them)."""
    spend = p.spend[p.spend["column"] == column]
    shown = f" (top {MIX_LABELS})" if len(spend) > MIX_LABELS else ""
    title = f"{_label(column)}: share of spend{shown}"
    data = _check(
        spend.head(MIX_LABELS), [c for c in ("value", "spend", "share", "orders", "users") if c in spend], title
    )
    return (
        _base(data, title)
        .mark_bar(color=COLOR)
        .encode(
            x=alt.X("value:N", sort=list(data["value"]), title=_label(column), axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("share:Q", title="Share of spend", axis=alt.Axis(format="%")),
            tooltip=[
                "value:N",
                alt.Tooltip("spend:Q", format=",.2f"),
                alt.Tooltip("share:Q", format=".1%"),
                *(["orders:Q"] if "orders" in data else []),
                "users:Q",
            ],
        )
    )


def shop_charts(p: Profile) -> dict[str, alt.Chart | alt.LayerChart]:
    """The shop's charts by name: ``funnel``, one ``mix_<column>`` per label column (category, genres,
    department, brand; top MIX_LABELS labels), ``basket_sizes`` and one ``spend_<column>`` per label column
    when the log has spend; sections that do not apply give no chart.

    >>> sorted(shop_charts(profile(make_ecommerce(300, 200, 5_000, seed=0))))  # doctest: +SKIP
    ['basket_sizes', 'funnel', 'mix_brand', 'mix_category']
    """
    charts: dict[str, alt.Chart | alt.LayerChart] = {}
    if len(p.funnel):
        charts["funnel"] = _funnel(p)
    catalogue = int(p.to_dict().get("items_in_table", 0))
    for column in dict.fromkeys(p.label_mix["column"]) if catalogue else ():
        charts[f"mix_{column}"] = _label_mix(p, column, catalogue)
    if len(p.basket_sizes):
        charts["basket_sizes"] = bar_chart(p.basket_sizes, "items", "orders", title="Distinct items per order")
    for column in dict.fromkeys(p.spend["column"]):
        charts[f"spend_{column}"] = _spend_mix(p, column)
    return charts


def metric_comparison_chart(scores: pd.DataFrame, *, title: str = "Metrics by model") -> alt.Chart:
    """Grouped bars of metric means; ``scores`` has one row per model (index) and one column per metric.

    >>> metric_comparison_chart(pd.DataFrame({"ndcg": [0.1, 0.2]}, index=["popularity", "als"]))  # doctest: +SKIP
    """
    model = scores.index.name or "model"
    long = scores.rename_axis(model).reset_index().melt(id_vars=model, var_name="metric", value_name="value")
    long = _check(long, [model, "metric", "value"], title)
    return (
        _base(long, title)
        .mark_bar()
        .encode(
            x=alt.X("metric:N", title=None, sort=list(map(str, scores.columns)), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset(f"{model}:N", sort=list(map(str, scores.index))),
            y=alt.Y("value:Q", title="Mean over users"),
            color=alt.Color(f"{model}:N", title=_label(model), sort=list(map(str, scores.index))),
            tooltip=[f"{model}:N", "metric:N", alt.Tooltip("value:Q", format=".4f")],
        )
    )


def distribution_chart(
    frame: pd.DataFrame, column: str, *, color: str | None = None, bins: int = 20, title: str
) -> alt.Chart:
    """Histogram of ``frame[column]`` as the share of rows per bin, one series per ``color`` group.

    Binned in pandas first, so any number of rows draws a small chart.

    >>> distribution_chart(per_user, "ndcg", color="model", title="Per-user nDCG@10")  # doctest: +SKIP
    """
    _check(frame.head(0), [column, color], title)
    values = frame[column].astype(float)
    low, high = min(float(values.min()), 0.0), max(float(values.max()), 1e-9)
    edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    groups = frame[color].astype(str) if color else pd.Series("all", index=frame.index, name="series")
    binned = pd.cut(values, edges, include_lowest=True, labels=edges[:-1])
    shares = pd.crosstab(binned, groups, normalize="columns", dropna=False).stack().rename("share").reset_index()
    shares.columns = ["bin_start", groups.name, "share"]
    shares["bin_start"] = shares["bin_start"].astype(float)
    shares["bin_end"] = shares["bin_start"] + (high - low) / bins
    shares = _check(shares, ["bin_start", "bin_end", groups.name, "share"], title)
    order = list(pd.unique(groups))  # series colours follow first appearance, as in the other charts
    series = (
        {"color": alt.Color(f"{groups.name}:N", title=_label(groups.name), sort=order)}
        if color
        else {"color": alt.value(COLOR)}
    )
    return (
        _base(shares, title)
        .mark_bar(opacity=0.6, binSpacing=0)
        .encode(
            x=alt.X("bin_start:Q", bin="binned", title=_label(column)),
            x2="bin_end:Q",
            y=alt.Y("share:Q", title="Share", stack=None, axis=alt.Axis(format="%")),
            tooltip=[
                f"{groups.name}:N",
                alt.Tooltip("bin_start:Q", format=".3f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
            **series,
        )
    )


def selection_chart(selection: pd.DataFrame) -> alt.Chart:
    """Line chart of ``ClusterColdStart.selection_``: nDCG, silhouette and BIC against n_clusters.

    >>> selection_chart(model.selection_)  # doctest: +SKIP
    """
    missing = [c for c in ("n_clusters", "ndcg", "silhouette", "bic") if c not in selection.columns]
    if missing:
        raise DataError(f"selection_chart: column {missing[0]!r} is missing (pass ClusterColdStart.selection_)")
    long = selection.melt(id_vars="n_clusters", value_vars=["ndcg", "silhouette", "bic"], var_name="measure")
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("n_clusters:O", title="clusters"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            row=alt.Row("measure:N", title=None),
            tooltip=["n_clusters", "measure", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=320, height=110, title="Choosing the number of user clusters")
        .resolve_scale(y="independent")
    )


def audit_chart(result: Audit, metric: str) -> alt.LayerChart:
    """Bar per group (faded when small) with its bootstrap interval and the overall mean as a rule (:meth:`Audit.chart`).

    >>> audit_chart(audit(per_user, segments), "ndcg")  # doctest: +SKIP
    """
    if metric not in result.metrics:
        raise ConfigError(f"chart: unknown metric {metric!r}; the audit has {result.metrics}")
    segment = ", ".join(result.segment_names)
    data = pd.DataFrame(
        {
            "group": group_labels(result.by_group.index, with_names=False),
            "mean": result.by_group[metric].to_numpy(),
            "lower": result.ci[(metric, "lower")].to_numpy(),
            "upper": result.ci[(metric, "upper")].to_numpy(),
            "count": result.by_group["count"].to_numpy(),
            "small": result.by_group["small"].to_numpy(),
        }
    )
    x = alt.X("group:N", sort=None, title=segment)
    tooltip = ["group:N", alt.Tooltip("mean:Q", format=".4f"), "lower:Q", "upper:Q", "count:Q", "small:N"]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=metric),
            opacity=alt.condition("datum.small", alt.value(0.35), alt.value(0.9)),
            tooltip=tooltip,
        )
    )
    whiskers = alt.Chart(data).mark_errorbar(ticks=True).encode(x=x, y=alt.Y("lower:Q", title=metric), y2="upper:Q")
    overall = (
        alt.Chart(pd.DataFrame({"overall": [float(result.overall[metric])]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(y="overall:Q")
    )
    title = f"{metric} by {segment} ({result.level:.0%} bootstrap CI; dashed: overall)"
    return alt.layer(bars, whiskers, overall).properties(title=title)


def audit_comparison_chart(audits: Mapping[str, Audit], metric: str) -> alt.HConcatChart:
    """One segment's :func:`audit_chart` per model side by side, on a shared y axis.

    >>> audit_comparison_chart({"popularity": pop_audit, "als": als_audit}, "ndcg")  # doctest: +SKIP
    """

    def titled(model: str, result: Audit) -> alt.LayerChart:
        chart = audit_chart(result, metric)
        width = min(440, max(200, 28 * len(result.by_group)))
        return chart.properties(title=f"{model}: {chart.title}", width=width, height=220)

    return alt.hconcat(*(titled(model, result) for model, result in audits.items())).resolve_scale(y="shared")


def popularity_bias_chart(bias: pd.DataFrame, *, k: int) -> alt.Chart:
    """Bars of each popularity-bias measure (a panel each) per model; ``bias`` has a row per model.

    >>> popularity_bias_chart(pd.DataFrame({"arp": [9.0, 4.0]}, index=["popularity", "als"]), k=10)  # doctest: +SKIP
    """
    models = list(bias.index)
    long = bias.rename_axis("model").reset_index().melt(id_vars="model", var_name="measure")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("model:N", title=None, sort=models, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("model:N", sort=models),
            column=alt.Column("measure:N", title=None, sort=list(bias.columns)),
            tooltip=["model:N", "measure:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=110, height=180, title=f"Popularity bias of the top {k}")
        .resolve_scale(y="independent")
    )


def exposure_chart(exposure: pd.DataFrame, attribute: str, *, k: int) -> alt.LayerChart:
    """Recommendation share over training share per value of ``attribute``, a bar per model, 1 dashed.

    ``exposure``: :func:`workbench.analysis.audit.exposure` rows of every model with a ``model`` column.

    >>> exposure_chart(table, "category", k=10)  # doctest: +SKIP
    """
    _check(exposure.head(0), [attribute, "model", "ratio", "rec_share", "train_share"], "exposure")
    models = list(pd.unique(exposure["model"]))
    bars = (
        alt.Chart(exposure)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{attribute}:N",
                sort=list(pd.unique(exposure[attribute])),
                title=attribute,
                axis=alt.Axis(labelAngle=-45),
            ),
            xOffset=alt.XOffset("model:N", sort=models),
            y=alt.Y("ratio:Q", title="share of recommendations / share of training"),
            color=alt.Color("model:N", sort=models),
            tooltip=[
                f"{attribute}:N",
                "model:N",
                alt.Tooltip("rec_share:Q", format=".1%"),
                alt.Tooltip("train_share:Q", format=".1%"),
                alt.Tooltip("ratio:Q", format=".2f"),
            ],
        )
    )
    parity = alt.Chart(pd.DataFrame({"ratio": [1.0]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="ratio:Q")
    return alt.layer(bars, parity).properties(
        width=560, height=240, title=f"Exposure by {attribute} in the top {k} (1 = as often as in training)"
    )
