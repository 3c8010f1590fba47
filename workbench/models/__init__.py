"""Recommenders sharing one protocol: fit(train) -> self, recommend(users, k=10) -> frame."""

from workbench.models.als import ALSRecommender
from workbench.models.base import Recommender
from workbench.models.candidates import CandidateGenerator, candidate_recall
from workbench.models.coldstart import ClusterColdStart
from workbench.models.content import ContentRecommender, ContentSimilarity
from workbench.models.hybrid import HybridRecommender
from workbench.models.popularity import DecayedPopularity, PopularityRecommender
from workbench.models.rerank import LightGBMReranker

__all__ = [
    "Recommender",
    "PopularityRecommender",
    "DecayedPopularity",
    "ALSRecommender",
    "ClusterColdStart",
    "ContentRecommender",
    "ContentSimilarity",
    "HybridRecommender",
    "CandidateGenerator",
    "candidate_recall",
    "LightGBMReranker",
]
