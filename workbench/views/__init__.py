"""What the notebooks show: one view per notebook returns its named tables, charts and report.

Layer: views sit right of ``report`` (data -> models -> evaluation -> analysis -> report -> views);
notebooks call a view and display what it returns. The names below are the supported API; each
module is imported on first use.

>>> run = standard_run(load_dataset("synthetic-small"), k=10, seed=42)  # doctest: +SKIP
>>> audit_view(run).audit_table  # doctest: +SKIP
"""

from workbench.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "common": ["StandardRun", "standard_run", "fit_model", "Fit"],
        "profile": ["ProfileView", "profile_view"],
        "coldstart": [
            "ColdSplit",
            "cold_split",
            "coldstart_note",
            "ColdUsersView",
            "cold_users_view",
            "cold_items",
            "item_options",
            "NewItemsView",
            "new_items_view",
            "HybridView",
            "hybrid_view",
            "ColdStartPage",
            "coldstart_page",
            "coldstart_report",
        ],
        "als": ["AlsView", "als_view"],
        "rerank": ["RerankView", "rerank_run", "reranker", "BuyAgainView", "buy_again_view"],
        "residuals": ["ResidualsView", "residuals_run"],
        "explain": ["ExplainView", "Why"],
        "audit": ["AuditView", "audit_view", "audit_segments"],
        "experiments": [
            "ExperimentsView",
            "experiments_view",
            "tuned_als",
            "search_plan",
            "default_trials",
            "OnlinePlan",
            "online_plan",
            "simulate_peeking",
            "peeking_warning",
            "BanditStudy",
            "bandit_study",
            "experiments_report",
        ],
        "freshness": [
            "FreshnessView",
            "freshness_view",
            "freshness_note",
            "freshness_report",
            "NoReplay",
            "freshness_page",
        ],
    },
)
