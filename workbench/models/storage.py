"""Model directories: .npz arrays, external ids and a JSON manifest with checksums.

A save writes the new model beside the old one (``.<name>.new-XXXXXXXX``), moves the old one aside
(``.<name>.old-XXXXXXXX``), renames the new one into place and only then deletes the old one: a
killed save leaves either model whole, and a load names the folder to restore. Loads check the
manifest (its schema, format, class, shapes, a SHA-256 for every file read) and the bounds of every
index array, and never unpickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench.errors import ModelError, first_line

MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
IDS = "ids.npz"
FORMAT = "workbench-model"
#: A manifest holds parameters, shapes and checksums: anything larger is not one of ours.
MAX_MANIFEST_BYTES = 4 << 20
#: JSON type of each top-level manifest key (all required).
SCHEMA: dict[str, type] = {
    "format": str,
    "format_version": int,
    "class": str,
    "params": dict,
    "id_kinds": dict,
    "shapes": dict,
    "sha256": dict,
}
#: Hidden folders a save of ``<name>`` works in (``mkdtemp`` suffixes; the last two forms are older saves').
_SAVE_FOLDER = r"\.{name}\.(?:new-|old-|old\.)?[a-z0-9_]{{8}}"
#: Leftover save folders untouched for this long belong to a killed save; the next save removes them.
STALE_SECONDS = 3600.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def id_array(ids: pd.Index) -> tuple[np.ndarray, str]:
    """Ids as an array ``np.savez`` stores without pickle, and their kind: ``"int"`` or ``"str"``.
    Ids of another kind (True, b"x", (1, 2), dates) are a ModelError: written as text, they would be
    other ids after loading."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype=np.int64), "int"
    values = pd.Index(np.asarray(ids, dtype=object))
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "integer", "empty"):
        example = next(v for v in values if not isinstance(v, str) or isinstance(v, bool))
        raise ModelError(
            f"cannot save ids that are neither text nor integers (e.g. {example!r}): they would load as "
            "other ids; convert them, e.g. .astype(str), and fit again"
        )
    return np.asarray(ids.astype(str), dtype=str), "str"


def index_from_array(array: np.ndarray, kind: str | None = None) -> pd.Index:
    """Inverse of ``id_array``: int ids as they are, others as an object Index.

    ``kind`` is the one ``id_array`` returned; None reads it from the array's dtype.
    """
    if kind is None:
        kind = "int" if array.dtype.kind in "iu" else "str"
    return pd.Index(array if kind == "int" else array.astype(object))


def write_model(
    directory: str | Path,
    class_name: str,
    version: int,
    params: dict[str, Any],
    arrays: dict[str, np.ndarray],
    ids: dict[str, pd.Index],
    extra_files: dict[str, str] | None = None,
    parts: dict[str, Any] | None = None,
) -> Path:
    """Write a model directory atomically; ``extra_files`` maps file names to text content and
    ``parts`` sub-directory names to models saved there with their own manifest (whose checksum
    this manifest keeps)."""
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        np.savez(staging / ARRAYS, **arrays)
        id_arrays, id_kinds = {}, {}
        for name, index in ids.items():
            id_arrays[name], id_kinds[name] = id_array(index)
        np.savez(staging / IDS, **id_arrays)
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        for name, model in (parts or {}).items():
            model.save(staging / name)
        part_manifests = [f"{name}/{MANIFEST}" for name in parts or {}]
        files = sorted([p.name for p in staging.iterdir() if p.is_file()] + part_manifests)
        manifest = {
            "format": FORMAT,
            "format_version": version,
            "class": class_name,
            "params": params,
            "id_kinds": id_kinds,
            "shapes": {name: list(np.shape(a)) for name, a in {**arrays, **id_arrays}.items()},
            "sha256": {name: _sha256(staging / name) for name in files},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default), encoding="utf-8")
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_stale_folders(target)
    return target


def _swap_in(staging: Path, target: Path) -> None:
    """Put the complete model ``staging`` at ``target``; an old model there stays whole until then (kept
    as ``.<name>.old-XXXXXXXX`` between two renames), and is deleted afterwards."""
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.with_name(f".{target.name}.old-{staging.name.removeprefix(f'.{target.name}.new-')}")
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)  # an error (not a kill) between the renames: the old model goes back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _save_folders(target: Path) -> list[Path]:
    """The hidden folders saves of ``target`` work in (``.<name>.new-*``, ``.<name>.old-*``), if any."""
    pattern = re.compile(_SAVE_FOLDER.format(name=re.escape(target.name)))
    try:
        return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir())
    except OSError:
        return []


def _remove_stale_folders(target: Path) -> None:
    """Delete the save folders of ``target`` that nothing has written to for ``STALE_SECONDS``: left by
    killed saves (a save under way keeps writing to its folder)."""
    now = time.time()
    for folder in _save_folders(target):
        try:
            newest = max(p.lstat().st_mtime for p in [folder, *folder.rglob("*")])
        except OSError:
            continue
        if now - newest > STALE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def _interrupted_save(path: Path) -> str:
    """When an interrupted save left the model of ``path`` in a hidden folder, what to rename; else ''."""
    whole = [folder for folder in _save_folders(path) if (folder / MANIFEST).is_file()]
    if not whole:
        return ""
    old = [folder.name for folder in whole if ".old-" in folder.name]
    names = ", ".join(folder.name for folder in whole)
    advice = f"rename {old[-1]} to {path.name} to restore the previous model" if old else "rename one to restore it"
    return f"; an interrupted save left complete models in {names} beside it: {advice}"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a model manifest")


def _read_regular(file: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of ``file``, which must be a regular file: opened without blocking, so a
    named pipe or a device in its place is an OSError, not a wait for a writer that never comes."""
    descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{file.name} is not a regular file")
        return handle.read(limit)


def _manifest_json(path: Path) -> dict[str, Any]:
    """The parsed manifest of a model directory, checked against ``SCHEMA``; its files not yet checked."""
    if not path.is_dir():
        raise ModelError(f"{path}: no model directory here{_interrupted_save(path)}")
    try:
        raw = _read_regular(path / MANIFEST, MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise ModelError(f"{path}: not a workbench model (no {MANIFEST})") from None
    except OSError as exc:
        raise ModelError(f"{path}: {MANIFEST} cannot be read ({exc})") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ModelError(f"{path}: {MANIFEST} is larger than {MAX_MANIFEST_BYTES:,} bytes: not a model manifest")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of over 4,300 digits
        raise ModelError(f"{path}: {MANIFEST} is damaged ({first_line(exc)})") from None
    except RecursionError:
        raise ModelError(f"{path}: {MANIFEST} is damaged (nested too deep)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{path}: {MANIFEST} is not a workbench model manifest")
    problem = _schema_problem(manifest)
    if problem:
        raise ModelError(f"{path}: {MANIFEST} is malformed ({problem})")
    return manifest


def _schema_problem(manifest: dict[str, Any]) -> str:
    """What is wrong with the types of a parsed manifest (``SCHEMA`` and the entries of its maps); '' if nothing."""
    for key, kind in SCHEMA.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = {dict: "a map", int: "an integer", str: "a string"}[kind]
            return f"{key} must be {expected}, got {type(value).__name__}"
    for name, kind in manifest["id_kinds"].items():
        if kind not in ("int", "str"):
            return f"id_kinds[{name!r}] must be 'int' or 'str', got {kind!r}"
    for name, shape in manifest["shapes"].items():
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            return f"shapes[{name!r}] must be a list of sizes, got {shape!r}"[:200]
    for name, digest in manifest["sha256"].items():
        if not _listable(name):
            return f"sha256 lists {name!r}, which is not a file of a model directory"[:200]
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return f"sha256[{name!r}] is not a SHA-256 digest"
    return ""


def _listable(name: str) -> bool:
    """Whether ``name`` may be listed in a manifest: a file of the directory or the manifest of a part."""
    plain = r"[^/\\]+"
    return bool(re.fullmatch(plain, name) or re.fullmatch(f"{plain}/{re.escape(MANIFEST)}", name)) and not any(
        part in (".", "..") for part in name.split("/")
    )


def saved_class(directory: str | Path) -> str | None:
    """The class name a model directory was saved by; its files are checked when the class loads it."""
    return _manifest_json(Path(directory))["class"]


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The checked manifest of a model directory."""
    path = Path(directory)
    manifest = _manifest_json(path)
    for name, digest in manifest["sha256"].items():
        file = path / name
        if not file.is_file():
            raise ModelError(f"{path}: file {name} listed in the manifest is missing")
        if _sha256(file) != digest:
            raise ModelError(f"{path}: file {name} does not match its checksum (truncated or edited)")
    return manifest


def saved_parts(directory: str | Path) -> set[str]:
    """Names of the sub-models (``parts`` of ``write_model``) a model directory's manifest lists."""
    names = _manifest_json(Path(directory))["sha256"]
    return {name.removesuffix(f"/{MANIFEST}") for name in names if name.endswith(f"/{MANIFEST}")}


def read_texts(directory: str | Path) -> dict[str, str]:
    """The text files a model directory's manifest lists besides its arrays (``extra_files`` of
    ``write_model``), by name; call it after ``read_model`` has checked them."""
    path = Path(directory)
    names = [name for name in _manifest_json(path)["sha256"] if "/" not in name and name not in (ARRAYS, IDS)]
    try:
        return {name: (path / name).read_text(encoding="utf-8") for name in names}
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: a model file cannot be read ({exc})") from None


def read_model(
    directory: str | Path, class_name: str, version: int
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, pd.Index]]:
    """Check and read a model directory: (constructor params, arrays, id indexes)."""
    path = Path(directory)
    manifest = read_manifest(path)
    if manifest["class"] != class_name:
        raise ModelError(f"{path}: holds a {manifest['class']!r} model, not a {class_name}")
    saved = manifest["format_version"]
    if saved != version:
        advice = "; fit and save the model again" if saved < version else ""
        raise ModelError(f"{path}: model format version {saved} is not the supported {version}{advice}")
    for name in (ARRAYS, IDS):
        if name not in manifest["sha256"]:
            raise ModelError(f"{path}: file {name} has no checksum in {MANIFEST}")
    try:
        arrays, id_arrays = _npz(path / ARRAYS), _npz(path / IDS)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: model arrays cannot be read ({exc})") from None
    shapes, kinds = manifest["shapes"], manifest["id_kinds"]
    for name, array in {**arrays, **id_arrays}.items():
        if name not in shapes:
            raise ModelError(f"{path}: array {name} has no shape in {MANIFEST}")
        if list(array.shape) != shapes[name]:
            raise ModelError(f"{path}: array {name} has shape {array.shape}, manifest says {tuple(shapes[name])}")
    missing = sorted(shapes.keys() - arrays.keys() - id_arrays.keys())
    if missing:
        raise ModelError(f"{path}: array {missing[0]} listed in {MANIFEST} is missing")
    for name, array in id_arrays.items():
        if name not in kinds or array.ndim != 1 or array.dtype.kind not in "iuU":
            raise ModelError(f"{path}: {IDS} holds {name}, which is not a list of ids of a kind {MANIFEST} names")
    ids = {name: index_from_array(array, kinds[name]) for name, array in id_arrays.items()}
    return manifest["params"], arrays, ids


def _npz(file: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, after checking that each one's header declares as many bytes as
    it holds: a crafted header (shape 10**12 over a few bytes) would otherwise make numpy allocate
    terabytes before reading. ValueError on a mismatch or an object (pickled) array."""
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise ValueError(f"{info.filename} holds Python objects, which are never unpickled")
                declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if declared != info.file_size - member.tell():
                    raise ValueError(
                        f"{info.filename} declares shape {shape} but holds {info.file_size - member.tell():,} bytes"
                    )
    with np.load(file, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def checked_csr(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int], name: str
) -> sp.csr_matrix:
    """A CSR matrix from saved arrays, checked so that no kernel indexes out of bounds: indptr of
    ``shape[0] + 1`` entries rising from 0 to ``len(indices)``, columns in ``[0, shape[1])``, one
    finite number per index. Raises ValueError naming ``name`` (``load`` makes it a ModelError)."""
    n_rows, n_cols = (int(n) for n in shape)
    arrays = data, indices, indptr = np.asarray(data), np.asarray(indices), np.asarray(indptr)
    if any(a.ndim != 1 for a in arrays) or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise ValueError(f"{name} is not a sparse matrix (1-d integer indices and indptr)")
    if data.dtype.kind not in "biuf" or len(data) != len(indices) or min(n_rows, n_cols) < 0:
        raise ValueError(f"{name} has {len(data):,} {data.dtype} values for {len(indices):,} indices")
    if data.dtype.kind == "f" and not np.isfinite(data).all():  # no fit stores NaN or inf: scores would be garbage
        raise ValueError(f"{name} holds NaN or infinite values")
    if len(indptr) != n_rows + 1 or indptr[0] != 0 or indptr[-1] != len(indices) or (indptr[1:] < indptr[:-1]).any():
        raise ValueError(f"{name}: indptr must rise from 0 to {len(indices):,} in {n_rows + 1:,} entries")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_cols):
        raise ValueError(f"{name}: column indices outside 0..{n_cols - 1:,}")
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def checked_index(values: np.ndarray, bound: int, name: str, *, low: int = 0) -> np.ndarray:
    """``values`` as int64 when they are integers in ``[low, bound)``, else a ValueError naming ``name``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise ValueError(f"{name} holds {values.dtype} values, not indices")
    if values.size and (values.min() < low or values.max() >= bound):
        raise ValueError(f"{name}: indices outside {low}..{bound - 1:,}")
    return values.astype(np.int64, copy=False)


def checked_json(text: str, name: str) -> Any:
    """``text`` parsed as JSON; ValueError naming ``name`` when it is not JSON or nested too deep for Python."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{name} is nested too deep") from None


#: Numeric fields of a LightGBM tree: (integers?, count per tree: "n" leaves or "n-1" splits).
_TREE_FIELDS = {
    "split_feature": (True, "n-1"),
    "split_gain": (False, "n-1"),
    "threshold": (False, "n-1"),
    "decision_type": (True, "n-1"),
    "left_child": (True, "n-1"),
    "right_child": (True, "n-1"),
    "internal_value": (False, "n-1"),
    "internal_weight": (False, "n-1"),
    "internal_count": (True, "n-1"),
    "leaf_value": (False, "n"),
    "leaf_weight": (False, "n"),
    "leaf_count": (True, "n"),
}


def checked_lightgbm_text(text: str, name: str) -> str:
    """``text`` when it is a whole LightGBM model text whose trees stay in bounds; else ValueError naming
    ``name``. LightGBM's own parser aborts the process (SIGABRT) on a truncated or edited model, so the
    text is checked first: ``tree_sizes`` against the trees, per tree the count of every numeric field,
    split features within ``max_feature_idx``, children within the tree, categorical splits within
    their bitsets, finite leaf values."""
    try:
        return _checked_lightgbm_text(text, name)
    except (KeyError, OverflowError, TypeError) as exc:
        raise ValueError(f"{name} is not a whole LightGBM model ({type(exc).__name__}: {exc})") from None


def _checked_lightgbm_text(text: str, name: str) -> str:
    head, found, rest = text.partition("\nTree=")
    if not text.startswith("tree\n") or not found or "end of trees" not in rest:
        raise ValueError(f"{name} is not a whole LightGBM model text")
    header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    n_features = int(header["max_feature_idx"]) + 1
    for key in ("feature_names", "feature_infos"):
        if key in header and len(header[key].split()) != n_features:
            raise ValueError(f"{name}: {key} does not list {n_features} features")
    trees = ("Tree=" + rest).split("end of trees", 1)[0]
    starts = [match.start() for match in re.finditer(r"^Tree=", trees, re.MULTILINE)]
    blocks = [trees[a:b] for a, b in zip(starts, [*starts[1:], len(trees)], strict=True)]
    sizes = [int(size) for size in header.get("tree_sizes", "").split()]
    if sizes and sizes != [len(block.encode("utf-8")) for block in blocks]:
        raise ValueError(f"{name}: tree_sizes do not match the trees (truncated or edited)")
    for number, block in enumerate(blocks):
        _check_tree(dict(line.split("=", 1) for line in block.splitlines() if "=" in line), n_features, name, number)
    return text


def _check_tree(fields: dict[str, str], n_features: int, name: str, number: int) -> None:
    where = f"{name} tree {number}"
    n, n_cat = int(fields["num_leaves"]), int(fields.get("num_cat", "0"))
    if n < 1 or n_cat < 0 or fields.get("is_linear", "0") != "0":
        raise ValueError(f"{where}: {n} leaves, {n_cat} categorical splits: not a tree this workbench writes")
    values = {}
    for key, (integer, count) in _TREE_FIELDS.items():
        if key not in fields:
            if n > 1 or count == "n":
                raise ValueError(f"{where}: no {key}")
            continue
        array = np.array(fields[key].split(), dtype=np.int64 if integer else np.float64)
        if len(array) != (n if count == "n" else n - 1):
            raise ValueError(f"{where}: {key} holds {len(array)} numbers for {n} leaves")
        values[key] = array
    if not np.isfinite(values["leaf_value"]).all():
        raise ValueError(f"{where}: leaf values are not finite")
    if n == 1:
        return
    checked_index(values["split_feature"], n_features, f"{where} split_feature")
    for key in ("left_child", "right_child"):
        checked_index(values[key], n - 1, f"{where} {key}", low=-n)  # ~leaf for leaves, node index otherwise
    if np.isnan(values["threshold"]).any():
        raise ValueError(f"{where}: a threshold is NaN")
    categorical = (values["decision_type"] & 1) == 1
    if categorical.any():
        boundaries = np.array(fields.get("cat_boundaries", "").split(), dtype=np.int64)
        bitsets = np.array(fields.get("cat_threshold", "").split(), dtype=np.int64)
        if len(boundaries) != n_cat + 1 or boundaries[0] != 0 or boundaries[-1] != len(bitsets):
            raise ValueError(f"{where}: cat_boundaries do not fit cat_threshold")
        if (np.diff(boundaries) < 0).any():
            raise ValueError(f"{where}: cat_boundaries must not decrease")
        positions = values["threshold"][categorical]
        if (positions != np.round(positions)).any():
            raise ValueError(f"{where}: a categorical split does not name a bitset")
        checked_index(positions.astype(np.int64), n_cat, f"{where} categorical threshold")
