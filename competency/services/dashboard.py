"""Figures for the role dashboards, each computed in SQL."""
from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, Employee, EmployeeStatus, Grade, OrgUnit, Role, User, UserRole
from ..timeutil import bank_today, utcnow
from . import due
from .access import among, private_among, visible_employee_ids
from .analytics import Filters, in_scope


def unit_grade_counts(user) -> dict[tuple[int, Grade], int]:
    """Headcount per (own org unit, grade) among the employees the user may see (leavers excluded): one pass over
    the employees, from which the dashboard's counts and the grade chart are all summed."""
    rows = db.session.execute(
        select(Employee.org_unit_id, Employee.grade, func.count(Employee.id))
        .where(among(Employee.id, visible_employee_ids(user)), Employee.status != EmployeeStatus.LEFT)
        .group_by(Employee.org_unit_id, Employee.grade)).all()
    return {(unit, grade): n for unit, grade, n in rows}


def grade_counts(counts: dict[tuple[int, Grade], int]) -> dict[Grade, int]:
    """Headcount per grade, from `unit_grade_counts`."""
    return {g: sum(n for (_u, grade), n in counts.items() if grade == g) for g in Grade}


def headcount_by_unit(units: list[OrgUnit], totals: dict) -> list[tuple[OrgUnit, int]]:
    """Headcount per org unit, sub-units included (as the grade distribution chart counts), in tree order, from
    `analytics.rolled_up_grades` of `unit_grade_counts`."""
    per_unit: dict[int, int] = {}
    for (unit, _grade), n in totals.items():
        per_unit[unit] = per_unit.get(unit, 0) + n
    return [(unit, per_unit[unit.id]) for unit in units]


# Lists on the dashboard show this many rows and link to the full, paginated list.
DASHBOARD_ROWS = 20


def _probation_query(user, within_days: int, today: date):
    # The team's ids are read first (once per request, shared with the team's charts): planners misjudge a recursive
    # reporting line's size, and its union with oneself more so.
    whose = private_among(user, Employee.id, within=lambda column, team: in_scope(Filters(), team, column))
    return due.trainees_ending(today + timedelta(days=within_days)).where(whose)


def probation_ending(user, within_days: int = 30, today: date | None = None, limit: int = DASHBOARD_ROWS) -> tuple[list[Employee], int]:
    """Visible trainees whose probation ends in the coming days or has ended without a change of grade: the first
    `limit` (soonest first) and how many there are."""
    query = _probation_query(user, within_days, today or bank_today())
    rows = db.session.execute(query.add_columns(func.count().over())  # how many, counted in the same pass
                              .order_by(Employee.probation_end, Employee.staff_no).limit(limit)).all()
    return [person for person, _total in rows], rows[0][1] if rows else 0


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
