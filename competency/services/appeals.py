"""Acknowledgement (确认) and appeal (申诉) of an assessment result or a grade decision, and hr's resolution.

The person concerned acknowledges (optionally with a comment) or appeals (with a reason) within the appeal window
(a setting, default 7 days) after the assessment completes or the review is finalised. hr upholds an appeal with a
response, reopens the assessment to the supervisor phase, or changes the grade (through the one grade-history
function). Everything is audited; the person sees the outcome.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError
from ..extensions import db
from ..models import (
    Acknowledgement,
    Appeal,
    AppealStatus,
    Assessment,
    EmployeeStatus,
    Grade,
    Recommendation,
    ReviewAction,
)
from ..timeutil import bank_today, utcnow
from . import audit, grades
from .assessments import workflow
from .notifications import events as notifications
from .org import rolled_up
from .unit_of_work import release_snapshot, unit_of_work


@dataclass
class Standing:
    """Where a result stands for the person: since when, until when they may respond, what they said this round,
    and how their earlier appeals of it ended."""

    since: datetime | None
    deadline: date | None
    acknowledgement: Acknowledgement | None
    appeal: Appeal | None  # the latest appeal of this round, open or resolved
    earlier: list = field(default_factory=list)  # resolved appeals of earlier rounds, newest first

    @property
    def window_open(self) -> bool:
        return self.deadline is not None and bank_today() <= self.deadline

    @property
    def may_respond(self) -> bool:
        """Neither acknowledged nor appealed yet in this round, and the window is open."""
        return self.since is not None and self.acknowledgement is None and self.appeal is None and self.window_open


def _subject(assessment: Assessment | None, recommendation: Recommendation | None) -> dict:
    if (assessment is None) == (recommendation is None):
        raise ValueError("one subject: an assessment or a recommendation")
    return {"assessment_id": assessment.id} if assessment is not None else {"recommendation_id": recommendation.id}


def _round(assessment: Assessment | None, recommendation: Recommendation | None) -> tuple[datetime | None, date | None]:
    """When the current round opened (the assessment's completion, the review's finalising) and its last day."""
    if assessment is not None:
        return (assessment.supervisor_submitted_at, assessment.respond_by) if assessment.is_completed else (None, None)
    run = recommendation.run
    return (run.finalised_at, run.respond_by) if run.is_finalised else (None, None)


def _about(model, assessment, recommendation):
    if assessment is not None:
        return model.assessment_id == assessment.id
    return model.recommendation_id == recommendation.id


def _latest(model, assessment, recommendation, since: datetime, stamp):
    """The subject's latest row of the model (Acknowledgement or Appeal) written since the round opened."""
    return db.session.scalar(select(model).where(_about(model, assessment, recommendation), stamp >= since)
                             .order_by(model.id.desc()).limit(1))


def standing(assessment: Assessment | None = None, recommendation: Recommendation | None = None) -> Standing:
    """The current round of a result: acknowledged, appealed (and how it ended), or still open to a response;
    and the outcome of the appeals of earlier rounds (an appeal that reopened the assessment)."""
    _subject(assessment, recommendation)
    since, deadline = _round(assessment, recommendation)
    earlier = db.session.scalars(select(Appeal).where(
        _about(Appeal, assessment, recommendation), Appeal.status != AppealStatus.OPEN,
        *([Appeal.filed_at < since] if since else [])).order_by(Appeal.id.desc())).all()
    if since is None:
        return Standing(None, None, None, None, earlier)
    return Standing(since, deadline, _latest(Acknowledgement, assessment, recommendation, since, Acknowledgement.at),
                    _latest(Appeal, assessment, recommendation, since, Appeal.filed_at), earlier)


def _claim(assessment, recommendation) -> None:
    """Take the subject's row lock first (a no-op update), so that two responses sent at once are decided one
    after the other: the second sees the first and is refused."""
    release_snapshot()
    if assessment is not None:
        db.session.execute(update(Assessment).where(Assessment.id == assessment.id)
                           .values(respond_by=Assessment.respond_by).execution_options(synchronize_session=False))
    else:
        db.session.execute(update(Recommendation).where(Recommendation.id == recommendation.id)
                           .values(decision=Recommendation.decision).execution_options(synchronize_session=False))


def _check_open(assessment, recommendation) -> None:
    _claim(assessment, recommendation)
    found = standing(assessment, recommendation)
    if found.since is None:
        raise DomainError(_l("There is nothing to respond to yet."))
    if found.acknowledgement is not None or found.appeal is not None:
        raise DomainError(_l("You have already responded to this result."))
    if not found.window_open:
        if found.deadline is None:
            raise DomainError(_l("This result is not open to acknowledgement or appeal."))
        raise DomainError(_l("The time to respond ended on %(date)s.", date=found.deadline.isoformat()))


@unit_of_work()
def acknowledge(employee, *, assessment=None, recommendation=None, comment: str = "", actor=None) -> Acknowledgement:
    """The person accepts the result (确认), optionally with a comment. Unit of work."""
    _check_open(assessment, recommendation)
    item = Acknowledgement(employee_id=employee.id, comment=(comment or "").strip(), **_subject(assessment, recommendation))
    db.session.add(item)
    db.session.flush()
    audit.record("appeal.acknowledge", "acknowledgement", item.id, actor=actor, **_subject(assessment, recommendation))
    return item


@unit_of_work()
def file_appeal(employee, *, assessment=None, recommendation=None, reason: str, actor=None) -> Appeal:
    """The person contests the result (申诉) with a reason. Unit of work."""
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for your appeal."))
    _check_open(assessment, recommendation)
    item = Appeal(employee_id=employee.id, reason=reason.strip(), status=AppealStatus.OPEN,
                  **_subject(assessment, recommendation))
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError:  # the same appeal sent twice at once (a double click): one open appeal per subject
        raise DomainError(_l("You have already responded to this result.")) from None
    audit.record("appeal.file", "appeal", item.id, actor=actor, reason=item.reason, **_subject(assessment, recommendation))
    notifications.appeal_filed(item)
    return item


def _resolve(appeal: Appeal, status: AppealStatus, response: str, actor) -> None:
    """Claim the open appeal (a conditional update: two hr resolving at once, only one wins) with the response."""
    if not (response or "").strip():
        raise DomainError(_l("Give your response to the appeal."))
    claimed = db.session.execute(
        update(Appeal).where(Appeal.id == appeal.id, Appeal.status == AppealStatus.OPEN)
        .values(status=status, response=response.strip(), resolved_by_id=getattr(actor, "id", None), resolved_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise DomainError(_l("This appeal is already resolved."))
    db.session.refresh(appeal)
    notifications.appeal_resolved(appeal)


@unit_of_work()
def uphold(appeal: Appeal, response: str, actor=None) -> None:
    """hr keeps the result, with a response to the person. Unit of work."""
    _resolve(appeal, AppealStatus.UPHELD, response, actor)
    audit.record("appeal.uphold", "appeal", appeal.id, actor=actor, response=appeal.response)


@unit_of_work()
def reopen_assessment(appeal: Appeal, response: str, actor=None) -> None:
    """hr reopens the appealed assessment to the supervisor phase; the response is the reopen reason. Unit of work."""
    if appeal.about_grade:
        raise DomainError(_l("A grade decision is not reopened: change the grade or uphold it."))
    _resolve(appeal, AppealStatus.REOPENED, response, actor)
    workflow.reopen(appeal.assessment, "supervisor", appeal.response, actor=actor, after_appeal=True)
    audit.record("appeal.reopen", "appeal", appeal.id, actor=actor, response=appeal.response)


@unit_of_work()
def change_grade(appeal: Appeal, grade: Grade, response: str, actor=None, today: date | None = None) -> None:
    """hr changes the appealed grade decision: a grade change with the response as its reason, effective on the
    review's effective date (today if that has passed). Unit of work."""
    if not appeal.about_grade:
        raise DomainError(_l("Only an appeal against a grade decision changes a grade."))
    _resolve(appeal, AppealStatus.CHANGED, response, actor)
    today = today or bank_today()
    decision = appeal.recommendation
    effective = max(decision.run.effective_date or today, today)
    appeal.new_grade = grade
    person = appeal.employee
    # An appealed transfer that already took effect is undone: the person is back in their post.
    back = EmployeeStatus.ACTIVE if person.status == EmployeeStatus.TRANSFERRED and decision.action == ReviewAction.TRANSFER else None
    grades.record_grade_change(person, grade, effective=effective, reason_code="appeal", reason=appeal.response,
                               reason_data={"year": decision.run.year}, actor=actor, to_status=back,
                               recommendation_id=appeal.recommendation_id, today=today)
    audit.record("appeal.change_grade", "appeal", appeal.id, actor=actor, grade=grade, response=appeal.response)


def queue(open_only: bool = True):
    """SELECT of appeals, open ones (or all) oldest first."""
    query = select(Appeal).order_by(Appeal.status != AppealStatus.OPEN, Appeal.filed_at)
    return query.where(Appeal.status == AppealStatus.OPEN) if open_only else query


def open_count() -> int:
    """How many appeals wait for hr."""
    return db.session.scalar(select(func.count(Appeal.id)).where(Appeal.status == AppealStatus.OPEN))


def cycle_feedback_by_unit(cycle_id: int) -> dict[int, tuple[int, int, int]]:
    """Per org unit (sub-units included), among the cycle's assessments: how many are acknowledged (in their latest
    round), how many were ever appealed, and how many of those have a resolved appeal. Counted per own unit in SQL,
    starting from the (few) acknowledgements and appeals, then summed up the tree."""
    acknowledged = (select(Assessment.org_unit_id, func.count(func.distinct(Assessment.id)))
                    .select_from(Acknowledgement).join(Assessment, Assessment.id == Acknowledgement.assessment_id)
                    .where(Assessment.cycle_id == cycle_id, Acknowledgement.at >= Assessment.supervisor_submitted_at)
                    .group_by(Assessment.org_unit_id))
    resolved = func.max(case((Appeal.status != AppealStatus.OPEN, 1), else_=0))
    per_assessment = (select(Assessment.org_unit_id.label("unit"), resolved.label("resolved"))
                      .select_from(Appeal).join(Assessment, Assessment.id == Appeal.assessment_id)
                      .where(Assessment.cycle_id == cycle_id).group_by(Assessment.id, Assessment.org_unit_id).subquery())
    appealed = select(per_assessment.c.unit, func.count(), func.sum(per_assessment.c.resolved)).group_by(per_assessment.c.unit)
    rows = [(unit, n, 0, 0) for unit, n in db.session.execute(acknowledged)]
    rows += [(unit, 0, n, r) for unit, n, r in db.session.execute(appealed)]
    return {unit: (int(a), int(p), int(r)) for unit, (a, p, r) in rolled_up(rows).items()}


def latest_appeals(assessment_ids: list[int]) -> dict[int, Appeal]:
    """The latest appeal of each of these assessments (for the person's list of their assessments)."""
    if not assessment_ids:
        return {}
    found: dict[int, Appeal] = {}
    for appeal in db.session.scalars(select(Appeal).where(Appeal.assessment_id.in_(assessment_ids)).order_by(Appeal.id)):
        found[appeal.assessment_id] = appeal
    return found
