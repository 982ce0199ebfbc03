"""Who is told what when something happens: one function per event, called by the service that does the action,
inside its unit of work (an action rolled back tells nobody). The words are the kinds' (kinds.py)."""
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...i18n import LABELS
from ...models import Assessment, Course, Cycle, Enrolment, Recommendation, User
from .. import access
from . import notify, notify_employees, notify_many, notify_select
from .text import both, in_each_language


def _names(obj, field: str = "name") -> dict:
    return {"zh": getattr(obj, f"{field}_zh") or getattr(obj, f"{field}_en"),
            "en": getattr(obj, f"{field}_en") or getattr(obj, f"{field}_zh")}


def _person(employee) -> dict:
    names = _names(employee)
    return {locale: f"{name} ({employee.staff_no})" for locale, name in names.items()}


def _day(value) -> str | None:
    return value.isoformat() if value else None


def cycle_opened(cycle: Cycle) -> None:
    """Every participant (to their self-assessment) and every assessing supervisor (to their team), set-based."""
    params = {"cycle": _names(cycle), "self_deadline": _day(cycle.self_deadline),
              "supervisor_deadline": _day(cycle.supervisor_deadline)}
    participants = (select(User.id.label("user_id"), Assessment.id.label("object_id"))
                    .join(User, User.employee_id == Assessment.employee_id)
                    .where(Assessment.cycle_id == cycle.id, User.active.is_(True)))
    notify_select("cycle_opened", participants, params=params)
    supervisors = (select(User.id.label("user_id"), Assessment.cycle_id.label("object_id"))
                   .join(User, User.employee_id == Assessment.supervisor_id)
                   .where(Assessment.cycle_id == cycle.id, User.active.is_(True)).distinct())
    notify_select("cycle_opened_team", supervisors, params=params)


def self_submitted(assessment: Assessment) -> None:
    """The assessing supervisor: their turn to rate."""
    if assessment.supervisor_id is None:
        return
    notify_employees([assessment.supervisor_id], "self_submitted", obj=assessment, params={
        "person": _person(assessment.employee), "cycle": _names(assessment.cycle),
        "deadline": _day(assessment.cycle.supervisor_deadline)})


def assessment_completed(assessment: Assessment) -> None:
    """The person assessed: their result, and until when they may respond."""
    notify_employees([assessment.employee_id], "assessment_completed", obj=assessment, params={
        "cycle": _names(assessment.cycle), "respond_by": _day(assessment.respond_by)})


def assessment_reopened(assessment: Assessment, phase: str, reason: str) -> None:
    """The rater of the reopened phase (the person for "self", the assessing supervisor for "supervisor"), with
    hr's reason."""
    rater = assessment.employee_id if phase == "self" else assessment.supervisor_id
    if rater is None:
        return
    notify_employees([rater], f"assessment_reopened_{phase}", obj=assessment, params={
        "person": _person(assessment.employee), "cycle": _names(assessment.cycle), "reason": reason})


def appeal_filed(appeal) -> None:
    """Everyone who resolves appeals (hr)."""
    if appeal.assessment_id is not None:
        assessment = db.session.get(Assessment, appeal.assessment_id)
        names = _names(assessment.cycle)
        subject = in_each_language(lambda locale: _("the result of %(cycle)s", cycle=names[locale]))
    else:
        year = db.session.get(Recommendation, appeal.recommendation_id).run.year
        subject = in_each_language(lambda _locale: _("the grade decision of the %(year)s review", year=year))
    notify(db.session.scalars(access.users_with("appeals.resolve")).all(), "appeal_filed", obj=appeal,
           params={"person": _person(appeal.employee), "subject": subject, "reason": appeal.reason})


def appeal_resolved(appeal) -> None:
    """The person who appealed: the outcome and hr's response, linked to what they appealed."""
    target = f"/assessments/{appeal.assessment_id}" if appeal.assessment_id else "/my-grade"
    notify_employees([appeal.employee_id], "appeal_resolved", obj=appeal, params={
        "outcome": both(LABELS[appeal.status]), "response": appeal.response, "target": target})


def course_assigned(course: Course, employee_ids: list[int], due_date) -> None:
    """The people assigned (or nominated): the course, its due date and where to enrol (its next open session with
    a seat, else their training page)."""
    if not employee_ids:
        return
    from ..training.catalogue import open_sessions

    session = next((s for s in open_sessions() if s.course_id == course.id and s.seats_left), None)
    target = f"/training#session-{session.id}" if session is not None else "/training"
    notify_employees(employee_ids, "course_assigned", obj=course, link=target,
                     params={"course": _names(course, "title"), "due": _day(due_date), "target": target})


def enrolment_results(enrolment_ids: list[int], status) -> None:
    """The people whose results were recorded (all with the same outcome): the course and the result, in one
    statement for the names and one for the notifications however many were ticked."""
    if not enrolment_ids:
        return
    rows = db.session.execute(
        select(Enrolment.id, User.id, Course).join(Course, Course.id == Enrolment.course_id)
        .join(User, User.employee_id == Enrolment.employee_id).where(Enrolment.id.in_(enrolment_ids), User.active.is_(True))).all()
    outcome = both(LABELS[status])
    notify_many("enrolment_result", [
        {"user_id": user_id, "object_id": enrolment_id, "params": {"course": _names(course, "title"), "outcome": outcome}}
        for enrolment_id, user_id, course in rows])


def grade_changes(run, changes: list[tuple[Recommendation, object, object]]) -> None:
    """Each person whose grade changes in a finalised review [(recommendation, from grade, to grade)]: their
    new grade, from when, and until when they may respond (one INSERT per thousand people)."""
    accounts = dict(db.session.execute(select(User.employee_id, User.id).where(
        User.employee_id.in_([item.employee_id for item, _, _ in changes]), User.active.is_(True))).all()) if changes else {}
    notify_many("grade_changed", [
        {"user_id": accounts[item.employee_id], "object_id": item.id, "params": {
            "year": run.year, "from_grade": both(LABELS[before]), "to_grade": both(LABELS[after]),
            "effective": _day(run.effective_date), "respond_by": _day(run.respond_by)}}
        for item, before, after in changes if item.employee_id in accounts])
