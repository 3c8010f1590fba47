"""Item cold start: TF-IDF over item titles and tags, cosine similarity, content-based recommendations.

Each item is described by the words of its free-text columns (``title``,
``name``) and one token per tag of every other text column, split on ``|``
(``genres="Action|Comedy"`` gives the tokens ``genres_action`` and
``genres_comedy``). Words and tags are two TF-IDF blocks, each L2-normalised
and weighted (``text_weight`` for the words), so the cosine of two items is
``(1 - text_weight) * tag cosine + text_weight * word cosine``: a rare title
word shared by two films of different genres does not outrank the genres.
Items need no interactions to be similar or recommended.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.errors import ConfigError, DataError, ModelError
from workbench.guards import check_dense, positive_int
from workbench.models import storage
from workbench.models.base import BATCH_CELLS, Recommender, top_k

#: Columns read as free text; every other non-numeric column is read as tags.
TEXT_COLUMNS = ("title", "name")
TAG_SEPARATOR = "|"


def _items_table(source: Dataset | pd.DataFrame, where: str) -> pd.DataFrame:
    items = source.items if isinstance(source, Dataset) else source
    if not isinstance(items, pd.DataFrame) or len(items) == 0:
        raise DataError(f"{where}: needs an items table with titles or tags (Dataset.items is empty or None)")
    return items.set_index(C.ITEM) if C.ITEM in items.columns else items


def _text_and_tag_columns(items: pd.DataFrame) -> tuple[list, list]:
    """The columns of ``items`` read as words (:data:`TEXT_COLUMNS`, any case) and as tags (the other
    columns that are neither numeric nor boolean), in column order."""
    text_parts, tag_columns = [], []
    for name in items.columns:
        values = items[name]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        (text_parts if str(name).lower() in TEXT_COLUMNS else tag_columns).append(name)
    return text_parts, tag_columns


def _words_and_tags(items: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per item (indexed like ``items``): its title words, and its ``column_tag`` tokens."""
    text_parts, tag_columns = _text_and_tag_columns(items)
    if not text_parts and not tag_columns:
        raise DataError(
            f"items: no text column to describe items (columns {list(map(str, items.columns))[:12]}); "
            f"add a title, name or category column"
        )
    words = pd.Series("", index=items.index, dtype=object)
    for name in text_parts:
        words = words + " " + items[name].fillna("").astype(str)
    tags = pd.Series("", index=items.index, dtype=object)
    for name in tag_columns:
        tags = tags + " " + _column_tags(items[name], str(name).lower())
    return words.str.strip(), tags.str.strip()


def _column_tags(values: pd.Series, prefix: str) -> np.ndarray:
    """Each cell's ``prefix_tag`` tokens, ``" "`` apart in cell order ('' for a missing or blank cell).

    Vectorised over the whole column: the pieces of every cell are slugged at once, then each
    cell's run of pieces is joined by one ``np.add.reduceat`` (no per-cell Python call).
    """
    present = values.notna().to_numpy()
    cells = values[present].astype(str)
    owner = np.flatnonzero(present)
    if cells.str.contains(TAG_SEPARATOR, regex=False).any():  # else each cell is its one piece
        split = cells.str.split(TAG_SEPARATOR)
        owner = np.repeat(owner, split.str.len().to_numpy(dtype=np.int64))
        cells = split.explode()
    pieces = cells.str.strip()
    keep = (pieces != "").to_numpy(dtype=bool)
    pieces, owner = pieces[keep], owner[keep]
    slug = prefix + "_" + pieces.str.lower().str.replace(r"\W+", "_", regex=True).str.strip("_")
    out = np.full(len(values), "", dtype=object)
    if len(owner):
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        joined = np.add.reduceat((" " + slug).to_numpy(dtype=object), starts)  # " a b" per run of one cell
        out[owner[starts]] = pd.Series(joined, dtype=object).str.slice(1).to_numpy(dtype=object)
    return out


def item_documents(items: pd.DataFrame) -> pd.Series:
    """One text document per item (indexed like ``items``): title words plus ``column_tag`` tokens.

    >>> item_documents(pd.DataFrame({"title": ["Up"], "genres": ["Kids|Sci-Fi"]})).iloc[0]
    'Up genres_kids genres_sci_fi'
    """
    words, tags = _words_and_tags(items)
    return (words + " " + tags).str.strip()


def _tfidf_block(documents: pd.Series, weight: float) -> sp.csr_matrix | None:
    """L2-normalised TF-IDF rows scaled by sqrt(weight); None when the block is empty or weightless."""
    if weight == 0.0 or not documents.str.len().gt(0).any():
        return None
    vectorizer = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True)
    return normalize(vectorizer.fit_transform(documents.to_numpy())) * np.sqrt(weight)


class ContentSimilarity:
    """Cosine similarity of items' TF-IDF vectors (tags, and title words weighted by ``text_weight``),
    for items with or without interactions.

    >>> sim = ContentSimilarity(text_weight=0.3).fit(ds)  # doctest: +SKIP
    >>> sim.similar_items([1, 2], k=5)  # doctest: +SKIP
    """

    def __init__(self, *, text_weight: float = 0.3) -> None:
        if isinstance(text_weight, bool) or not isinstance(text_weight, (int, float)) or not 0 <= text_weight <= 1:
            raise ConfigError(f"text_weight must be a number in [0, 1], got {text_weight!r}")
        self.text_weight = float(text_weight)

    def fit(self, source: Dataset | pd.DataFrame) -> Self:
        """Build the item vectors from ``source.items`` (or an items frame indexed by item_id).

        Each row has unit length: items with only words or only tags are described by that block alone.
        """
        items = _items_table(source, "ContentSimilarity")
        words, tags = _words_and_tags(items)
        blocks = [_tfidf_block(tags, 1.0 - self.text_weight), _tfidf_block(words, self.text_weight)]
        blocks = [block for block in blocks if block is not None]
        matrix = sp.hstack(blocks).tocsr() if blocks else sp.csr_matrix((len(items), 0))
        self.matrix_ = normalize(matrix).astype(np.float32)
        self.item_map = IdMap(pd.Index(items.index))
        return self

    def similar_items(self, items: Iterable[Any], *, k: int = 10) -> pd.DataFrame:
        """The ``k`` most similar other items of each query item: ``item_id, similar_item_id, score, rank``.

        Only items sharing at least one token (score > 0) are listed. Unknown items raise DataError.

        >>> sim.similar_items(["new-sku"], k=3)  # doctest: +SKIP
        """
        if not hasattr(self, "matrix_"):
            raise ModelError("ContentSimilarity must be fitted before similar_items; call fit(ds) first")
        k = positive_int(k, "k")
        query = pd.unique(pd.Series([items] if np.isscalar(items) else list(items)))
        codes = self.item_map.codes(query)
        if (codes < 0).any():
            unknown = query[codes < 0]
            raise DataError(f"similar_items: {len(unknown):,} items are not in the items table (e.g. {unknown[0]!r})")
        n = len(self.item_map)
        batch = max(1, BATCH_CELLS // max(n, 1))
        check_dense(len(codes), k, what=f"similar_items(k={k})")
        index = np.empty((len(codes), k), dtype=np.int64)
        values = np.empty((len(codes), k))
        for start in range(0, len(codes), batch):
            rows = codes[start : start + batch]
            scores = (self.matrix_[rows] @ self.matrix_.T).toarray().astype(np.float64)
            scores[scores <= 0] = -np.inf
            scores[np.arange(len(rows)), rows] = -np.inf
            index[start : start + batch], values[start : start + batch] = top_k(scores, k)
        filled = index >= 0
        query_rows = np.repeat(np.arange(len(query)), k)[filled.ravel()]
        return pd.DataFrame(
            {
                C.ITEM: query[query_rows],
                "similar_item_id": self.item_map.to_ids(index[filled]),
                C.SCORE: values[filled],
                C.RANK: np.tile(np.arange(1, k + 1), len(query))[filled.ravel()],
            }
        )


class ContentRecommender(Recommender):
    """Recommends items whose content resembles a user's history: cold items included.

    A user's profile is the mean TF-IDF vector of their interactions (repeats
    count); an item's score is its cosine-style dot product with the profile.
    The catalogue is every item of ``train.items`` plus any interacted item
    missing from it (those have empty content and score 0): ``_catalogue`` gives
    it to the base class, which builds the item map, seen matrix and popularity on it.
    Unknown users get popularity.

    >>> ContentRecommender(text_weight=0.3).fit(train).recommend([1, 2], k=10)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = ("text_weight",)

    def __init__(self, *, text_weight: float = 0.3) -> None:
        ContentSimilarity(text_weight=text_weight)  # a bad weight fails here, before fit
        self.text_weight = float(text_weight)

    def _catalogue(self, train: Dataset) -> IdMap:
        """Every item of ``train.items``, then the interacted items missing from it (in order of first appearance)."""
        items = _items_table(train, "ContentRecommender")
        extra = super()._catalogue(train).ids.difference(items.index, sort=False)
        return IdMap(pd.Index(items.index).append(extra))

    def _fit(self, train: Dataset) -> None:
        similarity = ContentSimilarity(text_weight=self.text_weight).fit(_items_table(train, "ContentRecommender"))
        n_extra = len(self.item_map) - similarity.matrix_.shape[0]  # interacted items without content
        padding = sp.csr_matrix((n_extra, similarity.matrix_.shape[1]), dtype=np.float32)
        self._content = sp.vstack([similarity.matrix_, padding]).tocsr()

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        profiles = normalize(self._seen[user_codes], norm="l1") @ self._content
        return (profiles @ self._content.T).toarray()

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "content_data": self._content.data,
            "content_indices": self._content.indices,
            "content_indptr": self._content.indptr,
            "content_shape": np.array(self._content.shape, dtype=np.int64),
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        n_rows, n_columns = arrays["content_shape"]
        if n_rows != len(self.item_map):
            raise ValueError(f"the content matrix has {n_rows:,} rows for {len(self.item_map):,} items")
        self._content = storage.checked_csr(
            arrays["content_data"], arrays["content_indices"], arrays["content_indptr"], (n_rows, n_columns), "content"
        )
