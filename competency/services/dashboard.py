"""Figures for the role dashboards, each computed in SQL."""
from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, OrgUnit, User
from ..timeutil import utcnow
from .access import private_ids, visible_employee_ids


def grade_counts(user) -> dict[Grade, int]:
    """Headcount per grade among the employees the user may see (leavers excluded)."""
    rows = db.session.execute(
        select(Employee.grade, func.count(Employee.id))
        .where(Employee.id.in_(visible_employee_ids(user)), Employee.status != EmployeeStatus.LEFT)
        .group_by(Employee.grade)
    ).all()
    found = dict(rows)
    return {g: found.get(g, 0) for g in Grade}


def headcount_by_unit(user) -> list[tuple[OrgUnit, int]]:
    """Headcount per org unit (the unit's own staff) among the visible employees, largest first."""
    rows = db.session.execute(
        select(OrgUnit, func.count(Employee.id).label("n"))
        .join(Employee, Employee.org_unit_id == OrgUnit.id)
        .where(Employee.id.in_(visible_employee_ids(user)), Employee.status != EmployeeStatus.LEFT)
        .group_by(OrgUnit.id)
        .order_by(func.count(Employee.id).desc(), OrgUnit.code)
    ).all()
    return [(unit, n) for unit, n in rows]


def probation_ending(user, within_days: int = 30, today: date | None = None) -> list[Employee]:
    """Visible trainees whose probation ends in the coming days or has ended without a change of grade."""
    today = today or date.today()
    return db.session.scalars(
        select(Employee)
        .where(
            Employee.id.in_(private_ids(user)),
            Employee.grade == Grade.TRAINEE,
            Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]),
            Employee.probation_end <= today + timedelta(days=within_days),
        )
        .order_by(Employee.probation_end, Employee.staff_no)
    ).all()


def account_summary() -> dict:
    """Counts of accounts: total, deactivated and currently locked."""
    now = utcnow()
    return {
        "total": db.session.scalar(select(func.count(User.id))),
        "inactive": db.session.scalar(select(func.count(User.id)).where(User.active.is_(False))),
        "locked": db.session.scalar(select(func.count(User.id)).where(User.locked_until > now)),
    }
