"""Grade changes: the one place that writes the grade history, schedules changes dated in the future, applies
them when their date comes, and tells a person's grade on any date (docs/domain.md, "Effective dates").

A change whose effective date has come is applied at once: the employee's grade (and, for a transfer or the end of
probation, status) changes and the row is marked applied. A change dated in the future is only recorded; the
person keeps the old grade everywhere until `flask grade apply` (run daily from cron) applies it on its date.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, GradeHistory
from ..timeutil import utcnow
from . import audit
from .unit_of_work import unit_of_work

REASON_CODES = ("review", "appeal", "employee_page", "import")


def _status_after(employee: Employee, to_grade: Grade, to_status: EmployeeStatus | None) -> EmployeeStatus | None:
    """The status the change gives, or None when it keeps the current one: a transfer moves the person, and a
    trainee on probation who becomes junior or higher leaves probation."""
    if to_status is not None and to_status != employee.status:
        return to_status
    if to_status is None and employee.status == EmployeeStatus.PROBATION and to_grade != Grade.TRAINEE:
        return EmployeeStatus.ACTIVE
    return None


def record_grade_change(employee: Employee, to_grade: Grade, *, effective: date, reason_code: str, reason: str = "",
                        reason_data: dict | None = None, actor=None, recommendation_id: int | None = None,
                        to_status: EmployeeStatus | None = None, today: date | None = None) -> GradeHistory | None:
    """Write a change of grade (and status) to the history; apply it now when its date has come, else schedule it.
    Returns the history row, or None when nothing would change. Runs inside the caller's unit of work."""
    if reason_code not in REASON_CODES:
        raise ValueError(reason_code)
    new_status = _status_after(employee, to_grade, to_status)
    if to_grade == employee.grade and new_status is None:
        return None
    row = GradeHistory(employee=employee, from_grade=employee.grade, to_grade=to_grade,
                       from_status=employee.status if new_status else None, to_status=new_status,
                       effective_date=effective, reason_code=reason_code, reason_data=reason_data or {},
                       reason=(reason or "").strip(), approved_by_id=getattr(actor, "id", None),
                       recommendation_id=recommendation_id)
    db.session.add(row)
    if effective <= (today or date.today()):
        _apply(row, employee)
    return row


def _apply(row: GradeHistory, employee: Employee) -> None:
    employee.grade = row.to_grade
    if row.to_status is not None:
        employee.status = row.to_status
    row.applied_at = utcnow()


def due_changes(today: date):
    """SELECT of the scheduled changes whose date has come, oldest first."""
    return (select(GradeHistory).where(GradeHistory.applied_at.is_(None), GradeHistory.effective_date <= today)
            .order_by(GradeHistory.effective_date, GradeHistory.id))


@unit_of_work()
def apply_due_changes(today: date | None = None) -> int:
    """Apply every scheduled change whose effective date has come (`flask grade apply`, daily). Unit of work;
    returns how many were applied. Running it twice applies nothing twice."""
    today = today or date.today()
    rows = db.session.scalars(due_changes(today).with_for_update(skip_locked=True)).all()
    for row in rows:
        _apply(row, row.employee)
    if rows:
        audit.record("grade.apply_due", "grade_history", None, today=today, applied=[r.id for r in rows])
    return len(rows)


def scheduled_changes(employee_id: int) -> list[GradeHistory]:
    """A person's changes that are decided but not yet in effect, soonest first."""
    return db.session.scalars(select(GradeHistory).where(GradeHistory.employee_id == employee_id,
                                                         GradeHistory.applied_at.is_(None))
                              .order_by(GradeHistory.effective_date, GradeHistory.id)).all()


@dataclass
class GradeOnDate:
    staff_no: str
    grade: Grade
    status: EmployeeStatus
    since: date


def grade_on(employee: Employee, day: date) -> GradeOnDate:
    """The person's grade and status on a date, past or future: from the applied state, undo the applied changes
    dated after the day, or add the scheduled changes dated on or before it."""
    rows = db.session.scalars(select(GradeHistory).where(GradeHistory.employee_id == employee.id)
                              .order_by(GradeHistory.effective_date, GradeHistory.id)).all()
    grade, status = employee.grade, employee.status
    for row in reversed([r for r in rows if r.applied_at is not None and r.effective_date > day]):
        grade = row.from_grade or grade
        status = row.from_status or status
    for row in (r for r in rows if r.applied_at is None and r.effective_date <= day):
        grade, status = row.to_grade, row.to_status or status
    in_effect = [r for r in rows if r.effective_date <= day]
    since = in_effect[-1].effective_date if in_effect else employee.hire_date
    return GradeOnDate(employee.staff_no, grade, status, since)
