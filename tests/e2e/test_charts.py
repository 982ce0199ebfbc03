"""The charts render in a real browser: Plotly draws SVG from the app's own plotly.js, without console errors."""
import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e


def test_hr_heatmap_renders(live_server, page_for):
    page = page_for("zh-CN")
    login(page, live_server, "H0001")
    page.goto(f"{live_server}/analytics")
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
