"""The charts render in a real browser: Plotly draws SVG from the app's own plotly.js, without console errors."""
import re
from itertools import pairwise

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e


def _hr_analytics(live_server, page_for, locale: str, width: int | None = None):
    """hr's Analytics page, signed in as H0001 in the locale (on a screen `width` px wide when given)."""
    page = page_for(locale)
    login(page, live_server, "H0001")
    if width:
        page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server}/analytics")
    return page


def test_hr_heatmap_renders(live_server, page_for):
    page = _hr_analytics(live_server, page_for, "zh-CN")
    heatmap = page.locator(".chart").first
    expect(heatmap.locator("svg.main-svg").first).to_be_attached()
    expect(heatmap.locator(".hm, image").first).to_be_attached()     # the heatmap's cells
    assert "各机构平均差距" in heatmap.inner_text()                  # labels in the user's language
    assert page.locator(".chart svg.main-svg").count() >= 5
    assert page.errors_seen == []


def test_employee_radar_renders(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "E0003")
    page.goto(f"{live_server}/development")
    radar = page.locator(".chart").first
    expect(radar.locator("svg.main-svg").first).to_be_attached()
    expect(radar.locator(".scatterlayer .trace").first).to_be_attached()
    assert "Competency profile" in radar.inner_text()
    assert page.errors_seen == []


def test_supervisor_team_heatmap_lists_only_the_team(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "S0001")
    page.goto(f"{live_server}/team/analytics")
    expect(page.locator(".chart svg.main-svg").first).to_be_attached()
    text = page.locator(".chart").first.inner_text()
    assert "E0003" in text or "E0004" in text
    assert "S0002" not in text and "H0001" not in text
    assert page.errors_seen == []


def _boxes(locator):
    return [box for box in (locator.nth(i).bounding_box() for i in range(locator.count())) if box]


def _overlap(a, b) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize(("locale", "heatmap_title", "colour_bar", "grades_title"), [
    ("zh-CN", "各机构平均差距（含下级机构）", None, None),   # the new labels are translated when the catalogue is merged
    ("en-US", "Average gap by org unit (sub-units included)", "Gap (target − level)",
     "Grade distribution by org unit (sub-units included)"),
], ids=["zh", "en"])
def test_hr_analytics_charts_are_readable(live_server, page_for, locale, heatmap_title, colour_bar, grades_title):
    """Every cell of the heatmap shows its value, the colour bar says what the colour means, no title is cut off
    and no legend sits on a title or axis labels; the screenshot of each language is kept (screenshots/)."""
    page = _hr_analytics(live_server, page_for, locale)
    charts = page.locator(".chart")
    expect(charts.nth(3).locator("svg.main-svg").first).to_be_attached()
    heatmap = charts.first
    cells = heatmap.locator("g.heatmap-label text")
    expect(cells.first).to_be_attached()
    values = cells.all_text_contents()
    assert len(values) >= 10 and all(re.fullmatch(r"0\.0|[+-]\d+\.\d", v) for v in values)
    assert _flat(heatmap_title) in _flat(heatmap.locator(".gtitle").first.text_content())
    bar_title = heatmap.locator(".colorbar .cbtitle").first.text_content().strip()
    assert bar_title and (colour_bar is None or bar_title == colour_bar)
    if grades_title:
        assert _flat(grades_title) in _flat(charts.nth(1).locator(".gtitle").first.text_content())
    for i in range(charts.count()):
        chart = charts.nth(i)
        frame = chart.bounding_box()
        titles = _boxes(chart.locator(".gtitle"))
        for title in titles:
            assert frame["x"] <= title["x"] and title["x"] + title["width"] <= frame["x"] + frame["width"] + 1
        for legend in _boxes(chart.locator(".legend .bg")):
            for other in titles + _boxes(chart.locator(".xtick text, .ytick text")):
                assert not _overlap(legend, other)
    assert page.errors_seen == []


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_radar_axes_name_the_competencies(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "E0003")
    page.goto(f"{live_server}/development")
    radar = page.locator(".chart").first
    expect(radar.locator(".angularaxistick text").first).to_be_attached()
    axes = [_flat(a) for a in radar.locator(".angularaxistick text").all_text_contents()]   # long names on two lines
    assert "Productknowledge" in axes and "Teamwork" in axes and "K1" not in axes
    assert page.errors_seen == []


def test_heatmap_columns_are_ticked_by_code_and_named_in_the_hover(live_server, page_for):
    """The heatmap names its columns once (tick: the code; hover: the code and the whole name), not once per cell."""
    page = _hr_analytics(live_server, page_for, "en-US")
    heatmap = page.locator(".chart").first
    expect(heatmap.locator(".xtick text").first).to_be_attached()
    ticks = heatmap.locator(".xtick text").all_text_contents()
    assert ticks and all(re.fullmatch(r"[KSA]\d+", t) for t in ticks)
    box = heatmap.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)              # the first column's first cell
    hover = heatmap.locator(".hoverlayer .hovertext")
    expect(hover).to_contain_text(f"{ticks[0]} ")
    assert _flat(hover.text_content()) != _flat(ticks[0])
    assert page.errors_seen == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_phone_the_heatmap_scrolls_sideways_and_its_columns_stay_apart(live_server, page_for, locale):
    """At 390 px the heatmap keeps a width where each column's code and values fit, in a frame that scrolls."""
    page = _hr_analytics(live_server, page_for, locale, width=390)
    frame = page.locator(".chart-scroll").first
    expect(frame.locator(".xtick text").first).to_be_attached()
    assert frame.evaluate("el => el.scrollWidth > el.clientWidth") and frame.get_attribute("tabindex") == "0"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390     # only the frame scrolls, not the page
    ticks = _boxes(frame.locator(".xtick text"))
    assert len(ticks) >= 10 and all(a["x"] + a["width"] <= b["x"] for a, b in pairwise(ticks))
    assert page.errors_seen == []
