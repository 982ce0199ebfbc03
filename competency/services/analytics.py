"""Aggregates behind the charts and exports, each computed in SQL over the people a user may see."""
from dataclasses import dataclass

from sqlalchemy import Float, cast, func, select

from ..extensions import db
from ..models import Employee, EmployeeStatus, OrgUnit
from .assessments.results import combined_levels
from .org import narrow, org_closure, org_subtree_ids


@dataclass
class Filters:
    cycle_id: int | None = None
    org_unit_id: int | None = None
    position_id: int | None = None
    grade: str | None = None


def people(filters: Filters, scope):
    """SELECT of employee ids within the scope and the filters (org subtree, position, grade), not left."""
    query = select(Employee.id).where(Employee.id.in_(scope), Employee.status != EmployeeStatus.LEFT)
    return narrow(query, filters.org_unit_id, filters.position_id, filters.grade)


def _levels(filters: Filters):
    return combined_levels(cycle_id=filters.cycle_id, latest_only=filters.cycle_id is None)


def _codes_order(codes) -> list[str]:
    return sorted(set(codes), key=lambda c: ("KSA".index(c[0]) if c[:1] in ("K", "S", "A") else 9, c))


def unit_gap_query(filters: Filters, scope):
    """SELECT (unit id, competency code, average gap, people) — each unit including its sub-units."""
    levels = _levels(filters)
    closure = org_closure()
    who = people(filters, scope).subquery()
    query = (select(closure.c.ancestor_id, levels.c.competency_code,
                    func.avg(cast(levels.c.target, Float) - levels.c.combined), func.count(func.distinct(levels.c.employee_id)))
             .join(Employee, Employee.id == levels.c.employee_id)
             .join(closure, closure.c.descendant_id == Employee.org_unit_id)
             .where(levels.c.employee_id.in_(select(who.c.id)), levels.c.target.is_not(None))
             .group_by(closure.c.ancestor_id, levels.c.competency_code))
    if filters.org_unit_id:
        query = query.where(closure.c.ancestor_id.in_(org_subtree_ids(filters.org_unit_id)))
    return query


def unit_gap_heatmap(filters: Filters, scope) -> tuple[list[OrgUnit], list[str], dict]:
    """Average gap (target − combined level) per org unit and competency; each unit includes its sub-units.
    Units are the filter's unit and everything below it (all units without a filter)."""
    cells = {(unit, code): (float(gap), n) for unit, code, gap, n in db.session.execute(unit_gap_query(filters, scope))}
    unit_ids = {u for u, _ in cells}
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)).order_by(OrgUnit.code)).all() if unit_ids else []
    return units, _codes_order(c for _, c in cells), cells


def member_gap_heatmap(filters: Filters, scope) -> tuple[list[Employee], list[str], dict]:
    """Gap per person and competency (latest completed assessment, or the filter's cycle)."""
    levels = _levels(filters)
    who = people(filters, scope).subquery()
    rows = db.session.execute(
        select(levels.c.employee_id, levels.c.competency_code, cast(levels.c.target, Float) - levels.c.combined)
        .where(levels.c.employee_id.in_(select(who.c.id)), levels.c.target.is_not(None))).all()
    cells = {(e, c): float(g) for e, c, g in rows}
    ids = {e for e, _ in cells}
    members = db.session.scalars(select(Employee).where(Employee.id.in_(ids)).order_by(Employee.staff_no)).all() if ids else []
    return members, _codes_order(c for _, c in cells), cells


def average_levels(filters: Filters, scope) -> tuple[list[str], dict, dict]:
    """Average combined level and average target per competency over the people in scope."""
    levels = _levels(filters)
    who = people(filters, scope).subquery()
    rows = db.session.execute(
        select(levels.c.competency_code, func.avg(levels.c.combined), func.avg(cast(levels.c.target, Float)))
        .where(levels.c.employee_id.in_(select(who.c.id))).group_by(levels.c.competency_code)).all()
    codes = _codes_order(r[0] for r in rows)
    return codes, {c: float(a) for c, a, _ in rows}, {c: float(t) for c, _, t in rows if t is not None}


def grade_distribution(filters: Filters, scope) -> tuple[list[OrgUnit], dict]:
    """Headcount per org unit (sub-units included) and grade."""
    closure = org_closure()
    who = people(filters, scope).subquery()
    query = (select(closure.c.ancestor_id, Employee.grade, func.count(Employee.id))
             .join(closure, closure.c.descendant_id == Employee.org_unit_id)
             .where(Employee.id.in_(select(who.c.id))).group_by(closure.c.ancestor_id, Employee.grade))
    if filters.org_unit_id:
        query = query.where(closure.c.ancestor_id.in_(org_subtree_ids(filters.org_unit_id)))
    counts = {(unit, grade): n for unit, grade, n in db.session.execute(query)}
    unit_ids = {u for u, _ in counts}
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)).order_by(OrgUnit.code)).all() if unit_ids else []
    return units, counts
