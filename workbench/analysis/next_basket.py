"""Buy again vs discover: how much of each model's next-basket quality comes from repeats.

After Li et al., "A Next Basket Recommendation Reality Check" (TOIS 2023): models that look
strong often just repeat the user's history, and the user's own purchase counts are a
baseline most published models fail to beat. :func:`buy_again_vs_discover` puts every
model's quality on repeat items and on explore items side by side, overall and per segment.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import DataError
from workbench.evaluation import evaluate_next_basket

#: Columns of :func:`buy_again_vs_discover` after ``model, segment, users``.
FIGURES = ("ndcg", "ndcg_repeat", "ndcg_explore", "recall_repeat", "recall_explore", "repeat_share", "truth_repeat_share")
ALL = "all users"


def buy_again_vs_discover(
    recs: Mapping[str, pd.DataFrame],
    truth: pd.DataFrame | Dataset,
    history: Dataset,
    *,
    k: int = 10,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per model and segment (``all users`` first): ``model, segment, users`` and
    :data:`FIGURES` from :func:`workbench.evaluation.evaluate_next_basket`.

    ``segments`` (indexed by user_id, e.g. ``activity_bands(train, test)``) splits the truth
    users; a truth user without a segment is counted in ``all users`` only.

    >>> buy_again_vs_discover({"repeat": repeat_recs, "als": als_recs}, test, train, k=10)  # doctest: +SKIP
    """
    pairs = truth.interactions if isinstance(truth, Dataset) else truth
    if C.USER not in getattr(pairs, "columns", []):
        raise DataError("buy_again_vs_discover: truth needs a 'user_id' column")
    groups = [(ALL, pairs)]
    if segments is not None:
        label = segments.reindex(pairs[C.USER].to_numpy())
        names = label.cat.categories if isinstance(label.dtype, pd.CategoricalDtype) else pd.unique(label.dropna())
        groups += [(str(name), pairs[(label == name).to_numpy()]) for name in names]
    rows = []
    for model, frame in recs.items():
        for segment, subset in groups:
            if len(subset) == 0:
                continue
            mine = frame[frame[C.USER].isin(subset[C.USER])]
            figures = evaluate_next_basket(mine, subset, history, k=k)
            rows.append({"model": model, "segment": segment, "users": subset[C.USER].nunique()}
                        | {name: figures[name] for name in FIGURES})
    return pd.DataFrame(rows, columns=["model", "segment", "users", *FIGURES])
