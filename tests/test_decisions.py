"""Decisions people can trust: no half-done finalising, readiness before a run, missing data never punishes,
decisions that survive a re-run, effective dates that hold, four-eyes, and filtered bulk approval."""
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from competency.errors import DomainError
from competency.extensions import db
from competency.models import (
    AnnualSales,
    AuditEvent,
    Decision,
    Employee,
    EmployeeStatus,
    Grade,
    GradeHistory,
    Recommendation,
    ReviewAction,
    ReviewRun,
    RunStatus,
)
from competency.services import grades, settings
from competency.services.review import decisions, runs, standards

from . import factories
from .test_review import STANDARDS_YAML, _person, _recommendation, _scored

TODAY = date.today()


@pytest.fixture
def setup(app):
    factories.position("CM_CORP")
    standards.import_standards(STANDARDS_YAML)
    return app


def _hr(n=1):
    """hr accounts (hr specialists hold another position, so the review does not assess them)."""
    specialist = factories.position("HR_SPEC", name_zh="人力资源专员", name_en="HR specialist")
    accounts = [factories.user(roles=["employee", "hr"], position=specialist) for _ in range(n)]
    db.session.commit()
    return accounts


def _promotable(staff_no="UP"):
    person = _person(staff_no, sales=900)
    _scored(person, 75.0)
    from competency.services.training import ledger

    ledger.adjust(person, "30", "x", on=date(2025, 5, 1))
    return person


# --- finalising is all or nothing -----------------------------------------------------------------


def test_finalising_is_refused_while_any_recommendation_is_undecided_and_nothing_changes(setup):
    up, other = _promotable(), _promotable("UP2")
    run = runs.run_review(2025)
    first, second = _hr(2)
    decisions.decide(run, [_recommendation(run, up).id], Decision.OVERRIDDEN, grade=Grade.SENIOR, reason="Top seller",
                     actor=first)
    with pytest.raises(DomainError, match="1 recommendation is still undecided"):
        decisions.finalise(run, date(2026, 1, 1), actor=second)
    db.session.expire_all()
    assert db.session.get(ReviewRun, run.id).status == RunStatus.DRAFT
    assert [db.session.get(Employee, p.id).grade for p in (up, other)] == [Grade.JUNIOR, Grade.JUNIOR]
    assert db.session.scalar(select(func.count(GradeHistory.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "review.finalise")) == 0


def test_the_cli_refuses_to_finalise_with_undecided_items(setup):
    _promotable()
    _promotable("UP2")
    runner = setup.test_cli_runner()
    assert runner.invoke(args=["review", "run", "--year", "2025"]).exit_code == 0
    result = runner.invoke(args=["review", "finalise", "--year", "2025", "--effective", "2026-01-01"])
    assert result.exit_code != 0 and "2 recommendations are still undecided" in result.output
    assert runs.get_run(2025).is_draft and db.session.scalar(select(func.count(GradeHistory.id))) == 0
    assert runner.invoke(args=["review", "approve", "--year", "2025", "--all"]).exit_code == 0
    result = runner.invoke(args=["review", "finalise", "--year", "2025", "--effective", "2026-01-01"])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.finalise"))
    assert event.actor_id is None and event.details["via"] == "cli"  # the system operator


def test_the_finalise_page_says_what_will_happen_and_refuses_with_undecided_items(setup, client, login_as):
    up, down = _promotable(), _person("DOWN", grade=Grade.SENIOR, sales=900)
    _scored(down, 75.0)
    _person("NODATA", sales=900)  # no assessment: referred
    run = runs.run_review(2025)
    first, second = _hr(2)
    decisions.decide(run, [_recommendation(run, up).id, _recommendation(run, down).id], Decision.APPROVED, actor=first)
    login_as(second)
    page = client.get("/review/2025/finalise?effective=2027-01-01", headers={"Accept-Language": "en"}).data.decode()
    assert "1 recommendation is still undecided" in page and 'class="danger"' not in page  # no finalise button
    refused = client.post("/review/2025/finalise", data={"effective": "2027-01-01"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 200 and "1 recommendation is still undecided" in refused.data.decode()
    assert runs.get_run(2025).is_draft
    nodata = db.session.scalar(select(Recommendation).join(Employee).where(Employee.staff_no == "NODATA"))
    decisions.decide(run, [nodata.id], Decision.REJECTED, reason="Sales data late", actor=first)
    page = client.get("/review/2025/finalise?effective=2027-01-01", headers={"Accept-Language": "en"}).data.decode()
    assert ("Taking effect on 2027-01-01: 1 promoted, 1 demoted, 0 transferred to another post, 0 confirmed at the end "
            "of probation." in page)


# --- readiness, missing data ------------------------------------------------------------------------


def test_readiness_lists_open_cycles_and_missing_data_and_the_page_needs_a_confirmation(setup, client, login_as):
    _promotable()
    _person("NOSALES")
    _scored(db.session.scalar(select(Employee).where(Employee.staff_no == "NOSALES")), 70.0)
    _person("NOSCORE", sales=500)
    found = runs.readiness(2025)
    assert (found.missing_sales, found.missing_assessment, found.ready) == (["NOSALES"], ["NOSCORE"], False)
    login_as(_hr()[0])
    page = client.post("/review", data={"year": "2025", "submit": "1"}, headers={"Accept-Language": "en"}).data.decode()
    assert "1 person has no sales figure for 2025." in page and "1 person has no completed assessment in 2025." in page
    assert runs.get_run(2025) is None  # not run without the explicit confirmation
    assert client.post("/review", data={"year": "2025", "submit": "1", "anyway": "y"}).status_code == 302
    assert runs.get_run(2025) is not None


def test_the_cli_prints_readiness_warnings(setup):
    _person("NOSCORE", sales=500)
    result = setup.test_cli_runner().invoke(args=["review", "run", "--year", "2025", "--json"])
    assert result.exit_code == 0
    assert "warning: 1 person has no completed assessment in 2025." in result.output
    line = json.loads([x for x in result.output.splitlines() if x.startswith("{")][0])
    assert (line["action"], line["data_missing"], line["explanation"]["missing"]) == ("refer", True, ["assessment"])


def test_missing_data_is_referred_never_demoted_and_the_year_does_not_count_for_a_transfer(setup):
    senior = _person("SEN", grade=Grade.SENIOR)                     # no sales, no assessment in 2024 or 2025
    weak = _person("WEAK", sales=100, year=2025)                     # 2024: missing data; 2025: below junior
    _scored(weak, 40.0, year=2025)
    run = runs.run_review(2024)
    assert [(r.action, r.data_missing, r.below_junior) for r in db.session.scalars(
        select(Recommendation).where(Recommendation.run_id == run.id).order_by(Recommendation.employee_id))] == [
        (ReviewAction.REFER, True, False), (ReviewAction.REFER, True, False)]
    decisions.decide(run, None, Decision.APPROVED)
    decisions.finalise(run, date(2025, 1, 1))
    assert db.session.get(Employee, senior.id).grade == Grade.SENIOR  # nobody demoted on missing data
    run = runs.run_review(2025)
    item = _recommendation(run, weak)
    assert (item.action, item.below_junior) == (ReviewAction.KEEP, True)  # below junior once: floored, not transferred
    assert _recommendation(run, senior).action == ReviewAction.REFER


def test_a_rejected_below_junior_finding_does_not_count_towards_a_transfer(setup):
    weak = _person("W1", sales=100)
    db.session.add(AnnualSales(employee_id=weak.id, year=2024, amount=Decimal(100)))
    for year in (2024, 2025):
        _scored(weak, 40.0, year=year)
    run = runs.run_review(2024)
    decisions.decide(run, None, Decision.REJECTED, reason="Sales were misreported")
    decisions.finalise(run, date(2025, 1, 1))
    assert _recommendation(runs.run_review(2025), weak).action == ReviewAction.KEEP


# --- re-running a draft keeps decisions ------------------------------------------------------------


def test_a_rerun_keeps_decisions_that_still_hold_and_lists_what_changed(setup):
    keep, change = _promotable("KEEP"), _promotable("CHANGE")
    run = runs.run_review(2025)
    (hr,) = _hr()
    decisions.decide(run, [_recommendation(run, keep).id], Decision.OVERRIDDEN, grade=Grade.SENIOR, reason="Star",
                     actor=hr)
    decisions.decide(run, [_recommendation(run, change).id], Decision.APPROVED, actor=hr)
    db.session.execute(AnnualSales.__table__.update().where(AnnualSales.employee_id == change.id).values(amount=100))
    db.session.commit()
    run = runs.run_review(2025)
    kept, reset = _recommendation(run, keep), _recommendation(run, change)
    assert (kept.decision, kept.final_grade, kept.decision_reason, kept.decided_by_id) == (
        Decision.OVERRIDDEN, Grade.SENIOR, "Star", hr.id)
    assert reset.decision == Decision.PENDING
    assert run.rerun_changes == [{"staff_no": "CHANGE", "decision": "approved",
                                  "before": {"grade": "intermediate", "action": "promote"},
                                  "after": {"grade": "junior", "action": "keep"}}]


# --- effective dates hold ----------------------------------------------------------------------------


def test_a_future_effective_date_keeps_todays_grade_and_applies_on_the_date(setup, client, login_as):
    up = _promotable()
    run = runs.run_review(2025)
    decisions.decide(run, None, Decision.APPROVED)
    future = TODAY + timedelta(days=30)
    assert decisions.finalise(run, future) == 1
    db.session.expire_all()
    person = db.session.get(Employee, up.id)
    assert person.grade == Grade.JUNIOR  # still junior today, everywhere
    (change,) = grades.scheduled_changes(up.id)
    assert (change.to_grade, change.effective_date, change.is_scheduled) == (Grade.INTERMEDIATE, future, True)
    assert grades.grade_on(person, future - timedelta(days=1)).grade == Grade.JUNIOR
    assert grades.grade_on(person, future).grade == Grade.INTERMEDIATE
    runner = setup.test_cli_runner()
    shown = json.loads(runner.invoke(args=["grade", "show", "--staff-no", "UP", "--json"]).output)
    assert shown == {"staff_no": "UP", "grade": "junior", "status": "active", "since": person.hire_date.isoformat()}
    shown = json.loads(runner.invoke(args=["grade", "show", "--staff-no", "UP", "--as-of", future.isoformat(), "--json"]).output)
    assert shown == {"staff_no": "UP", "grade": "intermediate", "status": "active", "since": future.isoformat()}
    login_as(factories.user(employee_=person))
    page = client.get("/my-grade", headers={"Accept-Language": "en"}).data.decode()
    assert f"Scheduled: from {future.isoformat()} the grade changes from Junior to Intermediate." in page
    assert grades.apply_due_changes(today=future - timedelta(days=1)) == 0
    assert grades.apply_due_changes(today=future) == 1
    assert grades.apply_due_changes(today=future) == 0  # applied once
    assert db.session.get(Employee, up.id).grade == Grade.INTERMEDIATE
    past = json.loads(runner.invoke(args=["grade", "show", "--staff-no", "UP", "--as-of", TODAY.isoformat(), "--json"]).output)
    assert past["grade"] == "junior"  # the day before it took effect, from the history


def test_a_scheduled_transfer_changes_the_status_on_its_date(setup):
    weak = _person("W1", sales=100)
    db.session.add(AnnualSales(employee_id=weak.id, year=2024, amount=Decimal(100)))
    for year in (2024, 2025):
        _scored(weak, 40.0, year=year)
    for year, effective in ((2024, date(2025, 1, 1)), (2025, TODAY + timedelta(days=10))):
        run = runs.run_review(year)
        decisions.decide(run, None, Decision.APPROVED)
        decisions.finalise(run, effective)
    assert db.session.get(Employee, weak.id).status == EmployeeStatus.ACTIVE
    assert grades.grade_on(db.session.get(Employee, weak.id), TODAY + timedelta(days=10)).status == EmployeeStatus.TRANSFERRED
    grades.apply_due_changes(today=TODAY + timedelta(days=10))
    assert db.session.get(Employee, weak.id).status == EmployeeStatus.TRANSFERRED


# --- four eyes and the bulk approval -------------------------------------------------------------------


def test_four_eyes_refuses_the_account_that_made_the_last_decisions(setup):
    _promotable()
    run = runs.run_review(2025)
    first, second = _hr(2)
    admin = factories.user(roles=["admin"], with_employee=False, email="root@example.org")
    db.session.commit()
    decisions.decide(run, None, Decision.APPROVED, actor=first)
    with pytest.raises(DomainError, match="Four eyes"):
        decisions.finalise(run, date(2026, 1, 1), actor=first)
    assert runs.get_run(2025).is_draft
    assert decisions.finalise_problem(run, second) is None and decisions.finalise_problem(run, admin) is None
    settings.save(probation=3, four_eyes_on=False, appeal_window=7)
    assert decisions.finalise_problem(run, first) is None  # a small bank turned four-eyes off
    decisions.finalise(run, date(2026, 1, 1), actor=first)


def test_approve_all_approves_the_undecided_of_the_filtered_list_only(setup, client, login_as):
    for n in range(3):
        _promotable(f"UP{n}")
    _person("LOW", sales=100)
    _scored(db.session.scalar(select(Employee).where(Employee.staff_no == "LOW")), 40.0)
    run = runs.run_review(2025)
    (hr,) = _hr()
    first = _recommendation(run, db.session.scalar(select(Employee).where(Employee.staff_no == "UP0")))
    decisions.decide(run, [first.id], Decision.REJECTED, reason="Pending an audit", actor=hr)
    login_as(hr)
    page = client.get("/review/2025?action=promote", headers={"Accept-Language": "en"}).data.decode()
    assert "Approve all 2 undecided in this list" in page
    response = client.post("/review/2025?action=promote", data={"approve_all": "1"}, follow_redirects=True,
                           headers={"Accept-Language": "en"})
    assert "Approved 2: Promote 2." in response.data.decode()
    found = {r.employee.staff_no: r.decision for r in db.session.scalars(select(Recommendation))}
    assert found == {"UP0": Decision.REJECTED, "UP1": Decision.APPROVED, "UP2": Decision.APPROVED, "LOW": Decision.PENDING}


# --- small defects of the same pages ------------------------------------------------------------------------


def test_the_criteria_header_says_required_value_not_required_credits_in_chinese(setup, client, login_as):
    person = _promotable()
    login_as(factories.user(employee_=person))
    client.post("/language", data={"lang": "zh", "next": "/"})
    page = client.get("/my-grade").data.decode()
    header = re.search(r"<thead><tr><th>条件</th><th class=\"num\">([^<]+)</th>", page).group(1)
    assert header == "要求值"


def test_a_trainees_development_page_does_not_say_highest_grade(setup, client, login_as):
    login_as("employee", grade=Grade.TRAINEE, position=factories.position("CM_CORP"))
    page = client.get("/development", headers={"Accept-Language": "en"}).data.decode()
    assert "No next grade to reach" not in page
    assert "A trainee becomes junior when the supervisor confirms them at the end of probation." in page


# --- later decisions win; races around finalising -------------------------------------------------------------


def _finalised_with(person_setup, effective, decision=Decision.APPROVED):
    run = runs.run_review(2025)
    decisions.decide(run, None, decision)
    decisions.finalise(run, effective)
    return run


def test_an_appeal_cancels_a_scheduled_demotion(setup):
    down = _person("DOWN", grade=Grade.SENIOR, sales=900)
    _scored(down, 75.0)
    future = TODAY + timedelta(days=20)
    _finalised_with(down, future)
    assert [h.to_grade for h in grades.scheduled_changes(down.id)] == [Grade.INTERMEDIATE]
    from competency.services import appeals

    recommendation = runs.latest_finalised(down.id)
    appeal = appeals.file_appeal(db.session.get(Employee, down.id), recommendation=recommendation, reason="Big deals")
    appeals.change_grade(db.session.get(type(appeal), appeal.id), Grade.SENIOR, "Kept senior: deals confirmed")
    assert grades.scheduled_changes(down.id) == []
    grades.apply_due_changes(today=future)
    assert db.session.get(Employee, down.id).grade == Grade.SENIOR  # the old demotion never comes back


def test_an_edit_on_the_employee_page_supersedes_a_scheduled_promotion(setup):
    up = _promotable()
    future = TODAY + timedelta(days=20)
    _finalised_with(up, future)
    from competency.services import org

    person = db.session.get(Employee, up.id)
    org.update_employee(person, {"grade": Grade.SENIOR, "supervisor_staff_no": None})
    grades.apply_due_changes(today=future)
    assert db.session.get(Employee, up.id).grade == Grade.SENIOR
    assert grades.grade_on(db.session.get(Employee, up.id), future).grade == Grade.SENIOR


def test_an_appeal_against_an_applied_transfer_brings_the_person_back(setup):
    weak = _person("W1", sales=100)
    db.session.add(AnnualSales(employee_id=weak.id, year=2024, amount=Decimal(100)))
    for year in (2024, 2025):
        _scored(weak, 40.0, year=year)
    for year in (2024, 2025):
        run = runs.run_review(year)
        decisions.decide(run, None, Decision.APPROVED)
        decisions.finalise(run, date(year + 1, 1, 1))
    assert db.session.get(Employee, weak.id).status == EmployeeStatus.TRANSFERRED
    from competency.services import appeals

    appeal = appeals.file_appeal(db.session.get(Employee, weak.id), recommendation=runs.latest_finalised(weak.id),
                                 reason="My figures were booked under a colleague")
    appeals.change_grade(db.session.get(type(appeal), appeal.id), Grade.JUNIOR, "Figures corrected: stays in post")
    assert db.session.get(Employee, weak.id).status == EmployeeStatus.ACTIVE


def test_four_eyes_cannot_be_turned_off_by_hr_nor_passed_by_any_decider(setup, client, login_as):
    _promotable()
    _promotable("UP2")
    run = runs.run_review(2025)
    first, second = _hr(2)
    both = factories.user(roles=["employee", "hr", "admin"], position=factories.position("HR_SPEC"))
    db.session.commit()
    decisions.decide(run, [_recommendation(run, db.session.scalar(select(Employee).where(Employee.staff_no == "UP"))).id],
                     Decision.APPROVED, actor=first)
    decisions.decide(run, None, Decision.APPROVED, actor=both, pending_only=True)  # the rest, by an hr+admin account
    for decider in (first, both):  # neither the decider of one item nor an admin who decided may finalise
        assert "Four eyes" in decisions.finalise_problem(run, decider)
    assert decisions.finalise_problem(run, second) is None
    login_as(first)
    client.post("/settings", data={"probation_months": "3", "appeal_days": "7"})  # four_eyes unticked
    assert settings.four_eyes() is True
    from competency.errors import Forbidden

    with pytest.raises(Forbidden):
        settings.save(probation=3, appeal_window=7, four_eyes_on=False, actor=first)


def test_a_stale_summary_or_a_finalised_run_finalises_nothing(setup, client, login_as):
    _promotable()
    run = runs.run_review(2025)
    first, second = _hr(2)
    decisions.decide(run, None, Decision.APPROVED, actor=first)
    stale = decisions.fingerprint(run)
    decisions.decide(run, None, Decision.REJECTED, reason="Second thoughts", actor=first)
    from competency.errors import Conflict

    with pytest.raises(Conflict):
        decisions.finalise(run, date(2026, 1, 1), actor=second, expected=stale)
    assert runs.get_run(2025).is_draft
    with pytest.raises(DomainError, match="Choose an effective date"):
        decisions.finalise(run, date(2020, 1, 1), actor=second)
    decisions.finalise(run, date(2026, 1, 1), actor=second, expected=decisions.fingerprint(run))
    login_as(second)
    page = client.get("/review/2025/finalise", headers={"Accept-Language": "en"}).data.decode()
    assert "A finalised review is read-only." in page and 'class="danger"' not in page
    with db.session.no_autoflush:
        run.status = RunStatus.DRAFT  # a request that loaded the run before it was finalised
        with pytest.raises(DomainError, match="finalised"):
            decisions.decide(run, None, Decision.APPROVED, actor=first)
    db.session.rollback()
    assert {r.decision for r in db.session.scalars(select(Recommendation))} == {Decision.REJECTED}


def test_the_cli_approve_all_keeps_decisions_already_made(setup):
    up, keep = _promotable(), _promotable("KEEP")
    run = runs.run_review(2025)
    decisions.decide(run, [_recommendation(run, keep).id], Decision.OVERRIDDEN, grade=Grade.SENIOR, reason="Star")
    assert setup.test_cli_runner().invoke(args=["review", "approve", "--year", "2025", "--all"]).exit_code == 0
    assert _recommendation(run, keep).decision == Decision.OVERRIDDEN
    assert _recommendation(run, up).decision == Decision.APPROVED


def test_approve_all_leaves_referrals_to_hr(setup):
    _promotable()
    _person("NODATA", sales=500)
    run = runs.run_review(2025)
    assert decisions.approve_filtered(run) == {ReviewAction.PROMOTE: 1}
    nodata = db.session.scalar(select(Recommendation).join(Employee).where(Employee.staff_no == "NODATA"))
    assert nodata.decision == Decision.PENDING
