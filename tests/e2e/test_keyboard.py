"""Keyboard use: the skip link comes first and lands in the content; the area menus and the narrow-screen menu
open, are walked through and closed with the keyboard alone."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def focused(page) -> dict:
    """The focused element: its tag, id, text and href."""
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), id: e.id, text: e.textContent.trim(), href: e.getAttribute('href')}; }""")


def tab_to(page, text: str, limit: int = 30) -> None:
    """Press Tab until the element whose text is `text` has the focus (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["text"] == text:
            return
    pytest.fail(f"{text!r} not reached in {limit} Tab presses")


def test_skip_link_is_the_first_tab_stop_and_moves_to_the_content(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "H0001")
    page.goto(f"{live_server}/cycles/new")
    page.keyboard.press("Tab")
    assert focused(page) == {"tag": "a", "id": "", "text": "Skip to main content", "href": "#main"}
    expect(page.locator(".skip-link")).to_be_in_viewport()  # shown while it has the focus
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # past the menus: the page's first link, on the third press
    expect(page.locator("main a", has_text="Assessment cycles")).to_be_focused()
    assert page.errors_seen == []


def test_sign_in_page_starts_in_its_first_field(live_server, page_for):
    page = page_for("zh-CN")
    page.goto(f"{live_server}/login")
    expect(page.locator("input[name=identifier]")).to_be_focused()
    for _ in range(3):  # back past the language switch and the brand
        page.keyboard.press("Shift+Tab")
    assert focused(page)["href"] == "#main"
    assert page.errors_seen == []


def test_area_menu_opens_with_the_keyboard(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "H0001")
    menu = page.locator("details.menu", has=page.locator("summary", has_text="Assessment"))
    cycles = menu.get_by_role("link", name="Assessment cycles")
    expect(cycles).to_be_hidden()
    tab_to(page, "Assessment")
    page.keyboard.press("Enter")
    expect(cycles).to_be_visible()
    page.keyboard.press("Escape")  # closes it, the focus back on its title
    expect(cycles).to_be_hidden()
    assert focused(page)["text"] == "Assessment"
    page.keyboard.press("Space")
    expect(cycles).to_be_visible()
    page.keyboard.press("Tab")
    expect(cycles).to_be_focused()
    # Opening another menu closes this one.
    tab_to(page, "Training")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Course catalogue")).to_be_visible()
    expect(cycles).to_be_hidden()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/catalogue$"))
    expect(page.locator("nav.mainnav [aria-current=page]")).to_have_text("Course catalogue")
    assert page.errors_seen == []


def test_narrow_screen_menu_opens_with_the_keyboard(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "S0001")
    page.set_viewport_size(PHONE)
    toggle = page.locator("button.nav-toggle")
    nav = page.locator("nav.mainnav")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    tab_to(page, "☰ Menu")
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    tab_to(page, "Team")
    page.keyboard.press("Enter")
    probation = nav.get_by_role("link", name="Probation")
    expect(probation).to_be_visible()
    tab_to(page, "Probation")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/team/probation$"))
    expect(nav).to_be_hidden()  # folded again on the next page
    tab_to(page, "☰ Menu")
    page.keyboard.press("Space")
    expect(nav).to_be_visible()
    page.keyboard.press("Space")
    expect(nav).to_be_hidden()
    assert page.errors_seen == []
