"""Notebook 04 (two-stage re-ranking): candidate recall, re-ranker against the baselines, example lists,
buy again vs discover.

>>> run = rerank_run(ds, k=10, n_candidates=50, n_folds=3)  # doctest: +SKIP
>>> view = RerankView(run)  # doctest: +SKIP
>>> view.section("recall"), view.sections(buy_again_view(ds)), view.report("ml-100k")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench import columns as C
from workbench.analysis.experiment import Comparison, compare
from workbench.analysis.explain import with_item_names
from workbench.analysis.next_basket import BuyAgainStudy, buy_again_study
from workbench.data.dataset import Dataset
from workbench.data.repeats import has_repeats
from workbench.errors import DataError
from workbench.models import CandidateGenerator, LightGBMReranker, candidate_recall
from workbench.report import Report
from workbench.report.charts import line_chart, metric_comparison_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, page
from workbench.views.common import MODEL_LABELS, Fit, RerankerView, StandardRun, fit_model, standard_run

#: Seed of the candidate stage and the ranker.
SEED = 0
#: Candidate depths the recall table shows besides the re-ranker's own.
RECALL_DEPTHS = (10, 20, 50)
#: The candidate sources and the pool column flagging each one's items.
SOURCE_FLAGS = {"als": "in_als", "ease": "in_ease", "neighbours": "in_knn", "popularity": "in_popularity"}
#: How many test users' re-ranked lists the examples show.
EXAMPLE_USERS = 3
#: What a basket is, in words, by ``next_basket_split``'s ``by``.
BASKET_NAMES = {
    "order": "orders",
    "session": "sessions",
    "timestamp": "order numbers (a customer's distinct timestamps)",
    "day": "calendar days",
}
#: The single models the re-ranker is compared with.
SINGLE_MODELS = ("popularity", "als")


def reranker(*, n_candidates: int = 50, n_folds: int = 3, seed: int = SEED) -> LightGBMReranker:
    """The re-ranker of notebooks 04 and 06 (unfitted): ALS, EASE, neighbour and popularity candidates, labels
    from random holdouts, which mirror the random per-user test split. That test asks for items new to the
    user, so the next-basket sources (TIFU-KNN, UP-CF@r), whose lists are mostly repeats, are left to the
    buy-again study.

    >>> reranker(n_candidates=50, n_folds=3).n_candidates
    50
    """
    return LightGBMReranker(
        CandidateGenerator(seed=seed),
        n_candidates=n_candidates,
        n_folds=n_folds,
        holdout="random",
        seed=seed,
        basket_sources=False,
    )


def rerank_run(
    ds: Dataset, *, k: int = 10, n_candidates: int = 50, n_folds: int = 3, fit: Fit = fit_model
) -> StandardRun:
    """The standard run with the :func:`reranker` as a third model named ``reranker``.

    >>> rerank_run(ds, k=10).scores.index.tolist()  # doctest: +SKIP
    ['popularity', 'als', 'reranker']
    """
    extra = {"reranker": reranker(n_candidates=n_candidates, n_folds=n_folds)}
    return standard_run(ds, k=k, extra=extra, fit=fit)


@dataclass(frozen=True)
class RerankView(RerankerView, Sectioned):
    """What notebook 04 shows of a :func:`rerank_run`."""

    @cached_property
    def recall_long(self) -> pd.DataFrame:
        """Candidate recall@n of the fused pool and of each source's part of it: ``n, source, recall``."""
        n_candidates = self.model.n_candidates
        depths = sorted({depth for depth in RECALL_DEPTHS if depth < n_candidates} | {n_candidates})
        rows = []
        for n in depths:
            pool = self.model.candidates.candidates(self.run.test_users, k=n)
            rows.append({"n": n, "source": "fused", "recall": candidate_recall(pool, self.run.test, n)})
            for source, flag in SOURCE_FLAGS.items():
                rows.append({"n": n, "source": source, "recall": candidate_recall(pool[pool[flag]], self.run.test, n)})
        return pd.DataFrame(rows)

    @property
    def recall_table(self) -> pd.DataFrame:
        """:attr:`recall_long` as a row per depth, a column per source, fused last."""
        return self.recall_long.pivot(index="n", columns="source", values="recall")[[*SOURCE_FLAGS, "fused"]]

    @property
    def recall_chart(self) -> alt.Chart:
        return line_chart(self.recall_long, "n", "recall", color="source", title="Candidate recall@n by source")

    @property
    def comparison_chart(self) -> alt.Chart:
        return metric_comparison_chart(self.run.scores, title=f"Popularity vs ALS vs re-ranker, metrics @ {self.run.k}")

    @property
    def sources(self) -> str:
        """The candidate sources in words: the fused pool's, then the repeat sources when the log repeats."""
        words = "ALS + EASE + neighbours + popularity"
        if self.model.repeats_:
            words += " + buy again"
        if self.model.basket_models:
            words += " + TIFU-KNN + UP-CF@r"
        return words

    @property
    def best_single(self) -> str:
        """The single model with the highest mean nDCG."""
        return str(self.run.scores.loc[list(SINGLE_MODELS), "ndcg"].idxmax())

    @cached_property
    def paired(self) -> Comparison:
        """Re-ranker against :attr:`best_single`, per-user nDCG, paired bootstrap interval."""
        return compare(self.run.per_user[self.best_single], self.run.per_user["reranker"], seed=SEED)

    @property
    def verdict(self) -> str:
        """:attr:`paired` in words."""
        best = MODEL_LABELS.get(self.best_single, self.best_single)
        return self.paired.verdict(best, MODEL_LABELS["reranker"], metric=f"nDCG@{self.run.k}")

    @cached_property
    def examples(self) -> pd.DataFrame:
        """The re-ranked lists of the first :data:`EXAMPLE_USERS` test users, the sources that proposed each
        item (``in_*``), its rank in ALS's full ordering and ``moved`` = ALS rank - re-ranked rank."""
        users = self.run.test_users[:EXAMPLE_USERS]
        recs = self.run.recs["reranker"]
        pool = self.model.candidates.candidates(users, k=self.model.n_candidates)
        proposals = pool[[C.USER, C.ITEM, *SOURCE_FLAGS.values()]]
        als_order = self.run.models["als"].recommend(users, k=self.run.train.interactions[C.ITEM].nunique())
        examples = (
            recs[recs[C.USER].isin(users)]
            .merge(proposals, on=[C.USER, C.ITEM], how="left")
            .merge(
                als_order[[C.USER, C.ITEM, "rank"]].rename(columns={"rank": "als_rank"}),
                on=[C.USER, C.ITEM],
                how="left",
            )
        )
        examples["moved"] = examples["als_rank"] - examples["rank"]
        return with_item_names(examples, self.run.ds.items)

    @property
    def headline(self) -> dict[str, Any]:
        scores = self.run.scores["ndcg"]
        return {
            "ndcg_reranker": float(scores["reranker"]),
            "ndcg_als": float(scores["als"]),
            "ndcg_popularity": float(scores["popularity"]),
            "ndcg_gain_vs_best": float(self.paired.diff),
            "candidate_recall": float(self.recall_table.loc[self.model.n_candidates, "fused"]),
            "fit_seconds_reranker": float(self.model.fit_seconds_),
        }

    def sections(self, buy_again: BuyAgainView | None = None) -> list[Section]:
        """The page: the setup and headline numbers, the verdict against the best single model, candidate
        recall, metrics, fit times, example lists, then ``buy_again``'s sections when given (the notebook shows
        those from its own cell, which fits the buy-again models)."""
        run, model = self.run, self.model
        opening = (
            f"Trained on **{len(run.train):,}** interactions, the train part of the {run.describe()}; evaluated on "
            f"**{len(run.test_users):,}** test users at k = {run.k}. Re-ranker: **{model.n_candidates}** candidates "
            f"per user, **{model.n_folds}** holdout folds, {model.best_iteration_} boosting rounds."
        )
        return [
            Section("setup", None, (opening, Metrics(self.headline, k=run.k))),
            Section("verdict", "Against the best single model", (self.verdict,)),
            Section(
                "recall",
                "Candidate recall",
                (
                    "Recall of the first `n` fused candidates (the ceiling any re-ranker can reach at that depth), "
                    "and of the part of that pool each source put in (an item can come from several sources).",
                    Table(self.recall_table),
                    Chart(self.recall_chart),
                ),
            ),
            Section(
                "metrics",
                "Metrics",
                (
                    Table(run.scores, caption="Means over test users; a user without hits scores 0."),
                    Chart(self.comparison_chart),
                ),
            ),
            Section("fit_time", "Fit time", (Table(run.fit_seconds, caption="Wall-clock seconds on this machine."),)),
            Section(
                "examples",
                "Example re-ranked lists",
                (
                    f"The re-ranker's top items for the first {EXAMPLE_USERS} test users, with the sources that "
                    "proposed each one (`in_*`) and its rank in the ALS baseline's full ordering (`moved` = ALS rank "
                    "- re-ranked rank; above 0, the re-ranker lifted the item above its ALS position).",
                    Table(self.examples, max_rows=30),
                ),
            ),
            *(buy_again.sections() if buy_again is not None else []),
        ]

    def report(self, data_name: str, buy_again: BuyAgainView | None = None) -> Report:
        """The re-ranking page of the data set ``data_name``: :meth:`sections`, with the buy-again section when
        given."""
        description = f"{self.sources} candidates, re-ranked by LightGBM; {self.run.split_name}"
        return page(f"Two-stage re-ranking: {data_name}", description, self.sections(buy_again))


@dataclass(frozen=True)
class BuyAgainView(Sectioned):
    """The buy-again section of notebook 04: a :class:`BuyAgainStudy`, or None and why it does not apply."""

    study: BuyAgainStudy | None
    #: why the section does not apply (when ``study`` is None)
    reason: str = ""
    #: the lists' length
    k: int = 10

    @property
    def note(self) -> str:
        """What the study did and its verdict, or why it does not apply."""
        study = self.study
        if study is None:
            return f"Does not apply: {self.reason}."
        return (
            f"Baskets are {BASKET_NAMES[study.by]}; {study.test.interactions[C.USER].nunique():,} users"
            + (
                f" with {study.baskets[0]} to {study.baskets[1]} baskets (as the Reality Check keeps)"
                if study.baskets
                else ""
            )
            + f" have a held-out last basket, and {study.table['truth_repeat_share'].iloc[0]:.0%} of its items were bought before. "
            + study.verdict()
        )

    @property
    def overall(self) -> pd.DataFrame | None:
        """All users: nDCG, its repeat and explore parts and the repeat share, a row per model."""
        if self.study is None:
            return None
        table = self.study.table
        return table[table["segment"] == "all users"].set_index("model")[
            ["ndcg", "ndcg_repeat", "ndcg_explore", "repeat_share"]
        ]

    @property
    def chart(self) -> alt.Chart | None:
        if self.study is None:
            return None
        return metric_comparison_chart(self.overall, title=f"Next basket, @ {self.study.k}: repeat vs explore")

    def sections(self) -> list[Section]:
        """The buy-again section: what it compares, then the study's verdict, chart and table, or why it does
        not apply."""
        parts: tuple = (
            "In groceries, drugstores and pet food much of the next basket repeats earlier ones, and a user's own "
            "purchase counts are a baseline most published models fail to beat (Li et al., *A Next Basket "
            "Recommendation Reality Check*, TOIS 2023); TIFU-KNN (Hu et al., SIGIR 2020) and UP-CF@r (Faggioli et "
            "al., UMAP 2020), the published methods that do, stand beside it with their default settings. Here each "
            "user's last basket is held out and every model recommends with repeats allowed (ALS also without): "
            "quality on repeat items and on explore items (new to the user), and the repeat share of each model's "
            f"lists, for all users and by activity band, at k = {self.k} as in the Reality Check, whatever the k "
            "of the lists above. The section applies to logs where someone bought an item twice.",
            self.note,
        )
        if self.study is not None:
            caption = (
                "Last basket held out; _repeat / _explore: scored against the items bought before / new to the user; "
                "repeat_share: share of the list the user bought before. A model below 'buy again' loses to it."
            )
            parts += (Chart(self.chart), Table(self.study.table, caption=caption))
        return [Section("buy_again", "Buy again vs discover", parts)]


def buy_again_view(
    ds: Dataset, *, k: int = 10, n_candidates: int = 50, n_folds: int = 3, seed: int = SEED
) -> BuyAgainView:
    """:func:`buy_again_study` on ``ds`` when someone bought an item twice, else the section's note only.

    >>> buy_again_view(load_dataset("ml-100k")).note[:15]  # doctest: +SKIP
    'Does not apply:'
    """
    if not has_repeats(ds):
        return BuyAgainView(None, "nobody bought an item twice in this log, so there is nothing to buy again", k)
    if not ds.has_timestamps:
        return BuyAgainView(None, "the log has no timestamps, so there is no last basket to hold out", k)
    try:
        study = buy_again_study(ds, k=k, n_candidates=n_candidates, n_folds=n_folds, seed=seed)
    except DataError as exc:  # no user in the basket range, or none with a second basket
        return BuyAgainView(None, str(exc).removeprefix("buy again vs discover: "), k)
    return BuyAgainView(study, k=k)
