"""One synthetic-small standard run shared by the view tests."""

import pytest

from workbench.data import load_dataset
from workbench.views.common import standard_run


@pytest.fixture(scope="session")
def shop():
    return load_dataset("synthetic-small")


@pytest.fixture(scope="session")
def small_run(shop):
    return standard_run(shop, k=10)


@pytest.fixture(scope="session")
def rerank_small(shop):
    """The standard run plus the re-ranker (50 candidates, 3 folds), as notebooks 04 and 06 build it."""
    from workbench.views.rerank import rerank_run

    return rerank_run(shop, k=10, n_candidates=50, n_folds=3)
