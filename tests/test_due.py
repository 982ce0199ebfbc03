"""What is due, and by whom (services/due.py): each rule finds exactly the items of the people who must act — in
one user's to-do list and bank-wide — and the dashboard shows them with their deadlines."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from competency.extensions import db
from competency.models import (
    Appeal,
    Assessment,
    AssessmentStatus,
    Certification,
    CreditEntry,
    CreditRequirement,
    CreditSource,
    Cycle,
    CycleStatus,
    Decision,
    EmployeeStatus,
    Enrolment,
    EnrolmentStatus,
    Grade,
    ProbationConfirmation,
    Recommendation,
    ReviewAction,
    ReviewRun,
    TrainingSession,
)
from competency.services import due

from . import factories

TODAY = date(2026, 11, 2)  # in the fourth quarter: the credit rules hold
EN = {"Accept-Language": "en"}


@pytest.fixture
def team(app):
    """A small bank: hr, a branch head over a team lead over Alice and Bob, and Carol in another team."""
    head = factories.user(roles=["employee", "supervisor"], staff_no="B1", name_en="Head", grade=Grade.SENIOR)
    lead = factories.user(roles=["employee", "supervisor"], staff_no="L1", name_en="Lead", supervisor_id=head.employee_id)
    alice = factories.user(staff_no="A1", name_en="Alice", supervisor_id=lead.employee_id)
    bob = factories.user(staff_no="A2", name_en="Bob", supervisor_id=lead.employee_id)
    other = factories.user(roles=["employee", "supervisor"], staff_no="O1", name_en="Other lead")
    carol = factories.user(staff_no="C1", name_en="Carol", supervisor_id=other.employee_id)
    hr = factories.user(roles=["employee", "hr"], staff_no="H1", name_en="HR")
    db.session.commit()
    return {"head": head, "lead": lead, "alice": alice, "bob": bob, "other": other, "carol": carol, "hr": hr}


def _all(kind: str, today: date = TODAY) -> set[tuple[int, int]]:
    """(object id, acting account id) of the rule's bank-wide rows."""
    rows = db.session.execute(due.BY_KIND[kind].select(due.Ask(due.Scope.ALL, today.year)), due.parameters(today)).all()
    return {(row.object_id, row.user_id) for row in rows}


def _todo(user, today: date = TODAY) -> dict[str, list[due.Item]]:
    return {group.kind: group.items for group in due.todo(user, today) or []}


def _cycle(version, **fields) -> Cycle:
    values = dict(code=f"C{len(fields)}", name_zh="2026年度评估", name_en="Appraisal 2026", version_id=version.id,
                  period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), self_deadline=TODAY + timedelta(days=7),
                  supervisor_deadline=TODAY + timedelta(days=14), status=CycleStatus.OPEN)
    values.update(fields)
    cycle = Cycle(**values)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _assessment(cycle, user, supervisor, status) -> Assessment:
    person = user.employee
    item = Assessment(cycle_id=cycle.id, employee_id=person.id, version_id=cycle.version_id, grade=person.grade,
                      org_unit_id=person.org_unit_id, supervisor_id=supervisor.employee_id, status=status)
    db.session.add(item)
    db.session.flush()
    return item


def test_self_assessments_and_ratings_are_due_to_the_person_and_the_assessing_supervisor(team):
    version = factories.model_version(publish=True)
    cycle = _cycle(version)
    mine = _assessment(cycle, team["alice"], team["lead"], AssessmentStatus.SELF_IN_PROGRESS)
    to_rate = _assessment(cycle, team["bob"], team["lead"], AssessmentStatus.SELF_SUBMITTED)
    _assessment(cycle, team["carol"], team["other"], AssessmentStatus.COMPLETED)
    closed = _cycle(version, code="OLD", status=CycleStatus.CLOSED)
    _assessment(closed, team["alice"], team["lead"], AssessmentStatus.NOT_STARTED)  # a closed cycle asks nothing
    db.session.commit()

    assert _all("self_assessment") == {(mine.id, team["alice"].id)}
    assert _all("team_rating") == {(to_rate.id, team["lead"].id)}
    alice = _todo(team["alice"])
    assert [(i.object_id, i.due, i.title_en) for i in alice["self_assessment"]] == [(mine.id, cycle.self_deadline, "Appraisal 2026")]
    assert "team_rating" not in alice and "self_assessment" not in _todo(team["bob"])
    lead = _todo(team["lead"])
    assert [(i.object_id, i.title_en) for i in lead["team_rating"]] == [(to_rate.id, "Bob · Appraisal 2026")]
    assert "team_rating" not in _todo(team["head"]) and "team_rating" not in _todo(team["other"])


def test_probation_is_due_to_the_direct_supervisor_from_14_days_before_its_end_until_confirmed(team):
    lead = team["lead"].employee_id
    ending = factories.employee(staff_no="T1", name_en="Soon", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION,
                                supervisor_id=lead, hire_date=date(2026, 8, 1), probation_end=TODAY + timedelta(days=14))
    overdue = factories.employee(staff_no="T2", name_en="Late", grade=Grade.TRAINEE, status=EmployeeStatus.ACTIVE,
                                 supervisor_id=lead, hire_date=date(2026, 5, 1), probation_end=TODAY - timedelta(days=20))
    factories.employee(staff_no="T3", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION, supervisor_id=lead,
                       hire_date=date(2026, 9, 1), probation_end=TODAY + timedelta(days=15))  # not yet
    confirmed = factories.employee(staff_no="T4", grade=Grade.TRAINEE, status=EmployeeStatus.ACTIVE, supervisor_id=lead,
                                   hire_date=date(2026, 5, 1), probation_end=TODAY - timedelta(days=2))
    db.session.add(ProbationConfirmation(employee_id=confirmed.id, qualified=True, confirmed_on=TODAY))
    db.session.commit()

    assert _all("probation") == {(ending.id, team["lead"].id), (overdue.id, team["lead"].id)}
    items = _todo(team["lead"])["probation"]
    assert [(i.title_en, i.days_left(TODAY)) for i in items] == [("Late", -20), ("Soon", 14)]  # the most overdue first
    assert "probation" not in _todo(team["head"]) and "probation" not in _todo(team["other"])


def test_courses_sessions_and_certifications_are_due_to_the_person(team):
    alice, carol = team["alice"], team["carol"]
    course = factories.course()
    due_course = Enrolment(course_id=course.id, employee_id=alice.employee_id, due_date=TODAY + timedelta(days=7))
    done = Enrolment(course_id=factories.course(code="K1-101").id, employee_id=alice.employee_id,
                     due_date=TODAY + timedelta(days=1), status=EnrolmentStatus.COMPLETED)
    day = TODAY + timedelta(days=1)
    tomorrow = TrainingSession(course_id=course.id, starts_at=datetime(day.year, day.month, day.day, 9),
                               ends_at=datetime(day.year, day.month, day.day, 17), capacity=10)
    later = TrainingSession(course_id=course.id, starts_at=datetime(2026, 12, 20, 9), ends_at=datetime(2026, 12, 20, 17), capacity=10)
    db.session.add_all([due_course, done, tomorrow, later])
    db.session.flush()
    seat = Enrolment(course_id=course.id, employee_id=carol.employee_id, session_id=tomorrow.id)
    not_yet = Enrolment(course_id=factories.course(code="K1-102").id, employee_id=alice.employee_id, session_id=later.id)
    expiring = Certification(employee_id=alice.employee_id, name="AFP", issued_on=date(2020, 1, 1), expires_on=TODAY + timedelta(days=30))
    renewed = Certification(employee_id=carol.employee_id, name="CFP", issued_on=date(2020, 1, 1), expires_on=TODAY + timedelta(days=10))
    renewal = Certification(employee_id=carol.employee_id, name="CFP", issued_on=TODAY, expires_on=date(2030, 1, 1))
    expired = Certification(employee_id=alice.employee_id, name="Fund sales", issued_on=date(2020, 1, 1),
                            expires_on=TODAY - timedelta(days=1))
    db.session.add_all([seat, not_yet, expiring, renewed, renewal, expired])
    db.session.commit()

    assert _all("course_due") == {(due_course.id, alice.id)}
    assert _all("session_soon") == {(seat.id, carol.id)}
    assert _all("certification_expiring") == {(expiring.id, alice.id)}
    mine = _todo(alice)
    assert [i.days_left(TODAY) for i in mine["course_due"]] == [7]
    assert [i.title_en for i in mine["certification_expiring"]] == ["AFP"] and "session_soon" not in mine
    assert [(i.due, i.days_left(TODAY)) for i in _todo(carol)["session_soon"]] == [(TODAY + timedelta(days=1), 1)]


def test_appeals_and_undecided_reviews_are_due_to_every_active_hr_account(team):
    gone = factories.user(roles=["employee", "hr"], staff_no="H2")
    gone.active = False
    version = factories.model_version(publish=True)
    result = _assessment(_cycle(version, code="R"), team["alice"], team["lead"], AssessmentStatus.COMPLETED)
    appeal = Appeal(employee_id=team["alice"].employee_id, assessment_id=result.id, reason="unfair")
    run = ReviewRun(year=2025, as_of=date(2025, 12, 31))
    final = ReviewRun(year=2024, as_of=date(2024, 12, 31), status="finalised")
    db.session.add_all([appeal, run, final])
    db.session.flush()
    person = team["bob"].employee
    for review in (run, final):
        db.session.add(Recommendation(run_id=review.id, employee_id=person.id, org_unit_id=person.org_unit_id,
                                      current_grade=Grade.JUNIOR, recommended_grade=Grade.JUNIOR, action=ReviewAction.KEEP,
                                      explanation={}, decision=Decision.PENDING))
    db.session.commit()

    assert _all("appeal_open") == {(appeal.id, team["hr"].id)}
    assert _all("review_undecided") == {(run.id, team["hr"].id)}
    hr = _todo(team["hr"])
    assert [i.title_en for i in hr["appeal_open"]] == ["Alice"] and [i.title_en for i in hr["review_undecided"]] == ["2025"]
    assert hr["appeal_open"][0].due is None
    assert "appeal_open" not in _todo(team["lead"]) and "review_undecided" not in _todo(team["alice"])


def test_credits_behind_are_due_in_the_fourth_quarter_to_the_person_and_their_supervisor(team):
    db.session.add(CreditRequirement(grade=Grade.JUNIOR, credits=Decimal("10")))
    db.session.add(CreditEntry(employee_id=team["bob"].employee_id, amount=Decimal("10"), earned_on=date(2026, 3, 1),
                               source=CreditSource.ADJUSTMENT))
    db.session.add(CreditEntry(employee_id=team["alice"].employee_id, amount=Decimal("9"), earned_on=date(2026, 3, 1),
                               source=CreditSource.ADJUSTMENT))
    db.session.add(CreditEntry(employee_id=team["alice"].employee_id, amount=Decimal("5"), earned_on=date(2025, 3, 1),
                               source=CreditSource.ADJUSTMENT))  # last year's count for nothing
    db.session.commit()
    alice, lead = team["alice"], team["lead"]

    behind = {object_id for object_id, user_id in _all("credits_behind") if user_id == alice.id}
    assert behind == {alice.employee_id}
    assert {(o, u) for o, u in _all("team_credits_behind") if o in (alice.employee_id, team["bob"].employee_id)} == {
        (alice.employee_id, lead.id)}
    assert [i.due for i in _todo(alice)["credits_behind"]] == [date(2026, 12, 31)]
    assert [i.title_en for i in _todo(lead)["team_credits_behind"]] == ["Alice"]
    september = date(2026, 9, 30)
    assert "credits_behind" not in _todo(alice, september) and "team_credits_behind" not in _todo(lead, september)


def test_the_to_do_list_is_one_statement_whatever_it_holds_and_says_how_many_of_each(team):
    lead = team["lead"].employee_id
    for i in range(due.TODO_ROWS + 3):
        factories.employee(staff_no=f"T{i:02d}", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION, supervisor_id=lead,
                           hire_date=date(2026, 1, 1), probation_end=TODAY - timedelta(days=i))
    db.session.commit()
    account = team["lead"]
    assert account.roles  # read at sign-in, as in a request
    with factories.statements() as seen:
        groups = due.todo(account, TODAY)
    assert len(seen) == 1
    probation = next(g for g in groups if g.kind == "probation")
    assert probation.total == due.TODO_ROWS + 3 and len(probation.items) == due.TODO_ROWS and probation.has_more


def test_the_dashboard_lists_what_is_due_with_overdue_said_in_words(app, client, team):
    lead = team["lead"].employee_id
    factories.employee(staff_no="T9", name_en="Late Trainee", grade=Grade.TRAINEE, status=EmployeeStatus.ACTIVE,
                       supervisor_id=lead, hire_date=date(2025, 1, 1), probation_end=date.today() - timedelta(days=3))
    db.session.commit()
    with client.session_transaction() as session:
        factories.sign_in(session, team["lead"])
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "To do" in page and "Probations to confirm" in page and "Late Trainee" in page
    assert "Overdue" in page and "by 3 days" in page
    assert f"/team/probation/{db.session.scalar(db.select(factories.Employee.id).where(factories.Employee.staff_no == 'T9'))}" in page


def test_the_dashboard_says_when_nothing_is_due(client, team):
    with client.session_transaction() as session:
        factories.sign_in(session, team["carol"])
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "Nothing due" in page


def test_after_the_demo_seed_the_supervisor_sees_na_lis_overdue_probation(seeded, client):
    from competency.services.org import employee_by_staff_no

    na_li = employee_by_staff_no("E0002")
    assert na_li.probation_end < date.today() and na_li.is_trainee
    with client.session_transaction() as session:
        factories.sign_in(session, db.session.scalar(db.select(factories.User).where(factories.User.email == "supervisor@demo.bank")))
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "Na Li" in page and f"/team/probation/{na_li.id}" in page and "Overdue" in page
