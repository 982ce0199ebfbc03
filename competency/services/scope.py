"""Who may see whom: the one place that scopes employees and org units.

Every feature that lists or opens people filters through `visible_employee_ids`, so the rule
"employees see themselves, supervisors their direct and indirect reports, hr, admin (and trainers,
who assign courses) everyone"
lives here and nowhere else.
"""
from sqlalchemy import Select, literal, select, union

from ..extensions import db
from ..models import Employee, OrgUnit, Role


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


def report_ids(employee_id: int) -> Select:
    """SELECT of the ids of everyone reporting to the employee, directly or indirectly (nobody for None)."""
    if employee_id is None:
        return select(Employee.id).where(literal(False))
    chain = select(Employee.id).where(Employee.supervisor_id == employee_id).cte(recursive=True)
    below = db.aliased(Employee)
    chain = chain.union_all(select(below.id).where(below.supervisor_id == chain.c.id))
    return select(chain.c.id)


def sees_everyone(user) -> bool:
    """hr and admin see the whole organisation; trainers see the directory to assign courses."""
    return user.has_role(Role.HR, Role.ADMIN, Role.TRAINER)


def visible_employee_ids(user) -> Select:
    """SELECT of the employee ids the user may see: use as `Employee.id.in_(visible_employee_ids(u))`."""
    if sees_everyone(user):
        return select(Employee.id)
    return _self_and_reports(user)


def _self_and_reports(user) -> Select:
    """SELECT of the user's own employee id and, for supervisors, their direct and indirect reports."""
    if user.employee_id is None:
        return select(Employee.id).where(literal(False))
    own = select(literal(user.employee_id).label("id"))
    if user.has_role(Role.SUPERVISOR):
        return select(union(own, report_ids(user.employee_id)).subquery().c.id)
    return own


def can_see_employee(user, employee_id: int) -> bool:
    """Whether the user may see this employee."""
    if sees_everyone(user):
        return True
    ids = visible_employee_ids(user).subquery()
    return db.session.scalar(select(ids.c.id).where(ids.c.id == employee_id)) is not None


def is_in_chain_above(user, employee_id: int) -> bool:
    """Whether the user is a supervisor somewhere above this employee (not the employee themself)."""
    if user.employee_id is None or not user.has_role(Role.SUPERVISOR):
        return False
    ids = report_ids(user.employee_id).subquery()
    return db.session.scalar(select(ids.c.id).where(ids.c.id == employee_id)) is not None


def can_see_private(user, employee_id: int) -> bool:
    """Personal records (credit ledger, certifications, development): the person, their supervisor chain,
    hr and admin — not trainers."""
    if user.has_role(Role.HR, Role.ADMIN):
        return True
    return user.employee_id == employee_id or is_in_chain_above(user, employee_id)


def assignable_ids(user) -> Select:
    """SELECT of the people the user may assign courses to: everyone for trainers and hr, own reports for
    supervisors, nobody otherwise."""
    if user.has_role(Role.TRAINER, Role.HR):
        return select(Employee.id)
    if user.has_role(Role.SUPERVISOR) and user.employee_id is not None:
        return report_ids(user.employee_id)
    return select(Employee.id).where(literal(False))


def private_ids(user) -> Select:
    """SELECT of the people whose personal results the user may read: everyone for hr and admin, else
    themself and (for supervisors) their direct and indirect reports."""
    if user.has_role(Role.HR, Role.ADMIN):
        return select(Employee.id)
    return _self_and_reports(user)
