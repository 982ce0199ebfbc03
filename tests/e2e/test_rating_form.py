"""The rating form in a real browser: the progress count follows the ratings, a saved draft opens the form again
where the person was with the notice in view, the error summary leads to the items, the section links work on a
phone; and the printed development report: charts one above the other, whole, with Chinese dates in Chinese.

The module opens its own cycle for one sub-branch (Shanghai Pudong, corporate model: S0004, E0015, E0016), so it
leaves the journeys' cycle and people alone. Screenshots go to tests/e2e/screenshots/ (form-*, report-*)."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, login

pytestmark = pytest.mark.e2e

CYCLE_CODE = "E2EFORM"
CYCLE_NAME_EN = "E2E form cycle"
PERSON = "E0015"
ENGLISH_MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def no_errors(errors: list) -> None:
    assert errors == [], "the browser reported errors:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def form_url(live_server, module_tabs) -> str:
    """hr opens a cycle for the Pudong sub-branch through the pages; the URL of E0015's self-assessment form."""
    page = module_tabs("en-US").page
    login(page, live_server, "H0001")
    page.goto(f"{live_server}/cycles/new")
    page.fill("input[name=code]", CYCLE_CODE)
    page.fill("input[name=name_zh]", "端到端表单周期")
    page.fill("input[name=name_en]", CYCLE_NAME_EN)
    versions = page.locator("select[name=version] option")
    corporate = next(i for i, text in enumerate(versions.all_inner_texts()) if text.startswith("Corporate customer manager"))
    page.select_option("select[name=version]", value=versions.nth(corporate).get_attribute("value"))
    unit = page.locator("select[name=org_unit] option", has_text="Shanghai Pudong Sub-branch")
    page.select_option("select[name=org_unit]", value=unit.get_attribute("value"))
    page.fill("input[name=period_start]", "2026-07-01")
    page.fill("input[name=period_end]", "2026-12-31")
    page.fill("input[name=self_deadline]", (date.today() + timedelta(days=30)).isoformat())
    page.fill("input[name=supervisor_deadline]", (date.today() + timedelta(days=40)).isoformat())
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/cycles/\d+$"))
    page.locator("main .actions button.primary").click()  # open it (a confirm dialog, accepted)
    expect(page.locator(".flash")).to_contain_text("The cycle is open")
    page = module_tabs("en-US").page
    login(page, live_server, PERSON)
    page.goto(f"{live_server}/assessments")
    page.locator("main table tbody tr", has_text=CYCLE_NAME_EN).locator("a.button.primary").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/self$"))
    return page.url


def _rate(page, code: str, level: int) -> None:
    page.locator(f"fieldset#c-{code} input[type=radio]").nth(level - 1).check()


def test_rating_moves_the_count_and_a_saved_draft_comes_back_to_the_same_place(form_url, live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, PERSON)
    page.goto(form_url)
    count = page.locator(".progress-count")
    expect(count).to_have_text("0 of 16 rated")
    for code in ("K1", "K2", "K3"):
        _rate(page, code, 3)
    expect(count).to_have_text("3 of 16 rated")
    expect(page.locator("[data-count-for=K]")).to_have_text("3/4")
    _rate(page, "S4", 4)
    expect(count).to_have_text("4 of 16 rated")
    expect(page.locator("[data-count-for=S]")).to_have_text("1/5")

    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/self#c-S4$"))
    notice = page.locator(".flash-success")
    expect(notice).to_have_text("Draft saved.")
    expect(notice).to_be_in_viewport()
    expect(page.locator("fieldset#c-S4")).to_be_in_viewport()
    expect(page.locator("fieldset#c-K1")).not_to_be_in_viewport()
    expect(count).to_have_text("4 of 16 rated")                     # as the server counts it
    expect(page.locator("fieldset#c-S4 input[type=radio]").nth(3)).to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "form-draft-saved-en-1280.png"))

    _rate(page, "A1", 2)                                            # going on: the notice has done its work
    expect(notice).to_be_hidden()
    expect(count).to_have_text("5 of 16 rated")
    page.click(".form-nav a[href='#cat-K']")
    expect(page.locator("fieldset#c-K1")).to_be_in_viewport()
    expect(page.locator(".form-nav")).to_be_in_viewport()
    no_errors(page.errors_seen)


def test_a_refused_submission_leads_from_the_summary_to_the_items(form_url, live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, PERSON)
    page.goto(form_url)
    _rate(page, "A7", 5)                                            # level 5 without a comment
    page.click("button[name=submit]")                               # "Submit now?", accepted; refused
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_contain_text("Nothing was submitted")
    links = summary.locator("a")
    expect(links.filter(has_text="A7")).to_contain_text("Levels 1 and 5 need a comment")
    expect(page.locator("fieldset#c-A7 textarea")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("fieldset#c-A7 input[type=radio]").nth(4)).to_be_checked()   # what was chosen stays
    links.filter(has_text="A7").click()
    expect(page.locator("fieldset#c-A7 textarea")).to_be_focused()
    expect(page.locator("fieldset#c-A7 textarea")).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOTS / "form-errors-en-1280.png"))
    no_errors([e for e in page.errors_seen if "status of 422" not in e])      # the refusal itself


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_form_on_a_phone_and_a_desktop(form_url, live_server, page_for, locale):
    page = page_for(locale)
    login(page, live_server, PERSON)
    tag = "zh" if locale == "zh-CN" else "en"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(form_url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if tag == "zh" else "en")
    expect(page.locator(".progress-count")).to_contain_text("16")
    page.screenshot(path=str(SCREENSHOTS / f"form-{tag}-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(form_url)
    page.screenshot(path=str(SCREENSHOTS / f"form-{tag}-390-top.png"))
    nav = page.locator(".form-nav")
    assert nav.bounding_box()["height"] < 90                       # one or two lines on a phone
    page.click(".form-nav a[href='#cat-A']")
    expect(page.locator("#cat-A h2")).to_be_in_viewport()
    expect(nav).to_be_in_viewport()                                 # sticky: still there far down the page
    page.screenshot(path=str(SCREENSHOTS / f"form-{tag}-390-section-a.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    no_errors(page.errors_seen)


# Every chart of the report drawn at the printable width of A4 (680 px, report-print.js) or narrower.
PRINT_WIDTH_REACHED = """() => Array.from(document.querySelectorAll(".report-charts .chart")).every((chart) => {
  const svg = chart.querySelector("svg.main-svg");
  return svg !== null && svg.getBoundingClientRect().width <= 681;
})"""


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_printed_development_report_keeps_its_charts_whole_and_apart(live_server, page_for, locale):
    page = page_for(locale)
    login(page, live_server, PERSON)                                # assessed in the demo's 2025 cycle
    page.goto(f"{live_server}/development")
    tag = "zh" if locale == "zh-CN" else "en"
    charts = page.locator(".report-charts .chart")
    expect(charts).to_have_count(4)
    expect(charts.first.locator("svg.main-svg").first).to_be_visible()
    # Printing lays the page out again at the width of A4 without resizing the window (what plotly.js would follow):
    # the page's body takes the printable width of A4, 180 mm, and the print media is emulated.
    page.add_style_tag(content="@media print { body { width: 180mm; } }")
    page.emulate_media(media="print")
    try:  # plotly.js redraws the charts for print in its own time (a busy machine takes longer than a fixed wait)
        page.wait_for_function(PRINT_WIDTH_REACHED)
    except PlaywrightTimeoutError:
        pass  # never redrawn: the checks below say which chart is cut
    boxes = [charts.nth(i).bounding_box() for i in range(4)]
    drawn = [charts.nth(i).locator("svg.main-svg").first.bounding_box() for i in range(4)]
    for i, (box, svg) in enumerate(zip(boxes, drawn, strict=True)):
        assert svg["width"] <= box["width"] + 1 and svg["height"] <= box["height"] + 1, f"chart {i} is cut: {svg} in {box}"
        assert box["x"] >= 0 and svg["x"] + svg["width"] <= 681, f"chart {i} runs off the page: {svg}"
    for i, first in enumerate(drawn):
        for j, second in enumerate(drawn[i + 1:], i + 1):
            apart = (first["x"] + first["width"] <= second["x"] or second["x"] + second["width"] <= first["x"]
                     or first["y"] + first["height"] <= second["y"] or second["y"] + second["height"] <= first["y"])
            assert apart, f"charts {i} and {j} overlap: {first} {second}"
    ticks = " ".join(page.locator(".report-charts .xtick text").evaluate_all("(els) => els.map((el) => el.textContent)"))
    if tag == "zh":
        assert not ENGLISH_MONTHS.search(ticks), ticks
    page.screenshot(path=str(SCREENSHOTS / f"report-print-{tag}.png"), full_page=True)
    page.pdf(path=str(SCREENSHOTS / f"report-{tag}.pdf"), format="A4", print_background=True)
    no_errors(page.errors_seen)
