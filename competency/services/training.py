"""Training: catalogue, assignment (also by gap), sessions with capacity, results, the credit ledger,
requirements, mentoring, certifications and course recommendations. Units of work commit and are audited."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, extract, func, insert, select, update

from ..errors import DomainError
from ..extensions import db
from ..models import (
    LEVELS, Assessment, AssessmentStatus, Certification, Competency, Course, CourseCompetency, CourseType,
    CreditEntry, CreditRequirement, CreditSource, Cycle, Delivery, Employee, EmployeeStatus, Enrolment,
    EnrolmentStatus, Grade, Mentoring, MentoringStatus, TrainingResult, TrainingSession,
)
from ..timeutil import utcnow
from . import audit
from .results_sql import combined_levels
from .scope import org_closure

E = EnrolmentStatus
ACTIVE = (E.ASSIGNED, E.IN_PROGRESS)


# --- catalogue -----------------------------------------------------------------------------------


def parse_competencies(text: str) -> dict[str, int]:
    """`S1:3;S2:3` → {"S1": 3, "S2": 3}; ValueError names the bad part."""
    result: dict[str, int] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        code, _, level = part.partition(":")
        code = code.strip()
        if not code or not level.strip().isdigit() or int(level) not in LEVELS or code in result:
            raise ValueError(part)
        result[code] = int(level)
    return result


@dataclass
class CourseValues:
    code: str
    title_zh: str
    title_en: str
    type: str
    delivery: str
    hours: Decimal
    credits: Decimal
    competencies: dict
    description_zh: str = ""
    description_en: str = ""
    active: bool = True


def apply_course(course: Course, values: CourseValues) -> bool:
    """Copy the values onto the course; return whether anything changed (caller flushes)."""
    changed = False
    fields = {"title_zh": values.title_zh, "title_en": values.title_en, "type": CourseType(values.type),
              "delivery": Delivery(values.delivery), "hours": Decimal(values.hours), "credits": Decimal(values.credits),
              "description_zh": values.description_zh, "description_en": values.description_en, "active": values.active}
    for key, value in fields.items():
        if getattr(course, key) != value:
            setattr(course, key, value)
            changed = True
    current = {c.competency_code: c.up_to_level for c in course.competencies}
    if current != values.competencies:
        course.competencies = [CourseCompetency(competency_code=k, up_to_level=v) for k, v in sorted(values.competencies.items())]
        changed = True
    return changed


def save_course(values: CourseValues, course: Course | None = None, actor=None) -> Course:
    """Create or update a course. Commits."""
    if Decimal(values.credits) < 0:
        raise DomainError(_l("Credits cannot be negative."))
    if Decimal(values.hours) <= 0:
        raise DomainError(_l("Hours must be positive."))
    clash = db.session.scalar(select(Course.id).where(Course.code == values.code.strip()))
    if clash is not None and (course is None or clash != course.id):
        raise DomainError(_l("Another course already has the code %(code)s.", code=values.code))
    creating = course is None
    if creating:
        course = Course(code=values.code.strip())
        db.session.add(course)
    course.code = values.code.strip()
    apply_course(course, values)
    db.session.flush()
    audit.record("course.create" if creating else "course.update", "course", course.id, actor=actor, code=course.code)
    db.session.commit()
    return course


def courses(active_only: bool = False):
    """SELECT of courses by code."""
    query = select(Course).order_by(Course.code)
    return query.where(Course.active.is_(True)) if active_only else query


def save_session(course: Course, values: dict, session: TrainingSession | None = None, actor=None) -> TrainingSession:
    """Create or update a session (starts_at, ends_at, place, trainer_id, capacity, open). Commits."""
    if values["ends_at"] < values["starts_at"]:
        raise DomainError(_l("A session cannot end before it starts."))
    if values["capacity"] < 1:
        raise DomainError(_l("Capacity must be at least 1."))
    if session is not None and values["capacity"] < session.seats_taken:
        raise DomainError(_l("%(n)s people are already enrolled: the capacity cannot be lower.", n=session.seats_taken))
    creating = session is None
    session = session or TrainingSession(course=course, seats_taken=0)
    for key in ("starts_at", "ends_at", "place", "trainer_id", "capacity", "open"):
        setattr(session, key, values[key])
    db.session.add(session)
    db.session.flush()
    audit.record("session.create" if creating else "session.update", "training_session", session.id, actor=actor)
    db.session.commit()
    return session


def open_sessions(today: date | None = None):
    """Sessions open for enrolment that have not started, soonest first."""
    today = today or date.today()
    return db.session.scalars(
        select(TrainingSession).join(Course)
        .where(TrainingSession.open.is_(True), Course.active.is_(True), TrainingSession.starts_at >= today)
        .order_by(TrainingSession.starts_at)
    ).all()


# --- assignment ----------------------------------------------------------------------------------


@dataclass
class AssignResult:
    assigned: list[int] = field(default_factory=list)
    skipped_enrolled: list[int] = field(default_factory=list)
    skipped_completed: list[int] = field(default_factory=list)


def assign(course: Course, employee_ids, due_date: date | None, actor=None) -> AssignResult:
    """Assign a course to people, skipping those already enrolled or already through it. Commits."""
    if not course.active:
        raise DomainError(_l("This course is not active."))
    wanted = sorted(set(employee_ids))
    result = AssignResult()
    rows = db.session.execute(
        select(Enrolment.employee_id, Enrolment.status)
        .where(Enrolment.course_id == course.id, Enrolment.employee_id.in_(wanted),
               Enrolment.status.in_([*ACTIVE, E.COMPLETED]))
    ).all()
    enrolled = {e for e, s in rows if s in ACTIVE}
    completed = {e for e, s in rows if s == E.COMPLETED} - enrolled
    for employee_id in wanted:
        if employee_id in enrolled:
            result.skipped_enrolled.append(employee_id)
        elif employee_id in completed:
            result.skipped_completed.append(employee_id)
        else:
            result.assigned.append(employee_id)
    now = utcnow()
    if result.assigned:
        db.session.execute(insert(Enrolment), [
            {"course_id": course.id, "employee_id": e, "status": E.ASSIGNED, "due_date": due_date,
             "assigned_by_id": getattr(actor, "id", None), "assigned_at": now, "updated_at": now}
            for e in result.assigned])
    audit.record("training.assign", "course", course.id, actor=actor, assigned=len(result.assigned),
                 skipped_enrolled=len(result.skipped_enrolled), skipped_completed=len(result.skipped_completed))
    db.session.commit()
    return result


def gap_candidates(competency_code: str, cycle_id: int, min_gap: float, within=None) -> list[int]:
    """Ids of the people whose gap (target − combined level) on the competency in the cycle is at least `min_gap`,
    optionally among `within` (a SELECT of employee ids)."""
    levels = combined_levels(cycle_id=cycle_id)
    query = (select(levels.c.employee_id).where(levels.c.competency_code == competency_code,
                                                levels.c.target.is_not(None),
                                                levels.c.target - levels.c.combined >= min_gap - 1e-9))
    if within is not None:
        query = query.where(levels.c.employee_id.in_(within))
    return sorted(set(db.session.scalars(query)))


# --- enrolment lifecycle -------------------------------------------------------------------------


class SessionFull(DomainError):
    def __init__(self):
        super().__init__(_l("This session is full."))


def enrol_in_session(session: TrainingSession, employee: Employee, actor=None) -> Enrolment:
    """Take a seat in an open session (atomic against the capacity) and enrol for its course. Commits.

    The seat is taken by a conditional UPDATE that is the first statement of its transaction, so concurrent
    enrolments queue on the database's write lock and never overbook, on SQLite as on PostgreSQL.
    """
    if not session.open or not session.course.active or session.starts_at <= datetime.now():  # sessions keep the local time they were planned in
        raise DomainError(_l("This session is not open for enrolment."))
    if db.session.scalar(select(Enrolment.id).where(Enrolment.employee_id == employee.id, Enrolment.course_id == session.course_id,
                                                    Enrolment.status == E.COMPLETED)) is not None:
        raise DomainError(_l("You have already completed this course."))
    session_id, course_id, employee_id = session.id, session.course_id, employee.id
    db.session.commit()  # end any read snapshot: SQLite cannot turn a stale snapshot into a write
    taken = db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id, TrainingSession.seats_taken < TrainingSession.capacity)
        .values(seats_taken=TrainingSession.seats_taken + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        db.session.rollback()
        raise SessionFull()
    existing = db.session.scalar(select(Enrolment).where(
        Enrolment.employee_id == employee_id, Enrolment.course_id == course_id, Enrolment.status.in_(ACTIVE)))
    if existing is not None and existing.session_id is not None:
        db.session.rollback()
        raise DomainError(_l("You are already enrolled in a session of this course."))
    enrolment = existing or Enrolment(course_id=course_id, employee_id=employee_id, status=E.ASSIGNED,
                                      assigned_by_id=getattr(actor, "id", None))
    enrolment.session_id = session_id
    db.session.add(enrolment)
    db.session.flush()
    audit.record("training.enrol", "enrolment", enrolment.id, actor=actor, session=session_id)
    db.session.commit()
    return enrolment


def _release_seat(enrolment: Enrolment) -> None:
    if enrolment.session_id is not None:
        db.session.execute(update(TrainingSession).where(TrainingSession.id == enrolment.session_id,
                                                         TrainingSession.seats_taken > 0)
                           .values(seats_taken=TrainingSession.seats_taken - 1).execution_options(synchronize_session=False))


def cancel(enrolment: Enrolment, actor=None) -> None:
    """Cancel an active enrolment and free its seat. Commits."""
    if enrolment.status not in ACTIVE:
        raise DomainError(_l("Only an assigned or ongoing enrolment can be cancelled."))
    _release_seat(enrolment)
    enrolment.status = E.CANCELLED
    audit.record("training.cancel", "enrolment", enrolment.id, actor=actor)
    db.session.commit()


def start(enrolment: Enrolment, actor=None) -> None:
    """assigned → in_progress. Commits."""
    if enrolment.status != E.ASSIGNED:
        raise DomainError(_l("Only an assigned enrolment can start."))
    enrolment.status = E.IN_PROGRESS
    audit.record("training.start", "enrolment", enrolment.id, actor=actor)
    db.session.commit()


def record_result(enrolment: Enrolment, outcome: str, *, score=None, on: date | None = None, actor=None,
                  commit: bool = True) -> None:
    """Record attendance and result: outcome is pass, fail or absent. A pass completes the enrolment and
    earns its credits exactly once; recording the same pass again changes nothing."""
    on = on or date.today()
    if outcome == TrainingResult.PASS and enrolment.status == E.COMPLETED:
        return
    if enrolment.status not in ACTIVE:
        raise DomainError(_l("This enrolment is already closed (%(state)s).", state=enrolment.status.value))
    if outcome == "absent":
        enrolment.status, enrolment.result = E.ABSENT, None
    else:
        enrolment.result = TrainingResult(outcome)
        enrolment.status = E.COMPLETED if enrolment.result == TrainingResult.PASS else E.FAILED
    enrolment.score = None if score in (None, "") else Decimal(str(score))
    enrolment.completed_on = on
    audit.record("training.result", "enrolment", enrolment.id, actor=actor, outcome=outcome, score=enrolment.score)
    if enrolment.status == E.COMPLETED:
        _award_once(enrolment, on, actor)
    if commit:
        db.session.commit()


def _net_credits(enrolment_id: int) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))
                             .where(CreditEntry.enrolment_id == enrolment_id)) or Decimal(0)


def _award_once(enrolment: Enrolment, on: date, actor) -> CreditEntry | None:
    db.session.flush()
    # Take the enrolment's row lock (a no-op update) so that two simultaneous passes award one entry.
    db.session.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    if _net_credits(enrolment.id) > 0:
        return None
    entry = CreditEntry(employee_id=enrolment.employee_id, amount=enrolment.course.credits, earned_on=on,
                        source=CreditSource.ENROLMENT, enrolment_id=enrolment.id,
                        reason=f"{enrolment.course.code}", created_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    return entry


def undo_completion(enrolment: Enrolment, reason: str, actor=None) -> None:
    """Take back a completion: a reversing ledger entry with the reason; the enrolment is in progress again. Commits."""
    if enrolment.status != E.COMPLETED:
        raise DomainError(_l("Only a completed enrolment can be undone."))
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    for entry in db.session.scalars(select(CreditEntry).where(CreditEntry.enrolment_id == enrolment.id,
                                                              CreditEntry.amount > 0)):
        if not _is_reversed(entry):
            _reversal(entry, reason, actor)
    enrolment.status, enrolment.result, enrolment.completed_on = E.IN_PROGRESS, None, None
    audit.record("training.undo_completion", "enrolment", enrolment.id, actor=actor, reason=reason.strip())
    db.session.commit()


# --- the ledger ----------------------------------------------------------------------------------


def _is_reversed(entry: CreditEntry) -> bool:
    return db.session.scalar(select(CreditEntry.id).where(CreditEntry.reverses_id == entry.id)) is not None


def _reversal(entry: CreditEntry, reason: str, actor) -> CreditEntry:
    reversal = CreditEntry(employee_id=entry.employee_id, amount=-entry.amount, earned_on=entry.earned_on,
                           source=entry.source, reason=reason.strip(), enrolment_id=entry.enrolment_id,
                           mentoring_id=entry.mentoring_id, reverses_id=entry.id, created_by_id=getattr(actor, "id", None))
    db.session.add(reversal)
    audit.record("credit.reverse", "credit_entry", entry.id, actor=actor, reason=reason.strip())
    return reversal


def reverse(entry: CreditEntry, reason: str, actor=None) -> CreditEntry:
    """Cancel a ledger line with a reversing line (the original stays). Commits."""
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    if entry.reverses_id is not None:
        raise DomainError(_l("A reversal cannot itself be reversed; add an adjustment instead."))
    if _is_reversed(entry):
        raise DomainError(_l("This entry is already reversed."))
    reversal = _reversal(entry, reason, actor)
    db.session.commit()
    return reversal


def adjust(employee: Employee, amount, reason: str, on: date | None = None, actor=None) -> CreditEntry:
    """hr: a manual adjustment (positive or negative) with a reason. Commits."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise DomainError(_l("The amount must be a number.")) from None
    if value == 0 or not value.is_finite():
        raise DomainError(_l("The amount cannot be zero."))
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    entry = CreditEntry(employee_id=employee.id, amount=value, earned_on=on or date.today(),
                        source=CreditSource.ADJUSTMENT, reason=reason.strip(), created_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    audit.record("credit.adjust", "credit_entry", entry.id, actor=actor, employee=employee.staff_no, amount=value)
    db.session.commit()
    return entry


def ledger(employee_id: int):
    """SELECT of an employee's ledger, newest first."""
    return (select(CreditEntry).where(CreditEntry.employee_id == employee_id)
            .order_by(CreditEntry.earned_on.desc(), CreditEntry.id.desc()))


def yearly_status(employee_ids, year: int):
    """One SQL query: (employee, credits earned in the year, the grade's requirement) for the given ids."""
    earned = (select(func.coalesce(func.sum(CreditEntry.amount), 0))
              .where(CreditEntry.employee_id == Employee.id, extract("year", CreditEntry.earned_on) == year)
              .correlate(Employee).scalar_subquery())
    return (select(Employee, earned.label("earned"), func.coalesce(CreditRequirement.credits, 0).label("required"))
            .outerjoin(CreditRequirement, CreditRequirement.grade == Employee.grade)
            .where(Employee.id.in_(employee_ids))
            .order_by(Employee.staff_no))


def my_year(employee: Employee, year: int) -> tuple[Decimal, Decimal]:
    """(earned, required) for one person and year."""
    _person, earned, required = db.session.execute(yearly_status([employee.id], year)).one()
    return Decimal(earned), Decimal(required)


def compliance_by_unit(year: int, employee_ids=None) -> list[tuple[int, int, int]]:
    """(org unit id, people in its subtree, of whom meeting the year's requirement), computed in SQL."""
    earned = (select(CreditEntry.employee_id, func.sum(CreditEntry.amount).label("earned"))
              .where(extract("year", CreditEntry.earned_on) == year).group_by(CreditEntry.employee_id).subquery())
    people = (select(Employee.id, Employee.org_unit_id,
                     case((func.coalesce(earned.c.earned, 0) >= func.coalesce(CreditRequirement.credits, 0), 1), else_=0).label("ok"))
              .outerjoin(earned, earned.c.employee_id == Employee.id)
              .outerjoin(CreditRequirement, CreditRequirement.grade == Employee.grade)
              .where(Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE])))
    if employee_ids is not None:
        people = people.where(Employee.id.in_(employee_ids))
    people = people.subquery()
    closure = org_closure()
    rows = db.session.execute(
        select(closure.c.ancestor_id, func.count(people.c.id), func.sum(people.c.ok))
        .join(people, people.c.org_unit_id == closure.c.descendant_id)
        .group_by(closure.c.ancestor_id)).all()
    return [(unit, n, int(ok or 0)) for unit, n, ok in rows]


def requirements() -> dict[Grade, Decimal]:
    """The yearly credit requirement of each grade (0 where none is set)."""
    found = {r.grade: r.credits for r in db.session.scalars(select(CreditRequirement))}
    return {g: found.get(g, Decimal(0)) for g in Grade}


def set_requirements(values: dict, actor=None) -> None:
    """hr: set the yearly credit requirement per grade. Commits."""
    current = {r.grade: r for r in db.session.scalars(select(CreditRequirement))}
    for grade, credits in values.items():
        credits = Decimal(str(credits))
        if credits < 0:
            raise DomainError(_l("Credits cannot be negative."))
        row = current.get(Grade(grade)) or CreditRequirement(grade=Grade(grade))
        row.credits = credits
        db.session.add(row)
    audit.record("credit.requirements", "credit_requirement", None, actor=actor,
                 **{Grade(g).value: str(v) for g, v in values.items()})
    db.session.commit()


# --- mentoring -----------------------------------------------------------------------------------


def pair(mentor: Employee, mentee: Employee, course: Course, on: date | None = None, actor=None) -> Mentoring:
    """Pair an experienced manager with a new one for a mentoring course. Commits."""
    if course.type != CourseType.MENTORING:
        raise DomainError(_l("Choose a mentoring course."))
    if mentor.id == mentee.id:
        raise DomainError(_l("A mentor cannot mentor themself."))
    if mentor.grade.rank <= mentee.grade.rank:
        raise DomainError(_l("The mentor must hold a higher grade than the new colleague."))
    mentoring = Mentoring(course=course, mentor=mentor, mentee=mentee, started_on=on or date.today(),
                          created_by_id=getattr(actor, "id", None))
    db.session.add(mentoring)
    db.session.flush()
    audit.record("mentoring.pair", "mentoring", mentoring.id, actor=actor, mentor=mentor.staff_no, mentee=mentee.staff_no)
    db.session.commit()
    return mentoring


def complete_mentoring(mentoring: Mentoring, on: date | None = None, actor=None) -> None:
    """Complete a pairing: mentor and mentee each earn the course's credits, once. Commits."""
    if mentoring.status == MentoringStatus.COMPLETED:
        return
    if mentoring.status != MentoringStatus.ACTIVE:
        raise DomainError(_l("This pairing was cancelled."))
    on = on or date.today()
    claimed = db.session.execute(update(Mentoring).where(Mentoring.id == mentoring.id, Mentoring.status == MentoringStatus.ACTIVE)
                                 .values(status=MentoringStatus.COMPLETED, completed_on=on).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # completed meanwhile: the credits are already there
        db.session.rollback()
        return
    mentoring.status, mentoring.completed_on = MentoringStatus.COMPLETED, on
    for person in (mentoring.mentor, mentoring.mentee):
        db.session.add(CreditEntry(employee_id=person.id, amount=mentoring.course.credits, earned_on=on,
                                   source=CreditSource.MENTORING, mentoring_id=mentoring.id,
                                   reason=mentoring.course.code, created_by_id=getattr(actor, "id", None)))
    audit.record("mentoring.complete", "mentoring", mentoring.id, actor=actor)
    db.session.commit()


# --- certifications ------------------------------------------------------------------------------


def save_certification(employee: Employee, values: dict, cert: Certification | None = None, actor=None) -> Certification:
    """Record or correct a certification (name, issuer, number, issued_on, expires_on). Commits."""
    if values.get("expires_on") and values["expires_on"] < values["issued_on"]:
        raise DomainError(_l("A certification cannot expire before it is issued."))
    creating = cert is None
    cert = cert or Certification(employee=employee)
    for key in ("name", "issuer", "number", "issued_on", "expires_on"):
        setattr(cert, key, values.get(key))
    db.session.add(cert)
    db.session.flush()
    audit.record("certification.create" if creating else "certification.update", "certification", cert.id, actor=actor)
    db.session.commit()
    return cert


def expiring_soon(cert: Certification, today: date | None = None, days: int = 60) -> bool:
    """Whether the certification expires within the coming `days` (or has expired)."""
    today = today or date.today()
    return cert.expires_on is not None and cert.expires_on <= today + timedelta(days=days)


# --- recommendations and demand ------------------------------------------------------------------


@dataclass
class Recommendation:
    competency_code: str
    competency: Competency
    level: float
    target: int
    weight: Decimal
    courses: list[Course]

    @property
    def gap(self) -> float:
        return self.target - self.level

    @property
    def priority(self) -> float:
        return float(self.weight) * self.gap


def latest_completed(employee_id: int) -> Assessment | None:
    """The person's most recent completed assessment (by cycle end)."""
    return db.session.scalar(
        select(Assessment).join(Cycle).where(Assessment.employee_id == employee_id,
                                             Assessment.status == AssessmentStatus.COMPLETED)
        .order_by(Cycle.period_end.desc(), Assessment.id.desc()).limit(1))


def recommendations(employee: Employee, assessment: Assessment | None = None, grade: Grade | None = None) -> list[Recommendation]:
    """From the latest completed assessment: competencies below the current grade's target (or `grade`'s), ranked
    by weight × gap, each with the active courses that develop it to at least the target, minus those completed."""
    from .assessment import result_of

    assessment = assessment or latest_completed(employee.id)
    if assessment is None:
        return []
    done = set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.employee_id == employee.id,
                                                                    Enrolment.status == E.COMPLETED)))
    comps = {c.code: c for c in assessment.version.competencies}
    result = []
    for row in result_of(assessment).rows:
        target = row.competency.target(grade or employee.grade)
        if row.combined is None or target is None or row.combined >= target:
            continue
        offered = db.session.scalars(
            select(Course).join(CourseCompetency)
            .where(Course.active.is_(True), CourseCompetency.competency_code == row.competency.code,
                   CourseCompetency.up_to_level >= target, Course.id.not_in(done or [-1]))
            .order_by(Course.code)).all()
        result.append(Recommendation(row.competency.code, comps[row.competency.code], row.combined, target,
                                     row.competency.weight, offered))
    return sorted(result, key=lambda r: (-r.priority, r.competency_code))


def demand(cycle_id: int | None = None) -> list[tuple[Course, int]]:
    """Per active course: how many people have a gap (below their grade's target) on a competency it develops,
    from each person's latest completed assessment (or the given cycle) — computed in SQL."""
    levels = combined_levels(cycle_id=cycle_id, latest_only=cycle_id is None)
    gaps = (select(levels.c.employee_id, levels.c.competency_code)
            .where(levels.c.target.is_not(None), levels.c.combined < levels.c.target).subquery())
    rows = db.session.execute(
        select(Course, func.count(func.distinct(gaps.c.employee_id)))
        .join(CourseCompetency, CourseCompetency.course_id == Course.id)
        .outerjoin(gaps, gaps.c.competency_code == CourseCompetency.competency_code)
        .where(Course.active.is_(True))
        .group_by(Course.id)
        .order_by(func.count(func.distinct(gaps.c.employee_id)).desc(), Course.code)).all()
    return [(course, n) for course, n in rows]


def my_enrolments(employee_id: int) -> list[Enrolment]:
    """A person's enrolments, active first, then by due date."""
    return db.session.scalars(
        select(Enrolment).where(Enrolment.employee_id == employee_id)
        .order_by(case((Enrolment.status.in_(ACTIVE), 0), else_=1), Enrolment.due_date.is_(None),
                  Enrolment.due_date, Enrolment.id.desc())).all()


def is_overdue(enrolment: Enrolment, today: date | None = None) -> bool:
    """Active and past its due date."""
    today = today or date.today()
    return enrolment.status in ACTIVE and enrolment.due_date is not None and enrolment.due_date < today
