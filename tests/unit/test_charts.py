"""The figures of services/charts.py: what a reader of each chart sees, without a browser."""
import pytest
from flask import render_template_string

from competency.services import charts

from .. import factories


@pytest.fixture
def english(app):
    """A request in English, for the figures' translated labels."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_the_heatmap_writes_each_value_in_its_cell(english):
    cells = {("u1", "K1"): 0.53, ("u1", "S1"): -1.04, ("u2", "K1"): 0.0, ("u2", "S1"): None}
    trace = charts.heatmap(["Unit 1", "Unit 2"], ["K1", "S1"], cells, "t", row_keys=["u1", "u2"])["data"][0]
    assert trace["z"] == [[0.53, -1.04], [0.0, None]]
    assert trace["text"] == [["+0.5", "-1.0"], ["0.0", ""]] and trace["texttemplate"] == "%{text}"


def test_the_heatmaps_colours_are_blue_to_orange_centred_on_zero(english):
    trace = charts.heatmap(["u"], ["K1"], {("u", "K1"): 1.0}, "t")["data"][0]
    scale = trace["colorscale"]
    assert trace["zmid"] == 0 and "reversescale" not in trace
    assert [stop for stop, _colour in scale] == sorted(stop for stop, _colour in scale) and scale[0][0] == 0 and scale[-1][0] == 1
    low, middle, high = _rgb(scale[0][1]), _rgb(dict(scale)[0.5]), _rgb(scale[-1][1])
    assert low[2] > low[0] + 100                         # blue: above the target (a negative gap)
    assert high[0] > high[2] + 100 and high[0] > high[1]  # orange: below it
    assert min(middle) > 230                             # near white: on target
    for _stop, colour in scale:                          # never a green against a red
        red, green, blue = _rgb(colour)
        assert not (green > red + 30 and green > blue + 30)


def test_the_heatmap_says_what_the_colour_means(english):
    figure = charts.heatmap(["u"], ["K1"], {("u", "K1"): 1.0}, "t", column_names={"K1": "Product knowledge"})
    trace = figure["data"][0]
    assert trace["colorbar"]["title"]["text"] == "Gap (target − level)"
    caption = figure["layout"]["annotations"][0]["text"].replace("<br>", " ")
    assert "Orange: below the target" in caption and "blue: above the target" in caption
    assert trace["x"] == ["K1 Product knowledge"] and "%{x}" in trace["hovertemplate"]  # the hover names it in full
    assert figure["layout"]["xaxis"]["ticktext"] == ["K1"] and figure["layout"]["xaxis"]["tickvals"] == trace["x"]


def test_a_heatmap_keeps_a_width_for_its_columns(english):
    """The least width grows with the columns, so that each value keeps room to be read on a narrow screen."""
    narrow = charts.heatmap(["u"], ["K1"], {("u", "K1"): 1.0}, "t")
    wide = charts.heatmap(["u"], [f"K{i}" for i in range(1, 17)], {("u", "K1"): 1.0}, "t")
    assert wide["min_width"] - narrow["min_width"] == 15 * charts.HEATMAP_COLUMN and wide["min_width"] > 390


def test_the_heatmap_in_chinese(app):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        figure = charts.heatmap(["u"], ["K1"], {("u", "K1"): 1.0}, "各机构平均差距")
    assert figure["layout"]["title"]["text"] == "各机构平均差距" and figure["data"][0]["text"] == [["+1.0"]]


def test_radar_axes_show_the_names_and_the_hover_the_codes(english):
    figure = charts.radar(["K1", "S4"], [("Assessed", {"K1": 2, "S4": 3}), ("Target", {"K1": 3, "S4": 3})], "t",
                          names={"K1": "Product knowledge", "S4": "Designing and presenting solutions to customer needs"})
    trace = figure["data"][0]
    assert [t.replace("<br>", " ") for t in trace["theta"]] == ["Product knowledge", "Designing and presenting…", "Product knowledge"]
    assert trace["customdata"] == ["K1 Product knowledge", "S4 Designing and presenting solutions to customer needs",
                                   "K1 Product knowledge"]
    assert "%{customdata}" in trace["hovertemplate"] and list(trace["r"]) == [2, 3, 2]
    legend = figure["layout"]["legend"]
    assert legend["yref"] == "container" and legend["y"] == 0 and legend["yanchor"] == "bottom"   # below, off the axis labels


def test_radar_axes_in_chinese_keep_the_whole_name(app):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        figure = charts.radar(["S4"], [("a", {"S4": 3})], "t", names={"S4": "客户需求方案设计呈现技巧"})
    assert figure["data"][0]["theta"][0] == "客户需求方案设计呈现技巧"
    assert charts.short_name("一二三四五六七八九十一二三") == "一二三四五六七八九十一…"


def test_a_legend_sits_between_the_title_and_the_plot_never_on_the_axis_labels(english):
    figure = charts.stacked_bars(["Head office", "Branch"], [("Junior", [3, 1]), ("Senior", [2, 0])], "Grades")
    layout = figure["layout"]
    assert layout["legend"]["y"] > 1 and layout["legend"]["yanchor"] == "bottom" and layout["legend"]["orientation"] == "h"
    assert layout["margin"]["t"] >= 70                                      # the title's line and the legend's row
    assert all(trace["orientation"] == "h" for trace in figure["data"])   # unit names on the side, read across
    assert figure["data"][0]["y"] == ["Head office", "Branch"] and layout["yaxis"]["autorange"] == "reversed"


def test_long_titles_and_names_are_wrapped_not_cut(english):
    title = "Cycle completion by org unit (sub-units included): Annual assessment 2026"
    figure = charts.bars(["Suzhou Industrial Park Sub-branch"], [50.0], title, percent=True)
    text = figure["layout"]["title"]["text"]
    assert text.replace("<br>", " ") == title and all(len(line) <= charts.TITLE_WIDTH for line in text.split("<br>"))
    assert figure["layout"]["margin"]["t"] >= 30 + 20 * len(text.split("<br>"))
    assert figure["data"][0]["y"] == ["Suzhou Industrial Park<br>Sub-branch"] and figure["data"][0]["text"] == ["50%"]
    assert charts.wrap("各机构职级分布（含下级机构）各机构职级分布（含下级机构）", 20).split("<br>") == [
        "各机构职级分布（含下", "级机构）各机构职级分", "布（含下级机构）"]


def test_a_figure_in_its_attribute_reads_back_whole(app):
    """A title with a quote, markup and Chinese survives the single-quoted attribute as the browser parses it."""
    figure = charts.bars(["O'Brien <b>&amp;</b>", "总行"], [1, 2], "It's \"quoted\" & <i>tagged</i> 总行")
    with app.test_request_context():
        page = render_template_string("{% from '_macros/charts.html' import chart %}{{ chart(figure, '') }}", figure=figure)
    assert factories.page_figures(page) == [figure]
    assert "总行" in page and "<i>" not in page  # Chinese as itself; no markup from the data
