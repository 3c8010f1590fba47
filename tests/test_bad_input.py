"""Every entry point against the corpus of awkward files in tests/data/bad/.

tests/data/bad/expected.json says, per file, whether it is valid (null) or which
text its one-line error must contain. Bad files must fail with a DataError (in
process) or ``error: ...`` on stderr and exit 2 (CLI), never a traceback; valid
files must load; no file is ever modified. Run with ``-s`` to see the counts.
"""

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main
from workbench.data import Dataset, read_interactions
from workbench.errors import DataError

CORPUS = Path(__file__).parent / "data" / "bad"
EXPECTED: dict[str, str | None] = {
    name: needle
    for name, needle in json.loads((CORPUS / "expected.json").read_text("utf-8")).items()
    if not name.startswith("_")
}
BAD = sorted(name for name, needle in EXPECTED.items() if needle is not None)
VALID = sorted(name for name, needle in EXPECTED.items() if needle is None)
# Problems of the file itself (encoding, syntax, path): pandas cannot hand Dataset.from_frames a frame.
FILE_LEVEL = (
    "is empty",
    "no columns",
    "not a well-formed",
    "NUL bytes",
    "not UTF-8",
    "cannot read",
    "directory",
    "not found",
)

# Independent expectations for the valid files: rows, distinct users and items, and a few exact ids.
VALID_FACTS = {
    "unicode_ids.csv": (3, 2, 3, {"user_id": ["Zoë", "😀", "Zoë"], "item_id": ["寿司", "مرحبا", "Ünïcødé"]}),
    "quoted_ids.csv": (2, 2, 2, {"user_id": ["smith, john", "a\nb"], "item_id": ['the "best" mug', "x"]}),
    # floats would merge ...808 and ...809 and lose the 2**64 + 1 user: the ids must stay exact text
    "huge_int_ids.csv": (
        3,
        2,
        2,
        {
            "user_id": ["18446744073709551617", "18446744073709551617", "1"],
            "item_id": ["9223372036854775809", "9223372036854775808", "9223372036854775809"],
        },
    ),
    "leading_zero_ids.csv": (2, 2, 2, {"user_id": ["007", "7"], "item_id": ["0042", "42"]}),
    "duplicates.csv": (4, 2, 1, {"rating": [5.0, 5.0, 5.0, 1.0]}),
    "minimal.csv": (3, 2, 2, {"user_id": [1, 2, 2]}),
    "crlf.csv": (2, 2, 2, {"item_id": [10, 11], "rating": [5.0, 3.0]}),
    "utf8_bom.csv": (2, 2, 2, {"user_id": [1, 2]}),
    "utf16_bom.csv": (2, 2, 2, {"user_id": ["café", "José"], "item_id": ["crème", "piñata"]}),
    "semicolon.txt": (2, 2, 2, {"rating": [5.0, 3.0]}),
    "tabs.tsv": (2, 2, 2, {"timestamp": [1_700_000_000, 1_700_000_060]}),
    "iso_dates.csv": (2, 2, 2, {"timestamp": [pd.Timestamp("2021-01-02"), pd.Timestamp("2021-01-03 10:00")]}),
    "extra_columns.csv": (2, 2, 2, {"store": ["Oslo", "Rome"]}),
    "trailing_blank_lines.csv": (2, 2, 2, {"item_id": [10, 11]}),
    "events.csv": (3, 2, 2, {"event": ["view", "purchase", "cart"]}),
    "good.parquet": (3, 2, 2, {"user_id": [3, 1, 3], "item_id": ["x", "y", "x"]}),
    "float_ids.parquet": (3, 2, 3, {"user_id": [1, 2, 1]}),  # whole floats are ints (1.5 is an error)
}
TALLY: Counter = Counter()  # (entry point, "tried" | "passed") -> count, printed by the last test


def _digest() -> dict[str, str]:
    return {
        str(p.relative_to(CORPUS)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module", autouse=True)
def corpus_untouched():
    before = _digest()
    yield
    assert _digest() == before, "an entry point modified a corpus file"


def _one_error_line(err: str, out: str, needle: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in err + out


def _count(entry: str, check) -> None:
    TALLY[entry, "tried"] += 1
    check()
    TALLY[entry, "passed"] += 1


def test_corpus_matches_manifest():
    on_disk = {p.name for p in CORPUS.iterdir()} - {"expected.json"}
    assert on_disk == set(EXPECTED) - {"missing.csv"}
    assert not (CORPUS / "missing.csv").exists() and (CORPUS / "directory.csv").is_dir()
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 200_000
    assert set(VALID_FACTS) == set(VALID)


@pytest.mark.parametrize("name", BAD)
def test_read_interactions_rejects_bad_file(name):
    def check():
        with pytest.raises(DataError) as info:
            read_interactions(CORPUS / name)
        message = str(info.value)
        assert "\n" not in message and EXPECTED[name] in message, message

    _count("read_interactions", check)


@pytest.mark.parametrize("name", VALID)
def test_read_interactions_loads_valid_file(name):
    def check():
        ds = read_interactions(CORPUS / name)
        rows, n_users, n_items, columns = VALID_FACTS[name]
        assert (len(ds), ds.n_users, ds.n_items) == (rows, n_users, n_items)
        for column, values in columns.items():
            assert ds.interactions[column].tolist() == values, column

    _count("read_interactions", check)


def _pandas_frame(name: str) -> pd.DataFrame:
    """The frame a user would get from pandas with default options (plus the file's obvious format)."""
    path = CORPUS / name
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    encoding = "utf-16" if name.startswith("utf16_bom") else "utf-8-sig"
    return pd.read_csv(
        path, sep=None if path.suffix == ".txt" else ",\t"[path.suffix == ".tsv"], engine="python", encoding=encoding
    )


@pytest.mark.parametrize("name", [n for n in BAD if not any(s in EXPECTED[n] for s in FILE_LEVEL)])
def test_from_frames_rejects_bad_content(name):
    frame = _pandas_frame(name)
    copy = frame.copy(deep=True)

    def check():
        with pytest.raises(DataError) as info:
            Dataset.from_frames(frame)
        assert "\n" not in str(info.value) and EXPECTED[name] in str(info.value), str(info.value)
        pd.testing.assert_frame_equal(frame, copy)  # input not mutated

    _count("Dataset.from_frames", check)


@pytest.mark.parametrize("name", VALID)
def test_from_frames_accepts_valid_content(name):
    frame = _pandas_frame(name)

    def check():
        ds = Dataset.from_frames(frame)
        # pandas' own parsing decides the ids here (e.g. 007 -> 7): counts follow the frame, rows the file
        assert len(ds) == VALID_FACTS[name][0] == len(frame)
        assert (ds.n_users, ds.n_items) == (frame["user_id"].nunique(), frame["item_id"].nunique())

    _count("Dataset.from_frames", check)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_profile(name, capsys):
    def check():
        code = main(["profile", str(CORPUS / name)])
        captured = capsys.readouterr()
        if EXPECTED[name] is None:
            assert code == 0 and captured.err == "", captured.err
            assert f"Profile of {CORPUS / name}" in captured.out
        else:
            assert code == 2
            _one_error_line(captured.err, captured.out, EXPECTED[name])

    _count("workbench profile", check)


@pytest.mark.parametrize("name", BAD)
def test_cli_report_validates_data_first(name, tmp_path, capsys):
    out = tmp_path / "reports"

    def check():
        assert main(["report", "--data", str(CORPUS / name), "--out", str(out), "--only", "01_profile"]) == 2
        captured = capsys.readouterr()
        _one_error_line(captured.err, captured.out, EXPECTED[name])
        assert not out.exists()  # failed before any notebook ran

    _count("workbench report (in process)", check)


def _workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DATA", "WORKBENCH_REPORT_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize("name", ["text_in_rating.csv", "unicode_ids.csv"])
def test_subprocess_profile(name, tmp_path):
    def check():
        result = _workbench("profile", str(CORPUS / name), "--html", str(tmp_path / "p.html"), cwd=tmp_path)
        if EXPECTED[name] is None:
            assert result.returncode == 0, result.stderr
            assert "Zoë" in (tmp_path / "p.html").read_text("utf-8") or "Profile of" in result.stdout
        else:
            assert result.returncode == 2
            _one_error_line(result.stderr, result.stdout, EXPECTED[name])
            assert not (tmp_path / "p.html").exists()

    _count("workbench profile (subprocess)", check)


@pytest.mark.parametrize("name", ["binary_garbage.csv", "unicode_ids.csv"])
def test_subprocess_report(name, tmp_path):
    out = tmp_path / "reports"

    def check():
        result = _workbench(
            "report", "--data", str(CORPUS / name), "--out", str(out), "--only", "01_profile", cwd=tmp_path
        )
        if EXPECTED[name] is None:
            assert result.returncode == 0, result.stderr[-2000:]
            assert "<svg" in (out / "01_profile.html").read_text("utf-8")
        else:
            assert result.returncode == 2
            _one_error_line(result.stderr, result.stdout, EXPECTED[name])
            assert not out.exists()

    _count("workbench report (subprocess)", check)


def test_report_reads_a_file_named_like_synthetic_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "synthetic_shop.csv").write_bytes((CORPUS / "text_in_rating.csv").read_bytes())
    assert main(["report", "--data", "synthetic_shop.csv", "--out", "reports", "--only", "01_profile"]) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err, captured.out, EXPECTED["text_in_rating.csv"])  # the file was read


def test_zz_summary():
    """Counts per entry point (pytest -s shows them); every tried case passed."""
    entries = sorted({entry for entry, _ in TALLY})
    print(f"\ncorpus: {len(EXPECTED)} cases ({len(BAD)} bad, {len(VALID)} valid)")
    for entry in entries:
        print(f"  {entry}: {TALLY[entry, 'passed']}/{TALLY[entry, 'tried']} passed")
    assert all(TALLY[e, "passed"] == TALLY[e, "tried"] for e in entries)
