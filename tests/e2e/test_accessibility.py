"""Accessibility: axe-core finds no critical or serious WCAG 2.1 AA violation on any main page of any role.

Every page listed in PAGES is checked in Chinese and English, at desktop width (1280 px) and phone width (390 px).
axe-core is vendored from the npm registry (tests/e2e/vendor/axe.min.js, see VERSION.txt there) and injected with
`page.evaluate(source)`: Playwright runs it through the DevTools protocol, which the page's Content-Security-Policy
(`script-src 'self'`) does not govern, so the app's own CSP stays exactly as served and is itself part of what is
tested. A `<script>` tag (page.add_script_tag) would be refused by that policy, and `bypass_csp` would test a page
the users never get.

The rules this project once broke (FIXED_RULES) fail at any impact, so that they cannot come back as "minor".
"""
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..factories import totp_code
from .conftest import PASSWORD, TIMEOUT_MS, open_tab

pytestmark = pytest.mark.e2e

AXE_SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"critical", "serious"}
FIXED_RULES = {"link-in-text-block", "nested-interactive", "empty-table-header", "label", "color-contrast",
               "landmark-unique", "heading-order", "region", "skip-link", "bypass"}
DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
LOCALES = ["zh-CN", "en-US"]
# S0007's team is assessed in the module's own cycle: E0028 has a self-assessment to fill in, S0007 one to rate.
STAFF = {"employee": "E0028", "supervisor": "S0007", "trainer": "T0001", "hr": "H0001", "admin": "A0001"}
REVIEW_YEAR = 2026  # its own review run (the journeys use 2025), so that the run and item pages have rows


@dataclass(frozen=True)
class Link:
    """The page reached by the first link on `source` whose path matches `pattern`, with `then` appended."""

    source: "str | Link"
    pattern: str
    then: str = ""


MODEL = Link("/models", r"^/models/\d+$")
CYCLE = Link("/cycles/", r"^/cycles/\d+$")
EMPLOYEE = Link("/employees", r"^/employees/\d+$")
COURSE = Link("/catalogue", r"^/catalogue/\d+$")
# The pages people of each role work with; everyone's own pages are checked once, under "employee".
PAGES = {
    "employee": ["/", Link("/", r"^/employees/\d+$"), "/assessments", Link("/assessments", r"^/assessments/\d+$"),
                 Link("/assessments", r"^/assessments/\d+/self$"), "/training", "/training/credits",
                 "/training/certifications", "/development", "/my-grade", "/my-model", "/account/password",
                 "/account/two-factor", "/notifications", "/notifications?show=unread", "/account/notifications",
                 "/no-such-page"],
    "supervisor": ["/", "/team", Link("/team", r"^/assessments/\d+/review$"), "/team/credits", "/team/analytics",
                   "/team/probation", Link("/team/probation", r"^/team/probation/\d+$"), Link("/team", r"^/employees/\d+$"),
                   Link("/team/credits", r"^/employees/\d+/credits$"), "/mentoring", "/assign"],
    "trainer": ["/", "/catalogue", "/catalogue/new", COURSE, Link(COURSE, r"^/catalogue/\d+/roster$"),
                Link(COURSE, r"^/catalogue/\d+/sessions/new$"), "/assign", "/demand"],
    "hr": ["/", "/analytics", "/cycles/", "/cycles/new", CYCLE, Link(CYCLE, r"^/cycles/\d+/leniency$"),
           "/credits/compliance", Link("/credits/compliance", r"^/credits/compliance/\d+"), "/credits/requirements",
           "/review", f"/review/{REVIEW_YEAR}", Link(f"/review/{REVIEW_YEAR}", r"^/review/item/\d+$"),
           f"/review/{REVIEW_YEAR}/finalise", "/standards", "/settings", "/appeals", "/models", MODEL,
           "/employees", EMPLOYEE, Link(EMPLOYEE, r"^/employees/\d+/edit$"),
           *(Link("/employees", r"^/employees/\d+$", then) for then in ("/development", "/grade", "/certifications")),
           "/org", "/imports/", "/jobs/", "/catalogue",
           "/mentoring"],
    "admin": ["/", "/admin/users", "/admin/users/new", Link("/admin/users", r"^/admin/users/\d+$"), "/admin/audit", "/admin/mail",
              "/admin/api-tokens", "/api/v1/docs", "/analytics", "/review", "/settings", "/imports/", "/jobs/"],
}


def pages_of(role: str, prepared) -> list:
    """The pages checked for a role: PAGES, and for hr the forms of the draft model the fixture made."""
    if role != "hr":
        return PAGES[role]
    draft = prepared.draft_model
    return PAGES["hr"] + [draft, f"{draft}/competencies/new", Link(draft, r"/competencies/\d+$"), f"{draft}/targets",
                          f"{draft}/duty-areas/new", Link(draft, r"/duty-areas/\d+$")]


def axe_run(page) -> list[dict]:
    """Run axe-core on the page as it is now; its violations as {rule, impact, help, targets}."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
                                                targets: v.nodes.map(n => n.target.join(" "))}));
        }""",
        WCAG_TAGS,
    )


def failing(violations: list[dict]) -> list[dict]:
    """The violations this suite does not accept: critical and serious ones, and any of a rule fixed once."""
    return [v for v in violations if v["impact"] in FAILING_IMPACTS or v["rule"] in FIXED_RULES]


def settle(page) -> None:
    """Wait until every chart is drawn (axe must see Plotly's controls), the API reference its operations, and the
    layout has been recomputed."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart[data-figure]')].every(el => el.querySelector('svg.main-svg'))")
    page.wait_for_function("() => !document.getElementById('swagger-ui') || document.querySelector('#swagger-ui .opblock')")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def sign_in(page, base: str, staff_no: str) -> list[tuple[str, list[dict]]]:
    """Sign in through the form; return the axe violations of the sign-in page and of the two-factor page."""
    seen = []
    page.goto(f"{base}/password/forgot")  # offered on the sign-in page (the live server has e-mail set up)
    settle(page)
    seen.append(("/password/forgot", axe_run(page)))
    page.goto(f"{base}/login")
    settle(page)
    seen.append(("/login", axe_run(page)))
    page.fill("input[name=identifier]", staff_no)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button.primary")
    page.wait_for_url(lambda url: not url.endswith("/login") and "/login?" not in url)
    if "/login/code" in page.url:
        settle(page)
        seen.append(("/login/code", axe_run(page)))
        page.fill("input[name=code]", totp_code(staff_no))
        page.click("main button.primary")
        page.wait_for_url(lambda url: "/login" not in url)
    return seen


def resolve(page, base: str, target) -> str:
    """The path of a page: itself, or the first matching link of its source page (an error when there is none)."""
    if isinstance(target, str):
        return target
    source = resolve(page, base, target.source)
    page.goto(base + source)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    pattern = re.compile(target.pattern)
    found = next((href for href in hrefs if pattern.search(href.split("?")[0])), None)
    assert found, f"no link matching {target.pattern} on {source}"
    return found + target.then


def check_page(page, base: str, path: str) -> list[tuple[str, list[dict]]]:
    """Open the page at desktop width, then narrow it to a phone's; the violations found at each width."""
    page.set_viewport_size(DESKTOP)
    response = page.goto(base + path)
    assert response.status < 400 or path == "/no-such-page", f"{path} answered {response.status}"
    settle(page)
    found = [(f"{path} @1280", axe_run(page))]
    page.set_viewport_size(PHONE)
    settle(page)
    found.append((f"{path} @390", axe_run(page)))
    return found


def report(problems: list[tuple[str, dict]]) -> str:
    """Every violation: rule, impact, page and width, and the selectors of the elements at fault."""
    lines = [f"{len(problems)} accessibility violation(s):"]
    for where, v in problems:
        lines.append(f"- {v['rule']} ({v['impact']}) on {where}: {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"])
    return "\n".join(lines)


@dataclass
class Prepared:
    """What the module fixture made through the UI so that the pages of drafts and open work have content."""

    draft_model: str  # path of a draft competency model version


def run_review(page, base: str) -> None:
    """hr runs the annual review of REVIEW_YEAR (everyone without data is referred to hr)."""
    page.goto(f"{base}/review")
    page.fill("input[name=year]", str(REVIEW_YEAR))
    page.click("main form[data-busy] button[name=check]")
    page.wait_for_selector("main form[data-busy] .flash, main form[data-busy] .readiness")
    if page.locator("input[name=anyway]").count():
        page.check("input[name=anyway]")
    page.click("main form[data-busy] button.primary")
    page.wait_for_url(re.compile(rf"/review/{REVIEW_YEAR}$"), timeout=TIMEOUT_MS * 4)


def make_draft_model(page, base: str) -> str:
    """hr makes a new draft version of the first competency model; its path."""
    page.goto(base + resolve(page, base, MODEL))
    page.click("main .actions form[action$='/new_version'] button")
    page.wait_for_selector("main h1 .status-draft")
    return page.url.removeprefix(base)


def open_cycle(page, base: str) -> None:
    """hr opens a cycle for the team of S0007 only (the journeys assess S0001's team, in a cycle of their own)."""
    page.goto(f"{base}/cycles/new")
    page.fill("input[name=code]", "A11Y")
    page.fill("input[name=name_zh]", "无障碍检查周期")
    page.fill("input[name=name_en]", "Accessibility cycle")
    unit = page.locator("select[name=org_unit] option", has_text="Suzhou Industrial Park").get_attribute("value")
    page.select_option("select[name=org_unit]", value=unit)
    page.fill("input[name=period_start]", "2027-01-01")
    page.fill("input[name=period_end]", "2027-06-30")
    page.fill("input[name=self_deadline]", "2099-01-10")
    page.fill("input[name=supervisor_deadline]", "2099-01-20")
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/cycles/\d+$"))
    page.click("main .actions button.primary")  # open it (a confirm dialog, accepted)
    page.wait_for_selector("main .flash")


def submit_self_assessment(page, base: str) -> None:
    """The signed-in employee rates every competency at level 3 and submits the self-assessment."""
    page.goto(base + resolve(page, base, Link("/assessments", r"^/assessments/\d+/self$")))
    fieldsets = page.locator("fieldset.competency")
    for i in range(fieldsets.count()):
        fieldsets.nth(i).locator("input[type=radio]").nth(2).check()
    page.click("button[name=submit]")  # a confirm dialog, accepted
    page.wait_for_url(re.compile(r"/assessments$"))


@pytest.fixture(scope="module")
def prepared(live_server, browser) -> Prepared:
    """Through the UI: hr runs a review, drafts a model version and opens a cycle; E0032 submits the self phase."""
    tab = open_tab(browser, "en-US")
    try:
        page = tab.page
        sign_in(page, live_server, STAFF["hr"])
        run_review(page, live_server)
        draft = make_draft_model(page, live_server)
        open_cycle(page, live_server)
        tab.context.clear_cookies()
        sign_in(page, live_server, "E0032")
        submit_self_assessment(page, live_server)
    finally:
        tab.context.close()
    return Prepared(draft)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("role", list(STAFF))
def test_no_serious_violations(role, locale, live_server, browser, prepared):
    tab = open_tab(browser, locale)
    page = tab.page
    try:
        problems = []
        for where, violations in sign_in(page, live_server, STAFF[role]):
            problems += [(f"{where} @1280 ({locale}, before {role} signs in)", v) for v in failing(violations)]
        for target in pages_of(role, prepared):
            path = resolve(page, live_server, target)
            for where, violations in check_page(page, live_server, path):
                problems += [(f"{where} ({locale}, {role})", v) for v in failing(violations)]
        assert not problems, report(problems)
        errors = [e for e in tab.errors if "404 (NOT FOUND)" not in e]  # the error page, asked for on purpose
        assert errors == [], "the browser reported errors:\n" + "\n".join(errors)
    finally:
        tab.context.close()
