"""Figures for the role dashboards, each computed in SQL."""
from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, Employee, EmployeeStatus, Grade, OrgUnit, Role, User, UserRole
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
    """Counts of accounts: total, deactivated, hr and admin accounts still without two-factor, and failed sign-ins
    in the last 24 hours."""
    privileged = select(UserRole.user_id).where(UserRole.role.in_([Role.HR, Role.ADMIN]))
    return {
        "total": db.session.scalar(select(func.count(User.id))),
        "inactive": db.session.scalar(select(func.count(User.id)).where(User.active.is_(False))),
        "without_two_factor": db.session.scalar(select(func.count(User.id)).where(
            User.active.is_(True), User.totp_enabled_at.is_(None), User.id.in_(privileged))),
        "failed_logins": db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.login_failed", AuditEvent.at >= utcnow() - timedelta(hours=24))),
    }
