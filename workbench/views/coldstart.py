"""Notebook 02 (cold start): demographic favourites vs popularity for new users, content neighbours for
new items, and the hybrid switch by segment.

New users get the favourites of :class:`ClusterColdStart`: their cluster's (``favourites="clusters"``)
or a ridge regression of the item columns on their demographics (``favourites="ridge"``); the model's
rows, headline keys and prose carry that name (:data:`MODEL_NAMES`).

>>> split = cold_split(ds)  # doctest: +SKIP
>>> users = cold_users_view(split, method="kmeans", favourites="ridge", k=10)  # doctest: +SKIP
>>> users.name, users.verdict, users.onboarding  # doctest: +SKIP
>>> items = new_items_view(split, ContentSimilarity().fit(ds), cold_items(split)[0], k=10)  # doctest: +SKIP
>>> hybrid = hybrid_view(split, method="kmeans", favourites="ridge", min_interactions=5, k=10)  # doctest: +SKIP
>>> view = coldstart_page(users, items, hybrid, split)  # doctest: +SKIP
>>> view.section("cold_users"), view.report("synthetic-small")  # doctest: +SKIP

Each view lays out its own sections; :func:`coldstart_page` puts them in the page's order (:data:`PAGE`), with a
section saying why for each view that does not apply to the data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.experiment import Comparison, compare
from workbench.analysis.explain import item_label, item_labels, with_item_names
from workbench.analysis.onboarding import onboarding_per_user
from workbench.analysis.segments import segment_metrics
from workbench.data.dataset import Dataset
from workbench.data.split import cold_user_split, stratified_split
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate_per_user, summarize
from workbench.guards import positive_int
from workbench.models import (
    ALSRecommender,
    ClusterColdStart,
    ContentSimilarity,
    HybridRecommender,
    PopularityRecommender,
)
from workbench.models.coldstart import SELECTION_FOLDS, SELECTION_K
from workbench.models.demographics import demographic_columns
from workbench.report import Report
from workbench.report.charts import metric_comparison_chart, selection_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, page
from workbench.views.common import MODEL_SEED, RATIO, SPLIT_SEED, shares

#: Share of users held out entirely, and the seed that picks them.
COLD_FRACTION = 0.2
COLD_SEED = 0
#: Top items per cluster in the profiles.
PROFILE_TOP = 5
#: Onboarding: how many first interactions of each cold user are revealed to the model.
ONBOARDING_FIRST = (1, 3)
#: Seed of the paired bootstrap intervals.
BOOT_SEED = 0
#: ``ClusterColdStart(favourites=...)`` -> the model's name in tables, headline keys and prose.
MODEL_NAMES = {"clusters": "clusters", "ridge": "ridge"}
#: The favourites in a phrase (card labels, headings).
FAVOURITES_LABEL = {"clusters": "cluster favourites", "ridge": "ridge favourites"}
#: What each kind of favourites is, in words (report prose).
FAVOURITES_TEXT = {
    "clusters": "each user gets their demographic cluster's favourites (interaction shares shrunk toward "
    "global popularity)",
    "ridge": "each user gets the favourites of a closed-form ridge regression of the item columns on their "
    "demographics (penalty chosen on warm users held out as if cold); the clusters are still shown below",
}
#: Captions of the cluster and ridge-penalty selection tables.
SELECTION_CAPTION = (
    f"nDCG@{SELECTION_K} of cluster favourites for warm users held out as if cold ({SELECTION_FOLDS} folds); "
    "higher silhouette and lower BIC mean tighter clusters."
)
RIDGE_CAPTION = f"nDCG@{SELECTION_K} of the ridge favourites for the same held-out warm users, per penalty."
ONBOARDING_TITLE = "Onboarding: the first interactions of a new user"
#: The page's sections in order: the split (the page's opening), the cold users' four, new items, the hybrid.
PAGE = ("split", "cold_users", "clusters", "profiles", "onboarding", "new_items", "hybrid")


def model_name(model: ClusterColdStart) -> str:
    """The name of ``model``'s rows: ``clusters`` or ``ridge``, after its favourites.

    >>> model_name(ClusterColdStart(favourites="ridge"))
    'ridge'
    """
    return MODEL_NAMES[model.favourites]


def coldstart_note(ds: Dataset) -> str:
    """Why the cold users and the hybrid switch do not apply to ``ds`` (they cluster users on demographics), in
    words; empty when they do.

    >>> coldstart_note(Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [2]})))[:40]
    'No demographics: the data set has no use'
    """
    if ds.users is None or len(ds.users) == 0:
        return (
            "No demographics: the data set has no users table, and clustering new users needs one "
            "(pass it with --users)."
        )
    numeric, categorical = demographic_columns(ds.users)
    if not numeric and not categorical:
        return (
            f"No demographics: the users table has no usable demographic column (its columns "
            f"{list(map(str, ds.users.columns))[:12]} are all missing or id-like), and clustering new users needs one."
        )
    return ""


@dataclass(frozen=True)
class ColdSplit(Sectioned):
    """A share of users held out with all their interactions; built by :func:`cold_split`."""

    ds: Dataset
    train: Dataset
    test: Dataset
    fraction: float
    seed: int

    @property
    def cold_users(self) -> np.ndarray:
        """The held-out users."""
        return self.test.interactions[C.USER].unique()

    def users_note(self) -> str:
        """Why the cold users and the hybrid switch do not apply (:func:`coldstart_note`); empty when they do."""
        return coldstart_note(self.ds)

    @property
    def headline(self) -> dict[str, Any]:
        """What the page's headline holds when the users section does not apply: the number of cold users."""
        return {"cold_users": int(len(self.cold_users))}

    def items_note(self) -> str:
        """Why the new-items section does not apply, in words; empty when it does."""
        if self.ds.items is None or self.ds.items.empty:
            return "New items do not apply: the data set has no items table, so items have no content to compare."
        return ""

    def describe(self) -> str:
        """The split in words, e.g. ``20%, seed 0``."""
        return f"{self.fraction:.0%}, seed {self.seed}"

    def sections(self) -> list[Section]:
        """The page's opening: who is held out, and what the warm users train on."""
        warm = self.train.interactions[C.USER].nunique()
        return [
            Section(
                "split",
                None,
                (
                    f"**{len(self.cold_users):,}** cold users ({self.describe()}) are held out with their "
                    f"**{len(self.test):,}** interactions; **{warm:,}** warm users train on **{len(self.train):,}**.",
                ),
            )
        ]


def cold_split(ds: Dataset, *, fraction: float = COLD_FRACTION, seed: int = COLD_SEED) -> ColdSplit:
    """Hold out ``fraction`` of the users of ``ds`` (their demographics stay). Without demographics the split
    still serves the new-items section; :meth:`ColdSplit.users_note` says why the users sections do not apply.

    >>> cold_split(ds).cold_users[:3]  # doctest: +SKIP
    """
    train, test = cold_user_split(ds, fraction=fraction, seed=seed)
    return ColdSplit(ds, train, test, fraction, seed)


@dataclass(frozen=True)
class ColdUsersView(Sectioned):
    """The cold-start model (cluster or ridge favourites) vs popularity for the held-out users; built by
    :func:`cold_users_view`."""

    split: ColdSplit
    cluster_model: ClusterColdStart
    k: int
    popularity_model: PopularityRecommender

    @property
    def name(self) -> str:
        """The cold-start model's name in every table, key and sentence: ``clusters`` or ``ridge``."""
        return model_name(self.cluster_model)

    def at_k(self, k: int) -> ColdUsersView:
        """The same fitted models with top-``k`` lists; itself when ``k`` is its own. Changing k in the
        notebook does not fit again.

        >>> users.at_k(20).k  # doctest: +SKIP
        20
        """
        k = positive_int(k, "k")
        return self if k == self.k else replace(self, k=k)

    @cached_property
    def cold_recs(self) -> dict[str, pd.DataFrame]:
        """:attr:`name` and ``popularity`` -> top-k lists of the cold users."""
        models = {self.name: self.cluster_model, "popularity": self.popularity_model}
        return {name: model.recommend(self.split.cold_users, k=self.k) for name, model in models.items()}

    @property
    def favourites(self) -> str:
        """The favourites of the cold-start model in words."""
        return FAVOURITES_TEXT[self.cluster_model.favourites]

    @property
    def selection(self) -> pd.DataFrame:
        """nDCG, silhouette and BIC per number of clusters."""
        return self.cluster_model.selection_

    def choice(self) -> str:
        """The chosen number of clusters (and ridge penalty) and why, in words."""
        n = self.cluster_model.n_clusters_
        text = f"Chosen: **{n} clusters** (highest nDCG@{SELECTION_K} of held-out warm users with cluster favourites)."
        if self.ridge_selection is not None:
            text += (
                f" Ridge favourites: penalty **{self.cluster_model.ridge_penalty_:g}** pseudo-users (highest "
                f"nDCG@{SELECTION_K} of the same held-out warm users)."
            )
        return text

    @property
    def ridge_selection(self) -> pd.DataFrame | None:
        """nDCG per ridge penalty on the held-out warm users; None with cluster favourites."""
        return self.cluster_model.ridge_selection_

    @property
    def selection_plot(self) -> alt.Chart:
        """The selection table as lines."""
        return selection_chart(self.selection)

    @property
    def profiles(self) -> pd.DataFrame:
        """A row per cluster: size, demographics and its top items by name, ``; `` apart."""
        table = self.cluster_model.profiles(top=PROFILE_TOP)
        items = self.split.ds.items
        table["top_items"] = ["; ".join(item_labels(ids, items)) for ids in table["top_items"]]  # names may hold commas
        return table

    @cached_property
    def cold_per_user(self) -> dict[str, pd.DataFrame]:
        """Per-user metrics of each model on the cold users."""
        test = self.split.test
        return {name: evaluate_per_user(frame, test, k=self.k) for name, frame in self.cold_recs.items()}

    @property
    def cold_scores(self) -> pd.DataFrame:
        """Means over the cold users, a row per model."""
        return summarize(self.cold_per_user)

    @property
    def ndcg_ratio(self) -> float:
        """nDCG of the cold-start model (:attr:`name`) over nDCG of popularity."""
        scores = self.cold_scores
        return float(scores.loc[self.name, "ndcg"] / scores.loc["popularity", "ndcg"])

    @cached_property
    def paired(self) -> Comparison:
        """Per-user paired difference of nDCG, the model - popularity, on the cold users, with its bootstrap interval."""
        per_user = self.cold_per_user
        return compare(per_user["popularity"], per_user[self.name], metric="ndcg", seed=BOOT_SEED)

    @property
    def verdict(self) -> str:
        """The paired difference in one sentence."""
        return self.paired.verdict("popularity", self.name, metric=f"nDCG@{self.k}")

    @cached_property
    def onboarding_per_user(self) -> dict[int, dict[str, pd.DataFrame]]:
        """For each count of revealed first items: per-user metrics on the remaining items (:func:`onboarding_per_user`)."""
        return {
            n: onboarding_per_user(self.cluster_model, self.popularity_model, self.split.test, n=n, k=self.k)
            for n in ONBOARDING_FIRST
        }

    @property
    def onboarding(self) -> pd.DataFrame:
        """A row per revealed count and model: users, nDCG on the remaining items, its ratio to popularity
        and the per-user paired difference with popularity with its interval."""
        rows = []
        for n, per_user in self.onboarding_per_user.items():
            base = per_user["popularity"]
            for name, table in per_user.items():
                paired = compare(base, table, metric="ndcg", seed=BOOT_SEED) if name != "popularity" else None
                rows.append(
                    {
                        "first_items": n,
                        "model": name,
                        "users": len(table),
                        "ndcg": float(table["ndcg"].mean()),
                        "ratio_to_popularity": float(table["ndcg"].mean() / base["ndcg"].mean()),
                        "gain_vs_popularity": paired.diff if paired else 0.0,
                        "ci_low": paired.ci_low if paired else np.nan,
                        "ci_high": paired.ci_high if paired else np.nan,
                    }
                )
        return pd.DataFrame(rows)

    @property
    def cold_chart(self) -> alt.Chart:
        """Metrics of both models side by side."""
        title = f"Cold users: {self.name} vs popularity, metrics @ {self.k}"
        return metric_comparison_chart(self.cold_scores, title=title)

    @property
    def by_cluster(self) -> pd.DataFrame:
        """The model's metrics (:attr:`name`) per cluster the cold users' demographics assign them to."""
        users = self.split.ds.users.reindex(self.split.cold_users)
        clusters = self.cluster_model.assign(users).astype(str)
        return segment_metrics(self.cold_per_user[self.name], clusters).rename(columns={"segment": "cluster"})

    @property
    def headline(self) -> dict[str, Any]:
        """``ndcg_<name>`` (e.g. ``ndcg_ridge``) and ``ndcg_popularity``, their ratio
        (``ndcg_ratio_to_popularity``), the per-user paired gain of the model (``ndcg_gain_over_popularity``),
        the number of clusters and of cold users. The ratio and gain keys name no model, so their
        generic labels stay true for either favourites."""
        scores = self.cold_scores
        return {
            f"ndcg_{self.name}": float(scores.loc[self.name, "ndcg"]),
            "ndcg_popularity": float(scores.loc["popularity", "ndcg"]),
            "ndcg_ratio_to_popularity": self.ndcg_ratio,
            "ndcg_gain_over_popularity": float(self.paired.diff),
            "n_clusters": int(self.cluster_model.n_clusters_),
            "cold_users": int(len(self.split.cold_users)),
        }

    @property
    def cards(self) -> dict[str, Any]:
        """The headline with the model-named entries labelled in words (e.g. ``nDCG@10, ridge favourites``)."""
        labels = {
            f"ndcg_{self.name}": f"nDCG@{self.k}, {FAVOURITES_LABEL[self.cluster_model.favourites]}",
            "ndcg_ratio_to_popularity": f"nDCG@{self.k} ratio, {self.name} / popularity",
            "ndcg_gain_over_popularity": f"nDCG@{self.k} gain of {self.name} over popularity, per user",
        }
        return {labels.get(key, key): value for key, value in self.headline.items()}

    def sections(self) -> list[Section]:
        """The cold users' sections: the scores against popularity, the choice of clusters, their profiles and
        onboarding."""
        return list(self._sections)

    @cached_property
    def _sections(self) -> tuple[Section, ...]:
        model, name, headline = self.cluster_model, self.name, self.headline
        summary = (
            f"Users are clustered with **{model.method}** on demographics. Favourites (**{name}**): "
            f"{self.favourites}. nDCG@{self.k} of the cold users: {name} **{headline[f'ndcg_{name}']:.4f}** vs "
            f"popularity **{headline['ndcg_popularity']:.4f}**, a ratio of **{self.ndcg_ratio:.3f}**."
        )
        ridge = () if self.ridge_selection is None else (Table(self.ridge_selection, caption=RIDGE_CAPTION),)
        top = "top items" if name == "clusters" else "ridge favourites at its mean demographics"
        profiles = (
            f"Mean of numeric columns, most common value (with its share) of categorical ones, the cluster's {top}."
        )
        onboarding = (
            f"Each cold user's first {' or '.join(map(str, ONBOARDING_FIRST))} items (by time) are revealed, as if "
            "given in the first minutes after sign-up. The cold-start model adds their similarity to those items "
            "(co-occurrence cosine in the training log); every model is scored on the same remaining items and never "
            "lists the revealed ones."
        )
        gain = "gain: per-user paired nDCG difference with popularity, with its 95% bootstrap interval."
        scores = (
            summary,
            Metrics(self.cards, k=self.k),
            Table(self.cold_scores, caption="Means over the held-out users, who had no interactions in training."),
            self.verdict,
            Chart(self.cold_chart),
            Table(self.by_cluster, caption="Cold users by the cluster their demographics assign them to."),
        )
        choice = (self.choice(), Table(self.selection, caption=SELECTION_CAPTION), Chart(self.selection_plot), *ridge)
        return (
            Section("cold_users", f"Cold users: {name} vs popularity", scores),
            Section("clusters", "Choosing the number of clusters", choice),
            Section(
                "profiles",
                f"Cluster profiles ({model.n_clusters_} clusters)",
                (Table(self.profiles, caption=profiles),),
            ),
            Section("onboarding", ONBOARDING_TITLE, (onboarding, Table(self.onboarding, caption=gain))),
        )


def cold_users_view(
    split: ColdSplit, *, method: str = "kmeans", favourites: str = "clusters", k: int = 10
) -> ColdUsersView:
    """Fit :class:`ClusterColdStart` (``method``, ``favourites``: ``clusters`` or ``ridge``) and popularity on
    ``split.train``; recommend ``k`` to the cold users.

    >>> cold_users_view(cold_split(ds), method="gmm", favourites="ridge").cold_scores  # doctest: +SKIP
    """
    if split.users_note():
        raise DataError(split.users_note())
    cluster_model = ClusterColdStart(
        method=method, favourites=favourites, seed=MODEL_SEED, scorer=evaluate_per_user
    ).fit(split.train)
    return ColdUsersView(split, cluster_model, positive_int(k, "k"), PopularityRecommender().fit(split.train))


def cold_items(split: ColdSplit) -> pd.Index:
    """Items of the items table without training interactions (empty without an items table)."""
    items = split.ds.items
    if items is None:
        return pd.Index([])
    return items.index.difference(pd.Index(split.train.interactions[C.ITEM].unique()), sort=False)


def item_options(split: ColdSplit) -> dict[str, Any]:
    """Label -> id of the items to pick from: those without interactions, else every item.

    >>> next(iter(item_options(split)))  # doctest: +SKIP
    'Trail Mug (item p7)'
    """
    items = split.ds.items
    if items is None:
        return {}
    cold = cold_items(split)
    pool = cold if len(cold) else items.index
    return dict(zip(item_labels(pool, items), pool, strict=True))


@dataclass(frozen=True)
class NewItemsView(Sectioned):
    """Content neighbours of an item; built by :func:`new_items_view`."""

    split: ColdSplit
    similarity: ContentSimilarity
    query_item: Any
    k: int

    @property
    def cold_item_count(self) -> int:
        """Items without training interactions."""
        return int(len(cold_items(self.split)))

    @cached_property
    def similar(self) -> pd.DataFrame:
        """The ``k`` nearest items by content, named, with their other attributes and training interactions."""
        items = self.split.ds.items
        neighbours = self.similarity.similar_items([self.query_item], k=self.k)
        similar = with_item_names(neighbours, items, on="similar_item_id")
        attributes = items.select_dtypes(exclude="number")
        similar = similar.join(attributes.drop(columns=similar.columns, errors="ignore"), on="similar_item_id")
        counts = self.split.train.interactions[C.ITEM].value_counts()
        similar["train_interactions"] = counts.reindex(similar["similar_item_id"], fill_value=0).to_numpy()
        return similar

    def sections(self) -> list[Section]:
        """The content neighbours of the query item, named in the heading."""
        weight = self.similarity.text_weight
        return [
            Section(
                "new_items",
                f"New items: content neighbours of {item_label(self.query_item, self.split.ds.items)}",
                (
                    f"**{self.cold_item_count:,}** items have no training interactions. Neighbours come from TF-IDF "
                    f"over tags and title words, so they need no interactions either: tags (genres, categories) "
                    f"weigh {1 - weight:.1f} and title words {weight:.1f} (`text_weight`); on MovieLens-100K that "
                    "keeps neighbours in the same genres and still finds sequels (`benchmarks/content_ml100k.py`).",
                    # the query item is named in the heading
                    Table(self.similar.drop(columns=C.ITEM), caption="Cosine similarity of TF-IDF vectors."),
                ),
            )
        ]


def new_items_view(split: ColdSplit, similarity: ContentSimilarity, query_item: Any, *, k: int = 10) -> NewItemsView:
    """Neighbours of ``query_item`` under ``similarity`` (fitted on ``split.ds``).

    >>> new_items_view(split, ContentSimilarity().fit(ds), "p7", k=10).similar  # doctest: +SKIP
    """
    if split.items_note():
        raise DataError(split.items_note())
    return NewItemsView(split, similarity, query_item, k)


@dataclass(frozen=True)
class HybridView(Sectioned):
    """The hybrid switch against ALS alone, by segment; built by :func:`hybrid_view`."""

    hybrid: HybridRecommender
    #: the warm users' test share plus every interaction of the cold users
    hybrid_truth: pd.DataFrame
    k: int
    ratio: float
    seed: int

    def at_k(self, k: int) -> HybridView:
        """The same fitted hybrid scored at top ``k``; itself when ``k`` is its own.

        >>> hybrid.at_k(20).k  # doctest: +SKIP
        20
        """
        k = positive_int(k, "k")
        return self if k == self.k else replace(self, k=k)

    @cached_property
    def hybrid_segments(self) -> pd.Series:
        """``cold`` / ``light`` / ``heavy`` of every truth user."""
        return self.hybrid.segments(self.hybrid_truth[C.USER].unique())

    @cached_property
    def by_segment(self) -> pd.DataFrame:
        """nDCG, recall and hit rate of the hybrid and ALS alone per segment."""
        users = self.hybrid_truth[C.USER].unique()
        models = {"hybrid": self.hybrid, "als": self.hybrid.warm_model}
        return pd.concat(
            [
                segment_metrics(
                    evaluate_per_user(model.recommend(users, k=self.k), self.hybrid_truth, k=self.k),
                    self.hybrid_segments,
                ).assign(model=name)[["model", "segment", "ndcg", "recall", "hit_rate", "count"]]
                for name, model in models.items()
            ],
            ignore_index=True,
        )

    @property
    def segment_chart(self) -> alt.Chart:
        """nDCG per segment, hybrid vs ALS alone."""
        table = self.by_segment
        ndcg = table.pivot(index="model", columns="segment", values="ndcg")
        return metric_comparison_chart(
            ndcg[list(dict.fromkeys(table["segment"]))].loc[["hybrid", "als"]],
            title=f"nDCG@{self.k} by segment: hybrid vs ALS alone",
        )

    def describe(self) -> str:
        """The warm users' split in words."""
        return f"{shares(self.ratio)} per user (seed {self.seed})"

    @property
    def cold_label(self) -> str:
        """What serves the cold segment: ``cluster favourites`` or ``ridge favourites``."""
        return FAVOURITES_LABEL[self.hybrid.cold_model.favourites]

    def sections(self) -> list[Section]:
        """The hybrid switch against ALS alone, by segment."""
        return [
            Section(
                "hybrid",
                f"Hybrid switch ({self.cold_label} below {self.hybrid.min_interactions} training interactions, ALS "
                "above)",
                (
                    f"The warm users' interactions are split {self.describe()}; the hybrid trains on the "
                    "training share and is evaluated on the rest plus every interaction of the cold users, "
                    f"{self.k} items per list. The cold segment gets the {self.cold_label} chosen above; ALS alone "
                    "serves unknown users the most popular items.",
                    Table(
                        self.by_segment,
                        caption="cold: fewer interactions than the switch (held-out users included); heavy: at least "
                        "the median of warm users.",
                    ),
                    Chart(self.segment_chart),
                ),
            )
        ]


def hybrid_view(
    split: ColdSplit,
    *,
    method: str = "kmeans",
    favourites: str = "clusters",
    min_interactions: int = 5,
    k: int = 10,
    ratio: float = RATIO,
    seed: int = SPLIT_SEED,
) -> HybridView:
    """Split the warm users' interactions per user (``ratio``, ``seed``), fit the cold-start / ALS switch at
    ``min_interactions`` on the training share (the cold-start model with ``favourites``: ``clusters`` or
    ``ridge``); evaluate on the rest plus the cold users.

    >>> hybrid_view(cold_split(ds), favourites="ridge", min_interactions=5).by_segment  # doctest: +SKIP
    """
    if split.users_note():
        raise DataError(split.users_note())
    warm_train, warm_test = stratified_split(split.train, ratio=ratio, seed=seed)
    truth = pd.concat([warm_test.interactions, split.test.interactions], ignore_index=True)
    hybrid = HybridRecommender(
        ClusterColdStart(method=method, favourites=favourites, seed=MODEL_SEED, scorer=evaluate_per_user),
        ALSRecommender(seed=MODEL_SEED),
        min_interactions=min_interactions,
    ).fit(warm_train)
    return HybridView(hybrid, truth, k, ratio, seed)


@dataclass(frozen=True)
class ColdStartPage(Sectioned):
    """Notebook 02's page: the views' sections in the order of :data:`PAGE`; a view that is None (``users`` and
    ``hybrid`` without demographics, ``items`` without an items table) gives sections saying why. Built by
    :func:`coldstart_page`."""

    users: ColdUsersView | None
    items: NewItemsView | None
    hybrid: HybridView | None
    split: ColdSplit

    @property
    def headline(self) -> dict[str, Any]:
        """The cold users' headline, or the number of cold users when they are not computed."""
        return self.split.headline if self.users is None else self.users.headline

    def sections(self) -> list[Section]:
        """The page, in the order of :data:`PAGE`."""
        return list(self._sections)

    @cached_property
    def _sections(self) -> tuple[Section, ...]:
        split = self.split
        why = split.users_note() or "The cold users were not computed."
        needs = ("Not computed: it needs the users' demographics (see Cold users).",)
        unavailable = [
            Section("cold_users", "Cold users", (why,)),
            Section("clusters", "Choosing the number of clusters", needs),
            Section("profiles", "Cluster profiles", needs),
            Section("onboarding", ONBOARDING_TITLE, needs),
            Section("new_items", "New items", (split.items_note() or "New items were not computed.",)),
            Section("hybrid", "Hybrid switch", (f"Not computed: its cold segment is served from demographics. {why}",)),
        ]
        views = (split, self.users, self.items, self.hybrid)
        shown = [section for view in views if view is not None for section in view.sections()]
        found = {section.key: section for section in [*unavailable, *shown]}  # a view's own section, else why not
        return tuple(found[key] for key in PAGE)

    def report(self, data_name: str) -> Report:
        """The cold-start report of the data set ``data_name``: :meth:`sections` as a page.

        >>> publish(view.report("synthetic-small"), "02_coldstart", view.headline)  # doctest: +SKIP
        """
        model = f" ({self.users.name})" if self.users else ""
        description = (
            f"Demographic favourites{model} vs popularity for new users; content similarity for new items; "
            "hybrid switch"
        )
        return page(f"Cold start: {data_name}", description, self.sections())


def coldstart_page(
    users: ColdUsersView | None,
    items: NewItemsView | None,
    hybrid: HybridView | None,
    split: ColdSplit | None = None,
) -> ColdStartPage:
    """The page of the views (each may be None: its sections say why). ``split`` is needed only when ``users``
    is None.

    >>> view = coldstart_page(users, items, hybrid, split)  # doctest: +SKIP
    >>> view.section("hybrid")  # doctest: +SKIP
    """
    if users is None and split is None:
        raise ConfigError("coldstart_page: pass split= when there is no cold users view")
    return ColdStartPage(users, items, hybrid, users.split if users is not None else split)


def coldstart_report(
    users: ColdUsersView | None,
    items: NewItemsView | None,
    hybrid: HybridView | None,
    data_name: str,
    *,
    split: ColdSplit | None = None,
) -> Report:
    """The cold-start report of the data set ``data_name``: :func:`coldstart_page`'s report.

    >>> coldstart_report(None, None, None, "orders.csv", split=cold_split(ds))  # doctest: +SKIP
    """
    return coldstart_page(users, items, hybrid, split).report(data_name)
