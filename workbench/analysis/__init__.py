"""Analysis on top of evaluation: segments, bias audits, residuals, explanations, experiments, freshness,
the live loop.

The names below are the supported API; each module is imported on first use. Their charts are drawn in
``workbench.report`` (``charts``, ``analysis_charts``): analysis imports no altair.

>>> from workbench.analysis import compare, by_group  # doctest: +SKIP
"""

from workbench.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "stats": [
            "bootstrap_ci",
            "bootstrap_group_means",
            "by_group",
            "GroupMetrics",
            "group_codes",
            "split_values",
            "MISSING",
        ],
        "segments": ["age_bands", "activity_bands", "cold_warm", "user_segments", "pair_segments", "segment_metrics"],
        # the audit function stays at workbench.analysis.audit.audit: the package attribute is the module
        "audit": ["Audit", "summary_flags", "PopularityBias", "popularity_bias", "exposure"],
        "residuals": [
            "residual_table",
            "residuals_by_segment",
            "worst_segments",
            "calibration_curve",
            "rating_predictions",
            "rating_residuals",
        ],
        "explain": [
            "feature_columns",
            "additivity_error",
            "global_importance",
            "importance_by_segment",
            "item_label",
            "item_labels",
            "with_item_names",
        ],
        "experiment": [
            "Comparison",
            "Conversions",
            "Peeking",
            "compare",
            "compare_many",
            "adjust_pvalues",
            "sample_size",
            "power",
            "simulate_conversions",
            "peeking_simulation",
            "peeking_curve",
        ],
        "bandits": ["rewards_table", "simulate_bandits", "policy_summary"],
        "next_basket": ["BuyAgainStudy", "buy_again_study", "buy_again_vs_discover"],
        "onboarding": ["reveal_first", "without_revealed", "onboarding_per_user"],
        "drift": ["jensen_shannon", "psi", "drift_table", "quality_drop", "drift_alerts"],
        "freshness": ["place_new_items", "time_cut", "replay_experiment", "freshness_summary"],
        "live": ["LiveLoop", "fit_initial", "broker_url", "live_note", "live_replay"],
    },
)
