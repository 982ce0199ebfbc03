"""The scopes and relationship predicates of the one access module, and the org tree queries they use."""
from sqlalchemy import select

from competency.extensions import db
from competency.models import Employee, OrgUnitKind
from competency.services.access import can_see_employee, is_in_chain_above, visible_employee_ids
from competency.services.org import org_closure, org_subtree_ids

from .. import factories


def _visible(user):
    return set(db.session.scalars(select(Employee.staff_no).where(Employee.id.in_(visible_employee_ids(user)))))


def _chain():
    top = factories.user(roles=["employee", "supervisor"], staff_no="TOP")
    mid = factories.user(roles=["employee", "supervisor"], staff_no="MID", supervisor=top.employee)
    low = factories.user(roles=["employee"], staff_no="LOW", supervisor=mid.employee)
    factories.employee(staff_no="LOW2", supervisor=mid.employee)
    factories.employee(staff_no="OTHER")
    return top, mid, low


def test_employee_sees_only_themself(app):
    _, _, low = _chain()
    assert _visible(low) == {"LOW"}


def test_supervisor_sees_direct_and_indirect_reports(app):
    top, mid, _ = _chain()
    assert _visible(top) == {"TOP", "MID", "LOW", "LOW2"}
    assert _visible(mid) == {"MID", "LOW", "LOW2"}


def test_relationship_without_the_supervisor_role_shows_only_self(app):
    top, mid, _ = _chain()
    mid.role_rows = [r for r in mid.role_rows if r.role != "supervisor"]
    db.session.flush()
    assert _visible(mid) == {"MID"}


def test_hr_admin_and_trainer_see_everyone(app):
    _chain()
    everyone = {"TOP", "MID", "LOW", "LOW2", "OTHER"}
    for role in ("hr", "admin", "trainer"):
        user = factories.user(roles=[role], with_employee=False, email=f"{role}@x.org")
        assert _visible(user) >= everyone


def test_account_without_employee_and_no_staff_role_sees_nobody(app):
    _chain()
    user = factories.user(roles=["employee"], with_employee=False, email="lost@x.org")
    assert _visible(user) == set()


def test_can_see_and_chain_helpers(app):
    top, mid, low = _chain()
    assert can_see_employee(top, low.employee_id) and not can_see_employee(low, top.employee_id)
    assert is_in_chain_above(top, low.employee_id) and not is_in_chain_above(low, low.employee_id)
    assert not is_in_chain_above(mid, top.employee_id)


def test_org_subtree_and_closure(app):
    head = factories.org_unit(code="HO", kind=OrgUnitKind.HEAD_OFFICE)
    branch = factories.org_unit(code="BR", kind=OrgUnitKind.TIER1_BRANCH, parent=head)
    sub = factories.org_unit(code="SB", parent=branch)
    other = factories.org_unit(code="OT", parent=head)
    assert set(db.session.scalars(org_subtree_ids(branch.id))) == {branch.id, sub.id}
    assert set(db.session.scalars(org_subtree_ids(head.id))) == {head.id, branch.id, sub.id, other.id}
    closure = org_closure()
    pairs = set(db.session.execute(select(closure.c.ancestor_id, closure.c.descendant_id)).all())
    assert (head.id, sub.id) in pairs and (branch.id, sub.id) in pairs and (sub.id, sub.id) in pairs
    assert (sub.id, branch.id) not in pairs and (other.id, sub.id) not in pairs


def test_supervisor_account_without_an_employee_sees_no_reports(app):
    from competency.services.access import private_ids
    from competency.services.org import report_ids

    _chain()
    lost = factories.user(roles=["supervisor"], with_employee=False, email="lost-boss@x.org")
    assert set(db.session.scalars(report_ids(lost.employee_id))) == set()
    assert _visible(lost) == set()
    assert set(db.session.scalars(private_ids(lost))) == set()
