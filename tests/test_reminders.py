"""Reminders and escalation (services/notifications/reminders.py): `flask notify run` tells exactly the people who
must act, on the right days, once; overdue work reaches the next supervisor up; the run's statements do not grow
with the bank."""
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import force_locale
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import (
    AssessmentStatus,
    Certification,
    CreditEntry,
    CreditRequirement,
    CreditSource,
    EmployeeStatus,
    Enrolment,
    Grade,
    Notification,
    ProbationConfirmation,
    TrainingSession,
)
from competency.services.notifications import reminders
from competency.services.notifications.text import text_of
from competency.services.unit_of_work import unit_of_work

from . import factories, test_due
from .test_due import _assessment, _cycle

team = test_due.team  # the small bank of test_due.py, as a fixture here too

DEADLINE = date(2026, 11, 20)


def _run(today: date) -> dict[str, int]:
    with unit_of_work():
        return reminders.run(today)


def _told(kind: str | None = None) -> set[tuple[str, int, int, date]]:
    """(kind, account id, object id, day) of the notifications made."""
    query = select(Notification.kind, Notification.user_id, Notification.object_id, Notification.day)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return {tuple(row) for row in db.session.execute(query)}


def test_a_self_assessment_is_reminded_7_days_and_a_day_before_its_deadline_to_the_person_only(team):
    cycle = _cycle(factories.model_version(publish=True), self_deadline=DEADLINE, supervisor_deadline=DEADLINE + timedelta(days=7))
    mine = _assessment(cycle, team["alice"], team["lead"], AssessmentStatus.NOT_STARTED)
    _assessment(cycle, team["bob"], team["lead"], AssessmentStatus.SELF_SUBMITTED)
    db.session.commit()
    alice = team["alice"].id

    for day in (DEADLINE - timedelta(days=8), DEADLINE - timedelta(days=3), DEADLINE):
        assert _run(day)["reminder_self_assessment"] == 0
    assert _run(DEADLINE - timedelta(days=7))["reminder_self_assessment"] == 1
    assert _run(DEADLINE - timedelta(days=7))["reminder_self_assessment"] == 0  # twice in a row: nothing twice
    assert _run(DEADLINE - timedelta(days=1))["reminder_self_assessment"] == 1
    assert _told("reminder_self_assessment") == {("reminder_self_assessment", alice, mine.id, DEADLINE - timedelta(days=7)),
                                                 ("reminder_self_assessment", alice, mine.id, DEADLINE - timedelta(days=1))}
    notice = db.session.scalars(select(Notification).where(Notification.kind == "reminder_self_assessment")).first()
    assert notice.link == f"/assessments/{mine.id}/self"
    with force_locale("en"):
        assert text_of(notice) == f"Your self-assessment in Appraisal 2026 is due on {DEADLINE.isoformat()}."


def test_ratings_are_reminded_to_the_assessing_supervisor_and_escalated_to_theirs_when_3_days_late(team):
    cycle = _cycle(factories.model_version(publish=True), self_deadline=DEADLINE - timedelta(days=7), supervisor_deadline=DEADLINE)
    to_rate = _assessment(cycle, team["bob"], team["lead"], AssessmentStatus.SELF_SUBMITTED)
    rated_soon = _assessment(cycle, team["alice"], team["lead"], AssessmentStatus.SUPERVISOR_IN_PROGRESS)
    db.session.commit()

    # one reminder to the supervisor, saying how many (not one per team member), linking to their team's list
    assert _run(DEADLINE - timedelta(days=1))["reminder_team_rating"] == 1
    assert _run(DEADLINE - timedelta(days=1))["reminder_team_rating"] == 0
    lead = team["lead"].id
    assert _told("reminder_team_rating") == {("reminder_team_rating", lead, lead, DEADLINE - timedelta(days=1))}
    reminder = db.session.scalars(select(Notification).where(Notification.kind == "reminder_team_rating")).one()
    assert reminder.link == "/team"
    with force_locale("en"):
        assert text_of(reminder) == f"2 assessments of your team members are due on {DEADLINE.isoformat()}."
    with force_locale("zh"):
        assert "2" in text_of(reminder) and DEADLINE.isoformat() in text_of(reminder)
    rated_soon.status = AssessmentStatus.COMPLETED  # rated in time: not escalated
    db.session.commit()
    assert _run(DEADLINE + timedelta(days=2))["escalation_team_rating"] == 0
    assert _run(DEADLINE + timedelta(days=3))["escalation_team_rating"] == 1
    assert _run(DEADLINE + timedelta(days=9))["escalation_team_rating"] == 0  # once, ever
    assert _told("escalation_team_rating") == {("escalation_team_rating", team["head"].id, to_rate.id, DEADLINE + timedelta(days=3))}
    notice = db.session.scalars(select(Notification).where(Notification.kind == "escalation_team_rating")).one()
    assert notice.link == f"/employees/{team['bob'].employee_id}"  # the person concerned, whom the head may see
    with force_locale("en"):
        assert text_of(notice) == f"Lead (L1) has not rated Bob · Appraisal 2026, due {DEADLINE.isoformat()}."


def test_a_late_self_assessment_is_escalated_to_the_persons_supervisor(team):
    cycle = _cycle(factories.model_version(publish=True), self_deadline=DEADLINE, supervisor_deadline=DEADLINE + timedelta(days=7))
    late = _assessment(cycle, team["alice"], team["lead"], AssessmentStatus.SELF_IN_PROGRESS)
    db.session.commit()
    _run(DEADLINE + timedelta(days=5))  # a run that missed days still escalates, once
    assert _told("escalation_self_assessment") == {("escalation_self_assessment", team["lead"].id, late.id, DEADLINE + timedelta(days=5))}


def test_probation_is_told_to_the_direct_supervisor_14_days_before_once_overdue_and_then_up_the_line(team):
    trainee = factories.employee(staff_no="T1", name_en="Trainee", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION,
                                 supervisor_id=team["lead"].employee_id, hire_date=date(2026, 8, 20), probation_end=DEADLINE)
    confirmed = factories.employee(staff_no="T2", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION,
                                   supervisor_id=team["lead"].employee_id, hire_date=date(2026, 8, 20), probation_end=DEADLINE)
    db.session.add(ProbationConfirmation(employee_id=confirmed.id, qualified=True, confirmed_on=DEADLINE - timedelta(days=20)))
    db.session.commit()
    lead, head = team["lead"].id, team["head"].id

    _run(DEADLINE - timedelta(days=14))
    assert _told() == {("reminder_probation", lead, trainee.id, DEADLINE - timedelta(days=14))}
    _run(DEADLINE)
    assert _run(DEADLINE + timedelta(days=1))["probation_overdue"] == 1
    assert _run(DEADLINE + timedelta(days=2))["probation_overdue"] == 0  # once
    _run(DEADLINE + timedelta(days=3))
    assert _told() == {("reminder_probation", lead, trainee.id, DEADLINE - timedelta(days=14)),
                       ("probation_overdue", lead, trainee.id, DEADLINE + timedelta(days=1)),
                       ("escalation_probation", head, trainee.id, DEADLINE + timedelta(days=3))}


def test_courses_sessions_and_certifications_remind_the_person(team):
    alice, carol = team["alice"], team["carol"]
    course = factories.course()
    enrolment = Enrolment(course_id=course.id, employee_id=alice.employee_id, due_date=DEADLINE)
    day = DEADLINE + timedelta(days=1)
    session = TrainingSession(course_id=course.id, starts_at=datetime(day.year, day.month, day.day, 9),
                              ends_at=datetime(day.year, day.month, day.day, 12), capacity=5)
    db.session.add_all([enrolment, session])
    db.session.flush()
    seat = Enrolment(course_id=course.id, employee_id=carol.employee_id, session_id=session.id)
    certificate = Certification(employee_id=carol.employee_id, name="AFP", issued_on=date(2020, 1, 1),
                                expires_on=DEADLINE + timedelta(days=30))
    db.session.add_all([seat, certificate])
    db.session.commit()

    found = _run(DEADLINE)
    assert (found["reminder_session"], found["reminder_certification"], found["reminder_course"]) == (1, 1, 0)
    _run(DEADLINE - timedelta(days=7))
    _run(DEADLINE + timedelta(days=3))
    assert _told() == {("reminder_session", carol.id, seat.id, DEADLINE), ("reminder_certification", carol.id, certificate.id, DEADLINE),
                       ("reminder_course", alice.id, enrolment.id, DEADLINE - timedelta(days=7)),
                       ("escalation_course", team["lead"].id, enrolment.id, DEADLINE + timedelta(days=3))}


def test_credits_behind_are_told_to_the_person_and_their_supervisor_in_the_fourth_quarter(team):
    db.session.add(CreditRequirement(grade=Grade.JUNIOR, credits=Decimal("10")))
    for name in ("bob", "head", "lead", "other", "carol", "hr"):  # everyone else has earned enough
        db.session.add(CreditEntry(employee_id=team[name].employee_id, amount=Decimal("20"), earned_on=date(2026, 2, 1),
                                   source=CreditSource.ADJUSTMENT))
    db.session.commit()
    assert sum(_run(date(2026, 9, 30)).values()) == 0
    _run(date(2026, 10, 1))
    alice = team["alice"].employee_id
    assert _told() == {("reminder_credits", team["alice"].id, alice, date(2026, 10, 1)),
                       ("reminder_team_credits", team["lead"].id, alice, date(2026, 10, 1))}


def test_nobody_without_an_active_account_is_told(team):
    team["alice"].active = False
    cycle = _cycle(factories.model_version(publish=True), self_deadline=DEADLINE, supervisor_deadline=DEADLINE + timedelta(days=7))
    _assessment(cycle, team["alice"], team["lead"], AssessmentStatus.NOT_STARTED)
    db.session.commit()
    assert _run(DEADLINE - timedelta(days=1))["reminder_self_assessment"] == 0


def _bank(people: int) -> None:
    """People in one team, each with a self-assessment due, a course due and a probation ending."""
    lead = factories.user(roles=["employee", "supervisor"], staff_no=f"LEAD{people}")
    cycle = _cycle(factories.model_version(publish=True), code=f"C{people}", self_deadline=DEADLINE,
                   supervisor_deadline=DEADLINE + timedelta(days=7))
    course = factories.course(code=f"S5-{people}")
    for i in range(people):
        account = factories.user(staff_no=f"P{people}-{i}", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION,
                                 supervisor_id=lead.employee_id, hire_date=date(2026, 8, 1), probation_end=DEADLINE + timedelta(days=13))
        _assessment(cycle, account, lead, AssessmentStatus.NOT_STARTED)
        db.session.add(Enrolment(course_id=course.id, employee_id=account.employee_id, due_date=DEADLINE))
    db.session.commit()


def test_a_run_costs_the_same_statements_whatever_the_number_of_people(app):
    counts, everyone = [], 0
    for people in (3, 30):
        _bank(people)
        everyone += people
        with factories.statements() as seen:
            told = _run(DEADLINE - timedelta(days=1))
        counts.append(len(seen))
        assert told["reminder_self_assessment"] == told["reminder_course"] == told["reminder_probation"] == everyone
        db.session.execute(Notification.__table__.delete())
        db.session.commit()
    assert counts[0] == counts[1]


def test_two_runs_at_once_tell_each_reminder_once(app):
    _bank(20)
    barrier, results = threading.Barrier(2), []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(_run(DEADLINE - timedelta(days=1)))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["reminder_self_assessment"] for r in results) == [0, 20]
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "reminder_self_assessment")) == 20


def test_after_the_demo_seed_the_first_run_puts_na_lis_overdue_probation_in_the_supervisors_bell(seeded):
    from competency.models import User
    from competency.services.org import employee_by_staff_no

    na_li, lead = employee_by_staff_no("E0002"), employee_by_staff_no("S0001")
    supervisor = db.session.scalar(select(User).where(User.employee_id == lead.id))
    above = db.session.scalar(select(User).where(User.employee_id == lead.supervisor_id))
    _run(date.today())
    assert ("probation_overdue", supervisor.id, na_li.id, date.today()) in _told("probation_overdue")
    assert ("escalation_probation", above.id, na_li.id, date.today()) in _told("escalation_probation")
    about = select(Notification.user_id).where(Notification.object_type == "employee", Notification.object_id == na_li.id)
    assert set(db.session.scalars(about)) == {supervisor.id, above.id}  # nobody else is told about her
