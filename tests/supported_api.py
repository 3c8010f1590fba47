"""The modules whose ``__all__`` is the supported API: the sub-packages, and the modules notebooks use."""

#: Sub-packages: their ``__all__`` lists the supported names.
PACKAGES = (
    "workbench.data",
    "workbench.models",
    "workbench.evaluation",
    "workbench.analysis",
    "workbench.report",
    "workbench.views",
)
#: Where notebooks may import from.
NOTEBOOK_API = (*PACKAGES, "workbench.notebooks", "workbench.tracking", "workbench.tuning")
