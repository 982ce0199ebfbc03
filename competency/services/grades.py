"""Grade changes: the one place that writes the grade history, schedules changes dated in the future, applies
them when their date comes, and tells a person's grade on any date (docs/domain.md, "Effective dates").

A change whose effective date has come is applied at once: the employee's grade (and, for a transfer or the end of
probation, status) changes and the row is marked applied. A change dated in the future is only recorded; the
person keeps the old grade everywhere until it is applied on its date (`flask grade apply`, daily from cron, and
the first request of each day). A later decision supersedes what is still scheduled for the person: an appeal that
changes a scheduled demotion, or an edit on the employee page, is never undone when the older date comes.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, insert, select, update

from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, GradeHistory
from ..timeutil import bank_today, utcnow
from . import audit, bulk
from .assessments import stored
from .unit_of_work import unit_of_work

REASON_CODES = ("review", "appeal", "employee_page", "import")


def _status_after(status: EmployeeStatus, to_grade: Grade, to_status: EmployeeStatus | None) -> EmployeeStatus | None:
    """The status the change gives, or None when it keeps the current one: a transfer moves the person, and a
    trainee on probation who becomes junior or higher leaves probation."""
    if to_status is not None and to_status != status:
        return to_status
    if to_status is None and status == EmployeeStatus.PROBATION and to_grade != Grade.TRAINEE:
        return EmployeeStatus.ACTIVE
    return None


def _supersede_scheduled(employee: Employee, actor) -> list[int]:
    """Mark every change still scheduled for the person as replaced by the decision being recorded."""
    ids = list(db.session.scalars(select(GradeHistory.id).where(
        GradeHistory.employee_id == employee.id, GradeHistory.applied_at.is_(None), GradeHistory.superseded_at.is_(None))))
    if ids:
        db.session.execute(update(GradeHistory).where(GradeHistory.id.in_(ids)).values(superseded_at=utcnow())
                           .execution_options(synchronize_session="fetch"))
        audit.record("grade.supersede", "employee", employee.id, actor=actor, superseded=ids)
    return ids


def record_grade_change(employee: Employee, to_grade: Grade, *, effective: date, reason_code: str, reason: str = "",
                        reason_data: dict | None = None, actor=None, recommendation_id: int | None = None,
                        to_status: EmployeeStatus | None = None, today: date | None = None) -> GradeHistory | None:
    """Write a decision about a person's grade (and status) to the history. What was still scheduled for them is
    superseded; the change applies now when its date has come, else it is scheduled. Returns the history row, or
    None when the person already holds that grade and status. Runs inside the caller's unit of work."""
    if reason_code not in REASON_CODES:
        raise ValueError(reason_code)
    _supersede_scheduled(employee, actor)
    new_status = _status_after(employee.status, to_grade, to_status)
    if to_grade == employee.grade and new_status is None:
        return None
    row = GradeHistory(employee=employee, from_grade=employee.grade, to_grade=to_grade,
                       from_status=employee.status if new_status else None, to_status=new_status,
                       effective_date=effective, reason_code=reason_code, reason_data=reason_data or {},
                       reason=(reason or "").strip(), approved_by_id=getattr(actor, "id", None),
                       recommendation_id=recommendation_id)
    db.session.add(row)
    if effective <= (today or bank_today()):
        _apply(row, employee)
    return row


def grade_and_status_after(grade: Grade, status: EmployeeStatus, to_grade: Grade) -> tuple[Grade, EmployeeStatus] | None:
    """What `record_grade_change` (without a status) would leave a person holding, or None when it records nothing."""
    new_status = _status_after(status, to_grade, None)
    if to_grade == grade and new_status is None:
        return None
    return to_grade, new_status or status


def record_grade_changes(changes: dict[int, tuple[Grade, EmployeeStatus, Grade]], *, effective: date, reason_code: str,
                         reason_data: dict | None = None, actor=None, today: date | None = None) -> None:
    """`record_grade_change` for many people at once, in bulk statements ({employee id: (grade, status, to grade)}):
    what was scheduled for them is superseded, and each change is written to the history, applied when its date
    has come. The caller writes the employees' new grades and statuses (`grade_and_status_after`). Runs inside the
    caller's unit of work."""
    if reason_code not in REASON_CODES:
        raise ValueError(reason_code)
    if not changes:
        return
    _supersede_scheduled_many(list(changes), actor)
    applied_at = utcnow() if effective <= (today or bank_today()) else None
    rows = []
    for employee_id, (grade, status, to_grade) in changes.items():
        after = grade_and_status_after(grade, status, to_grade)
        if after is not None:
            rows.append({"employee_id": employee_id, "from_grade": grade, "to_grade": to_grade,
                         "from_status": status if after[1] != status else None,
                         "to_status": after[1] if after[1] != status else None, "effective_date": effective,
                         "reason_code": reason_code, "reason_data": reason_data or {}, "reason": "",
                         "approved_by_id": getattr(actor, "id", None), "recommendation_id": None, "applied_at": applied_at})
    bulk.execute_many(insert(GradeHistory.__table__), rows)


def _supersede_scheduled_many(employee_ids: list[int], actor) -> None:
    """`_supersede_scheduled` for many people: one SELECT, one UPDATE, the audit events in bulk."""
    scheduled = (select(GradeHistory.id, GradeHistory.employee_id)
                 .where(GradeHistory.applied_at.is_(None), GradeHistory.superseded_at.is_(None)).order_by(GradeHistory.id))
    wanted = set(employee_ids)
    by_person: dict[int, list[int]] = {}
    for row_id, employee_id in db.session.execute(scheduled):
        if employee_id in wanted:
            by_person.setdefault(employee_id, []).append(row_id)
    if by_person:
        ids = [i for rows in by_person.values() for i in rows]
        db.session.execute(update(GradeHistory).where(GradeHistory.id.in_(ids)).values(superseded_at=utcnow())
                           .execution_options(synchronize_session="fetch"))
        audit.record_many("grade.supersede", actor, (("employee", employee_id, {"superseded": rows})
                                                     for employee_id, rows in by_person.items()))


def _apply(row: GradeHistory, employee: Employee) -> None:
    employee.grade = row.to_grade
    if row.to_status is not None:
        leaving_or_back = EmployeeStatus.LEFT in (employee.status, row.to_status) and employee.status != row.to_status
        employee.status = row.to_status
        if leaving_or_back:  # only leaving or returning changes the stored results' latest view
            stored.people_changed([employee.id])
    row.applied_at = utcnow()


def _due(today: date):
    return (select(GradeHistory).where(GradeHistory.applied_at.is_(None), GradeHistory.superseded_at.is_(None),
                                       GradeHistory.effective_date <= today)
            .order_by(GradeHistory.effective_date, GradeHistory.id))


def any_due(today: date) -> bool:
    """Whether a scheduled change waits to be applied."""
    return db.session.scalar(select(exists(_due(today).subquery()))) is True


@unit_of_work()
def apply_due_changes(today: date | None = None) -> int:
    """Apply every scheduled change whose effective date has come. Unit of work; returns how many were applied.
    Running it twice, or from two servers at once, applies nothing twice (rows are claimed one by one)."""
    today = today or bank_today()
    applied = []
    for row in db.session.scalars(_due(today)).all():
        claimed = db.session.execute(update(GradeHistory).where(GradeHistory.id == row.id, GradeHistory.applied_at.is_(None),
                                                                GradeHistory.superseded_at.is_(None))
                                     .values(applied_at=utcnow()).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            db.session.refresh(row)
            _apply(row, row.employee)
            applied.append(row.id)
    if applied:
        audit.record("grade.apply_due", "grade_history", None, today=today, applied=applied)
    return len(applied)


def scheduled_changes(employee_id: int) -> list[GradeHistory]:
    """A person's changes that are decided but not yet in effect, soonest first."""
    return db.session.scalars(select(GradeHistory).where(GradeHistory.employee_id == employee_id,
                                                         GradeHistory.applied_at.is_(None),
                                                         GradeHistory.superseded_at.is_(None))
                              .order_by(GradeHistory.effective_date, GradeHistory.id)).all()


@dataclass
class GradeOnDate:
    staff_no: str
    grade: Grade
    status: EmployeeStatus
    since: date


def grade_on(employee: Employee, day: date) -> GradeOnDate:
    """The person's grade and status on a date, past or future: the changes in effect by then (applied or still
    scheduled, never superseded) replayed in the order they were decided, a later decision winning even when it
    is dated earlier."""
    rows = db.session.scalars(select(GradeHistory).where(GradeHistory.employee_id == employee.id,
                                                         GradeHistory.superseded_at.is_(None))
                              .order_by(GradeHistory.id)).all()
    grade = rows[0].from_grade or rows[0].to_grade if rows else employee.grade
    with_status = [r for r in rows if r.to_status is not None]
    status = with_status[0].from_status or employee.status if with_status else employee.status
    since = employee.hire_date
    for row in rows:
        if row.effective_date <= day:
            grade, status = row.to_grade, row.to_status or status
            since = row.effective_date
    return GradeOnDate(employee.staff_no, grade, status, since)


_checked: dict[str, date] = {}


def apply_due_once_a_day() -> None:
    """Daily housekeeping at the first request of the day (per process), so that it happens even where the daily
    cron job is missing: apply the grade changes that fell due, remove import previews abandoned for a day and
    exports finished a day ago."""
    from flask import current_app

    from ..config import files_dir
    from .background import remove_old_exports
    from .imports import staging

    today = bank_today()
    if _checked.get("day") == today:
        return
    _checked["day"] = today
    staging.remove_abandoned(files_dir(current_app))
    remove_old_exports()
    if any_due(today):
        apply_due_changes(today)
