"""Data layer: datasets, loaders, validation, splits, profiling, cleaning."""

from workbench.data.clean import Cleaned, clean
from workbench.data.dataset import Dataset, IdMap
from workbench.data.loaders import (
    data_note,
    load_complete_journey,
    load_dataset,
    load_movielens_100k,
    read_interactions,
)
from workbench.data.profile import Profile, profile

__all__ = [
    "Dataset",
    "IdMap",
    "load_movielens_100k",
    "load_complete_journey",
    "read_interactions",
    "load_dataset",
    "data_note",
    "Profile",
    "profile",
    "Cleaned",
    "clean",
]
