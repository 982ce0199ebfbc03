"""One org unit or one employee written by its natural key (the API's PUT), through the same import that reads files,
with optimistic concurrency: the caller's `If-Match` tag must still be the record's, checked under the record's
write lock so that of two writers who read the same version only the first succeeds."""
import hashlib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import aliased, joinedload

from ..errors import DomainError, FieldError
from ..extensions import db
from ..models import Employee, OrgUnit, User, UserRole
from .imports.employees import import_employee_rows
from .imports.org_units import import_org_unit_rows
from .imports.tabular import cell_text, items_as_rows
from .unit_of_work import release_snapshot, unit_of_work


class PreconditionFailed(DomainError):
    """The record changed since the caller read it (its tag no longer matches `If-Match`)."""


@dataclass
class Upserted:
    created: bool
    record: dict
    tag: str


def tag(record: dict, unseen: dict | None = None) -> str:
    """A strong entity tag of a record as the API shows it and of what a write may change that it does not show
    (`unseen`: an employee's account): it changes whenever either does."""
    digest = hashlib.sha256(json.dumps([record, unseen], sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def matches(if_match: str | None, current: str | None) -> bool:
    """Whether an If-Match header holds for the record's current tag (None: no record): absent always; `*` when it
    exists; else one of its tags, compared strongly (RFC 9110: a weak `W/` tag never matches)."""
    if if_match is None:
        return True
    if current is None:
        return False
    wanted = {t.strip() for t in if_match.split(",")}
    return "*" in wanted or current in wanted


def check_key(key: str, field: str) -> None:
    """FieldError unless the natural key of a URL is as the imports keep it (no spaces around it, no characters that
    cannot be stored): the write, its lock and its If-Match must be about the record named."""
    if not key or cell_text(key) != key:
        raise FieldError(field, _l("%(key)s is not a key as recorded: leave out spaces around it and invisible characters.",
                                   key=repr(key)))


def org_unit_record(code: str) -> dict | None:
    """An org unit as the API shows it, or None."""
    parent = aliased(OrgUnit)
    row = db.session.execute(select(OrgUnit.code, parent.code.label("parent_code"), OrgUnit.kind, OrgUnit.name_zh, OrgUnit.name_en)
                             .outerjoin(parent, parent.id == OrgUnit.parent_id).where(OrgUnit.code == code)).one_or_none()
    return None if row is None else {"code": row.code, "parent_code": row.parent_code, "kind": row.kind.value,
                                     "name_zh": row.name_zh, "name_en": row.name_en}


def employee_record(person: Employee) -> dict:
    """An employee as the API shows it."""
    return {"staff_no": person.staff_no, "name_zh": person.name_zh, "name_en": person.name_en,
            "org_unit_code": person.org_unit.code, "position_code": person.position.code, "grade": person.grade.value,
            "status": person.status.value, "hire_date": person.hire_date, "probation_end": person.probation_end,
            "supervisor_staff_no": person.supervisor.staff_no if person.supervisor else None}


# What an employee's record shows, loaded with the employee.
EMPLOYEE_LOADS = (joinedload(Employee.org_unit), joinedload(Employee.position), joinedload(Employee.supervisor))


def employee_tag(person: Employee) -> str:
    """The employee's entity tag: their record and their account's email and roles (which a PUT may change)."""
    rows = db.session.execute(select(User.email, UserRole.role).outerjoin(UserRole, UserRole.user_id == User.id)
                              .where(User.employee_id == person.id)).all()
    account = {"email": rows[0].email, "roles": sorted(r.role.value for r in rows if r.role)} if rows else None
    return tag(employee_record(person), account)


def _employee_of(staff_no: str) -> tuple[dict, str] | tuple[None, None]:
    """(the employee's record, its tag), read afresh; (None, None) when there is nobody by that staff number."""
    query = select(Employee).options(*EMPLOYEE_LOADS).where(Employee.staff_no == staff_no)
    person = db.session.scalar(query.execution_options(populate_existing=True))
    return (None, None) if person is None else (employee_record(person), employee_tag(person))


def _lock(table, key_column, key: str) -> None:
    """Take the record's write lock (a no-op UPDATE) as the transaction's first write, so that the check and the
    change that follow are not interleaved with another writer's."""
    release_snapshot()
    db.session.execute(update(table).where(key_column == key).values({key_column.key: key})
                       .execution_options(synchronize_session=False))


def upsert_org_unit(code: str, values: dict, if_match: str | None, source: str, actor=None) -> Upserted:
    """Create or update one org unit by code (the org unit import's rules; `source` names the writer in the audit
    trail as a file would be); PreconditionFailed when `if_match` no longer holds; ImportFailed with the field errors.
    Unit of work."""
    check_key(code, "code")
    with unit_of_work():
        _lock(OrgUnit, OrgUnit.code, code)
        before = org_unit_record(code)
        if not matches(if_match, before and tag(before)):
            raise PreconditionFailed()
        rows = items_as_rows([{**values, "code": code}])
        result = import_org_unit_rows(rows, source, actor=actor)
        after = org_unit_record(code)
        return Upserted(result.created == 1, after, tag(after))


def upsert_employee(staff_no: str, values: dict, if_match: str | None, source: str, actor=None, **options) -> Upserted:
    """Create or update one employee by staff number (the employee import's rules, `options` its settings; `source` as
    for `upsert_org_unit`); PreconditionFailed when `if_match` no longer holds; ImportFailed with the field errors.
    Unit of work."""
    check_key(staff_no, "staff_no")
    with unit_of_work():
        _lock(Employee, Employee.staff_no, staff_no)
        if not matches(if_match, _employee_of(staff_no)[1]):
            raise PreconditionFailed()
        result = import_employee_rows(items_as_rows([employee_row(staff_no, values)]), source, actor=actor, **options)
        return Upserted(result.created == 1, *_employee_of(staff_no))


def employee_row(staff_no: str, values: dict) -> dict:
    """An employee item as the import reads a row: roles as `a;b`."""
    row = {**values, "staff_no": staff_no}
    row["roles"] = ";".join(values.get("roles") or ())
    return row

