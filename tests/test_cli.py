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

import workbench.notebooks
from workbench.cli import main
from workbench.data.synthetic import SIZES, make_ecommerce, order_log
from workbench.errors import DataError
from workbench.notebooks import data_description, list_notebooks


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
    assert len(err) == 1 and err[0].startswith(f"error: interactions ({bad}): column 'item_id'")
    assert not out.exists()  # no notebook ran


def test_report_unknown_notebook(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--only", "99_nope"]) == 2
    assert "unknown notebook '99_nope'" in capsys.readouterr().err


def run_workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``workbench ARGS`` as a user runs it: the installed command, from ``cwd``, without this run's
    WORKBENCH_ settings."""
    script = Path(sys.executable).with_name("workbench")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workbench.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def shop_export(path: Path) -> pd.DataFrame:
    """What a shop exports: a row per purchased item with integer ids, order ids and ISO times (the purchases of
    the synthetic-small shop), written to ``path``; no users or items table."""
    log = order_log(make_ecommerce(**SIZES["small"], seed=0))
    frame = pd.DataFrame(
        {
            "order_id": log["order_id"],
            "user_id": log["user_id"].str[1:].astype(int),
            "item_id": log["product_id"].str[1:].astype(int),
            "timestamp": pd.to_datetime(log["timestamp"], unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_report_on_a_shops_export_from_another_folder(tmp_path):
    """Every notebook writes its page on a bare order log; the sections that need more data say why."""
    (tmp_path / "exports").mkdir()
    shop_export(tmp_path / "exports" / "orders.csv")
    work = tmp_path / "work"
    work.mkdir()
    result = run_workbench("report", "--data", "../exports/orders.csv", "--out", "reports", cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    out = work / "reports"
    stems = [path.stem for path in list_notebooks()]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)"', index) == [f"{stem}.html" for stem in stems]
    assert 'class="failed"' not in index and "<h2>Data: ../exports/orders.csv</h2>" in index
    pages = {stem: (out / f"{stem}.html").read_text(encoding="utf-8") for stem in stems}
    said = (
        f'<p class="data">Data: orders.csv. {html.escape(data_description(str(tmp_path / "exports" / "orders.csv")))}'
    )
    assert all(said in page for page in pages.values())
    assert all(json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))["data"] == "orders.csv" for stem in stems)
    coldstart = pages["02_coldstart"]
    heading_then = r"</h3></section>\s*<section class=\"block\"><p>"  # a section's heading, then its first part
    assert re.search(r"<h3>Cold users" + heading_then + "No demographics: the data set has no users table", coldstart)
    assert "New items do not apply: the data set has no items table" in coldstart
    assert "<h3>Hybrid switch</h3>" in coldstart
    assert "Drift against the training period" in pages["09_freshness"]  # ISO times: the replay applies


def complete_journey_slice(folder: Path, *, households: int = 40) -> dict[str, Path]:
    """A small slice of The Complete Journey as its own three tables, in the package's column names:
    ``households`` households with demographics and as many without, their line items, the products they
    bought (with a few never bought) and the demographics of the first half."""
    from workbench.data import load_dataset

    ds = load_dataset("complete-journey")
    log = ds.interactions
    lines = log["user_id"].value_counts()
    modest = lines[(lines >= 60) & (lines <= 250)].index
    with_table = [user for user in modest if user in ds.users.index][:households]
    without = [user for user in modest if user not in ds.users.index][:households]
    rows = log[log["user_id"].isin(with_table + without)]
    bought = pd.unique(rows["item_id"])
    products = ds.items.loc[ds.items.index.intersection(bought).append(ds.items.index.difference(bought)[:20])]
    paths = {name: folder / f"{name}.csv" for name in ("transactions", "products", "demographics")}
    rows.rename(
        columns={"user_id": "household_id", "item_id": "product_id", "order_id": "basket_id", "timestamp": "when"}
    ).to_csv(paths["transactions"], index=False)
    products.rename_axis("product_id").to_csv(paths["products"])
    ds.users.loc[with_table].rename_axis("household_id").to_csv(paths["demographics"])
    return paths


def test_report_on_a_slice_of_the_complete_journey_with_its_tables(tmp_path):
    """The Complete Journey's own tables and column names through every notebook, from another folder: the
    products' labels, the households' demographics and their spend reach the pages."""
    paths = complete_journey_slice(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    columns = ["household_id=user_id", "product_id=item_id", "basket_id=order_id", "when=timestamp"]
    tables = ["--users", "../demographics.csv", "--items", "../products.csv"]
    flags = [*tables, *(f"--column={pair}" for pair in columns)]
    result = run_workbench("report", "--data", "../transactions.csv", *flags, "--out", "reports", cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    out = work / "reports"
    stems = [path.stem for path in list_notebooks()]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)"', index) == [f"{stem}.html" for stem in stems]
    assert 'class="failed"' not in index
    pages = {stem: (out / f"{stem}.html").read_text(encoding="utf-8") for stem in stems}
    products = pd.read_csv(paths["products"])
    log = pd.read_csv(paths["transactions"])
    top = log["product_id"].value_counts().index[0]
    label = products.set_index("product_id").loc[top, "name"]
    assert html.escape(label) in pages["01_profile"]  # the product table's readable label
    assert "Spend" in pages["01_profile"] and "department" in pages["01_profile"]
    audit = pages["07_audit"]
    assert "income" in audit and "spend_band" in audit and "marital_status" in audit  # demographics, spend
    assert "No demographics" not in pages["02_coldstart"]  # clusters on the households' demographics
    assert "buy again" in pages["04_rerank"] and "TIFU-KNN" in pages["04_rerank"]


def test_report_without_timestamps_says_why_the_replay_does_not_apply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shop_export(tmp_path / "log.csv")[["user_id", "item_id"]].to_csv(tmp_path / "pairs.csv", index=False)
    assert main(["report", "--data", "pairs.csv", "--out", "reports", "--only", "09_freshness"]) == 0
    page = (tmp_path / "reports" / "09_freshness.html").read_text(encoding="utf-8")
    # the page opens with why, and each section says it has nothing to show
    assert re.search(
        r"</header>\s*<section class=\"block\"><p>Fresh data does not apply: the log has no timestamp", page
    )
    assert "<h3>Strategies</h3>" in page and "No replay, so no strategies to compare." in page
    assert json.loads((tmp_path / "reports" / "09_freshness.json").read_text(encoding="utf-8"))["headline"] == {}


def test_report_gives_each_data_set_its_folder_and_the_file_its_tables(tmp_path, monkeypatch):
    """Two data sets in one run: the file gets --users, --items and --column (paths relative to the caller)."""
    ds = make_ecommerce(**SIZES["small"], seed=0)
    orders = order_log(ds).rename(columns={"user_id": "customer"})
    orders.to_csv(tmp_path / "orders.csv", index=False)
    ds.items.rename_axis("product_id").to_csv(tmp_path / "products.csv")
    ds.users.rename_axis("customer").to_csv(tmp_path / "customers.csv")
    monkeypatch.chdir(tmp_path)
    flags = ["--users", "customers.csv", "--items", "products.csv", "--column", "customer=user_id"]
    argv = ["report", "--data", "synthetic-small", "--data", "orders.csv", *flags, "--column", "product_id=item_id"]
    assert main([*argv, "--out", "reports", "--only", "01_profile"]) == 0
    out = tmp_path / "reports"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)"', index) == ["synthetic-small/01_profile.html", "orders/01_profile.html"]
    assert re.findall(r"<h2>(Data: [^<]*)</h2>", index) == ["Data: synthetic-small", "Data: orders.csv"]
    assert f"Users from {tmp_path / 'customers.csv'}. Items from {tmp_path / 'products.csv'}." in index
    assert "Columns: customer as user_id, product_id as item_id." in index
    shop = (out / "orders" / "01_profile.html").read_text(encoding="utf-8")
    top = ds.interactions.loc[ds.interactions["event"] == "purchase", "item_id"].value_counts().index[0]
    assert html.escape(ds.items.loc[top, "name"]) in shop  # a product name from the items table
    assert f"Users from {tmp_path / 'customers.csv'}" in shop and "region" in shop  # and the users' demographics
    synthetic = json.loads((out / "synthetic-small" / "01_profile.json").read_text(encoding="utf-8"))
    assert synthetic["title"] == "Data profile: synthetic-small" and "Users from" not in synthetic["data_description"]
    assert not (out / "01_profile.html").exists()  # several data sets: nothing directly in --out


FAKE_PAGE = """from workbench.notebooks import publish
from workbench.report import Report
publish(Report("Good page", "a page"), "{stem}", {{"users": 3}})
"""


def test_a_failing_notebook_is_marked_in_the_index_and_the_exit_code_is_1(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "checkout" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_good.py").write_text(FAKE_PAGE.format(stem="01_good"), encoding="utf-8")
    (folder / "02_broken.py").write_text("print('working')\nraise KeyError('b')\n", encoding="utf-8")
    (folder / "03_silent.py").write_text("print('nothing to show')\n", encoding="utf-8")
    monkeypatch.setattr(workbench.notebooks, "notebooks_dir", lambda: folder)
    out = tmp_path / "reports"
    (out / "ml-100k").mkdir(parents=True)
    (out / "ml-100k" / "02_broken.html").write_text("an earlier run's page", encoding="utf-8")
    assert main(["report", "--data", "ml-100k", "--data", "synthetic-small", "--out", str(out), "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)">Good page</a>', index) == [
        "ml-100k/01_good.html",
        "synthetic-small/01_good.html",
    ]
    failed = re.findall(r'<li class="failed"><span class="name">(\w+)</span><p class="error">(.*?)</p></li>', index)
    assert failed == 2 * [
        ("02_broken", "<strong>Failed:</strong> KeyError: &#x27;b&#x27;"),
        ("03_silent", "<strong>Failed:</strong> ran to the end but wrote no page"),
    ]
    assert index.count("2 of 3 notebooks failed.") == 2
    assert not (out / "ml-100k" / "02_broken.html").exists()  # the stale page is not linked as if it were new
    assert "failed: ml-100k: 02_broken: KeyError: 'b'" in captured.err
    assert "wrote 2 of 6 report(s)" in captured.out


TITLED_PAGE = """from workbench.notebooks import data_choice, publish
from workbench.report import Report
publish(Report(f"Data profile: {data_choice()['value']}", "a page"), "01_titled", {"users": 3})
"""


def test_a_page_is_titled_with_the_data_files_name_not_its_path(tmp_path, monkeypatch):
    """The notebooks load a file by its absolute path and title their page with it: the page shows its name."""
    folder = tmp_path / "checkout" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_titled.py").write_text(TITLED_PAGE, encoding="utf-8")
    monkeypatch.setattr(workbench.notebooks, "notebooks_dir", lambda: folder)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "orders.csv").write_text("user_id,item_id\n1,10\n2,11\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--data", "shop/orders.csv", "--out", "reports"]) == 0
    page = (tmp_path / "reports" / "01_titled.html").read_text(encoding="utf-8")
    assert "<title>Data profile: orders.csv</title>" in page and "<h1>Data profile: orders.csv</h1>" in page
    assert str(tmp_path) not in page.split('<p class="data">')[0]  # the data line under the title says where it is
    assert json.loads((tmp_path / "reports" / "01_titled.json").read_text(encoding="utf-8"))["title"] == (
        "Data profile: orders.csv"
    )
    assert '<a href="01_titled.html">Data profile: orders.csv</a>' in (tmp_path / "reports" / "index.html").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (
            ["--column", "sku=item_id"],
            "column mapping names 'sku', which none of the files has: interactions (orders.csv)",
        ),
        (["--column", "product_id"], "--column takes YOURS=CANONICAL"),
        (["--users", "strangers.csv"], "users (strangers.csv): none of its 2 user_ids appears in the interactions"),
        (["--items", "twice.csv"], "items (twice.csv): column 'item_id' has duplicate ids"),
        (["--data", "orders.csv"], "--data orders.csv is given twice"),
        (["--data", "ml100k"], "--data 'ml100k' is neither a file nor a data set the workbench knows"),
    ],
)
def test_report_refuses_bad_flags_before_any_notebook_runs(tmp_path, monkeypatch, capsys, flags, needle):
    monkeypatch.chdir(tmp_path)
    Path("orders.csv").write_text("user_id,item_id\n1,10\n2,11\n", encoding="utf-8")
    Path("strangers.csv").write_text("user_id,age\n100,31\n101,45\n", encoding="utf-8")
    Path("twice.csv").write_text("item_id,name\n10,Mug\n10,Cup\n", encoding="utf-8")
    assert main(["report", "--data", "orders.csv", *flags, "--out", "reports", "--only", "01_profile"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not Path("reports").exists()


def test_report_tables_and_columns_need_a_file(tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["report", "--data", "ml-100k", "--users", "u.csv", "--column", "a=user_id", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: --users and --column describe your own interaction file, and --data names only built-in data sets "
        "(ml-100k); pass --data PATH"
    )
    assert not out.exists()


def test_benchmark_lists_scripts_and_refuses_unknown_names(capsys):
    assert main(["benchmark", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "evaluate_speed" in listed and "Speed of ``workbench.evaluation.evaluate``" in listed
    assert "_common" not in listed  # the scripts' shared helpers are no benchmark
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
