"""Assessment cycles and the self → supervisor workflow. Units of work commit; every change is audited.

States: not_started → self_in_progress → self_submitted → supervisor_in_progress → completed
(incomplete when the cycle closes first). A cycle with self weight 0 starts at self_submitted.
"""
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, literal, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from ..errors import DomainError, NotFound
from ..extensions import db
from ..models import (
    LEVELS, Assessment, AssessmentStatus, Competency, Cycle, CycleStatus, Employee, EmployeeStatus, Grade,
    ModelVersion, Rater, Rating, Role, User, VersionStatus,
)
from ..timeutil import utcnow
from . import audit, scoring
from .scope import is_in_chain_above, org_closure, org_subtree_ids

S = AssessmentStatus
SELF_EDITABLE = (S.NOT_STARTED, S.SELF_IN_PROGRESS)
SUPERVISOR_EDITABLE = (S.SELF_SUBMITTED, S.SUPERVISOR_IN_PROGRESS)


class EditConflict(DomainError):
    """Someone saved the same form after it was opened here."""

    def __init__(self):
        super().__init__(_l("This assessment was changed since you opened it (perhaps in another tab). "
                            "Nothing was saved: reload the page to see the latest version."))


class RatingsIncomplete(DomainError):
    """Submitting needs every competency rated and a comment for level 1 and 5."""

    def __init__(self, missing: list[str], uncommented: list[str]):
        self.missing, self.uncommented = missing, uncommented
        parts = []
        if missing:
            parts.append(str(_l("Rate every competency before submitting (missing: %(codes)s).", codes=", ".join(missing))))
        if uncommented:
            parts.append(str(_l("Level 1 and level 5 need a comment (%(codes)s).", codes=", ".join(uncommented))))
        super().__init__(" ".join(parts))


# --- cycles --------------------------------------------------------------------------------------


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
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise DomainError(_l("Choose a published competency model version."))
    if values.period_end < values.period_start:
        raise DomainError(_l("The period must end after it starts."))
    if values.supervisor_deadline < values.self_deadline:
        raise DomainError(_l("The supervisor deadline cannot come before the self-assessment deadline."))
    if not 0 <= values.self_weight <= 100:
        raise DomainError(_l("The self weight runs from 0 to 100; the supervisor weight is the rest."))
    for grade in values.filter_grades:
        Grade(grade)
    return version


def save_cycle(values: CycleValues, cycle: Cycle | None = None, actor=None) -> Cycle:
    """Create a draft cycle or edit one still in draft. Commits."""
    if cycle is not None and cycle.status != CycleStatus.DRAFT:
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
    db.session.commit()
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


def open_cycle(cycle: Cycle, actor=None) -> int:
    """Open a draft cycle: one assessment per participant in a single INSERT … SELECT. Commits; returns the count."""
    if cycle.status != CycleStatus.DRAFT:
        raise DomainError(_l("Only a draft cycle can be opened."))
    if cycle.version.status != VersionStatus.PUBLISHED:
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
    db.session.commit()
    return created


def close_cycle(cycle: Cycle, actor=None) -> int:
    """Close an open cycle; unfinished assessments become incomplete. Commits; returns how many."""
    if cycle.status != CycleStatus.OPEN:
        raise DomainError(_l("Only an open cycle can be closed."))
    result = db.session.execute(
        update(Assessment).where(Assessment.cycle_id == cycle.id, Assessment.status != S.COMPLETED)
        .values(status=S.INCOMPLETE, lock_version=Assessment.lock_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    cycle.status, cycle.closed_at = CycleStatus.CLOSED, utcnow()
    audit.record("cycle.close", "cycle", cycle.id, actor=actor, incomplete=result.rowcount)
    db.session.commit()
    return result.rowcount


def progress_by_unit(cycle: Cycle) -> list[tuple[int, int, int]]:
    """(org unit id, assessments in its subtree, completed) for every unit with participants, from SQL."""
    closure = org_closure()
    rows = db.session.execute(
        select(closure.c.ancestor_id, func.count(Assessment.id),
               func.sum(case((Assessment.status == S.COMPLETED, 1), else_=0)))
        .join(closure, closure.c.descendant_id == Assessment.org_unit_id)
        .where(Assessment.cycle_id == cycle.id)
        .group_by(closure.c.ancestor_id)
    ).all()
    return [(unit_id, total, int(done or 0)) for unit_id, total, done in rows]


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
    today = today or date.today()
    query = (select(Assessment).join(Cycle).where(Assessment.cycle_id == cycle.id, Cycle.status == CycleStatus.OPEN,
                                                  overdue_condition(today)))
    if employee_ids is not None:
        query = query.where(Assessment.employee_id.in_(employee_ids))
    return db.session.scalars(query.order_by(Assessment.id)).all()


def is_overdue(assessment: Assessment, today: date | None = None) -> bool:
    """Whether the assessment's current phase is past its deadline in an open cycle."""
    today, cycle = today or date.today(), assessment.cycle
    if cycle.status != CycleStatus.OPEN:
        return False
    if assessment.status in SELF_EDITABLE:
        return today > cycle.self_deadline
    return assessment.status in SUPERVISOR_EDITABLE and today > cycle.supervisor_deadline


def late_flags(assessment: Assessment) -> dict[str, bool]:
    """Which phases were submitted after their deadline (late work is allowed, and flagged)."""
    cycle = assessment.cycle
    return {
        "self": bool(assessment.self_submitted_at and assessment.self_submitted_at.date() > cycle.self_deadline),
        "supervisor": bool(assessment.supervisor_submitted_at
                           and assessment.supervisor_submitted_at.date() > cycle.supervisor_deadline),
    }


def change_supervisor(assessment: Assessment, supervisor: Employee, actor=None) -> None:
    """Let another supervisor do the supervisor assessment. Commits."""
    if supervisor.id == assessment.employee_id:
        raise DomainError(_l("Nobody assesses themself as supervisor."))
    if assessment.cycle.status != CycleStatus.OPEN or assessment.status == S.COMPLETED:
        raise DomainError(_l("Only an unfinished assessment of an open cycle can change its supervisor."))
    account = db.session.scalar(select(User).where(User.employee_id == supervisor.id, User.active.is_(True)))
    if account is None or not account.has_role(Role.SUPERVISOR):
        raise DomainError(_l("%(no)s has no active account with the supervisor role.", no=supervisor.staff_no))
    before = assessment.supervisor_id
    assessment.supervisor_id, assessment.updated_at = supervisor.id, utcnow()
    audit.record("assessment.change_supervisor", "assessment", assessment.id, actor=actor, before=before, after=supervisor.id)
    db.session.commit()


# --- rating --------------------------------------------------------------------------------------


def ratings_of(assessment: Assessment, rater: Rater) -> dict[int, Rating]:
    """The rater's ratings by competency id."""
    return {r.competency_id: r for r in assessment.ratings if r.rater == rater}


def save_ratings(assessment: Assessment, rater: Rater, entries: dict[int, tuple[int | None, str]], *,
                 submit: bool, lock_version: int, actor=None) -> Assessment:
    """Save a rater's draft or submission {competency id: (level or None, comment)}. Commits.

    Refuses a stale form (EditConflict), a phase that is not open to this rater, and an incomplete submission.
    """
    if assessment.lock_version != lock_version:
        raise EditConflict()
    if assessment.cycle.status != CycleStatus.OPEN:
        raise DomainError(_l("The cycle is not open: nothing can be rated."))
    editable = SELF_EDITABLE if rater == Rater.SELF else SUPERVISOR_EDITABLE
    if assessment.status not in editable:
        raise DomainError(_l("This part of the assessment cannot be edited now (state: %(state)s).",
                             state=assessment.status.value))
    competencies = {c.id: c for c in assessment.version.competencies}
    mine = ratings_of(assessment, rater)
    for comp_id, (level, comment) in entries.items():
        if comp_id not in competencies:
            raise DomainError(_l("Unknown competency."))
        if level is not None and level not in LEVELS:
            raise DomainError(_l("Levels run from 1 to 5."))
        rating = mine.get(comp_id)
        if rating is None:
            rating = mine[comp_id] = Rating(competency_id=comp_id, rater=rater)
            assessment.ratings.append(rating)
        rating.level, rating.comment = level, (comment or "").strip()
    if submit:
        _check_complete(competencies, mine)
    now = utcnow()
    if rater == Rater.SELF:
        assessment.status = S.SELF_SUBMITTED if submit else S.SELF_IN_PROGRESS
        assessment.self_submitted_at = now if submit else None
    else:
        assessment.status = S.COMPLETED if submit else S.SUPERVISOR_IN_PROGRESS
        assessment.supervisor_submitted_at = now if submit else None
        if submit:
            assessment.overall_score = result_of(assessment).overall
    assessment.updated_at = now
    action = f"assessment.{rater.value}_{'submit' if submit else 'save'}"
    audit.record(action, "assessment", assessment.id, actor=actor)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise EditConflict() from None
    return assessment


def _check_complete(competencies: dict[int, Competency], mine: dict[int, Rating]) -> None:
    missing = [c.code for cid, c in competencies.items() if mine.get(cid) is None or mine[cid].level is None]
    uncommented = [c.code for cid, c in competencies.items()
                   if mine.get(cid) is not None and mine[cid].level in (1, 5) and not mine[cid].comment]
    if missing or uncommented:
        raise RatingsIncomplete(missing, uncommented)


REOPEN_PHASES = {"self": S.SELF_IN_PROGRESS, "supervisor": S.SUPERVISOR_IN_PROGRESS}


def reopen(assessment: Assessment, phase: str, reason: str, actor=None) -> None:
    """hr: send an assessment back to the self or supervisor phase, with a reason. Audited. Commits."""
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason for reopening."))
    if assessment.cycle.status != CycleStatus.OPEN:
        raise DomainError(_l("Only assessments of an open cycle can be reopened."))
    if phase not in REOPEN_PHASES:
        raise DomainError(_l("Choose the phase to reopen."))
    if phase == "self" and not assessment.cycle.has_self_phase:
        raise DomainError(_l("This cycle has no self-assessment phase."))
    if phase == "supervisor" and assessment.status in SELF_EDITABLE:
        raise DomainError(_l("The self-assessment has not been submitted yet."))
    before = assessment.status
    assessment.status = REOPEN_PHASES[phase]
    assessment.supervisor_submitted_at, assessment.overall_score = None, None
    if phase == "self":
        assessment.self_submitted_at = None
    assessment.updated_at = utcnow()
    audit.record("assessment.reopen", "assessment", assessment.id, actor=actor, phase=phase,
                 before=before.value, reason=reason.strip())
    db.session.commit()


# --- results -------------------------------------------------------------------------------------


@dataclass
class CompetencyResult:
    competency: Competency
    self_level: int | None
    supervisor_level: int | None
    combined: float | None
    target: int | None
    next_target: int | None
    gap: float | None
    next_gap: float | None
    flag: str | None


@dataclass
class AssessmentResult:
    rows: list[CompetencyResult]
    categories: dict[str, float | None]
    overall: float | None


def result_of(assessment: Assessment, include_self: bool = True) -> AssessmentResult:
    """Levels by rater, combined levels, targets, gaps, flags and scores (self ratings left out when asked)."""
    comps = assessment.version.competencies
    code_of = {c.id: c.code for c in comps}
    by_rater = {rater: {code_of[r.competency_id]: r.level for r in assessment.ratings
                        if r.rater == rater and r.level is not None and r.competency_id in code_of}
                for rater in Rater}
    self_levels, supervisor_levels = (by_rater[Rater.SELF] if include_self else {}), by_rater[Rater.SUPERVISOR]
    combined = scoring.combined_levels({Rater.SELF.value: self_levels, Rater.SUPERVISOR.value: supervisor_levels},
                                       assessment.cycle.rater_weights)
    flags = scoring.disagreements(self_levels, supervisor_levels)
    grade, next_grade = assessment.grade, assessment.grade.next()
    rows = []
    for comp in comps:
        level = combined.get(comp.code)
        target, next_target = comp.target(grade), comp.target(next_grade)
        rows.append(CompetencyResult(
            comp, self_levels.get(comp.code), supervisor_levels.get(comp.code), level,
            target, next_target,
            None if level is None or target is None else target - level,
            None if level is None or next_target is None else next_target - level,
            flags[comp.code].kind if comp.code in flags else None,
        ))
    comp_weights = {c.code: float(c.weight) for c in comps}
    categories = {c.code: c.category.value for c in comps}
    return AssessmentResult(rows, scoring.category_scores(combined, comp_weights, categories),
                            scoring.score(combined, comp_weights))


# --- who may see what ----------------------------------------------------------------------------


def get_for_self(user, assessment_id: int) -> Assessment:
    """The user's own assessment; NotFound for anybody else's."""
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or user.employee_id is None or assessment.employee_id != user.employee_id:
        raise NotFound()
    return assessment


def get_for_supervisor(user, assessment_id: int) -> Assessment:
    """An assessment the user is the assessing supervisor of; NotFound otherwise."""
    assessment = db.session.get(Assessment, assessment_id)
    if (assessment is None or user.employee_id is None or not user.has_role(Role.SUPERVISOR)
            or assessment.supervisor_id != user.employee_id):
        raise NotFound()
    return assessment


def get_result(user, assessment_id: int) -> Assessment:
    """A result the user may read: hr and admin always; once completed, the employee, the assessing
    supervisor and the supervisor chain. NotFound otherwise."""
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound()
    if user.has_role(Role.HR, Role.ADMIN):
        return assessment
    if assessment.status == S.COMPLETED and user.employee_id is not None and (
        assessment.employee_id == user.employee_id
        or (user.has_role(Role.SUPERVISOR) and assessment.supervisor_id == user.employee_id)
        or is_in_chain_above(user, assessment.employee_id)
    ):
        return assessment
    raise NotFound()


def shows_self_ratings(user, assessment: Assessment) -> bool:
    """Blind rating: the assessing supervisor sees no self ratings before submitting their own."""
    if not assessment.cycle.blind or assessment.status == S.COMPLETED:
        return True
    return not (user.employee_id is not None and assessment.supervisor_id == user.employee_id
                and assessment.employee_id != user.employee_id)


def my_assessments(user) -> list[Assessment]:
    """The user's own assessments, newest cycle first."""
    if user.employee_id is None:
        return []
    return db.session.scalars(select(Assessment).join(Cycle).where(Assessment.employee_id == user.employee_id)
                              .order_by(Cycle.period_end.desc(), Cycle.id.desc())).all()


def team_assessments(user, include_closed: bool = False) -> list[Assessment]:
    """Assessments the user is the assessing supervisor of (open cycles unless asked), by cycle and staff number."""
    if user.employee_id is None:
        return []
    query = (select(Assessment).join(Cycle).join(Employee, Employee.id == Assessment.employee_id)
             .where(Assessment.supervisor_id == user.employee_id))
    if not include_closed:
        query = query.where(Cycle.status == CycleStatus.OPEN)
    return db.session.scalars(query.order_by(Cycle.period_end.desc(), Employee.staff_no)).all()


def cycle_assessments(cycle: Cycle, status: str | None = None):
    """SELECT of a cycle's assessments (optionally of one state) by staff number."""
    query = (select(Assessment).join(Employee, Employee.id == Assessment.employee_id)
             .where(Assessment.cycle_id == cycle.id))
    if status:
        query = query.where(Assessment.status == AssessmentStatus(status))
    return query.order_by(Employee.staff_no)


def leniency(cycle: Cycle) -> list[tuple]:
    """Per assessing supervisor: (employee, mean supervisor rating, people rated, difference from the
    organisation's mean), over the cycle's completed assessments — computed in SQL."""
    base = _supervisor_ratings(cycle)
    org_mean = select(func.avg(base.c.level)).scalar_subquery()
    mean = func.avg(base.c.level)
    rows = db.session.execute(
        select(Employee, mean, func.count(func.distinct(base.c.assessment_id)), mean - org_mean)
        .join(base, base.c.supervisor_id == Employee.id)
        .group_by(Employee.id)
        .order_by((mean - org_mean).desc(), Employee.staff_no)
    ).all()
    return [(person, float(avg), n, float(diff)) for person, avg, n, diff in rows]


def _supervisor_ratings(cycle: Cycle):
    """Subquery of the supervisor ratings of the cycle's completed assessments (supervisor, assessment, level)."""
    return (select(Assessment.supervisor_id.label("supervisor_id"), Assessment.id.label("assessment_id"),
                   Rating.level.label("level"))
            .join(Rating, Rating.assessment_id == Assessment.id)
            .where(Assessment.cycle_id == cycle.id, Assessment.status == S.COMPLETED,
                   Rating.rater == Rater.SUPERVISOR, Rating.level.is_not(None))
            .subquery())


def organisation_mean(cycle: Cycle) -> float | None:
    """The mean supervisor rating over the cycle's completed assessments."""
    value = db.session.scalar(select(func.avg(_supervisor_ratings(cycle).c.level)))
    return None if value is None else float(value)


def cycles() -> list[Cycle]:
    """All cycles, newest first."""
    return db.session.scalars(select(Cycle).order_by(Cycle.period_end.desc(), Cycle.id.desc())).all()


def published_versions() -> list[ModelVersion]:
    """Published model versions, to pin a new cycle to."""
    return db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED)
                              .order_by(ModelVersion.position_id)).all()
