"""Content similarity and content-based recommendations: known answers on tiny catalogues."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError, ModelError
from workbench.models.content import ContentRecommender, ContentSimilarity, item_documents

ITEMS = pd.DataFrame(
    {
        "item_id": [1, 2, 3, 4, 5, 6],
        "title": ["Star Wars", "Star Wars", "Star Trek", "Pretty Woman", "Notting Hill", "Space Odyssey"],
        "genres": ["Sci-Fi|Action", "Sci-Fi|Action", "Sci-Fi", "Romance", "Romance|Comedy", "Sci-Fi"],
        "year": [1977, 1977, 1979, 1990, 1999, 1968],
    }
)


def test_item_documents_split_tags_and_keep_title_words():
    docs = item_documents(ITEMS.set_index("item_id"))
    assert docs.loc[1] == "Star Wars genres_sci_fi genres_action"
    assert docs.loc[5] == "Notting Hill genres_romance genres_comedy"
    assert "1977" not in docs.loc[1]  # numeric columns are not text


def test_similar_items_known_answer():
    sim = ContentSimilarity().fit(ITEMS)
    table = sim.similar_items([1, 4], k=3)
    first = table[table.item_id == 1]
    # item 2 is an identical document (cosine 1); Star Trek shares 'star' and sci-fi; Space Odyssey only sci-fi
    assert first["similar_item_id"].tolist() == [2, 3, 6]
    assert first["score"].iloc[0] == pytest.approx(1.0, abs=1e-6)
    assert first["rank"].tolist() == [1, 2, 3]
    # Pretty Woman shares only the romance tag with Notting Hill; nothing else is listed
    assert table[table.item_id == 4]["similar_item_id"].tolist() == [5]
    assert list(table.columns) == ["item_id", "similar_item_id", "score", "rank"]


def test_similarity_is_the_cosine_of_tfidf_vectors():
    sim = ContentSimilarity().fit(ITEMS)
    dense = sim.matrix_.toarray()
    norms = np.linalg.norm(dense, axis=1)
    table = sim.similar_items([3], k=5).set_index("similar_item_id")["score"]
    for other, score in table.items():
        j = other - 1
        assert score == pytest.approx(dense[2] @ dense[j] / (norms[2] * norms[j]), rel=1e-5)


def test_similar_items_errors():
    with pytest.raises(ModelError):
        ContentSimilarity().similar_items([1])
    sim = ContentSimilarity().fit(ITEMS)
    with pytest.raises(DataError, match="not in the items table"):
        sim.similar_items([1, 99])
    with pytest.raises(DataError, match="no text column"):
        ContentSimilarity().fit(ITEMS[["item_id", "year"]])


def history() -> Dataset:
    # user 'sf' watched sci-fi 1 and 3, user 'rom' watched romance 4; items 2, 5, 6 have no interactions
    log = pd.DataFrame({"user_id": ["sf", "sf", "rom"], "item_id": [1, 3, 4]})
    return Dataset.from_frames(log, items=ITEMS)


def test_recommender_reaches_items_without_interactions():
    model = ContentRecommender().fit(history())
    assert len(model.item_map) == 6
    recs = model.recommend(["sf", "rom"], k=2)
    assert recs[recs.user_id == "sf"]["item_id"].tolist() == [2, 6]
    rom = recs[recs.user_id == "rom"]
    assert rom["item_id"].iloc[0] == 5 and rom["score"].iloc[0] > 0
    assert rom["score"].iloc[1] == 0  # nothing else shares a token: the list is filled with zero scores


def test_unknown_user_gets_popularity_over_whole_catalogue():
    model = ContentRecommender().fit(history())
    recs = model.recommend(["nobody"], k=6)
    assert set(recs.loc[recs.score > 0, "item_id"]) == {1, 3, 4}


def test_save_load_round_trip(tmp_path):
    model = ContentRecommender().fit(history())
    model.save(tmp_path / "content")
    loaded = ContentRecommender.load(tmp_path / "content")
    users = ["sf", "rom", "nobody"]
    pd.testing.assert_frame_equal(model.recommend(users, k=4), loaded.recommend(users, k=4))


FILMS = pd.DataFrame(
    {
        "item_id": ["toy", "philadelphia", "aladdin"],
        "title": ["Toy Story", "The Philadelphia Story", "Aladdin"],
        "genres": ["Animation|Comedy", "Comedy|Romance", "Animation|Comedy"],
    }
)


@pytest.mark.parametrize(("text_weight", "nearest"), [(0.0, "aladdin"), (0.3, "aladdin"), (1.0, "philadelphia")])
def test_text_weight_decides_between_a_shared_title_word_and_shared_genres(text_weight, nearest):
    sim = ContentSimilarity(text_weight=text_weight).fit(FILMS)
    assert sim.similar_items(["toy"], k=1)["similar_item_id"].tolist() == [nearest]


def test_score_blends_tag_and_word_cosines():
    tags_only = ContentSimilarity(text_weight=0.0).fit(FILMS).similar_items(["toy"], k=2)
    words_only = ContentSimilarity(text_weight=1.0).fit(FILMS).similar_items(["toy"], k=2)
    blended = ContentSimilarity(text_weight=0.3).fit(FILMS).similar_items(["toy"], k=2)

    def score(table: pd.DataFrame, other: str) -> float:
        return float(table.set_index("similar_item_id")["score"].get(other, 0.0))

    for other in ("philadelphia", "aladdin"):
        expected = 0.7 * score(tags_only, other) + 0.3 * score(words_only, other)
        assert score(blended, other) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True])
def test_text_weight_must_be_a_share(bad):
    with pytest.raises(ConfigError, match="text_weight"):
        ContentSimilarity(text_weight=bad)
    with pytest.raises(ConfigError, match="text_weight"):
        ContentRecommender(text_weight=bad)


def test_recommender_keeps_its_text_weight_through_save_and_load(tmp_path):
    model = ContentRecommender(text_weight=0.6).fit(history())
    loaded = ContentRecommender.load(model.save(tmp_path / "content"))
    assert loaded.text_weight == 0.6
    pd.testing.assert_frame_equal(model.recommend(["sf", "rom"], k=3), loaded.recommend(["sf", "rom"], k=3))


def _reference_words_and_tags(items: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The per-item implementation the vectorised one replaced (a groupby-join per tag column), on the
    same choice of word and tag columns."""
    from workbench.models.content import TAG_SEPARATOR, _text_and_tag_columns

    text_parts, tag_columns = _text_and_tag_columns(items)
    words = pd.Series("", index=items.index, dtype=object)
    for name in text_parts:
        words = words + " " + items[name].fillna("").astype(str)
    tags = pd.Series("", index=items.index, dtype=object)
    for name in tag_columns:
        values = items[name].dropna().astype(str).str.split(TAG_SEPARATOR).explode().str.strip()
        values = values[values != ""]
        slug = str(name).lower() + "_" + values.str.lower().str.replace(r"\W+", "_", regex=True).str.strip("_")
        joined = slug.groupby(level=0, sort=False).agg(" ".join)
        tags = tags + " " + joined.reindex(items.index).fillna("")
    return words.str.strip(), tags.str.strip()


def test_vectorised_documents_equal_the_per_item_ones():
    """Blank and missing cells, empty pieces, repeated tags, punctuation-only tags, text ids: same documents."""
    from workbench.models.content import _words_and_tags

    items = pd.DataFrame(
        {
            "name": ["Milk 2%", None, "Bread · Rye", "", "Crème Brûlée", "Ice"],
            "genres": ["Sci-Fi|Action", "", None, " | Drama |Drama", "--|x", "A"],
            "department": ["DAIRY", "BAKERY", "BAKERY", None, "Frozen Foods", "GROCERY"],
            "package_size": [None, None, "22 LB", None, None, None],
            "count": [1, 2, 3, 4, 5, 6],
        },
        index=pd.Index(["p9", "p2", "p7", "p1", "p3", "p5"], name="item_id"),
    )
    for frame in (items, items.iloc[[1]], items[["genres"]], items.iloc[::-1]):
        words, tags = _words_and_tags(frame)
        ref_words, ref_tags = _reference_words_and_tags(frame)
        assert words.tolist() == ref_words.tolist()
        assert tags.tolist() == ref_tags.tolist()
        assert tags.index.equals(frame.index)
    assert _words_and_tags(items)[1].loc["p1"] == "genres_drama genres_drama"
    assert _words_and_tags(items)[1].loc["p3"] == "genres_ genres_x department_frozen_foods"
