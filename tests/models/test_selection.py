"""workbench.models.selection: the default nDCG of top lists is the evaluation layer's, and a scorer plugs in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from workbench.errors import ConfigError
from workbench.evaluation import evaluate_per_user
from workbench.models.base import top_k
from workbench.models.selection import lists_ndcg, ndcg_of_lists


def lists_and_truth(seed: int, n_users: int = 40, n_items: int = 30, k: int = 5):
    rng = np.random.default_rng(seed)
    lists, _ = top_k(rng.random((n_users, n_items)), k)
    lists[::7, -2:] = -1  # short lists
    truth = sp.csr_matrix((rng.random((n_users, n_items)) < 0.15).astype(np.float32))
    return lists, truth


def frames(lists: np.ndarray, truth: sp.csr_matrix) -> tuple[pd.DataFrame, pd.DataFrame]:
    users, positions = np.nonzero(lists >= 0)
    recs = pd.DataFrame({"user_id": users, "item_id": lists[users, positions], "rank": positions + 1})
    coo = truth.tocoo()
    return recs, pd.DataFrame({"user_id": coo.row, "item_id": coo.col})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ndcg_of_lists_is_the_evaluation_layers_per_user(seed):
    lists, truth = lists_and_truth(seed)
    ours = ndcg_of_lists(lists, truth)
    theirs = evaluate_per_user(*frames(lists, truth), k=lists.shape[1]).set_index("user_id")["ndcg"]
    relevant = np.flatnonzero(truth.getnnz(axis=1) > 0)
    assert np.isnan(ours[truth.getnnz(axis=1) == 0]).all()
    np.testing.assert_array_equal(ours[relevant], theirs.reindex(relevant).to_numpy())  # the same floats


def test_lists_ndcg_with_and_without_a_scorer_agree_block_by_block():
    blocks = [lists_and_truth(seed, n_users=10 + 5 * seed) for seed in range(4)]
    blocks.append((np.full((3, 5), -1), sp.csr_matrix((3, 30))))  # no relevant item: NaN
    default, scored = lists_ndcg(blocks), lists_ndcg(blocks, evaluate_per_user)
    assert np.isnan(default[-1]) and np.isnan(scored[-1])
    assert default[:-1] == scored[:-1]
    for (lists, truth), mean in zip(blocks[:-1], default[:-1], strict=True):
        theirs = evaluate_per_user(*frames(lists, truth), k=lists.shape[1])["ndcg"].mean()
        assert mean == pytest.approx(theirs, rel=1e-12)


def test_a_scorer_returning_no_ndcg_is_a_config_error():
    blocks = [lists_and_truth(0)]
    with pytest.raises(ConfigError, match="column 'ndcg'"):
        lists_ndcg(blocks, lambda recs, truth, k: truth)
    with pytest.raises(ConfigError, match="a DataFrame"):
        lists_ndcg(blocks, lambda recs, truth, k: 0.5)
