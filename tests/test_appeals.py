"""Comments that reach people, reopen reasons, acknowledgement and appeal of results and grade decisions."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from competency.errors import DomainError
from competency.extensions import db
from competency.models import (
    Acknowledgement,
    Appeal,
    AppealStatus,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Decision,
    Employee,
    Grade,
    GradeHistory,
    Rater,
)
from competency.services import appeals, settings
from competency.services.assessments import workflow
from competency.services.review import decisions, runs, standards

from . import factories
from .test_assessments import _assessment, _levels, _open, build_org
from .test_review import STANDARDS_YAML, _person, _scored

EN = {"Accept-Language": "en"}


@pytest.fixture
def org(app):
    """A supervisor with two reports, an outsider and hr, on a published two-competency model."""
    return build_org()


def _complete(a, self_comment="MY-SELF-NOTE", supervisor_comment="BOSS-NOTE", overall=("BOSS-STRENGTH", "BOSS-DEVELOP")):
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3, c1=self_comment), submit=True, lock_version=a.lock_version,
                          overall=("SELF-STRENGTH", "SELF-DEVELOP"))
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4, c1=supervisor_comment), submit=True,
                          lock_version=a.lock_version, overall=overall)


# --- comments that reach people -----------------------------------------------------------------------


def test_the_employee_sees_the_supervisors_comments_only_after_completion(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3, c1="MY-SELF-NOTE"), submit=True, lock_version=a.lock_version)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4, c1="BOSS-NOTE"), submit=False,
                          lock_version=a.lock_version, overall=("BOSS-STRENGTH", "BOSS-DEVELOP"))
    login_as(org["e1"])
    for url in (f"/assessments/{a.id}/self", "/assessments", "/", f"/assessments/{a.id}"):
        assert "BOSS-" not in client.get(url).data.decode()
    a = db.session.get(Assessment, a.id)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4, c1="BOSS-NOTE"), submit=True,
                          lock_version=a.lock_version, overall=("BOSS-STRENGTH", "BOSS-DEVELOP"))
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "BOSS-NOTE" in page and "BOSS-STRENGTH" in page and "BOSS-DEVELOP" in page and "MY-SELF-NOTE" in page


def test_hr_sees_both_sides_throughout(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3, c1="MY-SELF-NOTE"), submit=True, lock_version=a.lock_version)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4, c1="BOSS-NOTE"), submit=False, lock_version=a.lock_version)
    login_as(org["hr"])
    page = client.get(f"/assessments/{a.id}").data.decode()
    assert "MY-SELF-NOTE" in page and "BOSS-NOTE" in page


def test_blind_stays_blind_on_every_page_and_export_until_the_supervisor_submits(org, client, login_as):
    cycle = _open(org)  # blind by default
    a = _assessment(cycle, org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 5, 1, c1="SECRET-SELF-K1", c2="SECRET-SELF-S1"), submit=True,
                          lock_version=a.lock_version, overall=("SECRET-SELF-STRENGTH", "SECRET-SELF-DEVELOP"))
    login_as(org["lead"])
    urls = [f"/assessments/{a.id}/review", f"/assessments/{a.id}", "/team", "/", "/team/analytics", "/team/credits",
            *(f"/exports/{kind}.{fmt}" for kind in ("results", "gaps", "credits", "recommendations") for fmt in ("csv", "xlsx"))]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert b"SECRET-SELF" not in response.data, url
    page = client.get(f"/assessments/{a.id}/review").data.decode()
    assert 'class="self-rating"' not in page


def test_the_supervisor_sees_the_self_comments_after_submitting(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    login_as(org["lead"])
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "MY-SELF-NOTE" in page and "SELF-STRENGTH" in page


def test_a_reopened_form_shows_why_and_what_changed(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    workflow.reopen(a, "supervisor", "Recheck S1 against the new sales figures", actor=org["hr"])
    login_as(org["hr"])
    result = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "Recheck S1 against the new sales figures" in result
    assert re.search(r'<p class="big">\s*—\s*</p>', result)  # the old score is not shown while reopened
    login_as(org["lead"])
    page = client.get(f"/assessments/{a.id}/review", headers=EN).data.decode()
    assert "Recheck S1 against the new sales figures" in page and "Nothing has changed since it was reopened." in page
    a = db.session.get(Assessment, a.id)
    comps = {c.code: c.id for c in a.version.competencies}
    workflow.save_ratings(a, Rater.SUPERVISOR, {comps["K1"]: (4, "BOSS-NOTE"), comps["S1"]: (2, "")}, submit=False,
                          lock_version=a.lock_version)
    page = client.get(f"/assessments/{a.id}/review", headers=EN).data.decode()
    assert re.search(r"<strong>S1</strong> · Supervisor: 4 → 2", page)


# --- acknowledgement and appeal of a result ---------------------------------------------------------------


def test_the_employee_acknowledges_within_the_window_and_only_once(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    login_as(org["e1"])
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "you can acknowledge this result or appeal against it" in page
    client.post(f"/assessments/{a.id}/respond", data={"choice": "acknowledge", "text": "Fair"})
    assert db.session.scalar(select(Acknowledgement.comment)) == "Fair"
    response = client.post(f"/assessments/{a.id}/respond", data={"choice": "appeal", "text": "Second thoughts"},
                           follow_redirects=True, headers=EN)
    assert "You have already responded to this result." in response.data.decode()
    assert db.session.scalar(select(func.count(Appeal.id))) == 0
    login_as(org["e2"])
    assert client.post(f"/assessments/{a.id}/respond", data={"choice": "acknowledge"}).status_code == 404


def test_the_window_is_fixed_when_the_result_completes_and_then_closes(org):
    settings.save(probation=3, appeal_window=3)
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    assert a.respond_by == date.today() + timedelta(days=3)
    settings.save(probation=3, appeal_window=30)  # a later change of the setting does not move a window already open
    assert appeals.standing(assessment=db.session.get(Assessment, a.id)).deadline == date.today() + timedelta(days=3)
    a.respond_by = date.today() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(DomainError, match="The time to respond ended"):
        appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="Too late")


def test_an_appeal_reopens_to_the_supervisor_and_is_audited(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    login_as(org["e1"])
    client.post(f"/assessments/{a.id}/respond", data={"choice": "appeal", "text": "My S1 work on the Haidian deal is missing"})
    appeal = db.session.scalar(select(Appeal))
    assert appeal.is_open and appeal.reason == "My S1 work on the Haidian deal is missing"
    login_as(org["e1"])
    assert client.get("/appeals").status_code == 403
    login_as(org["hr"])
    queue = client.get("/appeals", headers=EN).data.decode()
    assert "My S1 work on the Haidian deal" in queue and "1 open" in queue
    client.post(f"/appeals/{appeal.id}", data={"outcome": "reopen", "response": "Agreed: your supervisor looks again"})
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.status == AppealStatus.REOPENED and appeal.resolved_by_id == org["hr"].id
    assessment = db.session.get(Assessment, a.id)
    assert assessment.status == AssessmentStatus.SUPERVISOR_IN_PROGRESS
    assert assessment.last_reopening.reason == "Agreed: your supervisor looks again"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"appeal.file", "appeal.reopen", "assessment.reopen"} <= actions


def test_uphold_needs_a_response_and_the_employee_sees_it(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    appeal = appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="Too strict")
    with pytest.raises(DomainError):
        appeals.uphold(appeal, "  ")
    appeals.uphold(db.session.get(Appeal, appeal.id), "The ratings follow the descriptors", actor=org["hr"])
    login_as(org["e1"])
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "Upheld" in page and "The ratings follow the descriptors" in page


# --- appeal of a grade decision ------------------------------------------------------------------------------


@pytest.fixture
def decided(app):
    """A finalised 2025 review in which one junior was kept; their account."""
    factories.position("CM_CORP")
    standards.import_standards(STANDARDS_YAML)
    person = _person("KEPT", sales=400)
    _scored(person, 65.0)
    account = factories.user(employee_=person)
    db.session.commit()
    run = runs.run_review(2025)
    decisions.decide(run, None, Decision.APPROVED)
    decisions.finalise(run, date(2026, 1, 1))
    return account


def test_an_appealed_grade_decision_is_changed_through_the_grade_history(decided, client, login_as):
    login_as(decided)
    page = client.get("/my-grade", headers=EN).data.decode()
    assert "you can acknowledge this result or appeal against it" in page
    item = db.session.scalar(select(Appeal.id))
    assert item is None
    recommendation = runs.latest_finalised(decided.employee_id)
    client.post(f"/my-grade/decisions/{recommendation.id}/respond", data={"choice": "appeal", "text": "I closed 3 big deals"})
    appeal = db.session.scalar(select(Appeal))
    assert appeal.about_grade
    login_as("hr")
    client.post(f"/appeals/{appeal.id}", data={"outcome": "change", "grade": "intermediate", "response": "Deals confirmed"})
    db.session.expire_all()
    assert db.session.get(Employee, decided.employee_id).grade == Grade.INTERMEDIATE
    change = db.session.scalar(select(GradeHistory).where(GradeHistory.reason_code == "appeal"))
    assert (change.from_grade, change.to_grade, change.reason, change.reason_data) == (
        Grade.JUNIOR, Grade.INTERMEDIATE, "Deals confirmed", {"year": 2025})
    login_as(decided)
    page = client.get("/my-grade", headers=EN).data.decode()
    assert "Grade changed" in page and "Deals confirmed" in page
    assert "Appeal against the review of 2025 — Deals confirmed" in page
    client.post("/language", data={"lang": "zh", "next": "/"})
    assert "对 2025 年度评定的申诉" in client.get("/my-grade").data.decode()


def test_grade_history_reasons_are_codes_shown_in_the_users_language(decided, client, login_as):
    person = db.session.get(Employee, decided.employee_id)
    from competency.services import grades

    grades.record_grade_change(person, Grade.SENIOR, effective=date.today(), reason_code="employee_page")
    db.session.commit()
    login_as("hr")
    client.post("/language", data={"lang": "zh", "next": "/"})
    page = client.get(f"/employees/{person.id}").data.decode()
    assert "在员工信息页修改" in page and "Changed on the employee page" not in page


def test_cycle_progress_counts_acknowledged_appealed_and_resolved(org, client, login_as):
    cycle = _open(org)
    first, second = _assessment(cycle, org["e1"]), _assessment(cycle, org["e2"])
    _complete(first)
    _complete(second)
    appeals.acknowledge(db.session.get(Employee, first.employee_id), assessment=first)
    appeal = appeals.file_appeal(db.session.get(Employee, second.employee_id), assessment=second, reason="Unfair")
    appeals.uphold(db.session.get(Appeal, appeal.id), "Fair after all", actor=org["hr"])
    counts = appeals.cycle_feedback_by_unit(cycle.id)
    assert counts[org["sub"].id] == (1, 1, 1) and counts[org["branch"].id] == (1, 1, 1)
    login_as(org["hr"])
    assert client.get(f"/cycles/{cycle.id}", headers=EN).status_code == 200


def test_a_second_open_appeal_of_the_same_result_is_refused_by_the_database(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    person = db.session.get(Employee, a.employee_id)
    appeals.file_appeal(person, assessment=a, reason="First")
    db.session.add(Appeal(employee_id=person.id, assessment_id=a.id, reason="Second, as a double click would"))
    with pytest.raises(Exception, match="UNIQUE|unique"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Appeal.id))) == 1


def test_the_employee_sees_hrs_answer_when_hr_reopens_and_after_the_new_result(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    appeal = appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="S1 too low")
    appeals.reopen_assessment(db.session.get(Appeal, appeal.id), "Your supervisor will look at S1 again", actor=org["hr"])
    login_as(org["e1"])
    assert "Your supervisor will look at S1 again" in client.get("/assessments", headers=EN).data.decode()
    a = db.session.get(Assessment, a.id)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 5, c2="Reconsidered"), submit=True,
                          lock_version=a.lock_version)
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "Earlier appeal" in page and "Your supervisor will look at S1 again" in page
    assert "you can acknowledge this result or appeal against it" in page  # a new round


def test_an_appeal_reopens_an_assessment_after_its_cycle_closed(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    from competency.services.assessments import cycles

    cycles.close_cycle(cycle)
    appeal = appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="Late evidence")
    appeals.reopen_assessment(db.session.get(Appeal, appeal.id), "Reopened for the late evidence", actor=org["hr"])
    a = db.session.get(Assessment, a.id)
    assert a.status == AssessmentStatus.SUPERVISOR_IN_PROGRESS and a.supervisor_rating_open
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4), submit=True, lock_version=a.lock_version)
    assert db.session.get(Assessment, a.id).is_completed


def test_closing_a_cycle_leaves_a_reopened_assessment_to_be_finished(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    workflow.reopen(a, "supervisor", "Recheck", actor=org["hr"])
    from competency.services.assessments import cycles

    cycles.close_cycle(cycle)
    assert db.session.get(Assessment, a.id).status == AssessmentStatus.SUPERVISOR_IN_PROGRESS


def test_hr_reads_an_open_window_as_open_and_the_supervisor_does_not_read_the_appeal(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    login_as(org["hr"])
    page = client.get(f"/assessments/{a.id}", headers=EN).data.decode()
    assert "The time to respond ended" not in page and "the person can respond until" in page
    appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="PRIVATE-COMPLAINT about my boss")
    login_as(org["lead"])
    assert "PRIVATE-COMPLAINT" not in client.get(f"/assessments/{a.id}").data.decode()
    login_as(org["hr"])
    assert "PRIVATE-COMPLAINT" in client.get(f"/assessments/{a.id}").data.decode()


def test_a_second_response_and_a_second_resolution_are_refused(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _complete(a)
    person = db.session.get(Employee, a.employee_id)
    appeals.acknowledge(person, assessment=a, comment="ok")
    with pytest.raises(DomainError, match="already responded"):
        appeals.acknowledge(person, assessment=db.session.get(Assessment, a.id), comment="ok again")
    second = _assessment(cycle, org["e2"])
    _complete(second)
    appeal = appeals.file_appeal(db.session.get(Employee, second.employee_id), assessment=second, reason="No")
    stale = db.session.get(Appeal, appeal.id)
    appeals.uphold(stale, "Fair", actor=org["hr"])
    set_committed_value(stale, "status", AppealStatus.OPEN)  # as another hr's page loaded it, before the first answer
    with pytest.raises(DomainError, match="already resolved"):
        appeals.uphold(stale, "Also fair", actor=org["hr"])
    assert db.session.get(Appeal, appeal.id).response == "Fair"
