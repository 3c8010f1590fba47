"""``readable``: how notebooks show a table, numbers written as the HTML reports write them."""

import re

import pandas as pd

from workbench.report import format_value, readable


def cells(frame: pd.DataFrame) -> list[str]:
    return re.findall(r"<td [^>]*>([^<]*)</td>", readable(frame).to_html())


def test_numbers_read_as_in_the_reports_and_ids_text_and_flags_as_given():
    frame = pd.DataFrame(
        {
            "item_id": [1234, 5],
            "ndcg": [0.48886640059850134, 3.1e-12],
            "count": [300.0, 12345.0],
            "fallback": [True, False],
            "title": ["Toy Story", "x"],
        },
        index=pd.Index(["als", "popularity"], name="model"),
    )
    assert cells(frame) == ["1234", "0.4889", "300", "True", "Toy Story", "5", "3.1e-12", "12,345", "False", "x"]
    assert format_value(0.48886640059850134) == "0.4889"
    html = readable(frame).to_html()
    assert "als" in html and "popularity" in html  # the index (model names) is kept


def test_missing_values_are_blank_and_the_frame_is_untouched():
    frame = pd.DataFrame({"recall": [0.5, None]})
    before = frame.copy()
    assert cells(frame) == ["0.5", ""]
    pd.testing.assert_frame_equal(frame, before)


def test_long_frames_are_cut_with_a_caption_and_repeated_labels_still_format():
    long = pd.DataFrame({"ndcg": [0.123456] * 250})
    html = readable(long, max_rows=5).to_html()
    assert html.count("0.1235") == 5 and "Showing the first 5 of 250 rows." in html
    repeated = pd.DataFrame({"recall": [0.111111, 0.222222]}, index=["all", "all"])
    assert cells(repeated) == ["all", "0.1111", "all", "0.2222"]


def test_numbers_in_a_column_of_mixed_types_read_the_same():
    best = pd.DataFrame({"value": [64, 0.012345678, "cg"]}, index=["factors", "regularization", "solver"])
    assert cells(best) == ["64", "0.01235", "cg"]
