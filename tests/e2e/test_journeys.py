"""What people do with the app, in a real browser against a live, seeded server.

Journeys 1–3 share one assessment cycle: the module fixtures `open_cycle` (hr opens it) and `self_submitted`
(E0001 submits the self-assessment) do those steps through the UI once, so each test also runs alone (`-k`).
Most journeys use an English browser (the language follows Accept-Language) so the assertions read as the
user would; the last one checks Chinese and the language switch.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e

CYCLE_CODE = "E2E1"
CYCLE_NAME_EN = "E2E cycle 2026 H2"
CYCLE_NAME_ZH = "端到端测试周期 2026 下半年"
SELF_COMMENT = "E2E self comment, visible only after the supervisor submits"
SCORE = re.compile(r"^\d{1,3}\.\d$")


def no_errors(errors: list) -> None:
    assert errors == [], "the browser reported errors:\n" + "\n".join(errors)


def flash(page):
    return page.locator(".flash")


# --- prerequisites shared by journeys 1–3 -----------------------------------------------------------


@dataclass
class OpenedCycle:
    code: str
    url: str
    participants: int
    flash_text: str
    errors: list


@pytest.fixture(scope="module")
def open_cycle(live_server, module_tabs) -> OpenedCycle:
    """hr creates the cycle E2E1 (corporate model, everyone, 30/70, blind) and opens it, all through the UI."""
    tab = module_tabs("en-US")
    page = tab.page
    login(page, live_server, "H0001")
    page.goto(f"{live_server}/cycles/new")
    page.fill("input[name=code]", CYCLE_CODE)
    page.fill("input[name=name_zh]", CYCLE_NAME_ZH)
    page.fill("input[name=name_en]", CYCLE_NAME_EN)
    versions = page.locator("select[name=version] option")
    labels = versions.all_inner_texts()
    # E0001 and S0001's team are corporate customer managers: take the corporate model (the first option
    # when the seed order holds, but chosen by its label so a reordering cannot silently empty the cycle).
    corporate = next(i for i, text in enumerate(labels) if text.startswith("Corporate customer manager"))
    page.select_option("select[name=version]", value=versions.nth(corporate).get_attribute("value"))
    page.fill("input[name=period_start]", "2026-07-01")
    page.fill("input[name=period_end]", "2026-12-31")
    # Deadlines in the future whenever the suite runs, so nothing is marked late.
    today = date.today()
    page.fill("input[name=self_deadline]", max(date(2027, 1, 10), today + timedelta(days=30)).isoformat())
    page.fill("input[name=supervisor_deadline]", max(date(2027, 1, 20), today + timedelta(days=40)).isoformat())
    page.fill("input[name=self_weight]", "30")
    page.fill("input[name=supervisor_weight]", "70")
    expect(page.locator("select[name=org_unit]")).to_have_value("")  # "All"
    expect(page.locator("input[name=blind]")).to_be_checked()
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/cycles/\d+$"))
    expect(flash(page)).to_contain_text("Cycle saved. Check the participants, then open it.")
    expect(page.locator("h1")).to_contain_text(CYCLE_NAME_EN)
    expect(page.locator("h1 .tag")).to_have_text("Draft")
    people = page.locator("dl.facts strong").inner_text()
    match = re.fullmatch(r"(\d+) people", people.strip())
    assert match, people
    participants = int(match.group(1))
    url = page.url
    open_button = page.locator("main .actions button.primary")
    expect(open_button).to_have_text(f"Open the cycle for {participants} people")
    open_button.click()  # a confirm dialog, accepted
    expect(flash(page)).to_contain_text("The cycle is open")
    return OpenedCycle(CYCLE_CODE, url, participants, flash(page).inner_text(), tab.errors)


@dataclass
class SelfSubmission:
    flash_text: str
    status_text: str
    errors: list


@pytest.fixture(scope="module")
def self_submitted(open_cycle, live_server, module_tabs) -> SelfSubmission:
    """E0001 rates every competency at level 3 (a comment on K1) and submits the self-assessment."""
    tab = module_tabs("en-US")
    page = tab.page
    login(page, live_server, "E0001")
    page.goto(f"{live_server}/assessments")
    row = page.locator("main table tbody tr", has_text=CYCLE_NAME_EN)
    expect(row.locator(".tag")).to_have_text("Not started")
    row.locator("a.button.primary", has_text="Start").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/self$"))
    fieldsets = page.locator("fieldset.competency")
    expect(fieldsets).to_have_count(16)
    for i in range(fieldsets.count()):
        fieldsets.nth(i).locator("input[type=radio]").nth(2).check()
    page.locator("fieldset#c-K1 textarea").fill(SELF_COMMENT)
    page.click("button[name=submit]")  # "Submit now?" confirm, accepted
    page.wait_for_url(re.compile(r"/assessments$"))
    expect(flash(page)).to_have_text("Submitted.")
    row = page.locator("main table tbody tr", has_text=CYCLE_NAME_EN)
    return SelfSubmission(flash(page).inner_text(), row.locator(".tag").first.inner_text(), tab.errors)


# --- the journeys ---------------------------------------------------------------------------------------


def test_hr_opens_a_cycle(open_cycle, live_server, page_for):
    assert open_cycle.participants > 0
    assert open_cycle.flash_text == f"The cycle is open: {open_cycle.participants} assessments created."
    no_errors(open_cycle.errors)

    page = page_for("en-US")
    login(page, live_server, "H0001")
    # The cycles list shows it open, with its assessments; its page has the close button and the list.
    page.goto(f"{live_server}/cycles/")
    cycle_row = page.locator("main table tbody tr", has_text=CYCLE_CODE)
    expect(cycle_row).to_contain_text("Open")
    expect(cycle_row.locator("td").nth(4)).to_have_text(str(open_cycle.participants))
    page.goto(open_cycle.url)
    expect(page.locator("h1 .tag")).to_have_text("Open")
    expect(page.locator("main .actions button.danger")).to_have_text("Close the cycle")
    expect(page.locator("main")).to_contain_text(f"{open_cycle.participants} in all")
    statuses = page.locator("main table tbody tr .tag")
    expect(statuses.first).to_be_visible()
    assert set(statuses.all_inner_texts()) <= {  # nothing incomplete or overdue in a freshly opened cycle
        "Not started", "Self-assessment in progress", "Self-assessment submitted", "Supervisor assessment in progress",
        "Completed"}
    no_errors(page.errors_seen)


def test_employee_submits_self_assessment(self_submitted, live_server, page_for):
    assert self_submitted.flash_text == "Submitted."
    assert self_submitted.status_text == "Self-assessment submitted"
    no_errors(self_submitted.errors)

    page = page_for("en-US")
    login(page, live_server, "E0001")
    page.goto(f"{live_server}/assessments")
    row = page.locator("main table tbody tr", has_text=CYCLE_NAME_EN)
    expect(row.locator(".tag").first).to_have_text("Self-assessment submitted")
    row.locator("a", has_text="My ratings").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/self$"))
    expect(page.locator("main")).to_contain_text("These ratings are read-only now.")
    expect(page.locator("input[type=radio]:checked")).to_have_count(16)
    expect(page.locator("input[type=radio]:checked:not([disabled])")).to_have_count(0)
    expect(page.locator("fieldset#c-K1 textarea")).to_have_value(SELF_COMMENT)
    page.go_back()
    expect(page.locator("main table tbody tr", has_text=CYCLE_NAME_EN).locator(".tag").first).to_have_text(
        "Self-assessment submitted")
    no_errors(page.errors_seen)


def test_the_supervisors_bell_tells_of_the_submitted_self_assessment(self_submitted, live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "S0001")
    bell = page.locator("header a.bell")
    count = int(bell.locator(".bell-count").inner_text())
    assert count >= 1
    expect(bell).to_contain_text(f"Notifications: {count} unread")
    bell.click()
    page.wait_for_url(re.compile(r"/notifications$"))
    item = page.locator("ul.inbox li.unread", has_text="submitted their self-assessment").filter(has_text="E0001")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(CYCLE_NAME_EN)
    item.locator("a").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/review$"))
    expect(page.locator("main")).to_contain_text("You rate blind")
    if count > 1:
        expect(page.locator("header a.bell .bell-count")).to_have_text(str(count - 1))
    else:
        expect(page.locator("header a.bell .bell-count")).to_have_count(0)
    no_errors(page.errors_seen)


def test_supervisor_completes_the_assessment(self_submitted, live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "S0001")
    page.goto(f"{live_server}/team")
    row = page.locator("main table tbody tr", has_text="E0001").filter(has_text=CYCLE_NAME_EN)
    expect(row.locator(".tag").first).to_have_text("Self-assessment submitted")
    row.locator("a", has_text="Rate").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/review$"))

    # Blind: nothing of the self-assessment shows before the supervisor submits.
    expect(page.locator("main")).to_contain_text("You rate blind")
    expect(page.locator("fieldset.competency")).to_have_count(16)
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(SELF_COMMENT)
    for textarea in page.locator("fieldset.competency textarea").all():
        expect(textarea).to_have_value("")

    fieldsets = page.locator("fieldset.competency")
    for i in range(fieldsets.count()):
        fieldsets.nth(i).locator("input[type=radio]").nth(3).check()
    page.click("button[name=submit]")  # confirm dialog, accepted
    page.wait_for_url(re.compile(r"/team$"))
    expect(flash(page)).to_have_text("Submitted.")

    page.goto(f"{live_server}/team?all=1")
    row = page.locator("main table tbody tr", has_text="E0001").filter(has_text=CYCLE_NAME_EN)
    expect(row.locator(".tag").first).to_have_text("Completed")
    row.locator("a", has_text="Result").click()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    overall = page.locator(".score .big").first
    expect(overall).to_have_text(SCORE)
    # Every competency: self 3, supervisor 4 → combined 0.3·3 + 0.7·4 = 3.7 → overall 3.7 / 5 · 100.
    assert overall.inner_text() == "74.0"
    levels = page.locator("main table").first  # the levels; the comments follow in their own table
    codes = [cell.split()[0] for cell in levels.locator("tbody tr td:first-child").all_inner_texts()]
    assert codes == ["K1", "K2", "K3", "K4", "S1", "S2", "S3", "S4", "S5",
                     "A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    k1 = levels.locator("tbody tr", has_text="K1").first.locator("td")
    expect(k1.nth(1)).to_have_text("3")
    expect(k1.nth(2)).to_have_text("4")
    expect(k1.nth(3)).to_have_text("3.7")
    no_errors(page.errors_seen)


def test_trainer_assigns_by_gap_and_records_completion(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "T0001")
    page.goto(f"{live_server}/assign")
    courses = page.locator("select[name=course] option")
    course = next(o for o in courses.all() if o.inner_text().startswith("IND-201"))
    page.select_option("select[name=course]", value=course.get_attribute("value"))
    page.select_option("select[name=mode]", "gap")
    expect(page.locator("fieldset.mode-gap")).to_be_visible()
    expect(page.locator("fieldset.mode-one")).to_be_hidden()
    page.select_option("select[name=competency]", "S5")
    cycles = page.locator("select[name=cycle] option")
    cycle = next(o for o in cycles.all() if o.inner_text().startswith("2025"))
    page.select_option("select[name=cycle]", value=cycle.get_attribute("value"))
    expect(page.locator("input[name=min_gap]")).to_have_count(0)  # a trainer never sizes anyone's gap
    page.click("button[name=preview]")

    count_text = page.locator(".callout strong")
    expect(count_text).to_contain_text(re.compile(r"people match|person matches"))
    matched = int(re.match(r"(\d+) (people match|person matches)", count_text.inner_text()).group(1))
    assert matched > 0
    submit = page.locator("button[name=submit]")
    expect(submit).to_have_text(f"Assign to these {matched} people")
    submit.click()
    heading = page.locator("main section.card h2")
    expect(heading).to_have_text(re.compile(r"^Assigned to \d+ (people|person)\.$"))
    assigned = int(re.search(r"\d+", heading.inner_text()).group())
    assert 0 < assigned <= matched

    page.click("a:has-text('See the roster')")
    page.wait_for_url(re.compile(r"/catalogue/\d+/roster$"))
    boxes = page.locator("input[type=checkbox][name=enrolments]")
    expect(boxes).to_have_count(assigned)
    staff_nos = [box.get_attribute("aria-label") for box in boxes.all()]
    page.check("input[data-check-all]")
    for box in boxes.all():
        expect(box).to_be_checked()
    page.select_option("select[name=outcome]", "pass")
    page.click("form:has(input[data-check-all]) button.primary")
    expect(flash(page)).to_have_text(f"Recorded for {assigned} {'person' if assigned == 1 else 'people'}.")
    expect(page.locator("input[type=checkbox][name=enrolments]")).to_have_count(0)
    rows = page.locator("main table tbody tr")
    for staff_no in staff_nos:
        done = rows.filter(has_text=staff_no).filter(has=page.locator(".estatus-completed"))
        expect(done.first.locator(".estatus-completed")).to_have_text("Completed")
        expect(done.first).to_contain_text("Passed")
    no_errors(page.errors_seen)


def test_hr_runs_and_finalises_a_review(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "H0001")
    page.goto(f"{live_server}/review")
    page.fill("input[name=year]", "2025")
    page.click("main form[data-busy] button[name=check]")
    expect(page.locator("main form[data-busy]")).to_contain_text(re.compile(r"2025 is ready|Before you run the review"))
    if page.locator("input[name=anyway]").count():  # the demo has people without sales or an assessment in 2025
        page.check("input[name=anyway]")
    page.click("main form[data-busy] button.primary")
    page.wait_for_url(re.compile(r"/review/2025$"))
    expect(flash(page)).to_have_text("The review of 2025 is ready: check the recommendations.")
    expect(page.locator("h1 .tag")).to_have_text("Draft")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    first = rows.first
    staff_no = first.locator("td:nth-child(2) .muted").inner_text()

    first.locator("a", has_text="Explanation").click()
    page.wait_for_url(re.compile(r"/review/item/\d+$"))
    expect(page.locator("h1")).to_contain_text(staff_no)
    expect(page.locator("main")).to_contain_text(re.compile(r"Annual sales|Data missing|Probation ended"))
    page.check("input[name=decision][value=overridden]")
    page.select_option("select[name=grade]", "intermediate")
    page.fill("textarea[name=reason]", "E2E: strong client feedback outweighs the sales shortfall")
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/review/2025$"))
    expect(flash(page)).to_have_text("Decision saved.")
    expect(page.locator("main table tbody tr", has_text=staff_no)).to_contain_text("Overridden: Intermediate")

    # Finalising is refused while anything is undecided …
    page.click("main form[action$='/finalise'] button")
    expect(page.locator("main")).to_contain_text("still undecided")
    page.go_back()
    # … so hr approves the rest (the whole unfiltered list), with a confirmation that counts them.
    approve_all = page.locator("button[name=approve_all]")
    expect(approve_all).to_contain_text("undecided in this list")
    approve_all.click()  # confirm dialog, accepted
    expect(flash(page)).to_contain_text("Approved")
    # Referrals to hr are decided one by one: here hr ticks them all on the filtered list and approves them.
    page.goto(f"{live_server}/review/2025?action=refer")
    if page.locator("input[name=items]").count():
        page.check("input[data-check-all]")
        page.click("button[name=approve]")
        expect(flash(page)).to_contain_text("updated")
    # Four eyes: the hr account that decided cannot finalise …
    page.goto(f"{live_server}/review/2025/finalise?effective=2026-01-01")
    expect(page.locator("main")).to_contain_text("Four eyes")
    # … an administrator confirms: the summary says what will happen, then the review is finalised.
    admin = page_for("en-US")
    login(admin, live_server, "A0001")
    admin.goto(f"{live_server}/review/2025/finalise?effective=2026-01-01")
    expect(admin.locator("main")).to_contain_text("Taking effect on 2026-01-01")
    admin.click("main button.danger")  # confirm dialog, accepted
    admin.wait_for_url(re.compile(r"/review/2025$"))
    expect(flash(admin)).to_contain_text("The review is finalised")
    expect(admin.locator("h1 .tag")).to_have_text("Finalised")
    expect(admin.locator("main")).to_contain_text("Finalised; effective 2026-01-01. A finalised review is read-only.")
    expect(admin.locator("input[name=items]")).to_have_count(0)
    no_errors(page.errors_seen)
    no_errors(admin.errors_seen)


def _rate_all(page, level_index: int, comment: str) -> None:
    fieldsets = page.locator("fieldset.competency")
    expect(fieldsets).to_have_count(16)
    for i in range(fieldsets.count()):
        fieldsets.nth(i).locator("input[type=radio]").nth(level_index).check()
    page.locator("fieldset#c-S1 textarea").fill(comment)


def test_employee_appeals_hr_reopens_supervisor_rerates_employee_acknowledges(open_cycle, live_server, page_for):
    employee, boss, hr = page_for("en-US"), page_for("en-US"), page_for("en-US")
    login(employee, live_server, "E0002")
    login(boss, live_server, "S0001")
    login(hr, live_server, "H0001")
    # E0002 rates themself and submits; S0001 rates and submits, with an overall comment.
    employee.goto(f"{live_server}/assessments")
    employee.locator("main table tbody tr", has_text=CYCLE_NAME_EN).locator("a.button.primary").click()
    _rate_all(employee, 2, "I opened two new corporate accounts")
    employee.click("button[name=submit]")
    employee.wait_for_url(re.compile(r"/assessments$"))
    boss.goto(f"{live_server}/team")
    boss.locator("main table tbody tr", has_text="E0002").filter(has_text=CYCLE_NAME_EN).locator("a", has_text="Rate").click()
    _rate_all(boss, 1, "Needs more client visits")
    boss.fill("textarea[name=strengths]", "Diligent with documentation")
    boss.fill("textarea[name=to_develop]", "Client development")
    boss.click("button[name=submit]")
    boss.wait_for_url(re.compile(r"/team$"))

    # The employee reads the result with the supervisor's comments, and appeals.
    employee.goto(f"{live_server}/assessments")
    employee.locator("main table tbody tr", has_text=CYCLE_NAME_EN).locator("a", has_text="Result").click()
    employee.wait_for_url(re.compile(r"/assessments/\d+$"))
    result_url = employee.url
    expect(employee.locator("main")).to_contain_text("Needs more client visits")
    expect(employee.locator("main")).to_contain_text("Diligent with documentation")
    employee.check("input[name=choice][value=appeal]")
    employee.fill("textarea[name=text]", "My S1 level leaves out the two accounts I opened")
    employee.click("main form[action$='/respond'] button.primary")
    expect(flash(employee)).to_contain_text("Your appeal is with hr")

    # hr finds it in the queue and reopens the assessment to the supervisor.
    hr.goto(f"{live_server}/appeals")
    hr.locator("main table tbody tr", has_text="E0002").locator("a", has_text="Resolve").click()
    expect(hr.locator("main")).to_contain_text("My S1 level leaves out the two accounts I opened")
    hr.check("input[name=outcome][value=reopen]")
    hr.fill("textarea[name=response]", "Reopened: please count the two new accounts")
    hr.click("main button.primary")
    expect(flash(hr)).to_contain_text("The appeal is resolved")

    # The supervisor sees why it was reopened, re-rates S1 and submits again.
    boss.goto(f"{live_server}/team")
    boss.locator("main table tbody tr", has_text="E0002").filter(has_text=CYCLE_NAME_EN).locator("a", has_text="Rate").click()
    expect(boss.locator("main")).to_contain_text("Reopened: please count the two new accounts")
    boss.locator("fieldset#c-S1 input[type=radio]").nth(3).check()
    expect(boss.locator("main")).to_contain_text("Nothing has changed since it was reopened.")  # until saved
    boss.click("button[name=submit]")
    boss.wait_for_url(re.compile(r"/team$"))

    # The employee sees the outcome of the appeal and acknowledges the new result.
    employee.goto(result_url)
    expect(employee.locator("main")).to_contain_text("you can acknowledge this result or appeal against it")
    employee.check("input[name=choice][value=acknowledge]")
    employee.fill("textarea[name=text]", "Thank you for looking again")
    employee.click("main form[action$='/respond'] button.primary")
    expect(flash(employee)).to_contain_text("Thank you: acknowledged.")
    expect(employee.locator("main")).to_contain_text("Acknowledged")
    for page in (employee, boss, hr):
        no_errors(page.errors_seen)


def test_switching_to_english_changes_the_page(live_server, page_for):
    page = page_for("zh-CN")
    login(page, live_server, "E0001")
    nav = page.locator("nav.mainnav")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav).to_contain_text("我的评估")

    page.click(".lang-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav).to_contain_text("My assessments")
    expect(nav).not_to_contain_text("我的评估")
    expect(page.locator(".lang-switch button")).to_have_text("中文")

    # The choice is kept on the account: switch back, so E0001 is left as the seed made them.
    page.click(".lang-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav).to_contain_text("我的评估")
    no_errors(page.errors_seen)
