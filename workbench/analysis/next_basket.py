"""Buy again vs discover: how much of each model's next-basket quality comes from repeats.

After Li et al., "A Next Basket Recommendation Reality Check" (TOIS 2023): models that look
strong often just repeat the user's history, and the user's own purchase counts are a
baseline most published models fail to beat. :func:`buy_again_vs_discover` puts every
model's quality on repeat items and on explore items side by side, overall and per segment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from workbench import columns as C
from workbench.analysis.segments import activity_bands
from workbench.data.baskets import keep_basket_counts
from workbench.data.dataset import Dataset
from workbench.data.repeats import basket_by, bought_before, has_repeats, purchase_rows
from workbench.data.split import next_basket_split, single_basket_reason
from workbench.errors import DataError
from workbench.evaluation import evaluate_next_basket
from workbench.models import (
    ALSRecommender,
    LightGBMReranker,
    PopularityRecommender,
    RepeatRecommender,
    TIFUKNNRecommender,
    UPCFRecommender,
)

#: Columns of :func:`buy_again_vs_discover` after ``model, segment, users``.
FIGURES = (
    "ndcg",
    "recall",
    "ndcg_repeat",
    "ndcg_explore",
    "recall_repeat",
    "recall_explore",
    "repeat_share",
    "truth_repeat_share",
)
ALL = "all users"
#: Users with this many baskets take part in :func:`buy_again_study`, as the Reality Check's preprocessing.
BASKET_RANGE = (3, 50)


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
    bought = bought_before(history)  # read once for every model and segment
    for model, frame in recs.items():
        for segment, subset in groups:
            if len(subset) == 0:
                continue
            mine = frame[frame[C.USER].isin(subset[C.USER])]
            figures = evaluate_next_basket(mine, subset, bought, k=k)
            rows.append(
                {"model": model, "segment": segment, "users": subset[C.USER].nunique()}
                | {name: figures[name] for name in FIGURES}
            )
    return pd.DataFrame(rows, columns=["model", "segment", "users", *FIGURES])


#: The models of :func:`buy_again_study`: name -> (unfitted model from ``(n_candidates, n_folds, seed)``,
#: ``exclude_seen``). ALS is shown both ways: repeats excluded (the usual setting) and allowed. TIFU-KNN
#: and UP-CF@r, the published next-basket baselines, run with their default (untuned) settings.
STUDY_MODELS: dict[str, tuple[Callable[[int, int, int], object], bool]] = {
    "popularity": (lambda n, folds, seed: PopularityRecommender(), False),
    "buy again": (lambda n, folds, seed: RepeatRecommender(), False),
    "TIFU-KNN": (lambda n, folds, seed: TIFUKNNRecommender(), False),
    "UP-CF@r": (lambda n, folds, seed: UPCFRecommender(), False),
    "ALS, repeats excluded": (lambda n, folds, seed: ALSRecommender(seed=seed), True),
    "ALS": (lambda n, folds, seed: ALSRecommender(seed=seed), False),
    "re-ranker": (lambda n, folds, seed: LightGBMReranker(n_candidates=n, n_folds=folds, seed=seed), False),
}


@dataclass(frozen=True)
class BuyAgainStudy:
    """What :func:`buy_again_study` found: the split, each model's lists and the comparison table."""

    #: what a basket is: ``order``, ``session`` or ``day``
    by: str
    train: Dataset
    test: Dataset
    k: int
    recs: dict[str, pd.DataFrame]
    fit_seconds: dict[str, float]
    #: :func:`buy_again_vs_discover` over the models, for all users and by activity band
    table: pd.DataFrame
    #: the users' range of baskets (low, high) the study kept; None: every user
    baskets: tuple[int, int] | None = None

    def verdict(self, *, baseline: str = "buy again") -> str:
        """Which model wins on nDCG for all users, then which models beat the baseline and which lose
        to it, in words.

        >>> study.verdict()  # doctest: +SKIP
        'Best: re-ranker (nDCG@10 0.3102). Against buy again (0.2810): re-ranker (0.3102) beats it; ALS (0.2011),
        popularity (0.0990) lose to it.'
        """
        overall = self.table[self.table["segment"] == ALL].set_index("model")["ndcg"]
        base = overall[baseline]
        others = overall.drop(baseline).sort_values(ascending=False)
        parts = [
            f"{', '.join(f'{name} ({value:.4f})' for name, value in group.items())} {verbs[len(group) > 1]} it"
            for group, verbs in (
                (others[others > base], ("beats", "beat")),
                (others[others <= base], ("loses to", "lose to")),
            )
            if len(group)
        ]
        best = overall.idxmax()
        return f"Best: {best} (nDCG@{self.k} {overall[best]:.4f}). Against {baseline} ({base:.4f}): {'; '.join(parts)}."


def buy_again_study(
    ds: Dataset,
    *,
    k: int = 10,
    n_candidates: int = 100,
    n_folds: int = 5,
    seed: int = 0,
    baskets: tuple[int, int] | None = BASKET_RANGE,
) -> BuyAgainStudy:
    """Hold out each user's last basket and compare :data:`STUDY_MODELS` on it, repeats allowed.

    Baskets are purchases (the ``purchase`` rows of a log with events, every row of an order
    log), grouped by order, else session, else order number (when the timestamps are order
    numbers), else day (``workbench.data.repeats.basket_by``). Only users with ``baskets`` =
    (low, high) baskets take part (``keep_basket_counts``; None: every user), 3 to 50 as the
    Reality Check's preprocessing. Needs a log where some user bought some item twice (else there
    is nothing to buy again: a DataError says so) and timestamps; when no user is left, or none has
    a second basket, the DataError says what a basket was. Activity bands are tertiles of training
    purchases.

    >>> study = buy_again_study(shop, k=10)  # doctest: +SKIP
    >>> study.table[study.table.segment == "all users"]  # doctest: +SKIP
    """
    if not has_repeats(ds):
        raise DataError(
            "buy again vs discover: nobody bought an item twice in this log, so there is no repeat to study"
        )
    orders = ds.with_interactions(ds.interactions[purchase_rows(ds)])  # a basket is what was bought
    by = basket_by(orders)
    kept = orders if baskets is None else keep_basket_counts(orders, low=baskets[0], high=baskets[1], by=by)
    train, test = next_basket_split(kept, by=by)
    if len(test) == 0:
        if baskets is None or len(next_basket_split(orders, by=by)[1]) == 0:
            raise DataError(f"buy again vs discover: {single_basket_reason(orders, by)}, so none can be held out")
        raise DataError(
            f"buy again vs discover: no user has {baskets[0]} to {baskets[1]} baskets (a basket is one {by})"
        )
    users = test.interactions[C.USER].unique()
    recs, fit_seconds = {}, {}
    for name, (factory, exclude_seen) in STUDY_MODELS.items():
        start = time.perf_counter()
        model = factory(n_candidates, n_folds, seed).fit(train)
        fit_seconds[name] = time.perf_counter() - start
        recs[name] = model.recommend(users, k=k, exclude_seen=exclude_seen)
    segments = activity_bands(train, users, n_quantiles=3)
    table = buy_again_vs_discover(recs, test, train, k=k, segments=segments)
    return BuyAgainStudy(by, train, test, k, recs, fit_seconds, table, baskets)
