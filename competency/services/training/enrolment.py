"""Enrolments: assignment (also by gap), seats in sessions, cancelling, results and undoing a completion.

States: assigned → in_progress → completed | failed | absent | cancelled. A pass earns the course's credits
exactly once (one request claims the completion, then ledger.award_completions); undoing it reverses them and puts
the enrolment back in progress.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import selectinload

from ...errors import DomainError, FieldError
from ...extensions import db
from ...i18n import label, localized
from ...models import (
    Course,
    Employee,
    Enrolment,
    EnrolmentStatus,
    ResultRow,
    TrainingResult,
    TrainingSession,
)
from ...models.training import ACTIVE_STATUSES
from ...timeutil import bank_now, bank_today, utcnow
from .. import audit
from ..notifications import events as notifications
from ..unit_of_work import release_snapshot, unit_of_work
from . import ledger
from .catalogue import unknown_codes, unknown_codes_message

E = EnrolmentStatus


@dataclass
class AssignResult:
    assigned: list[int] = field(default_factory=list)
    skipped_enrolled: list[int] = field(default_factory=list)
    skipped_completed: list[int] = field(default_factory=list)


@unit_of_work()
def assign(course: Course, employee_ids, due_date: date | None, actor=None) -> AssignResult:
    """Assign a course to people, skipping those already enrolled or already through it. Unit of work."""
    if not course.active:
        raise DomainError(_l("This course is not active."))
    wanted = sorted(set(employee_ids))
    result = AssignResult()
    rows = db.session.execute(
        select(Enrolment.employee_id, Enrolment.status)
        .where(Enrolment.course_id == course.id, Enrolment.employee_id.in_(wanted),
               Enrolment.status.in_([*ACTIVE_STATUSES, E.COMPLETED]))
    ).all()
    enrolled = {e for e, s in rows if s in ACTIVE_STATUSES}
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
    notifications.course_assigned(course, result.assigned, due_date)
    audit.record("training.assign", "course", course.id, actor=actor, assigned=len(result.assigned),
                 skipped_enrolled=len(result.skipped_enrolled), skipped_completed=len(result.skipped_completed))
    return result


def gap_candidates(competency_code: str, cycle_id: int, min_gap: float | None, within=None) -> list[int]:
    """Ids of the people whose gap (target − combined level) on the competency in the cycle is at least `min_gap`
    (None: any gap, i.e. below the target), optionally among `within` (a SELECT of employee ids). A code no
    published model has is refused (FieldError on `competency`), not answered with nobody."""
    if unknown_codes([competency_code]):
        raise FieldError("competency", unknown_codes_message([competency_code]))
    r = ResultRow  # the stored results
    query = select(r.employee_id).where(r.cycle_id == cycle_id, r.competency_code == competency_code, r.target.is_not(None),
                                        r.gap > 0 if min_gap is None else r.gap >= min_gap - 1e-9)
    if within is not None:
        query = query.where(r.employee_id.in_(within))
    return sorted(set(db.session.scalars(query)))


class SessionFull(DomainError):
    def __init__(self):
        super().__init__(_l("This session is full."))


@unit_of_work()
def enrol_in_session(session: TrainingSession, employee: Employee, actor=None) -> Enrolment:
    """Take a seat in an open session (atomic against the capacity) and enrol for its course. Unit of work.

    The seat is taken by a conditional UPDATE that is the first statement of its transaction, so concurrent
    enrolments queue on the database's write lock and never overbook, on SQLite as on PostgreSQL.
    """
    # sessions keep the local time they were planned in, so they are compared with the local time
    if not session.open or not session.course.active or session.starts_at <= bank_now():
        raise DomainError(_l("This session is not open for enrolment."))
    if db.session.scalar(select(Enrolment.id).where(Enrolment.employee_id == employee.id, Enrolment.course_id == session.course_id,
                                                    Enrolment.status == E.COMPLETED)) is not None:
        raise DomainError(_l("You have already completed this course."))
    session_id, course_id, employee_id = session.id, session.course_id, employee.id
    release_snapshot()
    taken = db.session.execute(
        update(TrainingSession).where(TrainingSession.id == session_id, TrainingSession.seats_taken < TrainingSession.capacity)
        .values(seats_taken=TrainingSession.seats_taken + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise SessionFull()
    existing = db.session.scalar(select(Enrolment).where(
        Enrolment.employee_id == employee_id, Enrolment.course_id == course_id, Enrolment.status.in_(ACTIVE_STATUSES)))
    if existing is not None and existing.session_id is not None:
        raise DomainError(_l("You are already enrolled in a session of this course."))
    enrolment = existing or Enrolment(course_id=course_id, employee_id=employee_id, status=E.ASSIGNED,
                                      assigned_by_id=getattr(actor, "id", None))
    enrolment.session_id = session_id
    db.session.add(enrolment)
    db.session.flush()
    audit.record("training.enrol", "enrolment", enrolment.id, actor=actor, session=session_id)
    return enrolment


def _release_seat(enrolment: Enrolment) -> None:
    if enrolment.session_id is not None:
        db.session.execute(update(TrainingSession).where(TrainingSession.id == enrolment.session_id,
                                                         TrainingSession.seats_taken > 0)
                           .values(seats_taken=TrainingSession.seats_taken - 1).execution_options(synchronize_session=False))


def _claim(enrolment_ids: list[int], statuses, **values) -> list[int]:
    """Change those of the enrolments whose status is still one of `statuses`, by one conditional UPDATE … RETURNING,
    so that of two simultaneous requests (a double click) only one changes each; the ids this call changed, in order.
    The enrolments held in the session take the new values."""
    # On PostgreSQL the rows are locked in the order of their ids (FOR UPDATE after ORDER BY), so that two requests
    # claiming overlapping sets wait for each other instead of deadlocking; SQLite has one write lock anyway.
    still = select(Enrolment.id).where(Enrolment.id.in_(enrolment_ids), Enrolment.status.in_(statuses))
    return sorted(db.session.scalars(
        update(Enrolment).where(Enrolment.id.in_(still.order_by(Enrolment.id).with_for_update()), Enrolment.status.in_(statuses))
        .values(updated_at=utcnow(), **values).returning(Enrolment.id).execution_options(synchronize_session="fetch")))


@unit_of_work()
def cancel(enrolment: Enrolment, actor=None) -> None:
    """Cancel an active enrolment and free its seat, once however often it is asked (a double click). Unit of work."""
    if not enrolment.is_active:
        raise DomainError(_l("Only an assigned or ongoing enrolment can be cancelled."))
    enrolment_id = enrolment.id
    release_snapshot()  # the claim's UPDATE then waits for the write lock instead of failing on a stale snapshot
    if not _claim([enrolment_id], ACTIVE_STATUSES, status=E.CANCELLED):
        # cancelled or closed meanwhile: its seat is no longer this request's to free
        raise DomainError(_l("Only an assigned or ongoing enrolment can be cancelled."))
    _release_seat(db.session.get(Enrolment, enrolment_id))
    audit.record("training.cancel", "enrolment", enrolment_id, actor=actor)


# What each outcome makes of an enrolment: its status and result.
OUTCOMES = {"pass": (E.COMPLETED, TrainingResult.PASS), "fail": (E.FAILED, TrainingResult.FAIL), "absent": (E.ABSENT, None)}


def result_date_error(on: date, session_start: date | None = None, today: date | None = None):
    """Why a result cannot be dated `on` — in the future, or before its session started — or None when it can."""
    today = today or bank_today()
    if on > today:
        return _l("A result cannot be dated in the future (%(date)s is after today, %(today)s).",
                  date=on.isoformat(), today=today.isoformat())
    if session_start is not None and on < session_start:
        return _l("A result cannot be dated before its session started (%(date)s is before %(start)s).",
                  date=on.isoformat(), start=session_start.isoformat())
    return None


class AlreadyClosed(DomainError):
    """A result for an enrolment closed otherwise (someone recorded another result meanwhile, or cancelled it): the
    message names the person and the enrolment's state in words, not its code."""

    def __init__(self, enrolment: Enrolment):
        super().__init__(_l("The enrolment of %(name)s (%(no)s) is already closed: %(state)s. Nothing was recorded.",
                            name=localized(enrolment.employee), no=enrolment.employee.staff_no, state=label(enrolment.status)))


def _needs_recording(enrolment: Enrolment, outcome: str, on: date) -> bool:
    """Whether the result is still to be recorded: False when exactly this outcome is recorded already (a second
    submit changes nothing); DomainError for an unknown outcome, a bad date or an enrolment closed otherwise."""
    if outcome not in OUTCOMES:
        raise DomainError(_l("Unknown outcome %(value)s: use pass, fail or absent.", value=outcome))
    if (enrolment.status, enrolment.result) == OUTCOMES[outcome]:
        return False
    if not enrolment.is_active:
        raise AlreadyClosed(enrolment)
    problem = result_date_error(on, enrolment.session.starts_at.date() if enrolment.session else None)
    if problem is not None:
        raise FieldError("on", problem)
    return True


def _record(enrolment_ids: list[int], outcome: str, score, on: date, actor, tell: bool = True) -> int:
    """Record the result on those of the enrolments still active, all by one conditional UPDATE, so that of two
    simultaneous submits (a double click) only one records each; the passes earn their credits and, with `tell`, the
    people are told (one statement for all). How many this call recorded; AlreadyClosed when one of them was closed
    otherwise meanwhile (the unit then writes nothing). `actor`: the account, or its id."""
    status, result = OUTCOMES[outcome]
    score = None if score in (None, "") else Decimal(str(score))
    claimed = _claim(enrolment_ids, ACTIVE_STATUSES, status=status, result=result, score=score, completed_on=on)
    missed = set(enrolment_ids) - set(claimed)  # closed by a request that came first: fine if with this very result
    if missed:
        for closed in db.session.scalars(select(Enrolment).where(Enrolment.id.in_(missed)).order_by(Enrolment.id)):
            db.session.refresh(closed)
            if (closed.status, closed.result) != (status, result):
                raise AlreadyClosed(closed)
    audit.record_many("training.result", actor, (("enrolment", i, {"outcome": outcome, "score": score}) for i in claimed))
    if status == E.COMPLETED:
        ledger.award_completions(claimed, on, actor)
    if tell:
        notifications.enrolment_results(claimed, status)
    return len(claimed)


@unit_of_work()
def record_result(enrolment: Enrolment, outcome: str, *, score=None, on: date | None = None, actor=None,
                  tell: bool = True) -> bool:
    """Record attendance and result: outcome is pass, fail or absent, dated `on` (today by default; never in the
    future nor before the session started). A pass completes the enrolment and earns its credits exactly once;
    recording the same outcome again changes nothing. The person is told, unless `tell` is off (an import of past
    training: history, not news). Unit of work; whether anything was recorded."""
    on = on or bank_today()
    if not _needs_recording(enrolment, outcome, on):
        return False
    db.session.flush()  # an enrolment made in the same unit (an import) exists before the UPDATE
    return _record([enrolment.id], outcome, score, on, actor, tell) == 1


@dataclass
class Recorded:
    """What a bulk recording did: how many results it recorded, how many were recorded already (unchanged)."""

    recorded: int
    unchanged: int


@unit_of_work()
def record_results(enrolments: list[Enrolment], outcome: str, *, score=None, on: date | None = None, actor=None) -> Recorded:
    """Record the same result for several enrolments, all or none; those that already have exactly this result
    (a second click of the same button) are left as they are. DomainError when nobody is chosen. Unit of work."""
    if not enrolments:
        raise FieldError("enrolments", _l("Tick at least one person to record a result for."))
    on = on or bank_today()
    pending = [e.id for e in enrolments if _needs_recording(e, outcome, on)]
    recorded = 0
    if pending:
        actor_id = getattr(actor, "id", None)  # read before the account expires with the snapshot
        release_snapshot()  # the claim's UPDATE then waits for the write lock instead of failing on a stale snapshot
        recorded = _record(pending, outcome, score, on, actor_id)
    return Recorded(recorded=recorded, unchanged=len(enrolments) - recorded)


@unit_of_work()
def undo_completion(enrolment: Enrolment, reason: str, actor=None) -> None:
    """Take back a completion: a reversing ledger entry with the reason; the enrolment is in progress again, with
    no result, score or completion date. Only once: an undo sent twice (a double click) is refused. Unit of work."""
    if not enrolment.is_completed:
        raise DomainError(_l("Only a completed enrolment can be undone."))
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    enrolment_id = enrolment.id
    release_snapshot()  # the claim's UPDATE then waits for the write lock instead of failing on a stale snapshot
    if not _claim([enrolment_id], (E.COMPLETED,), status=E.IN_PROGRESS, result=None, score=None, completed_on=None):
        raise DomainError(_l("This completion is already undone."))
    ledger.reverse_enrolment_credits(db.session.get(Enrolment, enrolment_id), reason, actor)
    audit.record("training.undo_completion", "enrolment", enrolment_id, actor=actor, reason=reason.strip())


def my_enrolments(employee_id: int) -> list[Enrolment]:
    """A person's enrolments, active first, then by due date."""
    return db.session.scalars(
        select(Enrolment).where(Enrolment.employee_id == employee_id)
        .options(selectinload(Enrolment.assigned_by), selectinload(Enrolment.course), selectinload(Enrolment.session))
        .order_by(case((Enrolment.status.in_(ACTIVE_STATUSES), 0), else_=1), Enrolment.due_date.is_(None),
                  Enrolment.due_date, Enrolment.id.desc())).all()


def session_standing(enrolments: list[Enrolment], sessions) -> dict[int, Enrolment]:
    """{session id: the person's enrolment that stands in the way of enrolling in it}: a seat in this session or in
    another of its course, or the course completed. From the person's enrolments (`my_enrolments`); a session not in
    the answer is open to them (an assigned course without a session is enrolled in by taking a seat)."""
    by_course: dict[int, Enrolment] = {}
    for enrolment in enrolments:
        if enrolment.is_completed or (enrolment.is_active and enrolment.session_id is not None):
            by_course.setdefault(enrolment.course_id, enrolment)
    return {s.id: by_course[s.course_id] for s in sessions if s.course_id in by_course}


def roster(course: Course, session_id: int | None = None) -> list[Enrolment]:
    """Everyone enrolled in a course (or one of its sessions), by status and staff number."""
    query = (select(Enrolment).join(Employee).where(Enrolment.course_id == course.id)
             .options(selectinload(Enrolment.assigned_by), selectinload(Enrolment.employee), selectinload(Enrolment.session)))
    if session_id:
        query = query.where(Enrolment.session_id == session_id)
    return db.session.scalars(query.order_by(Enrolment.status, Employee.staff_no)).all()
