"""Model directories: damaged, foreign or mismatched files raise ModelError; nothing is unpickled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ModelError
from workbench.models import ALSRecommender, PopularityRecommender, storage

LOG = pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": [1, 2, 2, 3]})


@pytest.fixture()
def saved(tmp_path) -> Path:
    return PopularityRecommender().fit(Dataset.from_frames(LOG)).save(tmp_path / "model")


def test_ids_keep_their_type(saved):
    model = PopularityRecommender.load(saved)
    assert model.user_map.ids.tolist() == ["a", "b", "c"]
    assert model.item_map.ids.tolist() == [1, 2, 3] and model.item_map.ids.dtype == np.int64


def test_truncated_file(saved):
    data = (saved / storage.ARRAYS).read_bytes()
    (saved / storage.ARRAYS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="checksum"):
        PopularityRecommender.load(saved)


def test_edited_file(saved):
    data = bytearray((saved / storage.IDS).read_bytes())
    data[-5] ^= 0xFF
    (saved / storage.IDS).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        PopularityRecommender.load(saved)


def test_missing_file(saved):
    (saved / storage.ARRAYS).unlink()
    with pytest.raises(ModelError, match="missing"):
        PopularityRecommender.load(saved)


def test_foreign_and_absent_directories(tmp_path):
    with pytest.raises(ModelError, match="no model directory"):
        PopularityRecommender.load(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    with pytest.raises(ModelError, match="not a workbench model"):
        PopularityRecommender.load(tmp_path / "other")
    (tmp_path / "other" / storage.MANIFEST).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelError, match="manifest"):
        PopularityRecommender.load(tmp_path / "other")
    (tmp_path / "other" / storage.MANIFEST).write_text("{not json")
    with pytest.raises(ModelError, match="damaged"):
        PopularityRecommender.load(tmp_path / "other")


def test_wrong_class(saved):
    with pytest.raises(ModelError, match="PopularityRecommender"):
        ALSRecommender.load(saved)


def test_object_arrays_are_never_unpickled(saved):
    # replace the arrays with a pickled object array and make the checksum match: load must refuse
    np.savez(saved / storage.ARRAYS, popularity=np.array([{"evil": 1}], dtype=object))
    manifest = json.loads((saved / storage.MANIFEST).read_text())
    manifest["sha256"][storage.ARRAYS] = storage._sha256(saved / storage.ARRAYS)
    (saved / storage.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="cannot be read"):
        PopularityRecommender.load(saved)


def test_saving_over_an_existing_model_replaces_it(saved):
    other = PopularityRecommender().fit(Dataset.from_frames(pd.DataFrame({"user_id": ["z"], "item_id": [9]})))
    other.save(saved)
    assert PopularityRecommender.load(saved).item_map.ids.tolist() == [9]
    assert [p.name for p in saved.parent.iterdir()] == ["model"]  # no staging leftovers


def test_fit_time_survives_save_and_load(tmp_path):
    model = ALSRecommender(factors=4, iterations=2, seed=0).fit(Dataset.from_frames(LOG))
    assert model.fit_seconds_ > 0
    assert ALSRecommender.load(model.save(tmp_path / "als")).fit_seconds_ == model.fit_seconds_
