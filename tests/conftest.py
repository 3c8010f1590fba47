"""Shared by every test folder: this folder is on sys.path, so tests import ``reference``."""

import pandas as pd
import pytest


@pytest.fixture
def contrib() -> pd.DataFrame:
    """SHAP contributions of four recommended rows in ``explain``'s columns (known answers): base 0.1 plus
    the features ``pop`` and ``als``, so the rows total -0.4, 0.6, 0.3 and 2.1."""
    return pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "item_id": ["a", "b", "a", "c"],
            "base_value": [0.1, 0.1, 0.1, 0.1],
            "pop": [0.5, -0.5, 0.2, 0.0],
            "als": [-1.0, 1.0, 0.0, 2.0],
        }
    )
