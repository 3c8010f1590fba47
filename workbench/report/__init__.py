"""Reports: Altair charts (``report.charts``: profile, models, audits; ``report.analysis_charts``: residuals,
SHAP, experiments, drift, freshness, tuning) and offline HTML pages (``report.render``).

Every chart of the workbench is built here. The names below are the supported API; each module is imported
on first use.

>>> from workbench.report import Report, peeking_chart  # doctest: +SKIP
"""

from workbench.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "render": ["Report", "IndexEntry", "write_index", "format_value", "readable"],
        "charts": [
            "bar_chart",
            "line_chart",
            "profile_charts",
            "shop_charts",
            "metric_comparison_chart",
            "distribution_chart",
            "selection_chart",
            "audit_chart",
            "audit_comparison_chart",
            "popularity_bias_chart",
            "exposure_chart",
        ],
        "analysis_charts": [
            "residual_chart",
            "calibration_chart",
            "importance_by_segment_chart",
            "beeswarm_chart",
            "dependence_chart",
            "waterfall_chart",
            "peeking_chart",
            "bandit_chart",
            "drift_chart",
            "freshness_chart",
            "history_chart",
            "importance_chart",
        ],
    },
)
