"""Demographics as features: the columns of a users table a cold-start model can use, encoded as numbers.

Numeric columns are imputed (median) and scaled, categoricals one-hot encoded, and an ``age``
column also gets MovieLens-style age bands (one-hot). Entirely missing and id-like columns are
left out.

>>> encoder = DemographicEncoder.fit(ds.users)  # doctest: +SKIP
>>> encoder.features_of(new_users, "users")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from workbench import columns as C
from workbench.data.dataset import IdMap
from workbench.data.stats import MISSING_LABEL
from workbench.errors import DataError
from workbench.models import storage

#: Upper edges of the age bands (MovieLens bands: under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+).
AGE_EDGES = np.array([18, 25, 35, 45, 50, 56])


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.digitize(np.asarray(age, dtype=np.float64), AGE_EDGES)


def demographic_columns(users: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns usable for clustering.

    Entirely missing columns are dropped, and so are id-like categoricals (more
    than max(50, half the rows) distinct values, e.g. a zip code).
    """
    numeric, categorical = [], []
    limit = max(50, len(users) // 2)
    for name in users.columns:
        values = users[name]
        if values.isna().all():
            continue
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            numeric.append(str(name))
        elif values.nunique() <= limit:
            categorical.append(str(name))
    return numeric, categorical


def _preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    parts = []
    if numeric:
        parts.append(("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if "age" in numeric:
        bands = make_pipeline(
            SimpleImputer(strategy="median"),
            FunctionTransformer(_age_band),
            OneHotEncoder(categories=[np.arange(len(AGE_EDGES) + 1)], handle_unknown="ignore"),
        )
        parts.append(("age_band", bands, ["age"]))
    if categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def demographic_frame(users: pd.DataFrame, numeric: list[str], categorical: list[str], where: str) -> pd.DataFrame:
    """The clustering columns of ``users``: numerics as float, categoricals as text (:data:`MISSING_LABEL` for NaN)."""
    absent = [c for c in numeric + categorical if c not in users.columns]
    if absent:
        raise DataError(f"{where}: demographic column {absent[0]!r} is missing (expected {numeric + categorical})")
    frame = pd.DataFrame(index=users.index)
    for name in numeric:
        values = pd.to_numeric(users[name], errors="coerce")
        frame[name] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    for name in categorical:
        frame[name] = (
            users[name].astype(object).where(users[name].notna(), MISSING_LABEL).astype(str).to_numpy(dtype=str)
        )
    return frame


@dataclass
class DemographicEncoder:
    """The training users' demographics (``demo``, indexed by user_id), the columns used and their
    encoding fitted on them; ``features`` are the encoded rows of ``demo``.

    >>> users = pd.DataFrame({"age": [20, 60], "gender": ["F", "M"]}, index=pd.Index(["a", "b"], name="user_id"))
    >>> DemographicEncoder.fit(users).features.shape  # 1 scaled age, 7 age bands, 2 genders
    (2, 10)
    """

    demo: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    transformer: ColumnTransformer
    features: np.ndarray

    @classmethod
    def fit(cls, users: pd.DataFrame, where: str = "train.users") -> DemographicEncoder:
        """Encoder of the usable columns of ``users`` (:func:`demographic_columns`); a DataError when none is."""
        numeric, categorical = demographic_columns(users)
        if not numeric and not categorical:
            raise DataError(
                f"ClusterColdStart: {where} has no usable demographic column "
                f"(columns {list(map(str, users.columns))[:12]} are all missing or id-like)"
            )
        return cls.of(demographic_frame(users, numeric, categorical, where), numeric, categorical)

    @classmethod
    def of(cls, demo: pd.DataFrame, numeric: list[str], categorical: list[str]) -> DemographicEncoder:
        """Encoder fitted on ``demo``, a frame of :func:`demographic_frame` with these columns."""
        transformer = _preprocessor(numeric, categorical).fit(demo)
        features = np.asarray(transformer.transform(demo), dtype=np.float64)
        return cls(demo, numeric, categorical, transformer, features)

    def transform(self, demo: pd.DataFrame) -> np.ndarray:
        """Encoded rows of a frame of :func:`demographic_frame` with this encoder's columns."""
        return np.asarray(self.transformer.transform(demo), dtype=np.float64)

    def features_of(self, users: pd.DataFrame, where: str) -> np.ndarray:
        """Encoded rows of a demographics frame indexed by user_id (``where`` names the caller in errors)."""
        demo = demographic_frame(users, self.numeric, self.categorical, where)
        return self.transform(demo) if len(demo) else np.zeros((0, self.features.shape[1]))

    def position(self, user_ids: pd.Index | np.ndarray) -> np.ndarray:
        """Row of each user in ``demo``, -1 when missing (5 and "5" alike)."""
        return IdMap(self.demo.index).codes(user_ids)

    # -- persistence ----------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """The training demographics as arrays (the encoding is fitted again on load)."""
        demo_ids, _ = storage.id_array(self.demo.index)
        n = len(self.demo)
        return {
            "demo_ids": demo_ids,
            "numeric_columns": np.array(self.numeric, dtype=str),
            "categorical_columns": np.array(self.categorical, dtype=str),
            "demo_numeric": self.demo[self.numeric].to_numpy(dtype=np.float64).reshape(n, -1),
            "demo_categorical": self.demo[self.categorical].to_numpy(dtype=str).reshape(n, -1),
        }

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> DemographicEncoder:
        """Inverse of :meth:`state`."""
        index = storage.index_from_array(arrays["demo_ids"]).rename(C.USER)
        numeric = [str(c) for c in arrays["numeric_columns"]]
        categorical = [str(c) for c in arrays["categorical_columns"]]
        demo = pd.DataFrame(index=index)
        for j, name in enumerate(numeric):
            demo[name] = arrays["demo_numeric"][:, j]
        for j, name in enumerate(categorical):
            demo[name] = arrays["demo_categorical"][:, j].astype(object)
        return cls.of(demo, numeric, categorical)
