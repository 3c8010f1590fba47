"""Offline HTML reports: escaping, structure, no script, no network."""

import html
import re
from html.parser import HTMLParser

import altair as alt
import pandas as pd
import pytest

from workbench.analysis.explain import item_label, item_labels, with_item_names
from workbench.errors import ConfigError
from workbench.report.analysis_charts import waterfall_chart
from workbench.report.render import IndexEntry, Report, format_value, markdown_to_html, metric_label, write_index

HOSTILE = [
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(2)>',
]


class TagCollector(HTMLParser):
    """Every tag and attribute name a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


def hostile_report() -> Report:
    frame = pd.DataFrame(
        {"item_id": HOSTILE, "category": HOSTILE[::-1], "score": [0.5, 0.25, 0.125]},
    ).set_index("item_id")
    chart = (
        alt.Chart(frame.reset_index())
        .mark_bar()
        .encode(x="score:Q", y=alt.Y("item_id:N", title=HOSTILE[1]))
        .properties(title=HOSTILE[0])
    )
    report = Report(HOSTILE[0], description=HOSTILE[1])
    report.markdown(f"# {HOSTILE[2]}\n\nA paragraph with {HOSTILE[1]} and **bold {HOSTILE[0]}**.\n\n- {HOSTILE[2]}")
    report.metrics({HOSTILE[1]: 3, "ndcg": 0.25})
    report.table(frame, caption=HOSTILE[2])
    report.chart(chart, caption=HOSTILE[0])
    report.warnings(HOSTILE)
    return report


def test_hostile_strings_never_appear_raw(tmp_path):
    text = hostile_report().write(tmp_path / "r.html").read_text(encoding="utf-8")
    for bad in HOSTILE:
        assert text.count(bad) == 0, bad
    # each hostile string is present, escaped, in several places (title, table, chart, warnings ...)
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") >= 4
    assert text.count("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    # the only tags in the page are ours: no script, no event handler attributes, no external fetch
    parsed = TagCollector()
    parsed.feed(text)
    assert {"svg", "table", "li", "h2", "strong"} <= set(parsed.tags)
    assert not {"script", "img", "iframe", "object", "link"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    assert not [v for name, v in parsed.attributes if name in ("src", "href") and v and "//" in v]


def test_markdown_subset():
    got = markdown_to_html("# Title\nfirst line\nsecond **bold** `x<y`\n\n- a\n- b **c**\n\n## Sub\n### Third")
    assert got == (
        "<h2>Title</h2>\n<p>first line\nsecond <strong>bold</strong> <code>x&lt;y</code></p>\n"
        "<ul>\n<li>a</li>\n<li>b <strong>c</strong></li>\n</ul>\n<h3>Sub</h3>\n<h4>Third</h4>"
    )


def visible_text(page: str) -> str:
    """The text a browser shows of ``page`` (entities resolved), whitespace collapsed."""
    parts: list[str] = []
    parser = HTMLParser()
    parser.handle_data = parts.append
    parser.feed(page)
    return " ".join(" ".join(parts).split())


def test_markdown_takes_no_raw_html_links_or_entities():
    """Report Markdown is partly data (item names, file names): markup in it shows as written, and links nowhere."""
    text = (
        f"## {HOSTILE[0]}\n\n<div onclick=x>block</div>\n\n{HOSTILE[1]} [a link](https://example.org/x) "
        "![an image](http://example.org/i.png) <https://example.org> <me@example.org>\n\n[ref]: https://example.org\n\n"
        "- &lt;b&gt; &amp; &#x202E; `&amp; <code>`"
    )
    got = markdown_to_html(text)
    parsed = TagCollector()
    parsed.feed(got)
    assert set(parsed.tags) == {"h3", "p", "ul", "li", "code"} and not parsed.attributes
    assert visible_text(got) == " ".join(text.replace("## ", "").replace("- ", "").replace("`", "").split())
    assert "&amp;#x202E;" in got and "\u202e" not in html.unescape(got)  # an entity cannot smuggle a control in


def test_markdown_of_the_views():
    """What the views write: bold counts, code spans, a heading followed by its paragraph, lists."""
    got = markdown_to_html("## Cleaning findings\n`clean(ds, merge=True)` acts on **1,234** rows; in_als_x *is* kept.")
    assert got == (
        "<h3>Cleaning findings</h3>\n<p><code>clean(ds, merge=True)</code> acts on <strong>1,234</strong> rows; "
        "in_als_x <em>is</em> kept.</p>"
    )
    assert markdown_to_html("#### Deep\n1. one\n2. two") == "<h5>Deep</h5>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>"


def test_table_index_and_truncation():
    frame = pd.DataFrame({"n": range(30)}, index=pd.Index([f"u{i}" for i in range(30)], name="user_id"))
    text = Report("t").table(frame, max_rows=5).to_html()
    assert "<th>user_id</th>" in text  # a named index becomes a column
    assert text.count("<tr>") == 1 + 5
    assert "first 5 of 30 rows" in text
    plain = Report("t").table(pd.DataFrame({"a": [1, 2]})).to_html()
    assert len(re.findall(r"<th[ >]", plain)) == 1  # default RangeIndex is not shown


def test_charts_are_inline_svg_with_unique_ids():
    frame = pd.DataFrame({"x": range(10), "y": range(10)})
    chart = alt.Chart(frame).mark_line(clip=True).encode(x="x", y="y")  # clip paths carry ids
    text = Report("t").chart(chart).chart(chart).to_html()
    assert text.count("<svg") == 2
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert ids and len(ids) == len(set(ids))
    for ref in re.findall(r"url\(#([^)]+)\)", text):
        assert ref in ids
    assert Report("t").chart(chart).chart(chart).to_html() == text  # the same page, the same ids


def test_metric_cards_and_format():
    text = Report("t").metrics({"users": 943, "ndcg": 0.123456}).to_html()
    assert ">943<" in text and ">0.1235<" in text
    assert [format_value(v) for v in (100000, 2.0, 1234.56, 0.5, "x", float("nan"))] == [
        "100,000",
        "2",
        "1,235",
        "0.5",
        "x",
        "nan",
    ]


def card_labels(text: str) -> list[str]:
    return re.findall(r'<div class="label">([^<]*)</div>', text)


def test_metric_cards_carry_human_labels():
    headline = {
        "ndcg_reranker": 0.11,
        "fit_seconds_reranker": 3.29,
        "hit_rate_tuned_als": 0.5,
        "ndcg_ratio_to_popularity": 1.07,
        "update_ms_per_1k": 12.5,
        "test_users": 216,
        "top_feature": "category_affinity",
        "users per arm for 80% power": 14_751,
        HOSTILE[1]: 1,
    }
    text = Report("t").metrics(headline, k=10).to_html()
    assert card_labels(text) == [
        "nDCG@10, re-ranker",
        "fit time, re-ranker (s)",
        "hit rate@10, tuned ALS",
        "nDCG@10 ratio to popularity",
        "update time per 1,000 events (ms)",
        "test users",
        "top feature",
        "users per arm for 80% power",  # already a label: kept
        html.escape(HOSTILE[1]),  # escaped, never raw
    ]
    assert "ndcg_reranker" not in text and HOSTILE[1] not in text
    assert 'class="value text">category_affinity<' in text  # a word is set smaller than a number
    css = re.search(r"\.card \.label\{([^}]*)\}", text).group(1)
    assert "uppercase" not in css and "overflow-wrap:anywhere" in css  # nDCG keeps its case; long labels wrap


def test_metric_label_without_k_and_unknown_keys():
    assert metric_label("ndcg_als") == "nDCG, ALS"  # the index page does not know k
    assert metric_label("n_clusters") == "clusters"  # a whole key wins over a model suffix
    assert metric_label("recall_clusters", k=5) == "recall@5, clusters"
    assert metric_label("ndcg_ridge", k=5) == "nDCG@5, ridge"
    assert metric_label("p_tuned_vs_default") == "p-value, tuned vs default ALS"
    assert metric_label("drift_alerts") == "drift alerts"
    assert metric_label("nDCG@10, ALS") == "nDCG@10, ALS"


def ml100k_like() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items with int ids and MovieLens titles, and explain rows for user 196 (ids upcast to float)."""
    items = pd.DataFrame(
        {"title": ["Toy Story (1995)", "GoldenEye (1995)", None], "year": [1995, 1995, 1995]},
        index=pd.Index([1, 2, 3], name="item_id"),
    )
    contrib = pd.DataFrame(
        {"user_id": [196.0, 196.0], "item_id": [1.0, 3.0], "base_value": [0.1, 0.1], "als_prior": [0.4, 0.2]}
    )
    return items, contrib


def test_waterfall_title_names_the_item():
    items, contrib = ml100k_like()
    title = waterfall_chart(contrib.iloc[0], items=items).to_dict()["title"]
    assert title["text"] == "Why Toy Story (1995) (item 1) for user 196"
    assert title["subtitle"] == "base value 0.100 -> score 0.500"
    assert waterfall_chart(contrib.iloc[1], items=items).to_dict()["title"]["text"] == "Why item 3 for user 196"
    assert waterfall_chart(contrib.iloc[0]).to_dict()["title"]["text"] == "Why item 1 for user 196"  # no table


def test_items_named_beside_their_ids():
    items, _ = ml100k_like()
    assert item_labels([1, "2", 2.0, 3, 9], items) == [
        "Toy Story (1995) (item 1)",
        "GoldenEye (1995) (item 2)",  # "2" and 2.0 are the item 2
        "GoldenEye (1995) (item 2)",
        "item 3",  # no title
        "item 9",  # not in the table
    ]
    assert item_label("p7", pd.DataFrame({"name": ["Trail Mug"]}, index=["p7"])) == "Trail Mug (item p7)"
    recs = pd.DataFrame({"user_id": [196, 196], "item_id": [2, 1], "rank": [1, 2]})
    named = with_item_names(recs, items)
    assert named.columns.tolist() == ["user_id", "item_id", "title", "rank"]
    assert named["title"].tolist() == ["GoldenEye (1995)", "Toy Story (1995)"]
    assert recs.columns.tolist() == ["user_id", "item_id", "rank"]  # input untouched
    assert with_item_names(recs, items.drop(columns="title")) is recs  # nothing to name them by


def test_hostile_item_names_are_escaped():
    items = pd.DataFrame({"name": HOSTILE}, index=pd.Index(["a", "b", "c"], name="item_id"))
    contrib = pd.DataFrame({"user_id": ["u"], "item_id": ["a"], "base_value": [0.0], "price": [0.3]})
    recs = pd.DataFrame({"user_id": ["u"] * 3, "item_id": ["a", "b", "c"], "rank": [1, 2, 3]})
    report = Report("t").markdown(f"## Why {item_label('a', items)}")
    text = report.chart(waterfall_chart(contrib.iloc[0], items=items)).table(with_item_names(recs, items)).to_html()
    for bad in HOSTILE:
        assert bad not in text
    named = html.escape(f"{HOSTILE[0]} (item a)")
    assert f"<h3>Why {named}</h3>" in text and f">Why {named} for user u</text>" in text  # heading, chart title
    parsed = TagCollector()
    parsed.feed(text)
    assert not {"script", "img"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]


def test_bad_inputs_raise_config_error():
    with pytest.raises(ConfigError, match="DataFrame"):
        Report("t").table([1, 2])
    with pytest.raises(ConfigError, match="Altair chart"):
        Report("t").chart("not a chart")


def test_write_index_links_and_numbers(tmp_path):
    entries = [
        IndexEntry("01_profile.html", "Profile", "Data profile", {"users": 943}),
        IndexEntry("03_als.html", HOSTILE[1], HOSTILE[0], {"ndcg_als": 0.2}),
    ]
    path = write_index(tmp_path, entries)
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "index.html"
    assert re.findall(r'<a href="([^"]+)"', text) == ["01_profile.html", "03_als.html"]
    assert "users: <b>943</b>" in text and "nDCG, ALS: <b>0.2</b>" in text
    assert all(bad not in text for bad in HOSTILE)


def test_index_has_a_section_per_data_set_and_marks_failures(tmp_path):
    entries = [
        IndexEntry("ml-100k/01_profile.html", "Profile", "Data profile", {"users": 943}, data="ml-100k"),
        IndexEntry("", "02_coldstart", data="ml-100k", error=f"DataError: {HOSTILE[0]}"),
        IndexEntry("shop/01_profile.html", "Profile", "Data profile", {"users": 12}, data=HOSTILE[1]),
    ]
    notes = {"ml-100k": "MovieLens-100K, read from the recbole wheel.", HOSTILE[1]: HOSTILE[2]}
    text = write_index(tmp_path, entries, data_notes=notes).read_text(encoding="utf-8")
    sections = re.findall(r'<section class="dataset"><h2>(.*?)</h2><p class="data">(.*?)</p>', text)
    assert sections == [
        ("Data: ml-100k", "MovieLens-100K, read from the recbole wheel. 1 of 2 notebooks failed."),
        (f"Data: {html.escape(HOSTILE[1])}", html.escape(HOSTILE[2])),
    ]
    assert re.findall(r'<a href="([^"]+)"', text) == ["ml-100k/01_profile.html", "shop/01_profile.html"]
    failed = re.findall(r'<li class="failed">(.*?)</li>', text)
    assert failed == [
        f'<span class="name">02_coldstart</span><p class="error"><strong>Failed:</strong> DataError: '
        f"{html.escape(HOSTILE[0])}</p>"
    ]
    assert all(bad not in text for bad in HOSTILE)


def test_a_page_says_which_data_under_its_title():
    page = Report("ALS: ml-100k", "metrics", data=f"Data: ml-100k. {HOSTILE[0]}").to_html()
    assert f'<p class="data">Data: ml-100k. {html.escape(HOSTILE[0])}</p></header>' in page
    assert '<p class="data">' not in Report("ALS").to_html()


def test_report_does_not_mutate_inputs():
    frame = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index(["x", "y"], name="id"))
    before = frame.copy()
    Report("t").table(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_ids_are_labels_and_numbers_are_formatted():
    frame = pd.DataFrame({"item_id": [1234, 5], "count": [12345, 6], "mixed": ["a", 0.123456]})
    text = Report("t").table(frame).to_html()
    assert "<td>1234</td>" in text and "1,234" not in text  # an id is not a quantity
    assert '<td class="num">12,345</td>' in text and '<td class="num">0.1235</td>' in text


def test_hostile_data_through_profile_cli_is_escaped(tmp_path):
    """Hostile strings in user ids, item ids, titles and categories of real files stay inert."""
    from workbench.cli import main

    users = [HOSTILE[i % 3] + f"u{i}" for i in range(6)]
    items = [HOSTILE[(i + 1) % 3] + f"p{i}" for i in range(4)]
    events = pd.DataFrame({"user_id": [users[i % 6] for i in range(24)], "item_id": [items[i % 4] for i in range(24)]})
    catalogue = pd.DataFrame(
        {"item_id": items, "title": HOSTILE + [HOSTILE[0]], "category": HOSTILE[::-1] + [HOSTILE[2]]}
    )
    people = pd.DataFrame({"user_id": users, "gender": [HOSTILE[i % 3] for i in range(6)]})
    paths = {name: tmp_path / f"{name}.csv" for name in ("events", "items", "users")}
    events.to_csv(paths["events"], index=False)
    catalogue.to_csv(paths["items"], index=False)
    people.to_csv(paths["users"], index=False)
    out = tmp_path / "profile.html"
    assert (
        main(
            [
                "profile",
                str(paths["events"]),
                "--users",
                str(paths["users"]),
                "--items",
                str(paths["items"]),
                "--html",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    for bad in HOSTILE:
        assert bad not in text
    assert "&lt;svg onload=alert(2)&gt;" in text  # the demographic breakdown shows the values, escaped
    parsed = TagCollector()
    parsed.feed(text)
    assert not {"script", "img", "iframe", "object", "link"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"


def test_bidirectional_controls_are_shown_as_code_points(tmp_path):
    """A name with a right-to-left override cannot reorder the page around it: each control shows as U+XXXX."""
    spoof = "invoice\u202egpj.exe"
    frame = pd.DataFrame({"item_id": [spoof], f"name{BIDI}": [f"mug{BIDI}"], "n": [3]})
    chart = alt.Chart(frame).mark_bar().encode(x="n:Q", y="item_id:N")
    page = (
        Report(f"Profile: {spoof}", description=spoof, data=spoof)
        .markdown(f"## {spoof}\n\n- {spoof}")
        .metrics({spoof: spoof})
        .table(frame, caption=spoof)
        .chart(chart)
        .warnings([spoof])
        .to_html()
    )
    index = write_index(tmp_path, [IndexEntry("a.html", spoof, spoof, {spoof: 1}, data=spoof)]).read_text("utf-8")
    for text in (page, index):
        assert not set(BIDI) & set(text)
        assert "invoice[U+202E]gpj.exe" in text
    assert "<title>Profile: invoice[U+202E]gpj.exe</title>" in page
    assert "mug[U+202A][U+202B][U+202C][U+202D][U+202E][U+2066][U+2067][U+2068][U+2069][U+200E][U+200F]" in page


def test_long_strings_are_cut_in_tables_with_the_whole_in_a_tooltip():
    name = "x" * 19_990 + "<b>end</b>"
    frame = pd.DataFrame({"item_id": [name, "p2"], "name": [name, "Mug"], "n": [1, 2]})
    page = Report("t").table(frame.set_index("item_id")).to_html()
    cells = re.findall(r'<td title="([^"]*)">([^<]*)</td>', page)
    assert cells == 2 * [(html.escape(name, quote=True), "x" * 79 + "…")]
    assert "<td>p2</td><td>Mug</td>" in page
    assert page.count("x" * 19_990) == 2  # the tooltips only
    header = Report("t").table(pd.DataFrame({"y" * 200: [1]})).to_html()
    assert f'<th class="num" title="{"y" * 200}">{"y" * 79}…</th>' in header


def test_every_string_from_data_is_text_where_it_is_shown():
    """Each place a page shows a string from data holds it as text, tags and quotes escaped, nothing cut away."""
    script, quote = HOSTILE[0], HOSTILE[2]
    frame = pd.DataFrame({quote: [script], "item_id": [quote]})
    page = (
        Report(script, description=quote, data=script)
        .metrics({script: quote}, caption=quote)
        .table(frame, caption=script)
        .warnings([quote, script])
        .to_html()
    )

    def shown(pattern: str) -> list[str]:
        return [html.unescape(text) for text in re.findall(pattern, page)]

    assert shown(r"<title>([^<]*)</title>") == shown(r"<h1>([^<]*)</h1>") == [script]
    assert shown(r"<h1>[^<]*</h1><p>([^<]*) · generated") == [quote]
    assert shown(r'<p class="data">([^<]*)</p>') == [script]
    assert shown(r'<div class="label">([^<]*)</div>') == [script]
    assert shown(r'<div class="value text">([^<]*)</div>') == [quote]
    assert shown(r'<p class="caption">([^<]*)</p>') == [quote, script]
    assert shown(r"<th>([^<]*)</th>") == [quote, "item_id"]
    assert shown(r"<td>([^<]*)</td>") == [script, quote]
    assert shown(r"<li>([^<]*)</li>") == [quote, script]
    assert all(bad not in page for bad in HOSTILE)


def test_index_attributes_and_text_are_escaped(tmp_path):
    href = 'a.html" onmouseover="alert(1)'
    entry = IndexEntry(href, HOSTILE[0], HOSTILE[2], {HOSTILE[1]: HOSTILE[0]}, data=HOSTILE[2])
    text = write_index(tmp_path, [entry], title=HOSTILE[1], data_notes={HOSTILE[2]: HOSTILE[0]}).read_text("utf-8")
    parsed = TagCollector()
    parsed.feed(text)
    assert ("href", href) in parsed.attributes  # one attribute, the quotes inside it
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    assert not {"script", "img", "svg"} & set(parsed.tags)
    assert all(bad not in text for bad in HOSTILE)
    assert HOSTILE[1] in html.unescape(re.search(r"<title>([^<]*)</title>", text).group(1))


def test_pages_fetch_and_link_nothing_outside(tmp_path):
    """Offline: no src or href to another host, whatever the Markdown asks, and a policy that forbids fetching."""
    frame = pd.DataFrame({"x": range(3), "y": range(3)})
    page = (
        Report("t")
        .markdown(
            "[docs](https://example.org) ![logo](http://example.org/logo.png) <https://example.org/a>\n\n"
            "[ref][r] <img src='http://example.org/i.png'>\n\n[r]: https://example.org/r"
        )
        .chart(alt.Chart(frame).mark_line().encode(x="x", y="y"))
        .to_html()
    )
    index = write_index(tmp_path, [IndexEntry("01.html", "t")]).read_text("utf-8")
    for text in (page, index):
        parsed = TagCollector()
        parsed.feed(text)
        assert not [v for name, v in parsed.attributes if name in ("src", "href", "xlink:href") and v and "//" in v]
        assert not {"img", "link", "script", "iframe"} & set(parsed.tags)
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ' in text
    assert "<a " not in page and "[docs](https://example.org)" in page  # shown as written


def test_templates_are_package_data():
    """A wheel ships every template (the install here is editable: nothing else would notice)."""
    import tomllib
    from pathlib import Path

    import workbench.report.render as render

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    folder = Path(render.__file__).parent
    files = {path for path in (folder / "templates").rglob("*") if path.is_file()}
    shipped = {path for pattern in patterns["workbench.report"] for path in folder.glob(pattern)}
    assert files and files <= shipped
