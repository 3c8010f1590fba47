"""Model directories: damaged, foreign or mismatched files raise ModelError; nothing is unpickled."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ModelError
from workbench.models import (
    ALSRecommender,
    ClusterColdStart,
    ContentRecommender,
    EASERecommender,
    LightGBMReranker,
    PopularityRecommender,
    storage,
)

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


# -- a directory is trusted only when whole (issue 23) ----------------------------------------------


def _manifest(path: Path) -> dict:
    return json.loads((path / storage.MANIFEST).read_text())


def _write_manifest(path: Path, manifest: dict) -> None:
    (path / storage.MANIFEST).write_text(json.dumps(manifest))


def _rewrite_arrays(path: Path, **changes: np.ndarray) -> None:
    """Replace some arrays of a saved model and re-checksum them: only the arrays' contents are wrong."""
    with np.load(path / storage.ARRAYS) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    np.savez(path / storage.ARRAYS, **arrays)
    manifest = _manifest(path)
    manifest["sha256"][storage.ARRAYS] = storage._sha256(path / storage.ARRAYS)
    manifest["shapes"].update({name: list(a.shape) for name, a in changes.items()})
    _write_manifest(path, manifest)


def _load_error(cls, path: Path, match: str) -> str:
    with pytest.raises(ModelError, match=match) as info:
        cls.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_manifest_without_checksums_is_refused(tmp_path):
    a = PopularityRecommender().fit(Dataset.from_frames(LOG)).save(tmp_path / "a")
    other = pd.DataFrame({"user_id": ["x", "y"], "item_id": [7, 8]})
    b = PopularityRecommender().fit(Dataset.from_frames(other)).save(tmp_path / "b")
    (a / storage.ARRAYS).write_bytes((b / storage.ARRAYS).read_bytes())  # model A with model B's arrays
    manifest = _manifest(a)
    del manifest["sha256"]
    _write_manifest(a, manifest)
    _load_error(PopularityRecommender, a, "sha256")


@pytest.mark.parametrize("name", [storage.ARRAYS, storage.IDS])
def test_a_file_read_but_not_listed_is_refused(saved, name):
    manifest = _manifest(saved)
    del manifest["sha256"][name]
    _write_manifest(saved, manifest)
    _load_error(PopularityRecommender, saved, f"{name} has no checksum")


def test_a_parts_manifest_is_checked_by_its_parent(tmp_path):
    from workbench.models import HybridRecommender

    model = HybridRecommender(PopularityRecommender(), PopularityRecommender()).fit(Dataset.from_frames(LOG))
    path = model.save(tmp_path / "hybrid")
    part = path / "cold_model"
    manifest = _manifest(part)
    del manifest["sha256"]  # the part's own checks are off, but its parent lists the part's manifest
    _write_manifest(part, manifest)
    _load_error(HybridRecommender, path, f"cold_model/{storage.MANIFEST} does not match its checksum")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("sha256", [], "sha256 must be a map"),
        ("shapes", [], "shapes must be a map"),
        ("shapes", "x", "shapes must be a map"),
        ("params", [], "params must be a map"),
        ("id_kinds", [], "id_kinds must be a map"),
        ("format_version", "1", "format_version must be an? integer"),
        ("class", None, "class must be a string"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_model_error(saved, key, value, match):
    manifest = _manifest(saved)
    manifest[key] = value
    _write_manifest(saved, manifest)
    _load_error(PopularityRecommender, saved, match)
    with pytest.raises(ModelError, match=match):
        storage.saved_class(saved)  # load_model and serve read the class first


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m["shapes"].update(popularity="3"), "shapes\\['popularity'\\] must be a list"),
        (lambda m: m["shapes"].pop("popularity"), "popularity has no shape"),
        (lambda m: m["id_kinds"].update(user_ids="float"), "id_kinds"),
        (lambda m: m["id_kinds"].pop("user_ids"), "user_ids"),
        (lambda m: m["sha256"].update({storage.ARRAYS: 5}), "not a SHA-256 digest"),
        (lambda m: m["sha256"].update({"../../etc/passwd": "0" * 64}), "not a file of a model directory"),
    ],
)
def test_entries_of_the_manifest_maps_are_checked(saved, edit, match):
    manifest = _manifest(saved)
    edit(manifest)
    _write_manifest(saved, manifest)
    _load_error(PopularityRecommender, saved, match)


@pytest.mark.parametrize("seed", ["x", [1], None])
def test_saved_parameters_the_constructor_rejects(tmp_path, seed):
    path = ALSRecommender(factors=4, iterations=2, seed=0).fit(Dataset.from_frames(LOG)).save(tmp_path / "als")
    manifest = _manifest(path)
    manifest["params"]["seed"] = seed
    _write_manifest(path, manifest)
    _load_error(ALSRecommender, path, "saved parameters do not fit ALSRecommender")


def test_a_deeply_nested_or_huge_manifest_is_one_model_error(saved):
    (saved / storage.MANIFEST).write_text("[" * 200_000 + "]" * 200_000)
    _load_error(PopularityRecommender, saved, "damaged")
    (saved / storage.MANIFEST).write_text(" " * (storage.MAX_MANIFEST_BYTES + 1))
    _load_error(PopularityRecommender, saved, "larger than")
    (saved / storage.MANIFEST).write_text('{"format": "workbench-model", "format_version": ' + "9" * 5000 + "}")
    _load_error(PopularityRecommender, saved, "damaged .*4300 digits")  # was a raw ValueError


def test_als_factors_that_are_not_finite_are_refused(tmp_path):
    path = ALSRecommender(factors=4, iterations=2, seed=0).fit(Dataset.from_frames(LOG)).save(tmp_path / "als")
    with np.load(path / storage.ARRAYS) as data:
        factors = data["item_factors"].copy()
    factors[1, 2] = np.nan
    _rewrite_arrays(path, item_factors=factors)
    _load_error(ALSRecommender, path, "NaN or infinite")


def test_popularity_and_ease_weights_that_are_not_finite_are_refused(saved, tmp_path):
    _rewrite_arrays(saved, popularity=np.array([0.5, np.nan, 0.25], dtype=np.float32))
    _load_error(PopularityRecommender, saved, "popularity holds NaN")  # was: no recommendations at all
    path = EASERecommender().fit(Dataset.from_frames(LOG)).save(tmp_path / "ease")
    with np.load(path / storage.ARRAYS) as data:
        weights = data["B"].copy()
    weights[0, 1] = np.inf
    _rewrite_arrays(path, B=weights)
    _load_error(EASERecommender, path, "NaN, infinite")


def test_sparse_weights_that_are_not_finite_are_refused(tmp_path):
    items = pd.DataFrame({"title": ["red shoes", "blue shoes", "red hat"]}, index=pd.Index([1, 2, 3], name="item_id"))
    model = ContentRecommender().fit(Dataset.from_frames(LOG, items=items))
    path = model.save(tmp_path / "content")
    with np.load(path / storage.ARRAYS) as data:
        values = data["content_data"].copy()
    values[0] = np.nan
    _rewrite_arrays(path, content_data=values)
    _load_error(ContentRecommender, path, "NaN or infinite")  # was: other recommendations without a word


def test_cluster_labels_outside_the_clusters_are_refused(tmp_path):
    from workbench.data.synthetic import make_ecommerce

    path = ClusterColdStart(n_clusters=2, seed=0).fit(make_ecommerce(40, 30, 400, seed=0)).save(tmp_path / "cold")
    with np.load(path / storage.ARRAYS) as data:
        labels = data["labels"]
    _rewrite_arrays(path, labels=-1 - labels)  # -1 and -2 index the clusters from the end: a wrong cluster
    _load_error(ClusterColdStart, path, "labels: indices outside 0..1")


@pytest.fixture(scope="module")
def reranker_dir(tmp_path_factory) -> Path:
    from workbench.data.synthetic import make_ecommerce

    model = LightGBMReranker(PopularityRecommender(), n_candidates=20, n_rounds=3, seed=0)
    return model.fit(make_ecommerce(80, 40, 1500, seed=0)).save(tmp_path_factory.mktemp("rerank") / "model")


def _tree_sizes_refitted(text: str) -> str:
    """The ``tree_sizes`` header recomputed after an edit, as a forger who knows the format would."""
    head, _, rest = text.partition("\nTree=")
    trees = ("Tree=" + rest).split("end of trees", 1)[0]
    starts = [m.start() for m in re.finditer(r"^Tree=", trees, re.MULTILINE)]
    sizes = [len(trees[a:b].encode()) for a, b in zip(starts, [*starts[1:], len(trees)], strict=True)]
    return re.sub(r"(?m)^tree_sizes=.*$", "tree_sizes=" + " ".join(map(str, sizes)), head) + "\nTree=" + rest


def _edited_text(source: Path, target: Path, name: str, edit) -> Path:
    shutil.copytree(source, target)
    (target / name).write_text(edit((target / name).read_text()))
    manifest = _manifest(target)
    manifest["sha256"][name] = storage._sha256(target / name)
    _write_manifest(target, manifest)
    return target


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t[: t.index("\nTree=1") + 40], "not a whole LightGBM model"),  # cut in a tree: was SIGABRT
        (lambda t: re.sub(r"(?m)^left_child=\S+", "left_child=99999", t), "tree_sizes do not match"),
        (
            lambda t: _tree_sizes_refitted(re.sub(r"(?m)^left_child=\S+", "left_child=99999", t)),
            "left_child",
        ),  # SIGSEGV
        (lambda t: _tree_sizes_refitted(re.sub(r"(?m)^leaf_value=\S+ ", "leaf_value=", t)), "leaf_value holds"),
    ],
)
def test_an_edited_lightgbm_ranker_is_refused_not_a_crash(reranker_dir, tmp_path, edit, match):
    path = _edited_text(reranker_dir, tmp_path / "model", "ranker.txt", edit)
    load = f"from workbench.models import load_model\nload_model({str(path)!r})"
    done = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, f"exit {done.returncode}: {done.stderr[-500:]}"  # a crash is a negative code
    assert "ModelError" in done.stderr and re.search(match, done.stderr.strip().splitlines()[-1])


def test_an_edited_reranker_table_nested_too_deep_is_one_model_error(reranker_dir, tmp_path):
    path = _edited_text(reranker_dir, tmp_path / "model", "tables.json", lambda t: "[" * 200_000 + "]" * 200_000)
    _load_error(LightGBMReranker, path, "tables.json is nested too deep")  # was a RecursionError


def test_ids_that_would_load_as_other_ids_are_not_saved(tmp_path):
    log = pd.DataFrame({"user_id": [(1, 2), (3, 4)], "item_id": [True, False]})
    model = PopularityRecommender().fit(Dataset.from_frames(log.assign(item_id=[1, 2])))
    with pytest.raises(ModelError, match=r"neither text nor integers \(e.g. \(1, 2\)\)"):  # was saved as '(1, 2)'
        model.save(tmp_path / "tuples")
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_an_array_header_declaring_terabytes_is_refused_before_allocating(saved):
    with np.load(saved / storage.ARRAYS) as data:
        arrays = {name: data[name] for name in data.files}
    with zipfile.ZipFile(saved / storage.ARRAYS, "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            if name == "popularity":  # the real bytes under a header claiming 10**12 floats (3.6 TiB)
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
                )
                member.write(array.astype("<f4").tobytes())
            else:
                np.lib.format.write_array(member, array)
            archive.writestr(f"{name}.npy", member.getvalue())
    manifest = _manifest(saved)
    manifest["sha256"][storage.ARRAYS] = storage._sha256(saved / storage.ARRAYS)
    manifest["shapes"]["popularity"] = [10**12]
    _write_manifest(saved, manifest)
    _load_error(PopularityRecommender, saved, r"popularity.npy declares shape \(1000000000000,\)")  # was MemoryError


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_as_manifest_is_refused_without_waiting(saved):
    (saved / storage.MANIFEST).unlink()
    os.mkfifo(saved / storage.MANIFEST)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            PopularityRecommender.load(saved)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 (checked below)
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():  # blocked opening the pipe: let it go, then fail
        os.close(os.open(saved / storage.MANIFEST, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
        pytest.fail("load waited for a writer of the named pipe")
    assert isinstance(outcome[0], ModelError) and "not a regular file" in str(outcome[0])


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"seen_indices": np.array([0, 1, 1, 7], dtype=np.int32)}, "the seen matrix: column indices"),
        ({"seen_indices": np.array([0, 1, 1, -1], dtype=np.int32)}, "the seen matrix: column indices"),
        ({"seen_indptr": np.array([0, 2, 1, 4], dtype=np.int32)}, "the seen matrix: indptr"),
        ({"seen_indptr": np.array([0, 2, 3, 4, 4], dtype=np.int32)}, "the seen matrix: indptr"),
        ({"seen_indptr": np.array([1, 2, 3, 4], dtype=np.int32)}, "the seen matrix: indptr"),
        ({"seen_indptr": np.array([0, 2, 3, 9], dtype=np.int32)}, "the seen matrix: indptr"),
        ({"seen_data": np.ones(3)}, "the seen matrix has 3"),
        ({"popularity": np.ones(2, dtype=np.float32)}, "popularity has shape"),
    ],
)
def test_the_seen_matrix_and_popularity_are_bounds_checked(saved, changes, match):
    # the checksums match: only the bounds are wrong (a numba kernel would read out of bounds)
    _rewrite_arrays(saved, **changes)
    _load_error(PopularityRecommender, saved, match)


def test_a_models_own_sparse_matrix_is_bounds_checked(tmp_path):
    from workbench.models import RepeatRecommender

    path = RepeatRecommender().fit(Dataset.from_frames(LOG)).save(tmp_path / "repeat")
    with np.load(path / storage.ARRAYS) as data:
        indices = data["scores_indices"].copy()
    indices[-1] = 3  # three items: codes 0..2
    _rewrite_arrays(path, scores_indices=indices)
    _load_error(RepeatRecommender, path, "scores: column indices outside 0..2")


def test_bounds_checked_csr():
    matrix = storage.checked_csr(np.ones(2), np.array([0, 2]), np.array([0, 1, 2]), (2, 3), "m")
    assert matrix.toarray().tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="m is not a sparse matrix"):
        storage.checked_csr(np.ones(2), np.array([0.0, 2.0]), np.array([0, 1, 2]), (2, 3), "m")
    with pytest.raises(ValueError, match="indices outside 0..2"):
        storage.checked_index(np.array([0, 3]), 3, "codes")
    assert storage.checked_index(np.array([-1, 2]), 3, "codes", low=-1).tolist() == [-1, 2]


# -- saving over a model ------------------------------------------------------------------------------


def test_a_save_killed_between_its_renames_names_the_folder_to_restore(saved):
    # the state a kill between "old model aside" and "new model into place" leaves
    retired = saved.with_name(".model.old-abcd1234")
    saved.rename(retired)
    message = _load_error(PopularityRecommender, saved, "interrupted save")
    assert ".model.old-abcd1234" in message and "rename" in message
    retired.rename(saved)
    assert PopularityRecommender.load(saved).item_map.ids.tolist() == [1, 2, 3]


def test_an_error_between_the_renames_puts_the_old_model_back(saved, monkeypatch):
    other = PopularityRecommender().fit(Dataset.from_frames(pd.DataFrame({"user_id": ["z"], "item_id": [9]})))
    calls = []

    def failing_replace(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("disk gone")
        return real_replace(src, dst)

    real_replace = storage.os.replace
    monkeypatch.setattr(storage.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        other.save(saved)
    monkeypatch.undo()
    assert PopularityRecommender.load(saved).item_map.ids.tolist() == [1, 2, 3]
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_the_next_save_removes_stale_leftovers_of_killed_saves(saved):
    import os
    import time

    stale = [saved.with_name(".model.new-killed01"), saved.with_name(".model.old-killed02")]
    fresh = saved.with_name(".model.new-running")  # a save under way in another process
    fresh = fresh.with_name(fresh.name + "1")
    neighbour = saved.with_name(".model.v2.new-killed03")  # another model's folder: never touched
    hour_ago = time.time() - 2 * storage.STALE_SECONDS
    for folder in [*stale, fresh, neighbour]:
        folder.mkdir()
        (folder / storage.ARRAYS).write_bytes(b"partial")
        if folder is not fresh:
            os.utime(folder / storage.ARRAYS, (hour_ago, hour_ago))
            os.utime(folder, (hour_ago, hour_ago))
    PopularityRecommender().fit(Dataset.from_frames(LOG)).save(saved)
    assert sorted(p.name for p in saved.parent.iterdir()) == sorted(["model", fresh.name, neighbour.name])
