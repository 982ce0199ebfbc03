"""Training and credits: ledger, capacity under concurrency, assignment by gap, recommendations, mentoring,
access, imports."""
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from competency.errors import AppendOnlyViolation, DomainError
from competency.extensions import db
from competency.models import (
    Assessment,
    AuditEvent,
    Certification,
    Course,
    CourseType,
    CreditEntry,
    CreditRequirement,
    CreditSource,
    Enrolment,
    EnrolmentStatus,
    Grade,
    Rater,
    TrainingSession,
)
from competency.services import imports
from competency.services.assessments import cycles, workflow
from competency.services.imports import ImportFailed
from competency.services.training import enrolment as enrolments
from competency.services.training import ledger, mentoring, recommendations

from . import factories

E = EnrolmentStatus


def _ledger(employee):
    return [(e.amount, e.source, e.reverses_id is not None)
            for e in db.session.scalars(select(CreditEntry).where(CreditEntry.employee_id == employee.id).order_by(CreditEntry.id))]


# --- the ledger -----------------------------------------------------------------------------------


def test_completing_twice_earns_credits_once(app):
    person = factories.employee()
    course = factories.course(credits="2.5")
    enrolments.assign(course, [person.id], None)
    enrolment = db.session.scalar(select(Enrolment))
    enrolments.record_result(enrolment, "pass", score=88, on=date(2026, 3, 1))
    enrolments.record_result(enrolment, "pass", score=88, on=date(2026, 3, 2))
    assert enrolment.status == E.COMPLETED and enrolment.completed_on == date(2026, 3, 1)
    assert _ledger(person) == [(Decimal("2.50"), CreditSource.ENROLMENT, False)]


def test_ledger_lines_cannot_be_edited_or_deleted(app):
    person = factories.employee()
    entry = ledger.adjust(person, "4", "Conference talk")
    entry.amount = Decimal("40")
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(CreditEntry, entry.id))
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()
    assert _ledger(person) == [(Decimal("4.00"), CreditSource.ADJUSTMENT, False)]


def test_reversal_is_a_new_line_with_a_reason(app):
    person = factories.employee()
    entry = ledger.adjust(person, "4", "Conference talk")
    with pytest.raises(DomainError):
        ledger.reverse(entry, " ")
    reversal = ledger.reverse(entry, "Entered twice")
    assert (reversal.amount, reversal.reverses_id, reversal.reason) == (Decimal("-4.00"), entry.id, "Entered twice")
    with pytest.raises(DomainError):
        ledger.reverse(entry, "again")
    with pytest.raises(DomainError):
        ledger.reverse(reversal, "reverse the reversal")
    assert ledger.my_year(person, date.today().year)[0] == 0


def test_undo_completion_reverses_then_a_new_pass_earns_again(app):
    person = factories.employee()
    course = factories.course(credits="3")
    enrolments.assign(course, [person.id], None)
    enrolment = db.session.scalar(select(Enrolment))
    enrolments.record_result(enrolment, "pass", on=date(2026, 5, 1))
    enrolments.undo_completion(enrolment, "Wrong person ticked")
    assert enrolment.status == E.IN_PROGRESS
    enrolments.record_result(enrolment, "pass", on=date(2026, 5, 2))
    assert _ledger(person) == [(Decimal("3.00"), CreditSource.ENROLMENT, False), (Decimal("-3.00"), CreditSource.ENROLMENT, True),
                               (Decimal("3.00"), CreditSource.ENROLMENT, False)]


def test_fail_and_absent_earn_nothing(app):
    a, b = factories.employee(), factories.employee()
    course = factories.course()
    enrolments.assign(course, [a.id, b.id], None)
    first, second = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).all()
    enrolments.record_result(first, "fail", score=40)
    enrolments.record_result(second, "absent")
    assert (first.status, second.status) == (E.FAILED, E.ABSENT)
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 0
    with pytest.raises(DomainError):
        enrolments.record_result(first, "pass")


def test_yearly_total_and_requirement_in_one_query(app):
    db.session.add(CreditRequirement(grade=Grade.JUNIOR, credits=Decimal("20")))
    person = factories.employee(grade=Grade.JUNIOR)
    ledger.adjust(person, "5", "a", on=date(2025, 12, 31))
    ledger.adjust(person, "7", "b", on=date(2026, 1, 1))
    ledger.adjust(person, "-2", "c", on=date(2026, 6, 1))
    assert ledger.my_year(person, 2026) == (Decimal("5"), Decimal("20"))
    assert ledger.my_year(person, 2025) == (Decimal("5"), Decimal("20"))


def test_compliance_by_unit_includes_sub_units(app):
    db.session.add(CreditRequirement(grade=Grade.JUNIOR, credits=Decimal("10")))
    parent = factories.org_unit(code="P")
    child = factories.org_unit(code="C", parent=parent)
    ok = factories.employee(org_unit=child, grade=Grade.JUNIOR)
    factories.employee(org_unit=parent, grade=Grade.JUNIOR)
    ledger.adjust(ok, "10", "x", on=date(2026, 2, 2))
    counts = {unit: (n, met) for unit, n, met in ledger.compliance_by_unit(2026)}
    assert counts[parent.id] == (2, 1) and counts[child.id] == (1, 1)


# --- sessions and capacity ------------------------------------------------------------------------


def _session(course, capacity):
    start = datetime.now() + timedelta(days=7)
    session = TrainingSession(course=course, starts_at=start, ends_at=start + timedelta(hours=3), place="Room 1",
                              capacity=capacity, seats_taken=0, open=True)
    db.session.add(session)
    db.session.commit()
    return session


def test_capacity_holds_under_parallel_enrolment_requests(app, make_app):
    course = factories.course()
    session = _session(course, capacity=3)
    users = [factories.user(roles=["employee"]) for _ in range(10)]
    db.session.commit()
    results, barrier = [], threading.Barrier(len(users))

    def enrol(session_id):
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as s:
                s.update(_user_id=session_id, auth_at=int(time.time()), seen_at=int(time.time()))
            barrier.wait()
            results.append(client.post(f"/training/sessions/{session.id}/enrol").status_code)
            db.session.remove()

    threads = [threading.Thread(target=enrol, args=(u.get_id(),)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert results == [302] * 10
    assert db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.session_id == session.id)) == 3
    assert db.session.get(TrainingSession, session.id).seats_taken == 3


def test_full_session_says_so_and_cancel_frees_the_seat(app, client, login_as):
    course = factories.course()
    session = _session(course, capacity=1)
    first = login_as("employee")
    client.post(f"/training/sessions/{session.id}/enrol")
    second = login_as("employee")
    page = client.post(f"/training/sessions/{session.id}/enrol", follow_redirects=True, headers={"Accept-Language": "en"})
    assert b"This session is full." in page.data
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == first.employee_id))
    enrolments.cancel(enrolment)
    enrolments.enrol_in_session(db.session.get(TrainingSession, session.id), second.employee)
    assert db.session.get(TrainingSession, session.id).seats_taken == 1


# --- assignment -----------------------------------------------------------------------------------


@pytest.fixture
def assessed(app):
    """A completed cycle: three people rated on S1 (targets junior 2, intermediate 3)."""
    version = factories.model_version(publish=True)
    people = {name: factories.employee(staff_no=name, grade=grade) for name, grade in
              (("LOW", Grade.JUNIOR), ("MID", Grade.INTERMEDIATE), ("OK", Grade.JUNIOR))}
    cycle = cycles.save_cycle(cycles.CycleValues(
        code="C", name_zh="周期", name_en="Cycle", version_id=version.id, period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30), self_deadline=date.today() + timedelta(days=5),
        supervisor_deadline=date.today() + timedelta(days=9), self_weight=0))
    cycles.open_cycle(cycle)
    comps = {c.code: c.id for c in version.competencies}
    # S1 supervisor levels: LOW 1 (gap 1 at junior), MID 1 (gap 2 at intermediate), OK 3 (no gap); K1 level 2
    for name, s1 in (("LOW", 1), ("MID", 1), ("OK", 3)):
        a = db.session.scalar(select(Assessment).where(Assessment.employee_id == people[name].id))
        workflow.save_ratings(a, Rater.SUPERVISOR, {comps["S1"]: (s1, "note"), comps["K1"]: (2, "")},
                                submit=True, lock_version=a.lock_version)
    return cycle, people, version


def test_gap_candidates_are_exactly_the_people_with_the_gap(assessed):
    cycle, people, _ = assessed
    assert set(enrolments.gap_candidates("S1", cycle.id, 1)) == {people["LOW"].id, people["MID"].id}
    assert enrolments.gap_candidates("S1", cycle.id, 2) == [people["MID"].id]
    assert enrolments.gap_candidates("K1", cycle.id, 1) == [people["MID"].id]  # intermediate target 3, level 2


def test_assign_skips_and_reports_enrolled_and_completed(app):
    course = factories.course()
    a, b, c = factories.employee(), factories.employee(), factories.employee()
    enrolments.assign(course, [a.id], None)
    enrolments.assign(course, [b.id], None)
    enrolments.record_result(db.session.scalar(select(Enrolment).where(Enrolment.employee_id == b.id)), "pass")
    result = enrolments.assign(course, [a.id, b.id, c.id], date(2026, 12, 31))
    assert (result.assigned, result.skipped_enrolled, result.skipped_completed) == ([c.id], [a.id], [b.id])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "training.assign").order_by(AuditEvent.id.desc()))
    assert event.details == {"assigned": 1, "skipped_enrolled": 1, "skipped_completed": 1}


def test_trainer_assigns_by_gap_with_a_count_first(assessed, client, login_as):
    cycle, people, _ = assessed
    course = factories.course(competencies={"S1": 3})
    login_as("trainer")
    form = {"course": course.id, "mode": "gap", "competency": "S1", "cycle": str(cycle.id), "min_gap": "1", "due_date": "2026-12-31"}
    preview = client.post("/assign", data=form | {"preview": "1"}, headers={"Accept-Language": "en"}).data.decode()
    assert "2 people match." in preview
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0
    done = client.post("/assign", data=form | {"submit": "1", "confirm": "1"}, headers={"Accept-Language": "en"}).data.decode()
    assert "Assigned to 2 people." in done
    assigned = set(db.session.scalars(select(Enrolment.employee_id)))
    assert assigned == {people["LOW"].id, people["MID"].id}


def test_a_trainer_cannot_infer_levels_by_stepping_the_gap(assessed, client, login_as):
    cycle, people, _ = assessed
    course = factories.course(competencies={"S1": 3})
    form = {"course": course.id, "mode": "gap", "competency": "S1", "cycle": str(cycle.id), "preview": "1"}

    def matches(min_gap):
        page = client.post("/assign", data=form | {"min_gap": min_gap}, headers={"Accept-Language": "en"}).data.decode()
        return page.split('class="callout card">')[1].split("</div>")[0]

    login_as("trainer")
    assert 'name="min_gap"' not in client.get("/assign").data.decode()
    answers = {matches(f"{step / 10:.1f}") for step in range(1, 41)}
    assert len(answers) == 1  # the same names whatever gap is asked for: the size never shows
    (answer,) = answers
    assert people["LOW"].staff_no in answer and people["MID"].staff_no in answer
    login_as("hr")  # hr reads everyone's results: the gap size is theirs to choose
    assert matches("1") != matches("2")


def test_supervisor_may_only_assign_to_their_reports(app, client, login_as):
    course = factories.course()
    boss = factories.user(roles=["employee", "supervisor"])
    mine = factories.employee(staff_no="MINE", supervisor=boss.employee)
    factories.employee(staff_no="THEIRS")
    login_as(boss)
    response = client.post("/assign", data={"course": course.id, "mode": "one", "staff_no": "THEIRS", "preview": "1"},
                           headers={"Accept-Language": "en"})
    assert b"Nobody you may choose here has the staff number or name THEIRS." in response.data
    client.post("/assign", data={"course": course.id, "mode": "one", "staff_no": "MINE", "submit": "1", "confirm": "1"})
    assert list(db.session.scalars(select(Enrolment.employee_id))) == [mine.id]


# --- recommendations ------------------------------------------------------------------------------


def test_recommendations_ranked_by_weight_times_gap_with_reasons(assessed):
    _cycle, people, _ = assessed
    factories.course("S1-201", competencies={"S1": 3})
    weak_course = factories.course("S1-101", competencies={"S1": 2})   # does not reach the intermediate target 3
    k1_course = factories.course("K1-101", competencies={"K1": 4})
    factories.course("K1-OFF", competencies={"K1": 4}, active=False)
    done = factories.course("K1-DONE", competencies={"K1": 3})
    enrolments.assign(done, [people["MID"].id], None)
    enrolments.record_result(db.session.scalar(select(Enrolment).where(Enrolment.course_id == done.id)), "pass")
    recs = recommendations.recommendations(people["MID"])
    # MID (intermediate): S1 level 1 target 3 → gap 2 × weight 11 = 22; K1 level 2 target 3 → gap 1 × weight 10 = 10
    assert [(r.competency_code, r.level, r.target, r.priority) for r in recs] == [("S1", 1, 3, 22.0), ("K1", 2, 3, 10.0)]
    assert [c.code for c in recs[0].courses] == ["S1-201"]
    assert [c.code for c in recs[1].courses] == ["K1-101"]
    assert weak_course not in recs[0].courses and k1_course in recs[1].courses
    assert recommendations.recommendations(people["OK"]) == []


def test_my_training_page_shows_the_reason(assessed, client, login_as):
    _cycle, people, _ = assessed
    factories.course("S1-201", competencies={"S1": 3})
    account = factories.user(employee_=people["LOW"])
    login_as(account)
    page = client.get("/training", headers={"Accept-Language": "en"}).data.decode()
    assert "your level on S1 is 1.0, the target for Junior is 2." in page and "S1-201" in page


def test_a_recommended_course_is_named_and_links_its_open_session_with_an_enrol_button(assessed, client, login_as):
    _cycle, people, _ = assessed
    with_session = factories.course("S1-201", competencies={"S1": 3})
    factories.course("S1-301", competencies={"S1": 4})  # no session yet
    session = _session(with_session, capacity=10)
    login_as(factories.user(employee_=people["LOW"]))
    page = client.get("/training", headers={"Accept-Language": "en"}).data.decode()
    recommended = page.split("Recommended for you")[1].split("Open sessions")[0]
    assert f'<a href="#session-{session.id}">S1-201 Course S1-201</a>' in recommended
    assert f"/training/sessions/{session.id}/enrol" in recommended and "Enrol" in recommended
    assert "S1-301 Course S1-301" in recommended and "no session open yet" in recommended
    assert f'id="session-{session.id}"' in page  # where the link leads: the session's row among the open sessions
    report = client.get("/development", headers={"Accept-Language": "en"}).data.decode()
    assert "S1-201 Course S1-201, S1-301 Course S1-301" in report


def test_demand_counts_people_per_course(assessed):
    s1_course = factories.course("S1-201", competencies={"S1": 3})
    k1_course = factories.course("K1-101", competencies={"K1": 3})
    counts = {course.code: n for course, n in recommendations.demand()}
    assert counts[s1_course.code] == 2 and counts[k1_course.code] == 1


# --- mentoring ------------------------------------------------------------------------------------


def test_mentoring_completion_credits_both_once(app):
    course = factories.course("MEN-101", credits="5", type=CourseType.MENTORING)
    mentor, mentee = factories.employee(grade=Grade.SENIOR), factories.employee(grade=Grade.TRAINEE)
    with pytest.raises(DomainError):
        mentoring.pair(mentee, mentor, course)
    pairing = mentoring.pair(mentor, mentee, course, on=date(2026, 1, 5))
    mentoring.complete_mentoring(pairing, on=date(2026, 4, 1))
    mentoring.complete_mentoring(pairing, on=date(2026, 4, 2))
    assert _ledger(mentor) == [(Decimal("5.00"), CreditSource.MENTORING, False)]
    assert _ledger(mentee) == [(Decimal("5.00"), CreditSource.MENTORING, False)]


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [("self", 200), ("boss", 200), ("hr", 200), ("peer", 404), ("trainer", 200),
                                              ("other_boss", 404)])
def test_who_may_read_a_ledger(app, client, login_as, who, expected):
    boss = factories.user(roles=["employee", "supervisor"])
    person = factories.user(roles=["employee"], supervisor=boss.employee)
    users = {"self": person, "boss": boss, "hr": factories.user(roles=["hr"]), "peer": factories.user(roles=["employee"]),
             "trainer": factories.user(roles=["trainer"]), "other_boss": factories.user(roles=["employee", "supervisor"])}
    ledger.adjust(person.employee, "3", "x")
    login_as(users[who])
    assert client.get(f"/employees/{person.employee_id}/credits").status_code == expected
    # trainers see the ledger their results feed, not the person's other records
    assert client.get(f"/employees/{person.employee_id}/certifications").status_code == (404 if who == "trainer" else expected)


def test_only_hr_adjusts_and_reverses(app, client, login_as):
    person = factories.employee()
    entry = ledger.adjust(person, "3", "x")
    login_as("trainer")
    assert client.post(f"/employees/{person.id}/credits/adjust", data={"amount": "5", "reason": "r"}).status_code == 403
    assert client.post(f"/credits/{entry.id}/reverse", data={"reason": "r"}).status_code == 403
    login_as("hr")
    client.post(f"/credits/{entry.id}/reverse", data={"reason": "typo"})
    assert ledger.my_year(person, date.today().year)[0] == 0


@pytest.mark.parametrize(("role", "url", "expected"), [
    ("employee", "/catalogue", 403), ("supervisor", "/catalogue", 403), ("trainer", "/catalogue", 200), ("hr", "/catalogue", 200),
    ("employee", "/assign", 403), ("supervisor", "/assign", 200), ("trainer", "/demand", 200), ("employee", "/demand", 403),
    ("employee", "/credits/compliance", 403), ("hr", "/credits/compliance", 200), ("trainer", "/credits/requirements", 403),
    ("employee", "/team/credits", 403), ("supervisor", "/team/credits", 200), ("employee", "/training", 200),
])
def test_training_page_access(app, client, login_as, role, url, expected):
    login_as(role)
    assert client.get(url).status_code == expected


def test_trainer_records_results_in_bulk_on_the_roster(app, client, login_as):
    course = factories.course(credits="2")
    people = [factories.employee() for _ in range(3)]
    enrolments.assign(course, [p.id for p in people], None)
    ids = list(db.session.scalars(select(Enrolment.id).order_by(Enrolment.id)))
    login_as("trainer")
    client.post(f"/catalogue/{course.id}/roster", data={"enrolments": ids[:2], "outcome": "pass", "score": "90", "on": "2026-06-01"})
    statuses = [s for s in db.session.scalars(select(Enrolment.status).order_by(Enrolment.id))]
    assert statuses == [E.COMPLETED, E.COMPLETED, E.ASSIGNED]
    assert db.session.scalar(select(func.sum(CreditEntry.amount))) == Decimal("4")


def test_hr_records_certifications_and_expiry_within_60_days_is_highlighted(app, client, login_as):
    person = factories.user(roles=["employee"])
    db.session.commit()
    login_as(person)
    client.post("/training/certifications", data={"name": "AFP", "issued_on": "2024-01-01"})
    assert db.session.scalar(select(func.count()).select_from(Certification)) == 0   # the review relies on them: hr records
    login_as("hr")
    url = f"/employees/{person.employee_id}/certifications"
    client.post(url, data={"name": "AFP", "issuer": "FPSB China", "number": "A1", "issued_on": "2024-01-01",
                           "expires_on": (date.today() + timedelta(days=30)).isoformat()})
    client.post(url, data={"name": "CFP", "issuer": "FPSB", "number": "C1", "issued_on": "2024-01-01",
                           "expires_on": (date.today() + timedelta(days=400)).isoformat()})
    login_as(person)
    page = client.get("/training/certifications", headers={"Accept-Language": "en"}).data.decode()
    assert page.count("Expires within 60 days") == 1 and "CFP" in page


# --- imports --------------------------------------------------------------------------------------

COURSES = "code,title_zh,title_en,type,delivery,hours,credits,competencies\n"


def test_course_import_upserts_by_code(app):
    factories.model_version(publish=True, codes=("K3", "S1", "S5"))
    data = (COURSES + "S5-101,授信报告,Credit reports,industry,classroom,8,2,S5:3;K3:3\n"
            "MEN-1,老带新,Mentoring,mentoring,on_the_job,40,5,S1:2\n")
    assert imports.import_courses(data.encode(), "c.csv").created == 2
    again = imports.import_courses(data.replace(",2,S5:3", ",2.5,S5:3").encode(), "c.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    course = db.session.scalar(select(Course).where(Course.code == "S5-101"))
    assert course.credits == Decimal("2.5") and course.competency_text == "K3:3;S5:3"


def test_course_import_bad_rows_write_nothing(app):
    factories.model_version(publish=True, codes=("K1", "S1"))
    data = COURSES + ("X1,甲,A,party,classroom,8,2,S1:3\nX2,乙,B,law,by_post,8,2,S1:3\nX3,丙,C,law,online,0,-1,S1:3\n"
                      "X4,丁,D,law,online,2,1,S1:9\nX4,戊,E,law,online,2,1,S1:3\n")
    with pytest.raises(ImportFailed) as failure:
        imports.import_courses(data.encode(), "c.csv")
    assert {(e.line, e.column) for e in failure.value.errors} == {
        (2, "type"), (3, "delivery"), (4, "hours"), (4, "credits"), (5, "competencies"), (6, "code")}
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_past_training_import_writes_credits_for_passes(app, tmp_path):
    person = factories.employee(staff_no="P1")
    factories.course("S5-101", credits="2")
    db.session.commit()
    path = tmp_path / "t.csv"
    path.write_text("staff_no,course_code,completed_on,result,score\nP1,S5-101,2025-06-01,pass,90\nP1,S5-101,2025-09-01,fail,50\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", "training", str(path)])
    assert result.exit_code == 0 and "1 passed and 1 failed" in result.output
    assert _ledger(person) == [(Decimal("2.00"), CreditSource.ENROLMENT, False)]
    assert ledger.my_year(person, 2025)[0] == Decimal("2")


def test_past_training_import_bad_rows_write_nothing(app):
    factories.employee(staff_no="P1")
    factories.course("S5-101")
    data = ("staff_no,course_code,completed_on,result,score\nNOPE,S5-101,2025-06-01,pass,\nP1,NOPE,2025-06-01,pass,\n"
            "P1,S5-101,2025-13-01,pass,\nP1,S5-101,2025-06-01,maybe,\nP1,S5-101,2025-06-02,pass,101\n")
    with pytest.raises(ImportFailed) as failure:
        imports.import_training(data.encode(), "t.csv")
    assert [(e.line, e.column) for e in failure.value.errors] == [
        (2, "staff_no"), (3, "course_code"), (4, "completed_on"), (5, "result"), (6, "score")]
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 0


def test_employees_cancel_only_what_they_enrolled_in_themselves(app, client, login_as):
    course = factories.course()
    person = factories.user(roles=["employee"])
    enrolments.assign(course, [person.employee_id], None)
    assigned = db.session.scalar(select(Enrolment))
    login_as(person)
    assert client.post(f"/training/enrolments/{assigned.id}/cancel").status_code == 403
    assert db.session.get(Enrolment, assigned.id).status == E.ASSIGNED


def test_no_second_seat_after_completion_and_none_in_a_started_session(app):
    course = factories.course()
    person = factories.employee()
    enrolments.assign(course, [person.id], None)
    enrolments.record_result(db.session.scalar(select(Enrolment)), "pass")
    session = _session(course, capacity=5)
    with pytest.raises(DomainError, match="already completed"):
        enrolments.enrol_in_session(session, person)
    started = TrainingSession(course=factories.course("LATE"), starts_at=datetime.now() - timedelta(hours=1),
                              ends_at=datetime.now() + timedelta(hours=1), capacity=5, seats_taken=0, open=True)
    db.session.add(started)
    db.session.commit()
    with pytest.raises(DomainError, match="not open"):
        enrolments.enrol_in_session(started, factories.employee())


def test_importing_the_same_past_training_twice_earns_once(app):
    person = factories.employee(staff_no="P1")
    factories.course("S5-101", credits="2")
    data = b"staff_no,course_code,completed_on,result,score\nP1,S5-101,2025-06-01,pass,90\n"
    assert imports.import_training(data, "t.csv").counts["passed"] == 1
    again = imports.import_training(data, "t.csv")
    assert (again.counts, again.created, again.unchanged) == ({"passed": 0, "failed": 0}, 0, 1)
    assert _ledger(person) == [(Decimal("2.00"), CreditSource.ENROLMENT, False)]
