"""Factories with overridable defaults; they add to the session and flush, the test commits."""
import itertools
from datetime import date

from competency.extensions import db
from competency.models import Employee, EmployeeStatus, Grade, OrgUnit, OrgUnitKind, Position, User, UserRole
from competency.services.auth import hash_password

_seq = itertools.count(1)
PASSWORD = "correct-horse-1"


def org_unit(**fields) -> OrgUnit:
    n = next(_seq)
    values = dict(code=f"U{n}", kind=OrgUnitKind.SUB_BRANCH, name_zh=f"支行{n}", name_en=f"Sub-branch {n}")
    values.update(fields)
    unit = OrgUnit(**values)
    db.session.add(unit)
    db.session.flush()
    return unit


def position(code="CM_CORP", **fields) -> Position:
    found = db.session.query(Position).filter_by(code=code).one_or_none()
    if found:
        return found
    values = dict(code=code, name_zh="公司客户经理", name_en="Corporate customer manager")
    values.update(fields)
    pos = Position(**values)
    db.session.add(pos)
    db.session.flush()
    return pos


def employee(**fields) -> Employee:
    n = next(_seq)
    values = dict(
        staff_no=f"E{n:05d}", name_zh=f"员工{n}", name_en=f"Employee {n}", grade=Grade.JUNIOR,
        hire_date=date(2020, 1, 1), probation_end=date(2020, 4, 1), status=EmployeeStatus.ACTIVE,
    )
    values.update(fields)
    if "org_unit" not in values and "org_unit_id" not in values:
        values["org_unit"] = org_unit()
    if "position" not in values and "position_id" not in values:
        values["position"] = position()
    person = Employee(**values)
    db.session.add(person)
    db.session.flush()
    return person


def user(roles=("employee",), employee_=None, email=None, password=PASSWORD, with_employee=True, **employee_fields) -> User:
    if employee_ is None and with_employee:
        employee_ = employee(**employee_fields)
    account = User(
        email=email, employee=employee_, password_hash=hash_password(password, "pbkdf2:sha256:1000"), active=True,
        role_rows=[UserRole(role=r) for r in roles],
    )
    db.session.add(account)
    db.session.flush()
    return account
