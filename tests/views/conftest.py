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
