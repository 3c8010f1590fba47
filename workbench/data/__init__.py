"""Data layer: datasets, loaders, validation, splits, profiling, cleaning."""

from workbench.data.clean import Cleaned, clean
from workbench.data.dataset import Dataset, IdMap
from workbench.data.loaders import load_dataset, load_movielens_100k, read_interactions
from workbench.data.profile import Profile, profile

__all__ = [
    "Dataset",
    "IdMap",
    "load_movielens_100k",
    "read_interactions",
    "load_dataset",
    "Profile",
    "profile",
    "Cleaned",
    "clean",
]
