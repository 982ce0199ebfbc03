"""Queries and changes on org units and employees."""
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..errors import DomainError
from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, GradeHistory, OrgUnit, Position
from . import audit
from .scope import org_subtree_ids, visible_employee_ids


@dataclass
class EmployeeFilters:
    q: str = ""
    org_unit_id: int | None = None
    position_id: int | None = None
    grade: str | None = None
    status: str | None = None


def employee_query(user, filters: EmployeeFilters):
    """SELECT of the employees the user may see, narrowed by the filters, ordered by staff number."""
    query = select(Employee).where(Employee.id.in_(visible_employee_ids(user)))
    if filters.q:
        like = f"%{filters.q.strip()}%"
        query = query.where(
            or_(Employee.staff_no.ilike(like), Employee.name_zh.ilike(like), Employee.name_en.ilike(like))
        )
    query = narrow(query, filters.org_unit_id, filters.position_id, filters.grade)
    if filters.status:
        query = query.where(Employee.status == EmployeeStatus(filters.status))
    return query.order_by(Employee.staff_no)


def narrow(query, org_unit_id: int | None, position_id: int | None, grade: str | None):
    """Narrow a query over employees to an org unit's subtree, a position and a grade (each optional)."""
    if org_unit_id:
        query = query.where(Employee.org_unit_id.in_(org_subtree_ids(org_unit_id)))
    if position_id:
        query = query.where(Employee.position_id == position_id)
    if grade:
        query = query.where(Employee.grade == Grade(grade))
    return query


def org_tree() -> list[tuple[OrgUnit, int, int]]:
    """Every org unit in tree order as (unit, depth, headcount of the unit itself)."""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all()
    counts = dict(
        db.session.execute(
            select(Employee.org_unit_id, func.count(Employee.id))
            .where(Employee.status != EmployeeStatus.LEFT)
            .group_by(Employee.org_unit_id)
        ).all()
    )
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[OrgUnit, int, int]] = []

    def walk(parent_id, depth):
        for unit in children.get(parent_id, []):
            ordered.append((unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def positions() -> list[Position]:
    """All positions by code."""
    return db.session.scalars(select(Position).order_by(Position.code)).all()


def supervisor_chain_ids(employee_id: int) -> list[int]:
    """The ids above an employee, nearest first (stops at the top or at a loop)."""
    chain: list[int] = []
    current = db.session.get(Employee, employee_id)
    while current is not None and current.supervisor_id is not None and current.supervisor_id not in chain:
        chain.append(current.supervisor_id)
        current = db.session.get(Employee, current.supervisor_id)
    return chain


def update_employee(employee: Employee, values: dict, actor=None) -> Employee:
    """Apply edits to an employee, refusing a supervisor loop; audits the changed fields and commits."""
    values = dict(values)
    boss_no = values.pop("supervisor_staff_no", None)
    boss = db.session.scalar(select(Employee).where(Employee.staff_no == boss_no)) if boss_no else None
    if boss_no and boss is None:
        raise DomainError(_l("Unknown supervisor %(no)s.", no=boss_no))
    values["supervisor_id"] = new_boss = boss.id if boss else None
    if new_boss is not None:
        if new_boss == employee.id or employee.id in supervisor_chain_ids(new_boss):
            raise DomainError(_l("That supervisor would create a reporting loop."))
    if values.get("probation_end") and values.get("hire_date") and values["probation_end"] < values["hire_date"]:
        raise DomainError(_l("Probation cannot end before the hire date."))
    changes = {}
    if values.get("grade") is not None and values["grade"] != employee.grade:
        db.session.add(GradeHistory(employee=employee, from_grade=employee.grade, to_grade=values["grade"],
                                    effective_date=date.today(), reason=str(_l("Changed on the employee page")),
                                    approved_by_id=getattr(actor, "id", None)))
    for key, value in values.items():
        before = getattr(employee, key)
        if before != value:
            changes[key] = [before, value]
            setattr(employee, key, value)
    if changes:
        audit.record("employee.update", "employee", employee.id, actor=actor, changes=changes)
    db.session.commit()
    return employee
