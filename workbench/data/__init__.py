"""Data layer: datasets, loaders, validation, splits, profiling."""

from workbench.data.dataset import Dataset, IdMap
from workbench.data.loaders import load_dataset, load_movielens_100k, read_interactions

__all__ = ["Dataset", "IdMap", "load_movielens_100k", "read_interactions", "load_dataset"]
