"""Model directories: .npz arrays, external ids and a JSON manifest with checksums.

Writes are atomic (a temporary directory, then a rename), loads check the
manifest (format, class, shapes, SHA-256 of every file) and never unpickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ModelError

MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
IDS = "ids.npz"
FORMAT = "workbench-model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def id_array(ids: pd.Index) -> tuple[np.ndarray, str]:
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype=np.int64), "int"
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
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
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
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, retired / "model")
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a model manifest")


def _manifest_json(path: Path) -> dict[str, Any]:
    """The parsed manifest of a model directory, its files not yet checked."""
    if not path.is_dir():
        raise ModelError(f"{path}: no model directory here")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: not a workbench model (no {MANIFEST})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: {MANIFEST} is damaged ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{path}: {MANIFEST} is not a workbench model manifest")
    return manifest


def saved_class(directory: str | Path) -> str | None:
    """The class name a model directory was saved by; its files are checked when the class loads it."""
    return _manifest_json(Path(directory)).get("class")


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The checked manifest of a model directory."""
    path = Path(directory)
    manifest = _manifest_json(path)
    for name, digest in manifest.get("sha256", {}).items():
        file = path / name
        if not file.is_file():
            raise ModelError(f"{path}: file {name} listed in the manifest is missing")
        if _sha256(file) != digest:
            raise ModelError(f"{path}: file {name} does not match its checksum (truncated or edited)")
    return manifest


def saved_parts(directory: str | Path) -> set[str]:
    """Names of the sub-models (``parts`` of ``write_model``) a model directory's manifest lists."""
    names = _manifest_json(Path(directory)).get("sha256", {})
    return {name.removesuffix(f"/{MANIFEST}") for name in names if name.endswith(f"/{MANIFEST}")}


def read_texts(directory: str | Path) -> dict[str, str]:
    """The text files a model directory's manifest lists besides its arrays (``extra_files`` of
    ``write_model``), by name; call it after ``read_model`` has checked them."""
    path = Path(directory)
    names = [name for name in _manifest_json(path).get("sha256", {}) if "/" not in name and name not in (ARRAYS, IDS)]
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
    if manifest.get("class") != class_name:
        raise ModelError(f"{path}: holds a {manifest.get('class')!r} model, not a {class_name}")
    saved = manifest.get("format_version")
    if saved != version:
        advice = "; fit and save the model again" if isinstance(saved, int) and saved < version else ""
        raise ModelError(f"{path}: model format version {saved} is not the supported {version}{advice}")
    try:
        with np.load(path / ARRAYS, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        with np.load(path / IDS, allow_pickle=False) as data:
            kinds = manifest["id_kinds"]
            ids = {name: index_from_array(data[name], kinds[name]) for name in data.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: model arrays cannot be read ({exc})") from None
    for name, shape in manifest.get("shapes", {}).items():
        actual = arrays[name].shape if name in arrays else ids[name].shape if name in ids else None
        if actual is None or list(actual) != shape:
            raise ModelError(f"{path}: array {name} has shape {actual}, manifest says {tuple(shape)}")
    return manifest.get("params", {}), arrays, ids
