"""Shared by every test folder: this folder is on sys.path, so tests import ``reference``."""

from types import SimpleNamespace

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


@pytest.fixture(scope="session")
def explained_reranker() -> SimpleNamespace:
    """A small LightGBMReranker fitted on synthetic-small (``model``, ``data``) and, for its first 120 users
    (``users``), its top-10 SHAP contributions (``contrib``), feature values (``values``) and ``recs``."""
    from workbench.data import load_dataset
    from workbench.models.candidates import CandidateGenerator
    from workbench.models.rerank import LightGBMReranker

    data = load_dataset("synthetic-small")
    gen = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0)
    model = LightGBMReranker(gen, n_candidates=30, seed=0, n_folds=3, min_data_in_leaf=20).fit(data)
    users = pd.unique(data.interactions["user_id"])[:120]
    return SimpleNamespace(
        model=model,
        data=data,
        users=users,
        contrib=model.explain(users, k=10),
        values=model.feature_table(users, k=10),
        recs=model.recommend(users, k=10),
    )
