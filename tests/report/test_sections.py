"""workbench.report.sections: one section list shown in marimo, in Jupyter and as an HTML page."""

import altair as alt
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, Warnings, page

SCORES = pd.DataFrame({"ndcg": [0.48886640059850134, 0.31]}, index=pd.Index(["als", "popularity"], name="model"))
CHART = alt.Chart(SCORES.reset_index()).mark_bar().encode(x="model", y="ndcg")
EVIL = "Crème <script>alert(1)</script> & co"


class Page(Sectioned):
    def sections(self):
        return [
            Section("opening", None, (f"Trained on **{EVIL}**.", Metrics({"ndcg_als": 0.4889}, k=10))),
            Section("metrics", "Metrics", (Table(SCORES, caption="Means over test users."), Chart(CHART))),
            Section("warnings", f"Findings for {EVIL}", (Warnings(("gender F: nDCG 0.21 below the mean",)),)),
        ]


def test_the_html_page_holds_every_part_in_order_with_user_text_escaped():
    html = page("ALS", "popularity vs ALS", Page().sections()).to_html()
    order = [html.index(text) for text in ("Trained on", "0.4889", "nDCG@10", "<h3>Metrics</h3>", "<svg", "Findings")]
    assert order == sorted(order)
    assert "Means over test users." in html and "gender F: nDCG 0.21 below the mean" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_jupyter_shows_each_part_as_its_own_output_with_html_shown_as_text():
    InteractiveShell.instance()  # display() needs a shell
    with capture_output() as captured:
        Page().section("warnings")._ipython_display_()
        Page().section("metrics")._ipython_display_()
    bundles = [output.data for output in captured.outputs]
    markdown = [bundle["text/markdown"] for bundle in bundles if "text/markdown" in bundle]
    assert markdown[0] == "## Findings for Crème &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert markdown[1].startswith("**Warnings**") and "gender F" in markdown[1]
    assert "## Metrics" in markdown and "*Means over test users.*" in markdown
    tables = [bundle["text/html"] for bundle in bundles if "text/html" in bundle]
    assert any("0.4889" in table and "0.48886640059850134" not in table for table in tables)


def test_marimo_stacks_the_parts():
    shown = Page().section("metrics")._display_()
    text = shown.text
    assert "Metrics" in text and "0.4889" in text and "Means over test users." in text
    opening = Page().section("opening")._display_().text
    assert "&lt;script&gt;" in opening and "<script>alert" not in opening


def test_a_section_is_found_by_key_or_named_missing():
    assert Page().section("metrics").titles() == ["Metrics"] and Page().section("opening").titles() == []
    with pytest.raises(KeyError, match="no section 'nope'; the sections are opening, metrics, warnings"):
        Page().section("nope")
