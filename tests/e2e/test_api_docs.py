"""The API reference (/api/v1/docs): Swagger UI, served by the app, renders every operation under the app's own
Content-Security-Policy with no violation and no console error, is accessible (axe-core, every operation open, with
"Try it out" and the authorisation dialog), and an administrator's new token works from it."""
import re

import pytest
from playwright.sync_api import expect

from competency.security import CSP

from .conftest import login, open_tab
from .test_accessibility import DESKTOP, PHONE, axe_run, report

pytestmark = pytest.mark.e2e

OPERATIONS = 16  # every operation of /api/v1/openapi.json
# Recorded before any of the page's scripts run: the browser's report of each thing the policy refused.
CSP_LISTENER = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  e => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def open_reference(browser, base: str, locale: str):
    """A tab on the API reference once Swagger UI has drawn the operations; (tab, the page's response)."""
    tab = open_tab(browser, locale)
    tab.context.add_init_script(CSP_LISTENER)
    response = tab.page.goto(f"{base}/api/v1/docs")
    tab.page.wait_for_selector("#swagger-ui .opblock")
    return tab, response


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_reference_renders_every_operation_under_the_apps_csp(live_server, browser, locale):
    tab, response = open_reference(browser, live_server, locale)
    page = tab.page
    try:
        assert response.headers["content-security-policy"] == CSP
        assert page.locator("html").get_attribute("lang") == ("en" if locale == "en-US" else "zh-CN")
        assert page.get_by_role("heading", level=1).count() == 1 and page.get_by_role("main").count() == 1
        assert page.locator("#swagger-ui .opblock").count() == OPERATIONS
        paths = page.eval_on_selector_all(".opblock-summary-path", "spans => spans.map(s => s.dataset.path)")
        assert {"/api/v1/employees/bulk", "/api/v1/training/completions", "/api/v1/results"} <= set(paths)
        page.locator("#operations-organisation-post_api_v1_employees_bulk .opblock-summary-control").click()
        body = page.locator("#operations-organisation-post_api_v1_employees_bulk")
        # Swagger UI draws an operation's body after the click returns: wait for it, up to the usual timeout.
        expect(body.locator(".responses-table")).to_contain_text("422")
        expect(body).to_contain_text("staff_no")
        assert page.evaluate("window.cspViolations") == []
        assert tab.errors == []
    finally:
        tab.context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_reference_has_no_accessibility_violation_with_every_operation_open(live_server, browser, locale):
    tab, _response = open_reference(browser, live_server, locale)
    page = tab.page
    try:
        problems = []
        for size, width in ((DESKTOP, 1280), (PHONE, 390)):
            page.set_viewport_size(size)
            closed = page.locator(".opblock-summary-control[aria-expanded=false]")
            while closed.count():
                closed.first.click()
            page.wait_for_function(f"() => document.querySelectorAll('.opblock.is-open').length === {OPERATIONS}")
            problems += [(f"/api/v1/docs, every operation open @{width} ({locale})", v) for v in axe_run(page)]
            employees = page.locator("#operations-organisation-get_api_v1_employees")
            employees.get_by_role("button", name="Try it out").click()
            problems += [(f"/api/v1/docs, Try it out @{width} ({locale})", v) for v in axe_run(page)]
            employees.get_by_role("button", name="Cancel").click()
            employees.locator(".authorization__btn").click()
            page.wait_for_selector(".dialog-ux .modal-ux")
            problems += [(f"/api/v1/docs, authorisation dialog @{width} ({locale})", v) for v in axe_run(page)]
            page.locator(".dialog-ux .close-modal").click()
            page.reload()
            page.wait_for_selector("#swagger-ui .opblock")
        assert not problems, report(problems)
        assert page.evaluate("window.cspViolations") == [] and tab.errors == []
    finally:
        tab.context.close()


def test_an_administrators_new_token_answers_from_the_reference(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "A0001")
    page.goto(f"{live_server}/admin/api-tokens")
    page.fill("input[name=account]", "H0001")
    page.fill("input[name=name]", "Reference check")
    page.check("input[name=scopes][value='org:read']")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("code.token-secret").inner_text()
    assert re.fullmatch(r"cmpt_[\w-]{40,}", secret)
    page.goto(f"{live_server}/api/v1/docs")
    operation = page.locator("#operations-reads-get_api_v1_token")
    operation.locator(".opblock-summary-control").click()
    operation.locator(".authorization__btn").click()
    page.locator(".dialog-ux input[type=text], .dialog-ux input[type=password]").first.fill(secret)
    page.locator(".dialog-ux button.authorize").click()
    page.locator(".dialog-ux .close-modal").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    answer = operation.locator(".live-responses-table .response")
    answer.locator(".response-col_status").filter(has_text="200").wait_for()
    expect(answer).to_contain_text('"Reference check"')
    expect(answer).to_contain_text('"H0001"')
    assert page.errors_seen == []
