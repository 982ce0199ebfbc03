"""The organisation: the org unit tree, employee queries, employee edits and the grade history."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal, or_, select

from ..errors import DomainError
from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, OrgUnit, Position
from ..timeutil import bank_today
from . import audit, grades
from .assessments import stored
from .unit_of_work import unit_of_work

# --- the org unit tree ----------------------------------------------------------------------------


def org_subtree_ids(unit_id: int) -> Select:
    """SELECT of the ids of an org unit and all units below it."""
    tree = select(OrgUnit.id).where(OrgUnit.id == unit_id).cte(recursive=True)
    child = db.aliased(OrgUnit)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)


def org_closure():
    """CTE (ancestor_id, descendant_id) pairing every org unit with itself and everything below it."""
    closure = select(OrgUnit.id.label("ancestor_id"), OrgUnit.id.label("descendant_id")).cte(recursive=True)
    child = db.aliased(OrgUnit)
    return closure.union_all(
        select(closure.c.ancestor_id, child.id).where(child.parent_id == closure.c.descendant_id)
    )


def ancestors_of() -> dict[int, list[int]]:
    """Every org unit's id → its own id and those of the units above it (from one query; loops are cut)."""
    parents = dict(db.session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    chains = {}
    for unit in parents:
        chain, at = [], unit
        while at is not None and at not in chain:
            chain.append(at)
            at = parents.get(at)
        chains[unit] = chain
    return chains


def rolled_up(rows, keyed: bool = False) -> dict:
    """Sums per org unit including its sub-units, from rows per unit itself: (org unit id, number, ...), or with
    `keyed` (org unit id, key, number, ...) summed per unit and key. Returns {unit: [sums]} (or {(unit, key):
    [sums]}) for every unit with something below it. Aggregating per unit in SQL first and then up the (small) tree
    is far cheaper than joining every row to the unit closure."""
    chains, totals = ancestors_of(), {}
    for unit, *rest in rows:
        key, numbers = (rest[0], rest[1:]) if keyed else (None, rest)
        for ancestor in chains.get(unit, [unit]):
            sums = totals.setdefault((ancestor, key) if keyed else ancestor, [0] * len(numbers))
            for i, number in enumerate(numbers):
                sums[i] += number or 0
    return totals


def unit_tree() -> list[tuple[OrgUnit, int]]:
    """Every org unit in tree order as (unit, depth)."""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all()
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[OrgUnit, int]] = []

    def walk(parent_id, depth):
        for unit in children.get(parent_id, []):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def org_tree() -> list[tuple[OrgUnit, int, int]]:
    """Every org unit in tree order as (unit, depth, headcount of the unit itself)."""
    counts = dict(db.session.execute(
        select(Employee.org_unit_id, func.count(Employee.id))
        .where(Employee.status != EmployeeStatus.LEFT).group_by(Employee.org_unit_id)).all())
    return [(unit, depth, counts.get(unit.id, 0)) for unit, depth in unit_tree()]


def positions() -> list[Position]:
    """All positions by code."""
    return db.session.scalars(select(Position).order_by(Position.code)).all()


# --- employees ------------------------------------------------------------------------------------


def employee_by_staff_no(staff_no: str | None) -> Employee | None:
    """The employee with this staff number (surrounding spaces ignored), or None."""
    staff_no = (staff_no or "").strip()
    if not staff_no:
        return None
    return db.session.scalar(select(Employee).where(Employee.staff_no == staff_no))


def employees_by_staff_no(staff_nos) -> dict[str, Employee]:
    """{staff number: employee} for the staff numbers that exist, in one query."""
    wanted = {s for s in staff_nos if s}
    if not wanted:
        return {}
    return {e.staff_no: e for e in db.session.scalars(select(Employee).where(Employee.staff_no.in_(wanted)))}


def report_ids(employee_id: int | None) -> Select:
    """SELECT of the ids of everyone reporting to the employee, directly or indirectly (nobody for None)."""
    if employee_id is None:
        return select(Employee.id).where(literal(False))
    chain = select(Employee.id).where(Employee.supervisor_id == employee_id).cte(recursive=True)
    below = db.aliased(Employee)
    chain = chain.union_all(select(below.id).where(below.supervisor_id == chain.c.id))
    return select(chain.c.id)


def supervisor_chain_ids(employee_id: int) -> list[int]:
    """The ids above an employee, nearest first (stops at the top or at a loop)."""
    chain: list[int] = []
    current = db.session.get(Employee, employee_id)
    while current is not None and current.supervisor_id is not None and current.supervisor_id not in chain:
        chain.append(current.supervisor_id)
        current = db.session.get(Employee, current.supervisor_id)
    return chain


@dataclass
class EmployeeFilters:
    q: str = ""
    org_unit_id: int | None = None
    position_id: int | None = None
    grade: str | None = None
    status: str | None = None


def employee_query(scope: Select, filters: EmployeeFilters):
    """SELECT of the employees within the scope (a SELECT of ids), narrowed by the filters, by staff number."""
    query = select(Employee).where(Employee.id.in_(scope))
    if filters.q:
        like = f"%{filters.q.strip()}%"
        query = query.where(or_(Employee.staff_no.ilike(like), Employee.name_zh.ilike(like), Employee.name_en.ilike(like)))
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


@unit_of_work()
def update_employee(employee: Employee, values: dict, actor=None) -> Employee:
    """Apply edits to an employee, refusing a supervisor loop; audits the changed fields. Unit of work."""
    values = dict(values)
    boss_no = values.pop("supervisor_staff_no", None)
    boss = employee_by_staff_no(boss_no)
    if boss_no and boss is None:
        raise DomainError(_l("Unknown supervisor %(no)s.", no=boss_no))
    values["supervisor_id"] = boss.id if boss else None
    if boss is not None and (boss.id == employee.id or employee.id in supervisor_chain_ids(boss.id)):
        raise DomainError(_l("That supervisor would create a reporting loop."))
    if values.get("probation_end") and values.get("hire_date") and values["probation_end"] < values["hire_date"]:
        raise DomainError(_l("Probation cannot end before the hire date."))
    changes = {}
    grade = values.pop("grade", None)
    if grade is not None and grade != employee.grade:
        changes["grade"] = [employee.grade, grade]
        grades.record_grade_change(employee, grade, effective=bank_today(), reason_code="employee_page", actor=actor)
    for key, value in values.items():
        before = getattr(employee, key)
        if before != value:
            changes[key] = [before, value]
            setattr(employee, key, value)
    if changes:
        audit.record("employee.update", "employee", employee.id, actor=actor, changes=changes)
    if EmployeeStatus.LEFT in changes.get("status", ()):  # leaving or returning changes the latest view
        stored.people_changed([employee.id])
    return employee
