"""The `workbench` command: exit codes, one-line errors, files written, inputs untouched."""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import DataError


@pytest.fixture
def events_csv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in rng.integers(0, 40, 400)],
            "item_id": [f"p{i}" for i in rng.zipf(1.6, 400) % 60],
            "rating": rng.integers(1, 6, 400),
            "timestamp": 1_700_000_000 + rng.integers(0, 60 * 86_400, 400),
        }
    )
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    return path


def test_profile_prints_summary_and_writes_html(events_csv, tmp_path, capsys):
    before = events_csv.read_bytes()
    out = tmp_path / "out" / "profile.html"
    assert main(["profile", str(events_csv), "--html", str(out)]) == 0
    printed = capsys.readouterr().out
    expected = pd.read_csv(events_csv)
    assert "Profile of" in printed and f"{len(expected)}" in printed
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<script" not in text
    assert "Does not apply: the interactions have no event column." in text  # ratings only: no funnel
    assert events_csv.read_bytes() == before


def test_profile_html_shows_the_shop_and_escapes_its_strings(tmp_path, capsys):
    hostile = "<script>alert(1)</script>"
    log = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
            "item_id": ["p1", "p1", "p2", "p2", "p2", "p1"],
            "event": ["view", "cart", "purchase", "view", "purchase", "view"],
            "timestamp": [1, 2, 3, 4, 5, 6],
            "order_id": [None, None, "o1", None, "o2", None],
        }
    )
    items = pd.DataFrame(
        {"item_id": ["p1", "p2", "p3"], "name": [hostile, "Mug", "Cup"], "category": ["Kitchen", "kitchen ", "Café"]}
    )
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "region": ["<b>north</b>", "south", "south"]})
    paths = {name: tmp_path / f"{name}.csv" for name in ("events", "items", "users")}
    for name, frame in zip(paths, (log, items, users), strict=True):
        frame.to_csv(paths[name], index=False)
    out = tmp_path / "profile.html"
    argv = ["profile", str(paths["events"]), "--users", str(paths["users"]), "--items", str(paths["items"])]
    assert main([*argv, "--html", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Top items:" in printed and "Funnel:" in printed and hostile in printed  # the terminal shows data as is
    text = out.read_text(encoding="utf-8")
    for heading in [
        "Top items",
        "Category and brand mix",
        "Funnel",
        "Baskets and repeat purchases",
        "Cleaning findings",
    ]:
        assert re.search(rf"<h\d>{heading}</h\d>", text), heading
    assert "<script" not in text and "<b>north" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;north&lt;/b&gt;" in text
    assert html.escape("items.category spells 1 label(s) in several ways (e.g. 'Kitchen' / 'kitchen ')") in text
    assert "<td>Kitchen</td><td>kitchen </td>" in text  # the spellings table: canonical, spelling
    assert "Funnel: users at each stage" in text and "Category: share of interactions and of the catalogue" in text


@pytest.mark.parametrize(
    "content, needle",
    [
        ("user,thing\n1,2\n3,4\n", "user_id"),  # misnamed column
        ("user_id,item_id,rating\n1,a,5\n2,b,lots\n", "rating"),  # text in a numeric column
        ("", "empty"),
    ],
)
def test_bad_csv_is_one_error_line_exit_2(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    assert main(["profile", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert path.read_bytes() == before


def test_missing_file_and_debug_flag(tmp_path, capsys):
    assert main(["profile", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: interactions: file not found")
    with pytest.raises(DataError):
        main(["--debug", "profile", str(tmp_path / "nope.csv")])


def test_report_validates_data_before_running_notebooks(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id\n1,\n", encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["report", "--data", str(bad), "--out", str(out), "--only", "01_profile"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: interactions: column 'item_id'")
    assert not out.exists()  # no notebook ran


def test_report_unknown_notebook(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--only", "99_nope"]) == 2
    assert "unknown notebook '99_nope'" in capsys.readouterr().err


def test_report_end_to_end_subprocess(tmp_path):
    script = Path(sys.executable).with_name("workbench")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workbench.cli"]
    out = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DATA", "WORKBENCH_REPORT_DIR")}
    result = subprocess.run(
        [*command, "report", "--data", "synthetic-small", "--out", str(out), "--only", "01_profile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="01_profile.html"' in index
    summary = json.loads((out / "01_profile.json").read_text(encoding="utf-8"))
    assert summary["title"] == "Data profile: synthetic-small"
    assert "<svg" in (out / "01_profile.html").read_text(encoding="utf-8")


def test_benchmark_lists_scripts_and_refuses_unknown_names(capsys):
    assert main(["benchmark", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "evaluate_speed" in listed and "Speed of ``workbench.evaluation.evaluate``" in listed
    assert main(["benchmark", "ml100k", "no_such_benchmark"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown benchmark 'no_such_benchmark'; available:") and "ml100k" in err


def test_profile_maps_a_shops_column_names(tmp_path, capsys):
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,user_id,product_id\n1,7,100\n1,7,101\n2,7,100\n3,8,101\n", encoding="utf-8")
    before = orders.read_bytes()
    assert main(["profile", str(orders), "--column", "product_id=item_id"]) == 0
    out = capsys.readouterr().out
    assert "Top items" in out and "100" in out
    assert main(["profile", str(orders)]) == 2  # without the mapping item_id is missing
    assert "map yours with columns=" in capsys.readouterr().err
    assert main(["profile", str(orders), "--column", "product_id"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --column takes YOURS=CANONICAL")
    assert orders.read_bytes() == before
