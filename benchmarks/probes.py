"""Reliability probes (issue 23): hostile and real-shaped inputs, each in its own process, counted by outcome.

Families: ``files`` (``workbench profile FILE`` on damaged, odd or foreign files; the file must be
byte-identical afterwards), ``frames`` (``Dataset.from_frames``, ``evaluate``, ``compare`` and
``audit`` on frames spelling ids and times differently), ``models`` (tampered model directories
loaded as ``workbench serve`` loads them, then a first recommend: manifest edits, foreign arrays,
checksums recomputed as a forger would, special files, edited LightGBM text, and every saved array
of nine model classes shifted out of range or filled with NaN: the ``fuzz:`` cases) and ``server``
(the FastAPI app through its TestClient). Every case runs in a subprocess with a timeout and gets
one outcome:

- ``hang``: the timeout passed (the process group is killed);
- ``crash``: killed by a signal (SIGSEGV, SIGABRT, ...);
- ``traceback``: a Python traceback was printed, or an exception that is not a WorkbenchError
  escaped (for the server: a 5xx answer that is not a JSON error);
- ``silent_wrong``: ran and answered, but a check says the answer is wrong (ids matched in no
  spelling scoring 0, foreign arrays loading, a file modified, a doubtful input passing without
  a word);
- ``ok``: a one-line error, a counted warning or a correct answer.

Goal: 0 of each outcome but ``ok``. Writes benchmarks/results/probes.json (a row per case and the
counts per family) and prints the counts. About 5 minutes on 2 cores (``--jobs 2``).

    python benchmarks/probes.py [--out DIR] [--family NAME]... [--case NAME]... [--timeout S] [--jobs N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
FAMILIES = ("files", "frames", "models", "server")
OUTCOMES = ("ok", "silent_wrong", "traceback", "crash", "hang")
WORKBENCH = str(Path(sys.executable).with_name("workbench"))
T0 = 1_700_000_000  # 2023-11-14: a plausible epoch second
FACTORS = ("user_factors", "item_factors")
SETUP = Path()  # the folder of fitted models (set in a child)


# -- family 1: files through `workbench profile FILE` -------------------------------------------
def rows(n: int = 24, *, sep: str = ",", header: str = "user_id,item_id,rating,timestamp") -> str:
    """A small valid log: users u1..u6, items i1..i8, plausible epoch seconds."""
    lines = [header.replace(",", sep)]
    lines += [sep.join([f"u{i % 6 + 1}", f"i{i % 8 + 1}", str(i % 5 + 1), str(T0 + 3600 * i)]) for i in range(n)]
    return "\n".join(lines) + "\n"


def times(values: list[str]) -> str:
    return "user_id,item_id,timestamp\n" + "".join(f"u{i % 3},i{i % 4},{v}\n" for i, v in enumerate(values))


def ratings(values: list[str]) -> str:
    return "user_id,item_id,rating\n" + "".join(f"u{i % 3},i{i % 4},{v}\n" for i, v in enumerate(values))


def ids(users: list[str], *, quote: bool = False) -> str:
    q = (lambda s: '"' + s.replace('"', '""') + '"') if quote else (lambda s: s)
    return "user_id,item_id,timestamp\n" + "".join(f"{q(u)},i{i % 3},{T0 + i}\n" for i, u in enumerate(users))


def big_with_nul(at_line: int, n: int = 6000) -> bytes:
    text = rows(n).splitlines(keepends=True)
    text[at_line - 1] = text[at_line - 1].replace("u", "u\x00", 1)
    return "".join(text).encode()


def with_repeated_header() -> str:
    text = rows(12).splitlines(keepends=True)
    return "".join(text[:8] + [text[0]] + text[8:])  # the header again as line 9


# name -> (content: str | bytes | callable(path), expect, check)
# expect: "refuse" (exit 2, one line), "doubt" (a warning, or a refusal), "read" (exit 0 or a clean refusal;
# when read, ``check`` must hold on the output), "error_line" (refused, naming the given line).
FILE_CASES: dict[str, tuple[Any, str, Any]] = {
    "empty": ("", "refuse", None),
    "header_only": ("user_id,item_id,rating,timestamp\n", "read", {"interactions": 0}),
    "no_id_columns": ("a,b\n1,2\n", "refuse", None),
    "duplicate_header_names": ("user_id,item_id,item_id\nu1,i1,i2\nu2,i2,i3\n", "refuse", None),
    "repeated_header_line": (with_repeated_header(), "error_line", 9),
    "nul_byte_early": (big_with_nul(3, 20), "error_line", 3),
    "nul_byte_past_64k": (big_with_nul(5000), "error_line", 5000),
    "binary_garbage": (bytes(range(256)) * 64, "refuse", None),
    "bom": ("\ufeff" + rows(), "read", {"users": 6, "interactions": 24}),
    "utf16": (rows().encode("utf-16"), "read", {"users": 6, "interactions": 24}),
    "latin1": ("user_id,item_id\nu1,café\nu2,crème\nu2,café\n".encode("latin-1"), "read", {"items": 2}),
    "crlf": (rows().replace("\n", "\r\n"), "read", {"users": 6, "interactions": 24}),
    "mixed_zones": (
        times(["2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z", "2024-01-02T10:00:00+02:00"]),
        "doubt",
        None,
    ),
    "zone_and_naive": (
        times(["2024-01-01T10:00:00+02:00", "2024-01-01 09:00:00", "2024-01-02T10:00:00"]),
        "doubt",
        None,
    ),
    "epoch_ms": (times([str(T0 * 1000 + i) for i in range(6)]), "refuse", None),
    "epoch_us": (times([str(T0 * 10**6 + i) for i in range(6)]), "refuse", None),
    "epoch_ns": (times([str(T0 * 10**9 + i) for i in range(6)]), "refuse", None),
    "epoch_1e17_s": (times(["100000000000000000", str(T0), str(T0 + 5)]), "refuse", None),
    "epoch_float_1e300": (times(["1e300", str(T0), str(T0 + 5)]), "refuse", None),
    "negative_epoch": (times(["-86400", str(T0), str(T0 + 5)]), "doubt", None),
    "date_2099": (times(["2099-01-01", "2024-01-01", "2024-01-02"]), "doubt", None),
    "date_1950": (times(["1950-01-01", "2024-01-01", "2024-01-02"]), "doubt", None),
    "dates_day_first": (
        times(["01/02/2024", "13/02/2024", "25/12/2024"]),
        "read",
        {"first_timestamp": "2024-02-01T00:00:00"},
    ),
    "dates_day_and_month_first": (times(["01/02/2024", "13/02/2024", "02/13/2024"]), "refuse", None),
    "dates_ambiguous_order": (times(["01/02/2024", "03/04/2024", "05/06/2024"]), "doubt", None),
    "epoch_and_iso_mixed": (times(["1700000000", "2024-01-01", "2024-01-02"]), "refuse", None),
    "text_in_timestamp": (times(["yesterday", "2024-01-01", "2024-01-02"]), "refuse", None),
    "negative_rating": (ratings(["-5", "3", "4"]), "doubt", None),
    "huge_rating": (ratings(["1e308", "3", "4"]), "refuse", None),
    "inf_rating": (ratings(["inf", "3", "4"]), "refuse", None),
    "nan_rating": (ratings(["NaN", "3", "4"]), "refuse", None),
    "empty_rating_cell": (ratings(["", "3", "4"]), "refuse", None),
    "text_in_rating": (ratings(["five", "3", "4"]), "refuse", None),
    "unknown_events": ("user_id,item_id,event\nu1,i1,view\nu1,i2,click\nu2,i1,purchase\n", "doubt", None),
    "missing_user_id": ("user_id,item_id\nu1,i1\n,i2\nu2,i1\n", "refuse", None),
    "ids_spaces": (ids(["u 1", "u 1", "u 2"]), "read", {"users": 2}),
    "ids_leading_zeros": (ids(["007", "7", "0007"]), "read", {"users": 3}),
    "ids_one_and_one_point_zero": (ids(["1", "1.0", "2"]), "read", {"users": 3}),
    "ids_int_and_text": (ids(["1", "x", "2"]), "read", {"users": 3}),
    "ids_unicode": (ids(["ユーザー", "пользователь", "ユーザー", "🛒"]), "read", {"users": 3}),
    "ids_rtl_override": (ids(["\u202eu1", "u1", "\u202eu1"]), "read", {"users": 2}),
    "ids_20000_chars": (ids(["x" * 20_000, "y", "x" * 20_000]), "read", {"users": 2}),
    "ids_quoted_newline": (ids(["a\nb", "a\nb", "c"], quote=True), "read", {"users": 2}),
    "ragged_row_long": ("user_id,item_id\nu1,i1\nu2,i2,extra\nu3,i3\n", "refuse", None),
    "ragged_row_short": ("user_id,item_id,rating\nu1,i1,1\nu2,i2\nu3,i3,2\n", "refuse", None),
    "semicolon_separator": (rows(sep=";"), "read", {"users": 6, "interactions": 24}),
    "tab_separator": (rows(sep="\t"), "read", {"users": 6, "interactions": 24}),
    "parquet_nested": ("setup:nested.parquet", "refuse", None),
    "parquet_struct_extra": ("setup:struct.parquet", "read", {"users": 2}),
    "directory": ("dir", "refuse", None),
    "missing_file": ("missing", "refuse", None),
    "no_read_permission": ("noperm", "refuse", None),
    "fifo": ("fifo", "refuse", None),
    "gzip_named_csv": (__import__("gzip").compress(rows().encode(), mtime=0), "refuse", None),
    "parquet_named_csv": ("setup:struct.parquet.csv", "refuse", None),
}


def summary_value(stdout: str, metric: str) -> str | None:
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == metric:
            return parts[1]
    return None


def file_fingerprint(path: Path) -> str:
    """Content and mode of a file (or of every file under a directory); '' when absent."""
    if not path.exists() and not path.is_symlink():
        return ""
    if path.is_dir():
        return ";".join(f"{p.name}:{file_fingerprint(p)}" for p in sorted(path.iterdir())) + f"|{path.stat().st_mode}"
    if not path.is_file():
        return f"special:{path.stat().st_mode}"
    return hashlib.sha256(path.read_bytes()).hexdigest() + f"|{path.stat().st_mode}"


def make_file(name: str, content: Any, folder: Path, setup: Path) -> Path:
    path = folder / f"{name}.csv"
    if isinstance(content, str) and content.startswith("setup:"):
        return setup / content.removeprefix("setup:")
    if content == "dir":
        path = folder / name
        path.mkdir()
        (path / "inside.csv").write_text(rows())
    elif content == "missing":
        pass
    elif content == "noperm":
        path.write_text(rows())
        path.chmod(0)
    elif content == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def judge_file(name: str, proc: subprocess.CompletedProcess, changed: bool) -> tuple[str, str]:
    _, expect, check = FILE_CASES[name]
    out, err = proc.stdout, proc.stderr
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    warned = [line for line in lines if line.startswith("warning:")]
    if "Traceback (most recent call last)" in err + out:
        return "traceback", err.strip().splitlines()[-1][:300]
    if changed:
        return "silent_wrong", "the input file changed"
    if proc.returncode not in (0, 2):
        return "traceback", f"exit {proc.returncode}: {(lines or [''])[-1][:300]}"
    if proc.returncode == 2:
        others = [line for line in lines if not line.startswith(("error:", "warning:"))]
        detail = (errors or lines or ["exit 2"])[0][:300]
        if len(errors) != 1 or others:
            return "traceback", f"not a one-line error: {' | '.join(lines)[:300]}"
        if expect == "error_line" and f"line {check}" not in detail:
            return "silent_wrong", f"error does not name line {check}: {detail}"
        return "ok", detail
    # exit 0: it read the file
    if expect in ("refuse", "error_line"):
        return "silent_wrong", "read without a word; expected a one-line error"
    implausible = summary_value(out, "implausible_timestamps")
    if expect == "doubt" and not warned and implausible in (None, "0"):
        return "silent_wrong", "read without a warning"
    for metric, wanted in (check or {}).items():
        got = summary_value(out, metric)
        if got != str(wanted):
            return "silent_wrong", f"{metric} = {got}, expected {wanted}"
    detail = warned[0] if warned else f"read: users {summary_value(out, 'users')}, items {summary_value(out, 'items')}"
    other = [line for line in lines if not line.startswith("warning:")]
    return "ok", (detail + (f" (stderr also: {other[0]})" if other else ""))[:300]


# -- children: frames, models and server cases run in their own process -----------------------------
class Wrong(Exception):
    """A check failed: the case ran and answered wrongly."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Wrong(message)


def child(family: str, name: str, setup: Path, work: Path) -> dict[str, str]:
    """Run one case; ok / silent_wrong / traceback (crash and hang are seen by the parent)."""
    from workbench.errors import DataWarning, WorkbenchError

    global SETUP
    SETUP = setup
    if name.startswith("fuzz:"):
        MODEL_CASES[name] = _fuzz_case(name)
    case = {"frames": FRAME_CASES, "models": MODEL_CASES, "server": SERVER_CASES}[family][name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            answer = case(setup, work) or "answered correctly"
        except Wrong as exc:
            return {"outcome": "silent_wrong", "detail": str(exc)}
        except WorkbenchError as exc:
            lines = str(exc).strip().splitlines()
            if len(lines) != 1:
                return {"outcome": "traceback", "detail": f"{type(exc).__name__} of {len(lines)} lines: {lines[:2]}"}
            return {"outcome": "ok", "detail": f"{type(exc).__name__}: {lines[0]}"[:300]}
        except BaseException as exc:  # noqa: BLE001 (anything else is what the probe looks for)
            traceback.print_exc()
            return {"outcome": "traceback", "detail": f"{type(exc).__name__}: {str(exc)[:250]}"}
    doubts = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    if answer == "needs a warning":
        if not doubts:
            return {"outcome": "silent_wrong", "detail": "accepted without a DataWarning"}
        answer = "warned"
    if doubts:
        answer += f"; DataWarning: {doubts[0]}"
    return {"outcome": "ok", "detail": answer[:300]}


# -- family 2: frames ---------------------------------------------------------------------------
def _truth_and_recs(user_kind: Callable, item_kind: Callable) -> tuple[Any, Any]:
    import pandas as pd

    truth = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12]})
    recs = pd.DataFrame(
        {"user_id": [1, 1, 2, 2, 3, 3], "item_id": [10, 11, 12, 10, 12, 11], "score": [6, 5, 4, 3, 2, 1.0]}
    )
    recs["rank"] = recs.groupby("user_id").cumcount() + 1
    recs["user_id"], recs["item_id"] = recs["user_id"].map(user_kind), recs["item_id"].map(item_kind)
    return truth, recs


def _evaluate_matches(user_kind: Callable, item_kind: Callable, *, per_user: bool = False) -> str:
    from workbench.evaluation import evaluate, evaluate_per_user

    truth, recs = _truth_and_recs(int, int)
    want = evaluate(recs, truth, k=2)
    _, recs = _truth_and_recs(user_kind, item_kind)
    if per_user:
        table = evaluate_per_user(recs, truth, k=2)
        got = {m: float(table[m].mean()) for m in want}
    else:
        got = evaluate(recs, truth, k=2)
    expect(all(abs(got[m] - want[m]) < 1e-12 for m in want), f"metrics {got} differ from the same ids' {want}")
    return f"ndcg {got['ndcg']:.4f} as with one spelling"


def _from_frames(frame: Any, check: Callable[[Any], str] | None = None) -> str:
    from workbench.data import Dataset

    before = frame.copy(deep=True)
    try:
        ds = Dataset.from_frames(frame)
    finally:
        expect(frame.equals(before) and list(frame.columns) == list(before.columns), "from_frames changed its input")
    return check(ds) if check else "needs a warning"


def _frame(**columns: Any) -> Any:
    import pandas as pd

    base = {"user_id": ["u1", "u2", "u1", "u3"], "item_id": ["i1", "i1", "i2", "i3"]}
    return pd.DataFrame({**base, **columns})


def _tz_mixed(setup: Path, work: Path) -> str:
    import pandas as pd

    stamps = [pd.Timestamp("2024-01-01 10:00", tz="Europe/Berlin"), pd.Timestamp("2024-01-01 09:00", tz="UTC")] * 2
    frame = _frame(timestamp=pd.Series(stamps, dtype=object))

    def check(ds: Any) -> str:
        from workbench.data.validate import to_seconds

        seconds = to_seconds(ds.interactions["timestamp"])
        want = [int(s.timestamp()) for s in stamps]
        expect(list(seconds) == want, f"times {list(seconds)} are not the UTC instants {want}")
        return "converted to UTC"

    return _from_frames(frame, check)


def _expect_start_of_months(ds: Any) -> str:
    days = ds.interactions["timestamp"].astype(str).str[:10].tolist()
    expect(days == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"], f"months read as {days}")
    return "months read as their first day"


def _tz_aware(setup: Path, work: Path) -> str:
    import pandas as pd

    stamps = pd.Series(pd.date_range("2024-01-01", periods=4, freq="h", tz="America/New_York"))

    def check(ds: Any) -> str:
        from workbench.data.validate import to_seconds

        seconds = list(to_seconds(ds.interactions["timestamp"]))
        want = [int(s.timestamp()) for s in stamps]
        expect(seconds == want, f"times {seconds} are not the UTC instants {want}")
        return "one zone kept, UTC seconds right"

    return _from_frames(_frame(timestamp=stamps), check)


def _categorical_ids(setup: Path, work: Path) -> str:
    frame = _frame(rating=[1.0, 2, 3, 4])
    frame["user_id"] = frame["user_id"].astype("category")

    def check(ds: Any) -> str:
        users = sorted(map(str, ds.interactions["user_id"].unique()))
        expect(users == ["u1", "u2", "u3"], f"users {users}")
        return "categorical ids read as their values"

    return _from_frames(frame, check)


def _duplicated_columns(setup: Path, work: Path) -> str:
    import pandas as pd

    frame = pd.DataFrame([["u1", "i1", "i9"], ["u2", "i2", "i8"]], columns=["user_id", "item_id", "item_id"])
    _from_frames(frame)
    raise Wrong("a frame naming item_id twice was accepted")


def _bool_ids(setup: Path, work: Path) -> str:
    frame = _frame()
    frame["item_id"] = [True, False, True, True]
    return _from_frames(frame, lambda ds: f"bool ids read as {ds.id_kinds.get('item_id')}")


def _bool_rating(setup: Path, work: Path) -> str:
    def check(ds: Any) -> str:
        expect(ds.interactions["rating"].tolist() == [1.0, 0.0, 1.0, 1.0], "bool ratings not read as 1 / 0")
        return "bool strengths read as 1 / 0"

    return _from_frames(_frame(rating=[True, False, True, True]), check)


def _compare_spellings(setup: Path, work: Path) -> str:
    import pandas as pd

    from workbench.analysis.experiment import compare

    a = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.1, 0.2, 0.3, 0.4]})
    b = pd.DataFrame({"user_id": ["4", "3", "2", "1"], "ndcg": [0.5, 0.3, 0.3, 0.2]})
    result = compare(a, b, n_boot=200)
    expect(
        result["n_users"] == 4 and abs(result["diff"] - 0.075) < 1e-12,
        f"paired {result['n_users']} users, diff {result['diff']}",
    )
    return "users paired across spellings"


def _audit_spellings() -> str:
    import pandas as pd

    from workbench.analysis.audit import audit

    per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.1, 0.2, 0.3, 0.4]})
    segments = pd.Series(["a", "a", "b", "b"], index=pd.Index(["1", "2", "3", "4"], name="user_id"), name="group")
    means = audit(per_user, segments, n_boot=50).by_group["ndcg"].round(6).to_dict()
    expect(means == {"a": 0.15, "b": 0.35}, f"group means {means}")
    return "segments matched across spellings"


def _coldstart_text_users_table(setup: Path, work: Path) -> str:
    from workbench.data import Dataset
    from workbench.data.synthetic import make_ecommerce
    from workbench.models import ClusterColdStart

    log = make_ecommerce(60, 40, 800, seed=0, integer_ids=True)
    users = log.users.set_axis(log.users.index.astype(str))  # "7" beside user 7 of the log
    asked = [*log.interactions["user_id"].unique()[:5].tolist(), 10_000]
    lists = [
        ClusterColdStart(n_clusters=2, seed=0).fit(Dataset.from_frames(log.interactions, users=table)).recommend(asked)
        for table in (log.users, users)
    ]
    expect(lists[0].equals(lists[1]), "a users table spelling ids as text changed the cold-start lists")
    return "demographics found in either spelling"


def _save_round_trip(ids: list[Any]) -> Callable[[Path, Path], str]:
    """Fit, save and load a model whose item ids are ``ids``: the loaded model must name the same items."""

    def run(setup: Path, work: Path) -> str:
        import pandas as pd

        from workbench.data import Dataset
        from workbench.models import PopularityRecommender, load_model

        log = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": pd.Series(ids, dtype=object)})
        model = PopularityRecommender().fit(Dataset.from_frames(log))
        loaded = load_model(model.save(work / "model"))
        before, after = model.item_map.ids.tolist(), loaded.item_map.ids.tolist()
        expect(before == after, f"items {before!r} came back as {after!r}")
        return "the same ids after loading"

    return run


def _known_user_other_spelling(setup: Path, work: Path) -> str:
    import pandas as pd

    from workbench.data import Dataset
    from workbench.models import PopularityRecommender

    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12]}))
    recs = PopularityRecommender().fit(ds).recommend(["1", 2], k=2)
    expect(not recs["fallback"].any(), "a known user spelled '1' was served as unknown")
    return "'1' found as user 1"


def _evaluate_nan_truth_ids(setup: Path, work: Path) -> str:
    import numpy as np

    from workbench.evaluation import evaluate

    truth, recs = _truth_and_recs(int, int)
    truth = truth.astype({"user_id": float})
    truth.loc[1, "user_id"] = np.nan
    got = evaluate(recs, truth, k=2)
    return f"NaN truth id: {got['ndcg']:.4f}"


def _evaluate_nan_list_user(setup: Path, work: Path) -> str:
    import numpy as np

    from workbench.evaluation import evaluate

    truth, recs = _truth_and_recs(int, int)
    want = evaluate(recs, truth, k=2)
    recs = recs.astype({"user_id": float})
    recs.loc[0, "user_id"] = np.nan  # user 1's first row lost its user (a left merge)
    got = evaluate(recs, truth, k=2)
    expect(
        got == want, f"a list row without its user changed the metrics: ndcg {got['ndcg']:.4f} vs {want['ndcg']:.4f}"
    )
    return "unchanged"


def _next_basket_spellings(setup: Path, work: Path) -> str:
    import pandas as pd

    from workbench.data import Dataset
    from workbench.evaluation import evaluate_next_basket

    history = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 11, 10]}))
    truth, recs = _truth_and_recs(int, int)
    want = evaluate_next_basket(recs, truth, history, k=2)
    got = evaluate_next_basket(recs.astype({"user_id": str, "item_id": str}), truth, history, k=2)
    expect(got == want, f"text ids changed the next-basket metrics: {got} vs {want}")
    return "repeat and explore scores matched across spellings"


def _evaluate_dataset_truth(setup: Path, work: Path) -> str:
    import pandas as pd

    from workbench.data import Dataset
    from workbench.evaluation import evaluate

    truth, recs = _truth_and_recs(str, str)
    want = evaluate(*_truth_and_recs(int, int)[::-1], k=2)
    got = evaluate(recs, Dataset.from_frames(pd.DataFrame(truth)), k=2)
    expect(abs(got["ndcg"] - want["ndcg"]) < 1e-12, f"ndcg {got['ndcg']} against {want['ndcg']}")
    return "Dataset truth matched across spellings"


def _evaluate_repeated_truth(setup: Path, work: Path) -> str:
    import pandas as pd

    from workbench.evaluation import evaluate

    truth, recs = _truth_and_recs(int, int)
    want = evaluate(recs, truth, k=2)
    got = evaluate(recs, pd.concat([truth, truth.iloc[:2]]), k=2)
    expect(got == want, f"a repeated truth pair changed the metrics: {got} vs {want}")
    return "a repeated pair is one relevant item"


FRAME_CASES: dict[str, Callable[[Path, Path], str | None]] = {
    "evaluate_int_recs_text_truth": lambda s, w: _evaluate_matches(str, str),
    "evaluate_text_users_int_items": lambda s, w: _evaluate_matches(str, int),
    "evaluate_int_users_text_items": lambda s, w: _evaluate_matches(int, str),
    "evaluate_per_user_text": lambda s, w: _evaluate_matches(str, str, per_user=True),
    "evaluate_float_ids": lambda s, w: _evaluate_matches(float, float),
    "evaluate_numpy_int32_ids": lambda s, w: _evaluate_matches(lambda v: __import__("numpy").int32(v), int),
    "evaluate_categorical_ids": lambda s, w: _evaluate_categorical(),
    "evaluate_nan_truth_ids": _evaluate_nan_truth_ids,
    "evaluate_dataset_truth": _evaluate_dataset_truth,
    "evaluate_nan_list_user": _evaluate_nan_list_user,
    "evaluate_next_basket_text_ids": _next_basket_spellings,
    "evaluate_repeated_truth_pair": _evaluate_repeated_truth,
    "compare_int_vs_text_users": _compare_spellings,
    "audit_int_users_text_segments": lambda s, w: _audit_spellings(),
    "recommend_known_user_as_text": _known_user_other_spelling,
    "coldstart_users_table_text_ids": _coldstart_text_users_table,
    "save_load_tuple_ids": _save_round_trip([(1, 2), (3, 4), (1, 2)]),
    "save_load_bool_ids": _save_round_trip([True, False, True]),
    "save_load_unicode_rtl_ids": _save_round_trip(["\u202eabc", "ユーザー", "\u202eabc"]),
    "save_load_huge_int_ids": _save_round_trip([2**62, -(2**62), 2**62]),
    "from_frames_timedelta_timestamps": lambda s, w: _from_frames(
        _frame(timestamp=__import__("pandas").to_timedelta([1, 2, 3, 4], unit="D"))
    ),
    "from_frames_tz_mixed_objects": _tz_mixed,
    "from_frames_period_timestamps": lambda s, w: _from_frames(
        _frame(timestamp=__import__("pandas").period_range("2024-01", periods=4, freq="M")),
        lambda ds: _expect_start_of_months(ds),
    ),
    "from_frames_complex_rating": lambda s, w: _from_frames(_frame(rating=[1 + 2j, 2, 3, 4])),
    "from_frames_tz_aware": _tz_aware,
    "from_frames_categorical_ids": _categorical_ids,
    "from_frames_nan_ids": lambda s, w: _from_frames(_frame(user_id=["u1", None, "u2", "u3"])),
    "from_frames_bool_ids": _bool_ids,
    "from_frames_bool_rating": _bool_rating,
    "from_frames_duplicated_columns": _duplicated_columns,
    "from_frames_negative_rating": lambda s, w: _from_frames(_frame(rating=[-1.0, 2, 3, 4])),
    "from_frames_inf_rating": lambda s, w: _from_frames(_frame(rating=[float("inf"), 2, 3, 4])),
    "from_frames_huge_rating": lambda s, w: _from_frames(_frame(rating=[1e300, 2, 3, 4])),
    "from_frames_unknown_events": lambda s, w: _from_frames(_frame(event=["view", "click", "cart", "purchase"])),
    "from_frames_dates_2099": lambda s, w: _from_frames(
        _frame(timestamp=__import__("pandas").to_datetime(["2099-01-01", "2024-01-01", "2024-01-02", "2024-01-03"]))
    ),
    "from_frames_mixed_one_and_text_one": lambda s, w: _from_frames(
        _frame(user_id=[1, "1", "u2", "u3"]), lambda ds: f"read: {ds.interactions['user_id'].nunique()} users"
    ),
}


def _evaluate_categorical() -> str:
    from workbench.evaluation import evaluate

    truth, recs = _truth_and_recs(int, int)
    want = evaluate(recs, truth, k=2)
    recs = recs.astype({"user_id": "category", "item_id": "category"})
    got = evaluate(recs, truth.astype({"user_id": "category"}), k=2)
    expect(got == want, f"categorical ids changed the metrics: {got} vs {want}")
    return "categorical ids matched"


# -- family 3: tampered model directories ---------------------------------------------------------
def setup_models(setup: Path) -> None:
    """Fit the models the model cases tamper with (and the Parquet files of the file cases)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.data.synthetic import make_ecommerce
    from workbench.models import ALSRecommender, CandidateGenerator, PopularityRecommender

    pq.write_table(pa.table({"user_id": [1, 2], "item_id": [[1, 2], [3]]}), setup / "nested.parquet")
    pq.write_table(
        pa.table({"user_id": ["a", "b"], "item_id": ["x", "y"], "meta": [{"k": 1}, {"k": 2}]}), setup / "struct.parquet"
    )
    shutil.copy(setup / "struct.parquet", setup / "struct.parquet.csv")
    a = make_ecommerce(120, 80, 2500, seed=0, integer_ids=True)
    b = make_ecommerce(60, 150, 1500, seed=1)
    PopularityRecommender().fit(a).save(setup / "pop_a")
    PopularityRecommender().fit(b).save(setup / "pop_b")
    ALSRecommender(factors=8, iterations=3, seed=0).fit(a).save(setup / "als_a")
    ALSRecommender(factors=8, iterations=3, seed=1).fit(b).save(setup / "als_b")
    CandidateGenerator(n_candidates=20, factors=8, iterations=2, seed=0).fit(a).save(setup / "cg_a")
    from workbench.models import (
        ClusterColdStart,
        ContentRecommender,
        HybridRecommender,
        LightGBMReranker,
        RepeatRecommender,
        TIFUKNNRecommender,
        UPCFRecommender,
    )

    RepeatRecommender().fit(a).save(setup / "repeat_a")
    TIFUKNNRecommender().fit(a).save(setup / "tifu_a")
    UPCFRecommender().fit(a).save(setup / "upcf_a")
    ContentRecommender().fit(a).save(setup / "content_a")
    cold = ClusterColdStart(n_clusters=3, seed=0)
    HybridRecommender(cold, ALSRecommender(factors=8, iterations=2, seed=0)).fit(a).save(setup / "hybrid_a")
    LightGBMReranker(PopularityRecommender(), n_candidates=20, n_rounds=5, seed=0).fit(a).save(setup / "rerank_a")
    users = a.interactions["user_id"].drop_duplicates().head(3).tolist()
    (setup / "known_users.json").write_text(json.dumps([int(u) for u in users]))
    np.save(setup / "marker.npy", np.arange(3))
    pd.DataFrame({"item_id": [1, 2], "name": ["a", "b"]}).to_csv(setup / "items.csv", index=False)


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _rehash(folder: Path, *names: str) -> None:
    """Recompute the manifest's checksums of ``names`` (a forger who knows the format)."""
    manifest = _manifest(folder)
    for name in names:
        manifest["sha256"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    _write_manifest(folder, manifest)


def _edit_arrays(folder: Path, edit: Callable[[dict[str, Any]], None], file: str = "arrays.npz") -> None:
    import numpy as np

    with np.load(folder / file) as data:
        arrays = {name: data[name] for name in data.files}
    edit(arrays)
    np.savez(folder / file, **arrays)
    manifest = _manifest(folder)
    manifest["shapes"].update({name: list(a.shape) for name, a in arrays.items()})
    _write_manifest(folder, manifest)
    _rehash(folder, file)


def _set(path: tuple[str, ...], value: Any) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        manifest = _manifest(folder)
        node = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        _write_manifest(folder, manifest)

    return tamper


def _del_key(key: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        manifest = _manifest(folder)
        del manifest[key]
        _write_manifest(folder, manifest)

    return tamper


def _swap_from(other: str, *, rehash: bool, drop_sha: bool = False) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        source = SETUP / other
        for name in ("arrays.npz", "ids.npz") if rehash else ("arrays.npz",):
            shutil.copy(source / name, folder / name)
        if rehash:
            _rehash(folder, "arrays.npz", "ids.npz")
        if drop_sha:
            _del_key("sha256")(folder)

    return tamper


def _arrays_only_from(other: str, names: tuple[str, ...] | None = None) -> Callable[[Path], None]:
    """Another model's arrays (``names``, default all) with this model's ids, checksums and shapes recomputed."""

    def tamper(folder: Path) -> None:
        import numpy as np

        with np.load(SETUP / other / "arrays.npz") as data:
            foreign = {name: data[name] for name in data.files if names is None or name in names}
        _edit_arrays(folder, lambda arrays: arrays.update(foreign))

    return tamper


def _seen(name: str, value: Callable[[Any], Any]) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        _edit_arrays(folder, lambda arrays: arrays.__setitem__(name, value(arrays[name])))

    return tamper


def _truncate(*, rehash: bool) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        path = folder / "arrays.npz"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        if rehash:
            _rehash(folder, "arrays.npz")

    return tamper


def _npz_bomb(folder: Path) -> None:
    """``popularity``'s real bytes under a header declaring 10**12 floats (3.6 TiB), checksum recomputed."""
    import io
    import zipfile

    import numpy as np

    with np.load(folder / "arrays.npz") as data:
        arrays = {name: data[name] for name in data.files}
    with zipfile.ZipFile(folder / "arrays.npz", "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            if name == "popularity":
                header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
                np.lib.format.write_array_header_1_0(member, header)
                member.write(array.astype("<f4").tobytes())
            else:
                np.lib.format.write_array(member, array)
            archive.writestr(f"{name}.npy", member.getvalue())
    _set(("shapes", "popularity"), [10**12])(folder)
    _rehash(folder, "arrays.npz")


def _deep_json(folder: Path) -> None:
    (folder / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)


def _deep_inside(folder: Path) -> None:
    text = json.dumps(_manifest(folder))
    (folder / "manifest.json").write_text(text[:-1] + ', "x": ' + "[" * 200_000 + "]" * 200_000 + "}")


def _symlink_out(*, target: str, rehash: bool) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        outside = folder.parent / f"{folder.name}-outside.npz"
        if target == "foreign":
            shutil.copy(SETUP / "pop_b" / "arrays.npz", outside)
        else:
            shutil.copy(folder / "arrays.npz", outside)
        (folder / "arrays.npz").unlink()
        (folder / "arrays.npz").symlink_to(outside)
        if rehash:
            _rehash(folder, "arrays.npz")

    return tamper


def _special(kind: str, name: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        (folder / name).unlink()
        if kind == "fifo":
            os.mkfifo(folder / name)
        else:
            (folder / name).symlink_to("/dev/zero")

    return tamper


def _extra_files(folder: Path) -> None:
    (folder / "evil.npz").write_bytes(b"PK\x03\x04 not really")
    (folder / "notes.txt").write_text("hello")
    (folder / "als").mkdir()
    (folder / "als" / "manifest.json").write_text("[" * 100_000)


def _object_ids(folder: Path) -> None:
    import numpy as np

    with np.load(folder / "ids.npz") as data:
        arrays = {name: data[name] for name in data.files}
    arrays["user_ids"] = arrays["user_ids"].astype(object)
    np.savez(folder / "ids.npz", **arrays)
    _rehash(folder, "ids.npz")


def _duplicate_ids(folder: Path) -> None:
    _edit_arrays(folder, lambda a: a["user_ids"].__setitem__(1, a["user_ids"][0]), file="ids.npz")


def _remove(name: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        target = folder / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return tamper


def _part_edit(folder: Path) -> None:
    _set(("params", "factors"), 9)(folder / "als")


def _part_rehashed(folder: Path) -> None:
    """The ALS part's factors swapped for another model's, with every checksum recomputed."""
    _arrays_only_from("als_b", FACTORS)(folder / "als")
    _rehash(folder, "als/manifest.json")


def _in_part(part: str, tamper: Callable[[Path], None]) -> Callable[[Path], None]:
    """``tamper`` applied to the sub-model ``part``, with the parent's checksum of its manifest recomputed."""

    def run(folder: Path) -> None:
        tamper(folder / part)
        _rehash(folder, f"{part}/manifest.json")

    return run


def _nan_factors(folder: Path) -> None:
    _edit_arrays(folder, lambda a: [a[n].fill(float("nan")) for n in a if n in ("user_factors", "item_factors")])


def _text(name: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    """The saved text file ``name`` edited, its checksum recomputed."""

    def tamper(folder: Path) -> None:
        (folder / name).write_text(edit((folder / name).read_text()))
        _rehash(folder, name)

    return tamper


def _split_features(text: str, value: str) -> str:
    return "\n".join(
        "split_feature=" + " ".join(value for _ in line.split("=")[1].split())
        if line.startswith("split_feature=")
        else line
        for line in text.splitlines()
    )


def _sized(edit: Callable[[str], str]) -> Callable[[str], str]:
    """``edit``, then ``tree_sizes`` recomputed to fit the edited trees (a forger who knows the format)."""

    def run(text: str) -> str:
        text = edit(text)
        head, _, rest = text.partition("\nTree=")
        trees = ("Tree=" + rest).split("end of trees", 1)[0]
        starts = [m.start() for m in re.finditer(r"^Tree=", trees, re.MULTILINE)]
        sizes = [len(trees[a:b].encode()) for a, b in zip(starts, [*starts[1:], len(trees)], strict=True)]
        head = re.sub(r"(?m)^tree_sizes=.*$", "tree_sizes=" + " ".join(map(str, sizes)), head)
        return head + "\nTree=" + rest

    return run


def _tables(edit: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    def run(text: str) -> str:
        meta = json.loads(text)
        edit(meta)
        return json.dumps(meta)

    return run


# base model, tamper, expectation: "refuse" (ModelError), "serve" (loads and serves correctly), "either"
MODEL_CASES_SPEC: dict[str, tuple[str, Callable[[Path], None] | None, str]] = {
    "untampered_popularity": ("pop_a", None, "serve"),
    "untampered_als": ("als_a", None, "serve"),
    "untampered_candidates": ("cg_a", None, "serve"),
    "delete_sha256": ("pop_a", _del_key("sha256"), "refuse"),
    "delete_sha256_foreign_arrays": ("pop_a", _swap_from("pop_b", rehash=False, drop_sha=True), "refuse"),
    "empty_sha256": ("pop_a", _set(("sha256",), {}), "refuse"),
    "swap_arrays_stale_checksum": ("pop_a", _swap_from("pop_b", rehash=False), "refuse"),
    "swap_arrays_and_ids_rehashed": ("pop_a", _swap_from("pop_b", rehash=True), "refuse"),
    "foreign_arrays_shapes_rehashed": ("pop_a", _arrays_only_from("pop_b"), "refuse"),
    "foreign_als_factors_rehashed": ("als_a", _arrays_only_from("als_b", FACTORS), "refuse"),
    "list_for_params": ("pop_a", _set(("params",), []), "refuse"),
    "list_for_sha256": ("pop_a", _set(("sha256",), ["x"]), "refuse"),
    "string_shapes": ("pop_a", _set(("shapes",), "3x4"), "refuse"),
    "string_shape_entry": ("pop_a", _set(("shapes", "popularity"), "80"), "refuse"),
    "negative_shape_entry": ("pop_a", _set(("shapes", "popularity"), [-80]), "refuse"),
    "bad_seed_als": ("als_a", _set(("params", "seed"), "x"), "refuse"),
    "bad_factors_als": ("als_a", _set(("params", "factors"), -3), "refuse"),
    "unknown_param": ("pop_a", _set(("params", "evil"), 1), "refuse"),
    "bool_format_version": ("pop_a", _set(("format_version",), True), "refuse"),
    "huge_format_version": ("pop_a", _set(("format_version",), 10**400), "refuse"),
    "other_class_name": ("pop_a", _set(("class",), "ALSRecommender"), "refuse"),
    "unknown_class_name": ("pop_a", _set(("class",), "os.system"), "refuse"),
    "bad_id_kind": ("pop_a", _set(("id_kinds", "user_ids"), "pickle"), "refuse"),
    "sha256_path_escape": ("pop_a", _set(("sha256", "../pop_b/arrays.npz"), "0" * 64), "refuse"),
    "json_200000_deep": ("pop_a", _deep_json, "refuse"),
    "json_deep_inside_object": ("pop_a", _deep_inside, "refuse"),
    "manifest_not_utf8": ("pop_a", lambda f: (f / "manifest.json").write_bytes(b"\xff\xfe{}"), "refuse"),
    "manifest_5mb": ("pop_a", lambda f: (f / "manifest.json").write_text(" " * (5 << 20)), "refuse"),
    "manifest_fifo": ("pop_a", _special("fifo", "manifest.json"), "refuse"),
    "manifest_dev_zero": ("pop_a", _special("zero", "manifest.json"), "refuse"),
    "arrays_fifo": ("pop_a", _special("fifo", "arrays.npz"), "refuse"),
    "seen_indices_out_of_range_candidates": ("cg_a", _seen("seen_indices", lambda v: v + 10**6), "refuse"),
    "seen_indices_out_of_range_als": ("als_a", _seen("seen_indices", lambda v: v + 10**6), "refuse"),
    "seen_indices_negative": ("cg_a", _seen("seen_indices", lambda v: v - 10**6), "refuse"),
    "seen_indices_float": ("pop_a", _seen("seen_indices", lambda v: v.astype(float)), "refuse"),
    "seen_indptr_decreasing": ("cg_a", _seen("seen_indptr", lambda v: v[::-1].copy()), "refuse"),
    "seen_indptr_too_short": ("pop_a", _seen("seen_indptr", lambda v: v[:-5].copy()), "refuse"),
    "popularity_wrong_length": ("pop_a", _seen("popularity", lambda v: v[:3].copy()), "refuse"),
    "popularity_2d": ("pop_a", _seen("popularity", lambda v: v.reshape(1, -1).copy()), "refuse"),
    "als_nan_factors": ("als_a", _nan_factors, "refuse"),
    "popularity_nan": ("pop_a", _seen("popularity", lambda v: v * float("nan")), "refuse"),
    "similarity_indices_out_of_range": ("cg_a", _seen("similarity_indices", lambda v: v + 10**6), "refuse"),
    "similarity_indptr_too_long": ("cg_a", _seen("similarity_indptr", lambda v: v.repeat(2)), "refuse"),
    "part_ease_kept_out_of_range": ("cg_a", _in_part("ease", _seen("kept", lambda v: v + 10**6)), "refuse"),
    "part_ease_weights_nan": ("cg_a", _in_part("ease", _seen("B", lambda v: v * float("nan"))), "refuse"),
    "part_als_seen_out_of_range": ("cg_a", _in_part("als", _seen("seen_indices", lambda v: v + 10**6)), "refuse"),
    "duplicate_user_ids": ("pop_a", _duplicate_ids, "refuse"),
    "object_ids_pickled": ("pop_a", _object_ids, "refuse"),
    "npz_header_declares_terabytes": ("pop_a", _npz_bomb, "refuse"),
    "truncated_npz": ("pop_a", _truncate(rehash=False), "refuse"),
    "truncated_npz_rehashed": ("pop_a", _truncate(rehash=True), "refuse"),
    "symlink_outside_own_arrays": ("pop_a", _symlink_out(target="own", rehash=False), "either"),
    "symlink_outside_foreign_rehashed": ("pop_a", _symlink_out(target="foreign", rehash=True), "refuse"),
    "extra_unlisted_files": ("pop_a", _extra_files, "serve"),
    "missing_ids_file": ("pop_a", _remove("ids.npz"), "refuse"),
    "missing_part": ("cg_a", _remove("als"), "refuse"),
    "part_manifest_edited": ("cg_a", _part_edit, "refuse"),
    "part_foreign_factors_rehashed": ("cg_a", _part_rehashed, "refuse"),
    "ranker_truncated": ("rerank_a", _text("ranker.txt", lambda t: t[: len(t) // 2]), "refuse"),
    "ranker_not_lightgbm": ("rerank_a", _text("ranker.txt", lambda t: "hello\n"), "refuse"),
    "ranker_split_feature_out_of_range": (
        "rerank_a",
        _text("ranker.txt", lambda t: _split_features(t, "100000")),
        "refuse",
    ),
    "ranker_split_feature_negative": ("rerank_a", _text("ranker.txt", lambda t: _split_features(t, "-5")), "refuse"),
    "ranker_split_feature_out_of_range_sized": (
        "rerank_a",
        _text("ranker.txt", _sized(lambda t: _split_features(t, "100000"))),
        "refuse",
    ),
    "ranker_split_feature_negative_sized": (
        "rerank_a",
        _text("ranker.txt", _sized(lambda t: _split_features(t, "-5"))),
        "refuse",
    ),
    "ranker_children_out_of_range_sized": (
        "rerank_a",
        _text("ranker.txt", _sized(lambda t: re.sub(r"(?m)^left_child=(\S+)", r"left_child=99999", t))),
        "refuse",
    ),
    "ranker_leaf_values_missing_sized": (
        "rerank_a",
        _text("ranker.txt", _sized(lambda t: re.sub(r"(?m)^leaf_value=(\S+) ", "leaf_value=", t))),
        "refuse",
    ),
    "ranker_cat_threshold_out_of_range_sized": (
        "rerank_a",
        _text("ranker.txt", _sized(lambda t: re.sub(r"(?m)^cat_boundaries=.*$", "cat_boundaries=0 999", t))),
        "refuse",
    ),
    "ranker_fewer_features": (
        "rerank_a",
        _text("ranker.txt", lambda t: t.replace("max_feature_idx=38", "max_feature_idx=3")),
        "refuse",
    ),
    "ranker_leaf_values_nan": (
        "rerank_a",
        _text(
            "ranker.txt",
            lambda t: "\n".join(
                "leaf_value=" + " ".join("nan" for _ in line.split("=")[1].split())
                if line.startswith("leaf_value=")
                else line
                for line in t.splitlines()
            ),
        ),
        "refuse",
    ),
    "tables_list_for_map": ("rerank_a", _text("tables.json", lambda t: "[]"), "refuse"),
    "tables_deep_json": ("rerank_a", _text("tables.json", lambda t: "[" * 200_000 + "]" * 200_000), "refuse"),
    "tables_bad_dtype": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m["dtypes"].update(timestamp="object"))),
        "either",
    ),
    "tables_users_not_json": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m["tables"].update(users="{not json"))),
        "refuse",
    ),
    "tables_users_deep": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m["tables"].update(users="[" * 100_000 + "]" * 100_000))),
        "refuse",
    ),
    "tables_users_wrong_schema": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m["tables"].update(users='{"schema": 5, "data": "x"}'))),
        "refuse",
    ),
    "tables_unknown_column": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m["columns"].append("evil"))),
        "refuse",
    ),
    "tables_best_iteration_text": (
        "rerank_a",
        _text("tables.json", _tables(lambda m: m.update(best_iteration="x"))),
        "refuse",
    ),
    "empty_directory": ("pop_a", lambda f: [_remove(p.name)(f) for p in list(f.iterdir())], "refuse"),
    "path_is_a_file": ("pop_a", None, "refuse"),
}


def _model_case(name: str) -> Callable[[Path, Path], str]:
    base, tamper, want = MODEL_CASES_SPEC[name]

    def run(setup: Path, work: Path) -> str:
        import numpy as np

        from workbench.serve import load_served

        folder = work / "models" / name.replace(":", "_")
        shutil.copytree(setup / base, folder, symlinks=True)
        if tamper is not None:
            tamper(folder)
        if name == "path_is_a_file":
            shutil.rmtree(folder)
            folder.write_text("not a model")
        served = load_served(folder)
        model = served.model
        known = json.loads((setup / "known_users.json").read_text())
        recs = model.recommend([*known, "no-such-user"], k=5)
        scores = recs["score"].to_numpy(np.float64)
        expect(len(recs) == 5 * (len(known) + 1), f"{len(recs)} rows for {len(known) + 1} users x 5")
        expect(bool(np.isfinite(scores).all()), "non-finite scores served")
        expect(set(recs["item_id"]) <= set(model.item_map.ids), "items the model does not know")
        if want == "refuse":
            raise Wrong(f"loaded and served ({type(model).__name__}, {len(model.item_map)} items)")
        if tamper is not None and (want == "serve" or name.endswith(":nan")):
            from workbench.models import load_model

            again = load_model(setup / base).recommend([*known, "no-such-user"], k=5)
            more_fallback = recs["fallback"].sum() > again["fallback"].sum()
            if want == "serve" or not more_fallback:  # NaN weights: refused, or at least rows marked fallback
                same = again[["user_id", "item_id"]].equals(recs[["user_id", "item_id"]])
                expect(same, "recommendations differ from the untampered model's, no row marked fallback")
            if more_fallback:
                return f"served {type(model).__name__}, {recs['fallback'].sum()} rows marked fallback"
        return f"served {type(model).__name__}"

    return run


MODEL_CASES = {name: _model_case(name) for name in MODEL_CASES_SPEC}

#: Model cases also run as ``workbench serve DIR`` (``cli:<case>``): a one-line error and exit 2, never a
#: traceback; a load that succeeded would start the server (a hang here: only refused cases are listed).
CLI_MODEL_CASES = (
    "delete_sha256",
    "list_for_params",
    "string_shapes",
    "bad_seed_als",
    "json_200000_deep",
    "manifest_fifo",
    "seen_indices_out_of_range_candidates",
    "ranker_children_out_of_range_sized",
    "npz_header_declares_terabytes",
)


def tamper_only(name: str, setup: Path, folder: Path) -> None:
    """Copy and damage the model of case ``name`` into ``folder`` (for ``workbench serve``)."""
    global SETUP
    SETUP = setup
    base, tamper, _ = MODEL_CASES_SPEC[name]
    shutil.copytree(setup / base, folder, symlinks=True)
    if tamper is not None:
        tamper(folder)


#: Every array of these saved models is damaged in turn (``fuzz:<model>:<array>:<how>``, checksums and
#: shapes recomputed): the load must refuse it, or serve answers that pass the checks; never crash.
#: Parts whose class is damaged as a model of its own above (ALS, TIFU-KNN, UP-CF@r).
REPEATED_PARTS = ("als", "warm_model", "tifuknn", "upcf")
BASE_ARRAYS = ("seen_indptr", "seen_indices", "seen_data", "popularity")
FUZZ_MODELS = ("pop_a", "als_a", "cg_a", "repeat_a", "tifu_a", "upcf_a", "content_a", "hybrid_a", "rerank_a")


def fuzz_cases(setup: Path) -> list[str]:
    """One case per array of each ``FUZZ_MODELS`` directory (and of its parts): integer arrays shifted
    far out of range and negated, float arrays filled with NaN."""
    import numpy as np

    names = []
    for model in FUZZ_MODELS:
        for npz in sorted((setup / model).glob("**/arrays.npz")):
            part = npz.parent.relative_to(setup / model).as_posix()
            if part in REPEATED_PARTS:
                continue
            with np.load(npz) as data:
                for array in data.files:
                    if array == "fit_seconds" or (model != "pop_a" and array in BASE_ARRAYS):
                        continue  # restored by the base class for every model: damaged in pop_a alone
                    kind = data[array].dtype.kind
                    hows = ("shift", "negate") if kind in "iu" else ("nan",) if kind == "f" else ()
                    names += [f"fuzz:{model}:{'' if part == '.' else part}:{array}:{how}" for how in hows]
    return names


def _fuzz_case(name: str) -> Callable[[Path, Path], str]:
    import numpy as np

    _, model, part, array, how = name.split(":")
    change = {
        "shift": lambda v: v + (10**6 if v.dtype.itemsize >= 4 else 100),
        "negate": lambda v: -v - 1,
        "nan": lambda v: v * np.nan,
    }[how]
    tamper = _seen(array, change)
    MODEL_CASES_SPEC[name] = (model, _in_part(part, tamper) if part else tamper, "either")
    return _model_case(name)


# -- family 4: the server ----------------------------------------------------------------------
def _client(setup: Path, work: Path, *, base: str = "pop_a", **options: Any) -> tuple[Any, Path]:
    from fastapi.testclient import TestClient

    from workbench.serve import create_app

    folder = work / "models" / "served"
    if not folder.exists():
        shutil.copytree(setup / base, folder)
    return TestClient(create_app(folder, **options), raise_server_exceptions=False), folder


def _json_answer(response: Any, *statuses: int) -> dict[str, Any]:
    if response.status_code >= 500 and "json" not in response.headers.get("content-type", ""):
        raise RuntimeError(f"plain {response.status_code}: {response.text[:200]}")
    expect(response.status_code in statuses, f"status {response.status_code}: {response.text[:200]}")
    body = response.json()
    expect(isinstance(body, dict), f"body {body!r:.100}")
    return body


def _get(params: dict[str, Any], *statuses: int) -> Callable[[Path, Path], str]:
    def run(setup: Path, work: Path) -> str:
        client, _ = _client(setup, work)
        body = _json_answer(client.get("/api/recommendations", params=params), *statuses)
        if 200 in statuses and "recommendations" in body:
            return f"{len(body['recommendations'])} recommendations, fallback {body['fallback']}"
        return f"{statuses}: {json.dumps(body)[:200]}"

    return run


def _known_as_text(setup: Path, work: Path) -> str:
    client, _ = _client(setup, work)
    user = json.loads((setup / "known_users.json").read_text())[0]
    body = _json_answer(client.get("/api/recommendations", params={"user_id": f"{user}", "k": 3}), 200)
    expect(not body["fallback"], f"known user {user} served from the fallback")
    return "known user found"


def _reload_broken(tamper: Callable[[Path], None], base: str = "pop_a") -> Callable[[Path, Path], str]:
    def run(setup: Path, work: Path) -> str:
        client, folder = _client(setup, work, base=base)
        before = _json_answer(client.get("/health"), 200)
        tamper(folder)
        body = _json_answer(client.post("/admin/reload"), 500, 400, 409, 422)
        after = _json_answer(client.get("/health"), 200)
        expect(after["model_version"] == before["model_version"], "the model changed after a failed reload")
        _json_answer(client.get("/api/recommendations", params={"user_id": "x", "k": 3}), 200)
        return body.get("error", "")[:200]

    return run


def _reload_body(setup: Path, work: Path) -> str:
    client, _ = _client(setup, work)
    body = _json_answer(
        client.post(
            "/admin/reload", content=b"{not json" + b"\x00" * 100, headers={"content-type": "application/json"}
        ),
        200,
        400,
        422,
    )
    return f"answered {sorted(body)}"


def _token(setup: Path, work: Path) -> str:
    client, _ = _client(setup, work, admin_token="s3cret")
    _json_answer(client.post("/admin/reload"), 401)
    _json_answer(client.post("/admin/reload", headers={"authorization": "Bearer wrong"}), 401)
    _json_answer(client.post("/admin/reload", headers={"authorization": "Bearer s3cret"}), 200)
    return "401 without the token, 200 with it"


def _health_private(setup: Path, work: Path) -> str:
    client, folder = _client(setup, work)
    text = client.get("/health").text
    expect(str(folder) not in text and folder.name not in text, "/health shows the model path")
    expect(client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404, "/docs open")
    return "no path in /health, /docs off"


def _items(text: str | None) -> Callable[[Path, Path], str]:
    """Serve with an item table (``text``; None: a path that does not exist) and ask for a known user."""

    def run(setup: Path, work: Path) -> str:
        path = work / "items.csv"
        if text is not None:
            path.write_text(text)
        client, _ = _client(setup, work, items=path)
        user = json.loads((setup / "known_users.json").read_text())[0]
        body = _json_answer(client.get("/api/recommendations", params={"user_id": user, "k": 3}), 200)
        return f"served with names {[r['name'] for r in body['recommendations']]}"[:200]

    return run


def _serve_class(base: str) -> Callable[[Path, Path], str]:
    """Serve a saved model of one class: a known user, then an unknown one with the largest k."""

    def run(setup: Path, work: Path) -> str:
        client, _ = _client(setup, work, base=base)
        user = json.loads((setup / "known_users.json").read_text())[0]
        known = _json_answer(client.get("/api/recommendations", params={"user_id": user, "k": 5}), 200)
        unknown = _json_answer(client.get("/api/recommendations", params={"user_id": "nobody", "k": 100}), 200)
        expect(len(known["recommendations"]) == 5 and unknown["fallback"], "wrong list sizes or fallback flags")
        scores = [r["score"] for r in known["recommendations"] + unknown["recommendations"]]
        expect(all(isinstance(x, float) and x == x for x in scores), "a score is not a number")
        return f"{len(unknown['recommendations'])} items for an unknown user"

    return run


SERVER_CASES: dict[str, Callable[[Path, Path], str]] = {
    **{f"serve_{base}": _serve_class(base) for base in FUZZ_MODELS},
    "items_text_price": _items("item_id,name,price\n1,a,abc\n2,b,3.5\n"),
    "items_duplicate_ids": _items("item_id,name\n1,a\n1,b\n2,c\n"),
    "items_without_item_id": _items("sku,name\n1,a\n"),
    "items_missing_file": _items(None),
    "items_nul_byte": _items("item_id,name\n1,a\x00b\n"),
    "unknown_user": _get({"user_id": "no-such-user", "k": 5}, 200),
    "known_user_as_text": _known_as_text,
    "huge_k": _get({"user_id": "1", "k": 10**12}, 422),
    "k_zero": _get({"user_id": "1", "k": 0}, 422),
    "k_text": _get({"user_id": "1", "k": "ten"}, 422),
    "k_float": _get({"user_id": "1", "k": "1e3"}, 422),
    "missing_user_id": _get({"k": 3}, 422),
    "user_id_10000_chars": _get({"user_id": "x" * 10_000, "k": 3}, 422),
    "user_id_nul_and_rtl": _get({"user_id": "\x00\u202eabc", "k": 3}, 200, 422),
    "reload_bad_json_body": _reload_body,
    "reload_deleted_sha256": _reload_broken(_del_key("sha256")),
    "reload_deep_json": _reload_broken(_deep_json),
    "reload_list_for_params": _reload_broken(_set(("params",), [])),
    "reload_truncated_npz": _reload_broken(_truncate(rehash=True)),
    "reload_missing_directory": _reload_broken(lambda f: shutil.rmtree(f)),
    "reload_candidates_seen_out_of_range": _reload_broken(_seen("seen_indices", lambda v: v + 10**6), base="cg_a"),
    "reload_manifest_fifo": _reload_broken(_special("fifo", "manifest.json")),
    "reload_ranker_edited": _reload_broken(
        _text("ranker.txt", _sized(lambda t: re.sub(r"(?m)^left_child=\S+", "left_child=99999", t))), base="rerank_a"
    ),
    "reload_needs_token": _token,
    "health_without_path_docs_off": _health_private,
}


# -- the parent ---------------------------------------------------------------------------------
def run_process(command: list[str], timeout: float, **options: Any) -> tuple[subprocess.CompletedProcess | None, float]:
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        **options,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, time.perf_counter() - start
    return subprocess.CompletedProcess(command, process.returncode, out, err), time.perf_counter() - start


def verdict(proc: subprocess.CompletedProcess | None) -> tuple[str, str] | None:
    """hang / crash from how the process ended; None when it ended by itself."""
    if proc is None:
        return "hang", "timed out"
    if proc.returncode < 0:
        return "crash", f"killed by {signal.Signals(-proc.returncode).name}"
    return None


def run_file_case(name: str, work: Path, setup: Path, timeout: float) -> dict[str, Any]:
    folder = work / "files"
    path = make_file(name, FILE_CASES[name][0], folder, setup)
    before = file_fingerprint(path)
    command = [WORKBENCH, "profile", str(path)]
    if name == "no_read_permission" and os.geteuid() == 0 and shutil.which("setpriv"):
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]  # root reads any file
    proc, seconds = run_process(command, timeout)
    outcome = verdict(proc) or judge_file(name, proc, file_fingerprint(path) != before)
    return {"outcome": outcome[0], "detail": outcome[1], "seconds": round(seconds, 2)}


def run_cli_model_case(name: str, work: Path, setup: Path, timeout: float) -> dict[str, Any]:
    folder = work / "model"
    command = [sys.executable, __file__, "--tamper", name.removeprefix("cli:"), str(folder), "--setup", str(setup)]
    prepared, _ = run_process(command, timeout)
    if prepared is None or prepared.returncode != 0:
        return {"outcome": "traceback", "detail": "the probe could not damage the model", "seconds": 0.0}
    proc, seconds = run_process([WORKBENCH, "serve", str(folder), "--port", "0"], timeout)
    outcome = verdict(proc)
    if outcome is None:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        if "Traceback (most recent call last)" in proc.stderr or proc.returncode not in (0, 2):
            outcome = ("traceback", f"exit {proc.returncode}: {(lines or [''])[-1][:300]}")
        elif proc.returncode == 0 or len(lines) != 1 or not lines[0].startswith("error:"):
            outcome = ("silent_wrong", f"exit {proc.returncode}: {' | '.join(lines)[:300]}")
        else:
            outcome = ("ok", lines[0][:300])
    return {"outcome": outcome[0], "detail": outcome[1], "seconds": round(seconds, 2)}


def run_child_case(family: str, name: str, work: Path, setup: Path, timeout: float) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", family, name, "--setup", str(setup), "--work", str(work)]
    proc, seconds = run_process(command, timeout)
    ended = verdict(proc)
    if ended is None:
        last = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
        try:
            ended = tuple(json.loads(last[0]).values()) if last else None
        except json.JSONDecodeError:
            ended = None
        if ended is None:
            ended = ("traceback", f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1][:300]}")
    return {"outcome": ended[0], "detail": ended[1], "seconds": round(seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--family", action="append", choices=FAMILIES)
    parser.add_argument("--case", action="append", help="run only these cases (by name)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reuse", type=Path, help=argparse.SUPPRESS)  # a setup folder of an earlier run
    parser.add_argument("--tamper", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tamper:
        tamper_only(args.tamper[0], args.setup, Path(args.tamper[1]))
        return 0
    if args.child:
        (args.work / "models").mkdir(parents=True, exist_ok=True)
        print(json.dumps(child(*args.child, args.setup, args.work)))
        return 0
    if args.setup and not args.child:
        setup_models(args.setup)
        return 0

    families = args.family or list(FAMILIES)
    tables = {"files": FILE_CASES, "frames": FRAME_CASES, "models": MODEL_CASES, "server": SERVER_CASES}
    cases = [(f, n) for f in families for n in tables[f] if not args.case or n in args.case]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="workbench-probes-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        setup = root / "setup"
        (root / "files").mkdir()
        if args.reuse:
            shutil.copytree(args.reuse, setup, symlinks=True)
            done, seconds = subprocess.CompletedProcess([], 0), 0.0
        else:
            setup.mkdir()
            done, seconds = run_process([sys.executable, __file__, "--setup", str(setup)], 600)
        if done is None or done.returncode != 0:
            print(f"setup failed: {done.stderr[-2000:] if done else 'timed out'}", file=sys.stderr)
            return 1
        if "models" in families:
            extra = [f"cli:{n}" for n in CLI_MODEL_CASES] + fuzz_cases(setup)
            cases += [("models", n) for n in extra if not args.case or n in args.case]

        def one(case: tuple[str, str]) -> dict[str, Any]:
            family, name = case
            work = root / "work" / family / name
            (work / "models").mkdir(parents=True)
            if family == "files":
                result = run_file_case(name, root, setup, args.timeout)
            elif name.startswith("cli:"):
                result = run_cli_model_case(name, work, setup, args.timeout)
            else:
                result = run_child_case(family, name, work, setup, args.timeout)
            result["detail"] = result["detail"].replace(str(root), "<tmp>")
            print(f"{family:7s} {name:42s} {result['outcome']:12s} {result['detail'][:110]}", flush=True)
            return {"family": family, "case": name, **result}

        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(pool.map(one, cases))
        for path in (root / "files").glob("no_read_permission*"):
            path.chmod(0o600)

    counts = {f: {o: 0 for o in OUTCOMES} for f in families}
    for row in results:
        counts[row["family"]][row["outcome"]] += 1
    totals = Counter(row["outcome"] for row in results)
    report = {
        "command": "python benchmarks/probes.py " + " ".join(sys.argv[1:]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "timeout_seconds": args.timeout,
        "setup_seconds": round(seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "goal": "0 silent_wrong, traceback, crash and hang in every family",
        "counts": counts,
        "totals": {o: totals.get(o, 0) for o in OUTCOMES},
        "cases": results,
    }
    if not args.case:  # a partial run does not overwrite the full table
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "probes.json").write_text(json.dumps(report, indent=2, ensure_ascii=True) + "\n")
    print(f"\n{'family':8s} " + " ".join(f"{o:>12s}" for o in OUTCOMES))
    for family, row in counts.items():
        print(f"{family:8s} " + " ".join(f"{row[o]:12d}" for o in OUTCOMES))
    print(f"{'total':8s} " + " ".join(f"{report['totals'][o]:12d}" for o in OUTCOMES))
    print(f"{len(results)} cases in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
