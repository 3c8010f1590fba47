"""notebooks/01_profile.py on synthetic-small: the shop's sections, their charts, the clean switches, the report."""

import re

import pandas as pd
import pytest
from test_notebooks import run_in_process

from workbench.data.synthetic import SIZES, make_ecommerce


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("01_profile", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_shop_sections_agree_with_pandas(run):
    defs, _ = run
    p, ds = defs["p"], make_ecommerce(**SIZES["small"], seed=0)
    log = ds.interactions
    counts = log["item_id"].value_counts()
    assert p.top_items["interactions"].tolist() == counts.head(20).tolist()
    assert p.top_items["name"].tolist() == ds.items.loc[p.top_items["item_id"], "name"].tolist()
    purchases = log[log["event"] == "purchase"]["item_id"].value_counts()
    assert p.top_items["purchases"].tolist() == purchases.reindex(p.top_items["item_id"], fill_value=0).tolist()
    category = p.label_mix[p.label_mix["column"] == "category"].set_index("value")["interactions"]
    expected = log["item_id"].map(ds.items["category"]).value_counts()
    pd.testing.assert_series_equal(category.sort_index(), expected.sort_index(), check_names=False)
    funnel = p.funnel.set_index("stage")
    assert funnel["events"].to_dict() == log["event"].value_counts().to_dict()
    assert funnel["users"].to_dict() == log.groupby("event")["user_id"].nunique().to_dict()


def test_shop_charts_and_clean_switches(run):
    defs, _ = run
    shop = defs["view"].shop_charts
    assert {"funnel", "mix_category", "mix_brand", "basket_sizes"} <= set(shop)
    assert all(hasattr(chart, "to_json") for chart in shop.values())
    cleaned, ds = defs["cleaned"], defs["ds"]
    assert cleaned.changes.empty  # every switch starts off
    pd.testing.assert_frame_equal(cleaned.dataset.interactions, ds.interactions)
    pd.testing.assert_frame_equal(cleaned.dataset.items, ds.items)


def test_published_report_has_the_shop_sections(run):
    _, report_dir = run
    text = (report_dir / "01_profile.html").read_text(encoding="utf-8")
    for heading in [
        "Top items",
        "Category and brand mix",
        "Funnel",
        "Baskets and repeat purchases",
        "Cleaning findings",
    ]:
        assert re.search(rf"<h\d>{heading}</h\d>", text), heading
    assert "Funnel: users at each stage" in text and "<script" not in text
