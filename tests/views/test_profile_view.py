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


def kinds(section):
    """The kinds of a section's parts, in order: text, Table, Chart, Metrics."""
    return [type(part).__name__ for part in section.parts]


def test_every_shop_section_applies_to_the_shop(shop_view):
    p = shop_view.profile
    for name in ("top_items", "label_mix", "funnel", "basket_sizes"):
        section = shop_view.section(name)
        assert section.title == SECTIONS[name][0], name
        assert not any(str(part).startswith(("Note: ", "Does not apply: ")) for part in section.parts), name
    assert shop_view.section("top_items").parts[0] == "Ranked by interactions; purchases are counted separately."
    assert {"funnel"} <= {c for c in shop_view.shop_charts} and len(shop_view.section_charts("label_mix")) == 2
    # the label mix: its two charts, then a table per label column named above it
    mix = shop_view.section("label_mix")
    assert kinds(mix) == ["str", "Chart", "Chart", "str", "Table", "str", "Table"]
    assert [part for part in mix.parts if isinstance(part, str)][1:] == ["**category**", "**brand**"]
    category = mix.parts[4].frame
    expected = p.label_mix[p.label_mix["column"] == "category"].drop(columns="column")
    pd.testing.assert_frame_equal(category, expected)
    baskets = shop_view.section("basket_sizes")
    assert kinds(baskets) == ["str", "Metrics", "Chart"] and baskets.parts[1].values == shop_view.basket_numbers
    funnel = shop_view.section("funnel")
    assert kinds(funnel) == ["str", "Chart", "Table"] and funnel.parts[2].frame is p.funnel


def test_a_bare_log_says_which_sections_do_not_apply(bare_view):
    funnel = bare_view.section("funnel")
    reason = bare_view.profile.not_applicable["funnel"]
    assert funnel.parts == (SECTIONS["funnel"][1], f"Does not apply: {reason}.")  # no chart, no table
    top = bare_view.section("top_items")  # ids are listed without an items table, under a note
    assert top.parts[1].startswith("Note: ") and top.parts[2].frame is bare_view.profile.top_items
    assert "orders" not in bare_view.basket_numbers and bare_view.basket_numbers["repeat_rate"] == 0
    assert bare_view.section("demographics").parts == ("No user table with demographics.",)
    html = bare_view.report("bare").to_html()
    assert "<h3>Funnel</h3>" in html and "Does not apply: " in html


def test_report_is_the_sections_in_order(shop_view):
    sections = shop_view.sections()
    assert [section.key for section in sections] == [
        "headline",
        "warnings",
        "summary",
        "top_items",
        "label_mix",
        "funnel",
        "basket_sizes",
        "spend",
        "findings",
        "spellings",
        "outliers",
        "missing_attributes",
        "missing",
        "distributions",
        "demographics",
    ]
    assert sections[0].title is None and sections[0].parts[0].values == shop_view.headline
    warnings = shop_view.section("warnings").parts[0]
    assert list(warnings.messages) == shop_view.profile.warnings
    html = shop_view.report("Data profile: shop").to_html()
    headings = re.findall(r"<h3>([^<]*)</h3>", html)
    assert headings == [section.title for section in sections[1:]]
    # every finding is a section of its own, its table or "None found."
    for name in FINDINGS:
        table = getattr(shop_view.profile, name)
        last = shop_view.section(name).parts[-1]
        assert last == "None found." if table.empty else last.frame is table, name
    demographics = shop_view.section("demographics").parts
    assert demographics[0::2] == tuple(f"**{column}**" for column in shop_view.profile.demographics)
    assert len(shop_view.section("distributions").parts) == len(shop_view.charts)


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
    assert (
        "sales_value column of the interactions" in section.parts[0] and section.parts[1].values == view.spend_numbers
    )
    assert kinds(section) == ["str", "Metrics", "Chart", "Chart", "str", "Table", "str", "Table"]
    assert set(view.shop_charts) >= {"spend_department", "spend_brand"} and len(view.section_charts("spend")) == 2
    html = view.report("spend").to_html()
    assert "<h3>Spend</h3>" in html and "Department: share of spend" in html and "BAKERY" in html
    bare = bare_view.section("spend")
    assert bare.parts[1:] == ("Does not apply: the interactions have no sales_value column.",)
    assert bare_view.spend_numbers == {}
