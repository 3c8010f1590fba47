"""notebooks/02_coldstart.py on synthetic-small: its values are workbench.views.coldstart's
(tested in tests/views/test_coldstart_view.py)."""

import json
import re

import pytest
from test_notebooks import run_in_process, unstamped

from workbench.notebooks import notebooks_dir
from workbench.views.coldstart import PAGE, ColdUsersView, HybridView, NewItemsView, coldstart_report, item_options


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("02_coldstart", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_the_notebook_shows_the_views_of_its_controls(run):
    defs, _ = run
    users, items, hybrid, split = defs["users"], defs["items"], defs["hybrid"], defs["split"]
    assert isinstance(users, ColdUsersView) and isinstance(items, NewItemsView) and isinstance(hybrid, HybridView)
    assert users.split is split and items.split is split and (split.fraction, split.seed) == (0.2, 0)
    assert users.cluster_model.method == defs["method"].value and users.k == items.k == hybrid.k == defs["k"].value
    assert hybrid.hybrid.min_interactions == defs["min_interactions"].value
    # the favourites dropdown drives both views; it starts on ridge (measured better on MovieLens-100K)
    favourites = defs["favourites"]
    assert favourites.value == "ridge" and set(favourites.options) == {"ridge", "clusters"}
    assert users.cluster_model.favourites == hybrid.hybrid.cold_model.favourites == favourites.value
    assert users.name == "ridge" and list(users.cold_scores.index) == ["ridge", "popularity"]
    assert items.query_item == defs["item_pick"].value == next(iter(item_options(split).values()))


def test_the_report_is_the_views(run):
    defs, report_dir = run
    users = defs["users"]
    headline = json.loads((report_dir / "02_coldstart.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(users.headline) and defs["headline"] == users.headline
    assert headline["cold_users"] == len(defs["split"].cold_users)
    # the published headline is the ridge model's, and its ratio is its nDCG over popularity's
    scores = users.cold_scores
    assert "ndcg_clusters" not in headline and headline["ndcg_ridge"] == pytest.approx(scores.loc["ridge", "ndcg"])
    assert headline["ndcg_ratio_to_popularity"] == pytest.approx(
        scores.loc["ridge", "ndcg"] / scores.loc["popularity", "ndcg"]
    )
    html = (report_dir / "02_coldstart.html").read_text(encoding="utf-8")
    assert unstamped(html) == unstamped(
        coldstart_report(users, defs["items"], defs["hybrid"], "synthetic-small").to_html()
    )
    # the page is the views the notebook shows, and its cells show every section in the page's order
    view = defs["view"]
    assert view.users is users and view.items is defs["items"] and view.hybrid is defs["hybrid"]
    source = (notebooks_dir() / "02_coldstart.py").read_text(encoding="utf-8")
    assert re.findall(r'^\s+view\.section\("(\w+)"\)$', source, re.M) == list(PAGE)


def test_the_notebook_shows_the_paired_difference_and_onboarding(run):
    defs, report_dir = run
    users = defs["users"]
    per_user = users.cold_per_user
    gain = (per_user["ridge"].set_index("user_id")["ndcg"] - per_user["popularity"].set_index("user_id")["ndcg"]).mean()
    assert defs["headline"]["ndcg_gain_over_popularity"] == pytest.approx(gain)
    html = (report_dir / "02_coldstart.html").read_text(encoding="utf-8")
    assert users.verdict.startswith("Ridge - popularity") and users.verdict in html
    assert "Onboarding: the first interactions of a new user" in html and "Favourites (<strong>ridge</strong>)" in html
    assert list(users.onboarding["first_items"].unique()) == [1, 3]
    assert users.onboarding["model"].unique().tolist() == ["popularity", "ridge", "ridge + 1 first", "ridge + 3 first"]
