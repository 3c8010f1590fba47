"""Item similarity from content on MovieLens-100K: how the title-word weight changes the neighbours.

For each ``text_weight`` of :class:`ContentSimilarity`, every film's 10 nearest
films by content are compared with (a) its genres: mean Jaccard of the genre
sets, and (b) what viewers watch together: the share of the 10 that are among
the film's 50 nearest by co-rating (cosine of the user columns), over films
with at least 20 ratings. ``single_space`` is the earlier design, titles and
genres in one TF-IDF space, where a rare shared title word outranks genres.

    python benchmarks/content_ml100k.py [--out DIR]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _common import write_result
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from workbench.data import load_movielens_100k
from workbench.data.dataset import IdMap
from workbench.models.content import ContentSimilarity, item_documents

RESULTS = Path(__file__).parent / "results"
K = 10
CO_RATING_POOL = 50
MIN_RATINGS = 20
WEIGHTS = (0.0, 0.1, 0.3, 0.5, 0.7, 1.0)


def nearest(vectors: sp.csr_matrix, k: int, seed: int = 0) -> np.ndarray:
    """The k most similar other rows of every row (cosine; rows are unit length), ties broken at
    random: genre sets repeat, and breaking ties by row order would favour the low ids, which in
    MovieLens are the popular films."""
    similarity = (vectors @ vectors.T).toarray().astype(np.float64)  # float32 would absorb the jitter
    similarity += np.random.default_rng(seed).uniform(0, 1e-9, size=similarity.shape)
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def neighbour_quality(neighbours: np.ndarray, genres: np.ndarray, co_rated: np.ndarray, rated: np.ndarray) -> dict:
    jaccard = [
        np.mean([len(genres[i] & genres[j]) / max(len(genres[i] | genres[j]), 1) for j in row])
        for i, row in enumerate(neighbours)
    ]
    overlap = [len(set(neighbours[i]) & set(co_rated[i])) / K for i in np.flatnonzero(rated)]
    return {"genre_jaccard": float(np.mean(jaccard)), "co_rating_overlap": float(np.mean(overlap))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    ds = load_movielens_100k()
    items = ds.items
    users = IdMap.from_values(ds.interactions["user_id"])
    ratings = ds.user_item_matrix(users, IdMap(pd.Index(items.index))).T.tocsr()
    co_rated = nearest(normalize(ratings), CO_RATING_POOL)
    rated = np.asarray(ratings.sum(axis=1)).ravel() >= MIN_RATINGS
    genres = items["genres"].fillna("").str.split("|").map(set).to_numpy()

    single = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True).fit_transform(item_documents(items))
    table = [
        {"text_weight": "single_space", **neighbour_quality(nearest(normalize(single), K), genres, co_rated, rated)}
    ]
    for weight in WEIGHTS:
        matrix = ContentSimilarity(text_weight=weight).fit(ds).matrix_
        table.append({"text_weight": weight, **neighbour_quality(nearest(matrix, K), genres, co_rated, rated)})

    result = {
        "benchmark": "content_ml100k",
        "k": K,
        "co_rating_pool": CO_RATING_POOL,
        "films_with_co_rating_neighbours": int(rated.sum()),
        "default_text_weight": ContentSimilarity().text_weight,
        "table": table,
        "python": platform.python_version(),
    }
    write_result(args.out, "content_ml100k.json", result)
    print("| text_weight | genre Jaccard@10 | co-rating overlap@10 |\n|---|---|---|")
    for row in table:
        print(f"| {row['text_weight']} | {row['genre_jaccard']:.3f} | {row['co_rating_overlap']:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
