"""workbench.views.profile: headline, shop sections and the page, on the shop and on a bare log."""

import re

import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.views.profile import FINDINGS, SECTIONS, profile_view


@pytest.fixture(scope="module")
def shop_view(shop):
    return profile_view(shop)


@pytest.fixture(scope="module")
def bare_view():
    log = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 11, 10, 12, 11]})
    return profile_view(Dataset.from_frames(log))


def test_headline_counts_the_log(shop, shop_view):
    log = shop.interactions
    pairs = len(log.drop_duplicates(["user_id", "item_id"]))
    users, items = log["user_id"].nunique(), log["item_id"].nunique()
    assert shop_view.headline == pytest.approx(
        {
            "interactions": len(log),
            "users": users,
            "items": items,
            "density": pairs / (users * items),
            "warnings": len(shop_view.profile.warnings),
        }
    )


def test_basket_numbers_are_the_shops_orders(shop, shop_view):
    numbers = shop_view.basket_numbers
    purchases = shop.interactions[shop.interactions["event"] == "purchase"]
    assert numbers["orders"] == purchases["order_id"].nunique()
    assert 0 < numbers["repeat_rate"] < 1


def test_every_shop_section_applies_to_the_shop(shop_view):
    for name in ("top_items", "label_mix", "funnel", "basket_sizes"):
        section = shop_view.section(name)
        assert section.applies and section.note == "", name
    assert "purchases are counted separately" in shop_view.section("top_items").text
    assert {"funnel"} <= {c for c in shop_view.shop_charts} and len(shop_view.section_charts("label_mix")) == 2


def test_a_bare_log_says_which_sections_do_not_apply(bare_view):
    funnel = bare_view.section("funnel")
    assert not funnel.applies and funnel.note.startswith("Does not apply: ")
    assert bare_view.section("top_items").applies  # ids are listed without an items table, under a note
    assert bare_view.section("top_items").note.startswith("Note: ")
    assert "orders" not in bare_view.basket_numbers and bare_view.basket_numbers["repeat_rate"] == 0
    html = bare_view.report("bare").to_html()
    assert "<h3>Funnel</h3>" in html and "Does not apply: " in html


def test_report_has_every_section_and_finding(shop_view):
    html = shop_view.report("Data profile: shop").to_html()
    for name in SECTIONS:
        level = 4 if name in FINDINGS else 3  # the page shifts markdown headings down one level
        assert re.search(rf"<h{level}>{re.escape(SECTIONS[name][0])}</h{level}>", html), name
    assert list(shop_view.findings) == [SECTIONS[name][0] for name in FINDINGS]


def test_the_spend_section_shows_numbers_charts_and_a_table_per_label_column(bare_view):
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "item_id": [10, 11, 10, 12],
            "order_id": [5, 5, 6, 7],
            "sales_value": [2.0, 3.0, 2.0, 1.5],
        }
    )
    items = pd.DataFrame({"item_id": [10, 11, 12], "department": ["DAIRY", "BAKERY", "DAIRY"], "brand": "Private"})
    view = profile_view(Dataset.from_frames(log, items=items))
    assert view.spend_numbers == pytest.approx(
        {
            "spend": 8.5,
            "spend_per_order": 8.5 / 3,
            "median_spend_per_order": 2.0,
            "spend_per_user": 8.5 / 3,
            "median_spend_per_user": 2.0,
        }
    )
    section = view.section("spend")
    assert section.applies and section.note == "" and "sales_value column of the interactions" in section.text
    assert set(view.shop_charts) >= {"spend_department", "spend_brand"} and len(view.section_charts("spend")) == 2
    html = view.report("spend").to_html()
    assert "<h3>Spend</h3>" in html and "Department: share of spend" in html and "BAKERY" in html
    bare = bare_view.section("spend")
    assert not bare.applies and bare.note == "Does not apply: the interactions have no sales_value column."
    assert bare_view.spend_numbers == {}
