"""Package namespaces that import their modules on first use (PEP 562).

A package lists its supported names by module; ``import workbench.views`` stays cheap and
``from workbench.views import rerank_run`` imports only ``workbench.views.rerank``.

>>> __getattr__, __dir__, __all__ = lazy_exports("workbench.views", {"rerank": ["rerank_run"]})  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of ``package``, whose ``exports`` map a module name
    (relative to the package) to the names it supplies."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, list(where)
