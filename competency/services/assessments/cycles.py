"""Assessment cycles: create and edit drafts, choose participants, open (one set-based INSERT), close,
and follow progress. Each change is a unit of work and is audited."""
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, literal, or_, select, update

from ...errors import DomainError
from ...extensions import db
from ...models import (
    Assessment,
    AssessmentStatus,
    Cycle,
    CycleStatus,
    Employee,
    EmployeeStatus,
    Grade,
    ModelVersion,
    Reopening,
    VersionStatus,
)
from ...models.assessment import SELF_EDITABLE, SUPERVISOR_EDITABLE
from ...timeutil import bank_time, bank_today, utcnow
from .. import audit
from ..notifications import events as notifications
from ..org import org_subtree_ids, rolled_up
from ..unit_of_work import unit_of_work

S = AssessmentStatus


@dataclass
class CycleValues:
    code: str
    name_zh: str
    name_en: str
    version_id: int
    period_start: date
    period_end: date
    self_deadline: date
    supervisor_deadline: date
    self_weight: int = 30
    blind: bool = True
    filter_org_unit_id: int | None = None
    filter_grades: tuple = ()


def _check_cycle_values(values: CycleValues, cycle: Cycle | None) -> ModelVersion:
    clash = db.session.scalar(select(Cycle.id).where(Cycle.code == values.code.strip()))
    if clash is not None and (cycle is None or clash != cycle.id):
        raise DomainError(_l("Another cycle already has the code %(code)s.", code=values.code))
    version = db.session.get(ModelVersion, values.version_id)
    if version is None or not version.is_published:
        raise DomainError(_l("Choose a published competency model version."))
    if values.period_end < values.period_start:
        raise DomainError(_l("The period must end after it starts."))
    if values.supervisor_deadline < values.self_deadline:
        raise DomainError(_l("The supervisor deadline cannot come before the self-assessment deadline."))
    if not 0 <= values.self_weight < 100:  # the supervisor's rating always counts (docs/domain.md, "Scoring")
        raise DomainError(_l("The self weight runs from 0 to 99; the supervisor weight is the rest."))
    for grade in values.filter_grades:
        Grade(grade)
    return version


@unit_of_work()
def save_cycle(values: CycleValues, cycle: Cycle | None = None, actor=None) -> Cycle:
    """Create a draft cycle or edit one still in draft. Unit of work."""
    if cycle is not None and not cycle.is_draft:
        raise DomainError(_l("Only a draft cycle can be edited."))
    _check_cycle_values(values, cycle)
    creating = cycle is None
    cycle = cycle or Cycle(status=CycleStatus.DRAFT)
    cycle.code, cycle.name_zh, cycle.name_en = values.code.strip(), values.name_zh.strip(), values.name_en.strip()
    cycle.version_id = values.version_id
    cycle.period_start, cycle.period_end = values.period_start, values.period_end
    cycle.self_deadline, cycle.supervisor_deadline = values.self_deadline, values.supervisor_deadline
    cycle.self_weight, cycle.supervisor_weight = values.self_weight, 100 - values.self_weight
    cycle.blind = values.blind
    cycle.filter_org_unit_id = values.filter_org_unit_id
    cycle.filter_grades = sorted(values.filter_grades, key=lambda g: Grade(g).rank)
    db.session.add(cycle)
    db.session.flush()
    audit.record("cycle.create" if creating else "cycle.update", "cycle", cycle.id, actor=actor, code=cycle.code)
    return cycle


def participants(cycle: Cycle):
    """SELECT of the employees a draft cycle would assess: the model's position, the org subtree, the grades,
    on probation or active."""
    query = select(Employee.id, Employee.grade, Employee.org_unit_id, Employee.supervisor_id).where(
        Employee.position_id == cycle.version.position_id,
        Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]),
    )
    if cycle.filter_org_unit_id:
        query = query.where(Employee.org_unit_id.in_(org_subtree_ids(cycle.filter_org_unit_id)))
    if cycle.filter_grades:
        query = query.where(Employee.grade.in_([Grade(g) for g in cycle.filter_grades]))
    return query


def participant_count(cycle: Cycle) -> int:
    """How many people opening the cycle would assess."""
    return db.session.scalar(select(func.count()).select_from(participants(cycle).subquery()))


@unit_of_work()
def open_cycle(cycle: Cycle, actor=None) -> int:
    """Open a draft cycle: one assessment per participant in a single INSERT … SELECT. Unit of work; returns the count."""
    if not cycle.is_draft:
        raise DomainError(_l("Only a draft cycle can be opened."))
    if not cycle.version.is_published:
        raise DomainError(_l("The cycle's model version is no longer published; choose the current one."))
    source = participants(cycle).subquery()
    first = S.NOT_STARTED if cycle.has_self_phase else S.SELF_SUBMITTED
    now = utcnow()
    rows = select(
        literal(cycle.id), source.c.id, literal(cycle.version_id), source.c.grade, source.c.org_unit_id,
        source.c.supervisor_id, literal(first.value), literal(1), literal(now),
    )
    db.session.execute(insert(Assessment).from_select(
        ["cycle_id", "employee_id", "version_id", "grade", "org_unit_id", "supervisor_id", "status", "lock_version",
         "updated_at"], rows))
    created = db.session.scalar(select(func.count(Assessment.id)).where(Assessment.cycle_id == cycle.id))
    cycle.status, cycle.opened_at = CycleStatus.OPEN, now
    audit.record("cycle.open", "cycle", cycle.id, actor=actor, participants=created)
    notifications.cycle_opened(cycle)
    return created


@unit_of_work()
def close_cycle(cycle: Cycle, actor=None) -> int:
    """Close an open cycle; unfinished assessments become incomplete. Unit of work; returns how many."""
    if not cycle.is_open:
        raise DomainError(_l("Only an open cycle can be closed."))
    reopened = select(Reopening.assessment_id)  # a reopened assessment may still be finished after the close
    result = db.session.execute(
        update(Assessment).where(Assessment.cycle_id == cycle.id, Assessment.status != S.COMPLETED,
                                 Assessment.id.not_in(reopened))
        .values(status=S.INCOMPLETE, lock_version=Assessment.lock_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    cycle.status, cycle.closed_at = CycleStatus.CLOSED, utcnow()
    audit.record("cycle.close", "cycle", cycle.id, actor=actor, incomplete=result.rowcount)
    return result.rowcount


def progress_by_unit(cycle: Cycle, *where) -> list[tuple[int, int, int]]:
    """(org unit id, assessments in its subtree, completed) for every unit with participants; `where`: conditions on
    the assessments counted (e.g. the analytics filters)."""
    totals = rolled_up(db.session.execute(
        select(Assessment.org_unit_id, func.count(Assessment.id), func.sum(case((Assessment.status == S.COMPLETED, 1), else_=0)))
        .where(Assessment.cycle_id == cycle.id, *where).group_by(Assessment.org_unit_id)))
    return [(unit_id, total, int(done)) for unit_id, (total, done) in totals.items()]


def status_counts(cycle: Cycle) -> dict[AssessmentStatus, int]:
    """Assessments per state in the cycle."""
    rows = db.session.execute(select(Assessment.status, func.count()).where(Assessment.cycle_id == cycle.id)
                              .group_by(Assessment.status)).all()
    return {status: n for status, n in rows}


def overdue_condition(today: date):
    """SQL condition: the assessment's current phase is past its deadline."""
    return or_(
        and_(Assessment.status.in_(SELF_EDITABLE), Cycle.self_deadline < today),
        and_(Assessment.status.in_(SUPERVISOR_EDITABLE), Cycle.supervisor_deadline < today),
    )


def overdue(cycle: Cycle, today: date | None = None, employee_ids=None) -> list[Assessment]:
    """Open-cycle assessments whose current phase is past its deadline (optionally among some employees)."""
    today = today or bank_today()
    query = (select(Assessment).join(Cycle).where(Assessment.cycle_id == cycle.id, Cycle.status == CycleStatus.OPEN,
                                                  overdue_condition(today)))
    if employee_ids is not None:
        query = query.where(Assessment.employee_id.in_(employee_ids))
    return db.session.scalars(query.order_by(Assessment.id)).all()


def is_overdue(assessment: Assessment, today: date | None = None) -> bool:
    """Whether the assessment's current phase is past its deadline in an open cycle."""
    today, cycle = today or bank_today(), assessment.cycle
    if not cycle.is_open:
        return False
    if assessment.self_editable:
        return today > cycle.self_deadline
    return assessment.supervisor_editable and today > cycle.supervisor_deadline


def late_flags(assessment: Assessment) -> dict[str, bool]:
    """Which phases were submitted after their deadline, a day of the bank's (late work is allowed, and flagged)."""
    cycle = assessment.cycle

    def after(submitted_at, deadline) -> bool:
        return submitted_at is not None and bank_time(submitted_at).date() > deadline

    return {"self": after(assessment.self_submitted_at, cycle.self_deadline),
            "supervisor": after(assessment.supervisor_submitted_at, cycle.supervisor_deadline)}


def cycles() -> list[Cycle]:
    """All cycles, newest first."""
    return db.session.scalars(select(Cycle).order_by(Cycle.period_end.desc(), Cycle.id.desc())).all()


def _started():
    return select(Cycle).where(Cycle.status != CycleStatus.DRAFT).order_by(Cycle.period_end.desc(), Cycle.id.desc())


def started_cycles() -> list[Cycle]:
    """Cycles that have been opened (open or closed, imported ones included), newest first: the cycles that
    have results to report, assign by gap or filter on."""
    return db.session.scalars(_started()).all()


def latest_started_cycle() -> Cycle | None:
    """The most recent cycle that has been opened."""
    return db.session.scalar(_started().limit(1))


def published_versions() -> list[ModelVersion]:
    """Published model versions, to pin a new cycle to."""
    return db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED)
                              .order_by(ModelVersion.position_id)).all()


def cycle_assessments(cycle: Cycle, status: str | None = None):
    """SELECT of a cycle's assessments (optionally of one state) by staff number."""
    query = (select(Assessment).join(Employee, Employee.id == Assessment.employee_id)
             .where(Assessment.cycle_id == cycle.id))
    if status:
        query = query.where(Assessment.status == AssessmentStatus(status))
    return query.order_by(Employee.staff_no)
