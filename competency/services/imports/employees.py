"""Import of employees (and their accounts where roles are given), upsert by staff number.

Columns `staff_no, name_zh, name_en, org_unit_code, position_code, grade, hire_date` and optionally
`probation_end, supervisor_staff_no, email, roles`. Each column has its validator; all or nothing.
"""
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Employee, EmployeeStatus, Grade, OrgUnit, Position, Role, User
from .. import accounts, grades
from ..access import manages_accounts
from ..unit_of_work import unit_of_work
from .common import ImportResult, find_cycle, finish, refuse, set_changed, too_long
from .tabular import RowError, add_months, parse_date, read_rows

REQUIRED = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date"]
OPTIONAL = ["probation_end", "supervisor_staff_no", "email", "roles"]


@dataclass
class _Check:
    """What the validators share: the reference data, what the file has shown so far, the errors."""

    units: dict
    positions: dict
    existing: dict
    accounts: dict
    probation_months: int
    manages_accounts: bool
    seen: dict = field(default_factory=dict)     # staff number → first line
    emails: dict = field(default_factory=dict)   # lower-case email → first line
    errors: list = field(default_factory=list)

    def err(self, row, column: str, message) -> None:
        self.errors.append(RowError(row.line, column, message))

    def account_of(self, staff_no: str) -> User | None:
        person = self.existing.get(staff_no)
        return self.accounts.get(person.id) if person is not None else None


def _staff_no(row, item: dict, check: _Check) -> None:
    staff_no = row.get("staff_no")
    if not staff_no:
        check.err(row, "staff_no", _l("Required."))
    elif staff_no in check.seen:
        check.err(row, "staff_no", _l("Duplicate staff number %(no)s (also on line %(line)s).", no=staff_no, line=check.seen[staff_no]))
    else:
        check.seen[staff_no] = row.line


def _names(row, item: dict, check: _Check) -> None:
    for column in ("name_zh", "name_en"):
        if not row.get(column):
            check.err(row, column, _l("Required."))
    check.errors += too_long(row, {"staff_no": Employee.staff_no, "name_zh": Employee.name_zh, "name_en": Employee.name_en,
                                   "email": User.email})


def _org_unit_and_position(row, item: dict, check: _Check) -> None:
    if row.get("org_unit_code") not in check.units:
        check.err(row, "org_unit_code", _l("Unknown org unit %(code)s.", code=row.get("org_unit_code")))
    if row.get("position_code") not in check.positions:
        check.err(row, "position_code", _l("Unknown position %(code)s.", code=row.get("position_code")))


def _grade(row, item: dict, check: _Check) -> None:
    try:
        item["grade"] = Grade(row.get("grade"))
    except ValueError:
        check.err(row, "grade", _l("Unknown grade %(value)s: use trainee, junior, intermediate or senior.", value=row.get("grade")))


def _date(row, column: str, check: _Check) -> date | None:
    try:
        return parse_date(row.get(column))
    except ValueError:
        check.err(row, column, _l("Not a date in YYYY-MM-DD form: %(value)s.", value=row.get(column)))
        return None


def _dates(row, item: dict, check: _Check) -> None:
    hired = item["hire_date"] = _date(row, "hire_date", check)
    if row.get("probation_end"):
        ends = item["probation_end"] = _date(row, "probation_end", check)
        if hired and ends and ends < hired:
            check.err(row, "probation_end", _l("Probation cannot end before the hire date."))
    elif hired:
        item["probation_end"] = add_months(hired, check.probation_months)


def _email(row, item: dict, check: _Check) -> None:
    email = row.get("email")
    item["email"] = None
    if not email:
        return
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        check.err(row, "email", _l("Not a valid email address: %(value)s.", value=email))
        return
    own = check.account_of(row.get("staff_no"))
    if email.lower() in check.emails:
        check.err(row, "email", _l("Duplicate email (also on line %(line)s).", line=check.emails[email.lower()]))
    elif accounts.email_taken(email, own.id if own else None):
        check.err(row, "email", _l("Another account already uses this email."))
    check.emails[email.lower()] = row.line
    item["email"] = email


def _roles(row, item: dict, check: _Check) -> None:
    try:
        item["roles"] = [Role(part.strip()) for part in row.get("roles").split(";") if part.strip()]
    except ValueError:
        item["roles"] = []
        check.err(row, "roles", _l("Unknown role in %(value)s: use employee, supervisor, trainer, hr or admin.", value=row.get("roles")))


def _account_rights(row, item: dict, check: _Check) -> None:
    """Only an administrator (or the system) creates accounts, changes roles or changes emails by import."""
    if check.manages_accounts:
        return
    account = check.account_of(row.get("staff_no"))
    if item["roles"] and (account is None or account.roles != set(item["roles"])):
        check.err(row, "roles", _l("Only an administrator can create accounts or change roles."))
    if item["email"] and (account is None or (account.email or "").lower() != item["email"].lower()):
        check.err(row, "email", _l("Only an administrator can create accounts or change their email."))


VALIDATORS = (_staff_no, _names, _org_unit_and_position, _grade, _dates, _email, _roles, _account_rights)


def _supervisor_errors(rows, check: _Check) -> None:
    """Unknown supervisors, people supervising themselves, and reporting lines that loop."""
    supervisor_of = {e.staff_no: (e.supervisor.staff_no if e.supervisor else None) for e in check.existing.values()}
    for row in rows:
        staff_no, boss = row.get("staff_no"), row.get("supervisor_staff_no") or None
        if boss and boss not in check.seen and boss not in check.existing:
            check.err(row, "supervisor_staff_no", _l("Unknown supervisor %(no)s.", no=boss))
        elif boss and boss == staff_no:
            check.err(row, "supervisor_staff_no", _l("An employee cannot be their own supervisor."))
        elif staff_no:
            supervisor_of[staff_no] = boss
    for staff_no in sorted(find_cycle(supervisor_of) & set(check.seen)):
        check.errors.append(RowError(check.seen[staff_no], "supervisor_staff_no",
                                     _l("Supervisor cycle: %(no)s ends up reporting to themself.", no=staff_no)))


def import_employees(data: bytes, filename: str, *, dry_run=False, actor=None, probation_months=3,
                     today: date | None = None, password=None, hash_method=None) -> ImportResult:
    """Upsert employees (and accounts when roles are given) by staff number; ImportFailed on any error."""
    rows = read_rows(data, filename, REQUIRED, OPTIONAL)
    with unit_of_work() as work:
        check = _Check(
            units={u.code: u for u in db.session.scalars(select(OrgUnit))},
            positions={p.code: p for p in db.session.scalars(select(Position))},
            existing={e.staff_no: e for e in db.session.scalars(select(Employee))},
            accounts={u.employee_id: u for u in db.session.scalars(select(User).options(selectinload(User.role_rows)))
                      if u.employee_id},
            probation_months=probation_months, manages_accounts=manages_accounts(actor))
        parsed = {}
        for row in rows:
            item = parsed[row.line] = {}
            for validator in VALIDATORS:
                validator(row, item, check)
        _supervisor_errors(rows, check)
        refuse(check.errors)
        result = ImportResult("employees", dry_run=dry_run)
        people, before = _upsert_people(rows, parsed, check, today or date.today(), filename, actor)
        _link_supervisors_and_accounts(rows, parsed, people, check, actor, password, hash_method)
        for row in rows:
            person = people[row.get("staff_no")]
            result.track(row.line, person.staff_no, person, before.get(person.staff_no),
                         _fields(person, check.accounts.get(person.id)))
        db.session.flush()
        return finish(work, result, actor, filename)


def _fields(person: Employee, account: User | None) -> dict:
    """What an import sets on a person and their account, as the audit trail compares it."""
    return {"name_zh": person.name_zh, "name_en": person.name_en, "org_unit": person.org_unit, "position": person.position,
            "hire_date": person.hire_date, "probation_end": person.probation_end, "grade": person.grade,
            "status": person.status, "supervisor": person.supervisor,
            "email": account.email if account else None, "roles": sorted(r.value for r in account.roles) if account else []}


def _upsert_people(rows, parsed, check: _Check, today: date, filename: str, actor) -> tuple[dict, dict]:
    """Create and update the people (grade changes through the grade history); return everyone by staff number
    and, for the people who existed, their fields before the import."""
    people, before = dict(check.existing), {}
    for row in rows:
        staff_no, item = row.get("staff_no"), parsed[row.line]
        values = {"name_zh": row.get("name_zh"), "name_en": row.get("name_en"),
                  "org_unit": check.units[row.get("org_unit_code")], "position": check.positions[row.get("position_code")],
                  "hire_date": item["hire_date"], "probation_end": item["probation_end"]}
        person = people.get(staff_no)
        if person is None:
            on_probation = item["grade"] == Grade.TRAINEE and item["probation_end"] > today
            person = people[staff_no] = Employee(staff_no=staff_no, grade=item["grade"], **values,
                                                 status=EmployeeStatus.PROBATION if on_probation else EmployeeStatus.ACTIVE)
            db.session.add(person)
            continue
        before[staff_no] = _fields(person, check.accounts.get(person.id))
        set_changed(person, values)
        grades.record_grade_change(person, item["grade"], effective=today, reason_code="import",
                                   reason_data={"file": filename}, actor=actor, today=today)
    db.session.flush()
    return people, before


def _link_supervisors_and_accounts(rows, parsed, people, check: _Check, actor, password, hash_method) -> None:
    """Set reporting lines (a supervisor may come later in the file) and create or update accounts."""
    for row in rows:
        person, item = people[row.get("staff_no")], parsed[row.line]
        boss = row.get("supervisor_staff_no") or None
        if (person.supervisor.staff_no if person.supervisor else None) != boss:
            person.supervisor = people[boss] if boss else None
        account = check.accounts.get(person.id)
        if item["roles"] and account is None:
            # Only the seed passes a password (the documented demo password); a real import makes unusable ones.
            check.accounts[person.id] = accounts.create_user(
                email=item["email"], employee=person, password=password, roles=item["roles"], actor=actor,
                hash_method=hash_method, demo=password is not None)
        elif account is not None:
            if item["roles"]:
                accounts.set_roles(account, item["roles"], actor=actor)
            if item["email"] and account.email != item["email"]:
                account.email = item["email"]
