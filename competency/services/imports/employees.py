"""Import of employees (and their accounts where roles are given), upsert by staff number.

Columns `staff_no, name_zh, name_en, org_unit_code, position_code, grade, hire_date` and optionally
`probation_end, supervisor_staff_no, email, roles`, or their Chinese labels (LABELS); grades, roles, dates as Chinese
staff write them (values.py). Each column has its validator; all or nothing.
The reference data the rows need is read in a fixed number of set-based queries (the people the rows name and
their reporting chains, by the staff number's index; those people's accounts; all org units and positions, which are
few), the changes are planned in Python and written in bulk statements, so the work grows with the rows, not with
the bank, and an API batch of any size runs the same statements; a dry run only reads.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import aliased, selectinload

from ...extensions import db
from ...models import Employee, EmployeeStatus, Grade, OrgUnit, Position, Role, User, UserRole
from ...timeutil import bank_today, utcnow
from .. import accounts, bulk, grades
from ..access import manages_accounts
from ..unit_of_work import unit_of_work
from .common import (
    LOOKUP_IN,
    ImportResult,
    Progress,
    date_error,
    find_cycle,
    finish,
    keys_to_read,
    refuse,
    staff_number_twins,
    too_long,
    unknown_person,
    where_among,
)
from .headers import STAFF_NO
from .org_units import unknown_unit
from .tabular import RowError, add_months, read_rows
from .values import choices, choose, parse_date, parse_list, twin, unpadded, zero_twins

REQUIRED = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date"]
OPTIONAL = ["probation_end", "supervisor_staff_no", "email", "roles"]
LABELS = {"staff_no": STAFF_NO, "name_zh": ("姓名", "中文姓名", "员工姓名"), "name_en": ("英文姓名", "英文名", "姓名拼音", "拼音"),
          "org_unit_code": ("所属机构", "机构代码", "所属机构代码", "机构编号", "机构号"),
          "position_code": ("岗位", "岗位代码", "岗位编号"), "grade": ("岗级", "职级"), "hire_date": ("入职日期", "入行日期", "入职时间"),
          "probation_end": ("试用期结束日期", "试用期截止日期", "转正日期"),
          "supervisor_staff_no": ("上级工号", "直属上级工号", "主管工号"), "email": ("邮箱", "电子邮箱", "邮件地址"),
          "roles": ("角色", "系统角色")}


_PERSON_COLUMNS = (Employee.id, Employee.staff_no, Employee.name_zh, Employee.name_en, Employee.org_unit_id,
                   Employee.position_id, Employee.hire_date, Employee.probation_end, Employee.grade, Employee.status,
                   Employee.supervisor_id)
_VALUES = ("name_zh", "name_en", "org_unit_id", "position_id", "hire_date", "probation_end", "grade", "status")


class _Account(NamedTuple):
    id: int
    email: str | None
    roles: frozenset


@dataclass
class _Check:
    """What the validators share: the reference data (codes to ids, the people the rows name as stored rows with their
    supervisor's staff number, their accounts by employee id, the emails in use among the rows'), what the rows have
    shown so far, the errors."""

    units: dict                                  # code → id (from the rows read)
    positions: dict
    named: dict                                  # column → {unique name: id}
    existing: dict                               # staff number → stored row, of the people named and their chains
    accounts: dict
    taken: dict                                  # lower-case email in use → account id
    twins: dict                                  # staff number without leading zeros → staff number (stored, then the rows')
    probation_months: int
    manages_accounts: bool
    seen: dict = field(default_factory=dict)     # staff number → first line
    unit_twins: dict = field(default_factory=dict)  # org unit code without leading zeros → org unit code
    names: dict = field(default_factory=dict)    # coded column → its choices (values.choices)
    emails: dict = field(default_factory=dict)   # lower-case email → first line
    errors: list = field(default_factory=list)

    def err(self, row, column: str, message) -> None:
        self.errors.append(RowError(row.line, column, message))

    def account_of(self, staff_no: str) -> _Account | None:
        person = self.existing.get(staff_no)
        return self.accounts.get(person.id) if person is not None else None


def _by_name(*tables) -> dict:
    """{column: {name: id}} of the org units' and positions' names that name one of them only and are nobody's code:
    a roster's 所属机构 and 岗位 often hold the name (北京分行) rather than the code."""
    named = {}
    for column, rows in zip(("org_unit_code", "position_code"), tables, strict=True):
        codes, names, twice = {r.code for r in rows}, {}, set()
        for row in rows:
            for name in {row.name_zh, row.name_en}:
                if name in names and names[name] != row.id:
                    twice.add(name)
                names[name] = row.id
        named[column] = {n: i for n, i in names.items() if n and n not in twice and n not in codes}
    return named


def _people(staff_nos: set) -> dict:
    """{staff number: stored row} of these people and everyone above them (their supervisors, theirs, …), each row with
    its supervisor's staff number: one recursive query on the staff number's and the id's indexes (the chains let a
    row's new supervisor be checked for a loop without reading the whole bank); for more than LOOKUP_IN people,
    everyone, in one query."""
    keys = keys_to_read(staff_nos)
    if keys == set():
        return {}
    boss = aliased(Employee)
    if keys is None:
        query = select(*_PERSON_COLUMNS, boss.staff_no.label("supervisor_staff_no")).outerjoin(boss, boss.id == Employee.supervisor_id)
    else:
        chain = select(*_PERSON_COLUMNS).where(Employee.staff_no.in_(sorted(keys))).cte("chain", recursive=True)
        above = aliased(Employee)
        chain = chain.union(select(*(getattr(above, c.key) for c in _PERSON_COLUMNS)).join(chain, above.id == chain.c.supervisor_id))
        query = select(chain, boss.staff_no.label("supervisor_staff_no")).outerjoin(boss, boss.id == chain.c.supervisor_id)
    return {row.staff_no: row for row in db.session.execute(query)}


def _accounts(people: list) -> dict:
    """{employee id: _Account} of these stored people's accounts, with their roles (one query)."""
    keys = keys_to_read(p.id for p in people)
    if keys == set():
        return {}
    query = where_among(select(User.id, User.employee_id, User.email, UserRole.role).outerjoin(UserRole, UserRole.user_id == User.id)
                        .where(User.employee_id.is_not(None)), User.employee_id, keys)
    found: dict[int, tuple] = {}
    for user_id, employee_id, email, role in db.session.execute(query):
        found.setdefault(employee_id, (user_id, email, set()))[2].update([role] if role is not None else [])
    return {employee_id: _Account(user_id, email, frozenset(roles)) for employee_id, (user_id, email, roles) in found.items()}


def _emails_taken(rows) -> dict:
    """{lower-case email: account id} of the accounts that use an email the rows give (one query)."""
    keys = keys_to_read((r.get("email") or "").lower() for r in rows)
    if keys == set():
        return {}
    query = where_among(select(User.id, User.email).where(User.email.is_not(None)), func.lower(User.email), keys)
    return {email.lower(): user_id for user_id, email in db.session.execute(query)}


def _load(rows, actor, probation_months: int) -> _Check:
    """The reference data the rows need, as plain rows rather than model objects: the people they name (each row's
    person and supervisor) with their reporting chains and accounts, the emails they give that are in use, the staff
    numbers that differ from the new ones only by leading zeros, and every org unit and position."""
    staff_nos = {r.get("staff_no") for r in rows}
    named_people = staff_nos | {r.get("supervisor_staff_no") for r in rows}
    existing = _people(named_people)
    units = db.session.execute(select(OrgUnit.code, OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en)).all()
    positions = db.session.execute(select(Position.code, Position.id, Position.name_zh, Position.name_en)).all()
    return _Check(
        units={r.code: r.id for r in units}, positions={r.code: r.id for r in positions}, named=_by_name(units, positions),
        existing=existing, twins=staff_number_twins(no for no in named_people if no and no not in existing),
        unit_twins=zero_twins(r.code for r in units),
        accounts=_accounts([existing[no] for no in staff_nos if no in existing]), taken=_emails_taken(rows),
        probation_months=probation_months, manages_accounts=manages_accounts(actor),
        names={"grade": choices(Grade), "roles": choices(Role)})


def _staff_no(row, item: dict, check: _Check) -> None:
    staff_no = row.get("staff_no")
    other = twin(staff_no, check.twins) if staff_no not in check.existing else None
    if not staff_no:
        check.err(row, "staff_no", _l("Required."))
    elif staff_no in check.seen:
        check.err(row, "staff_no", _l("Duplicate staff number %(no)s (also on line %(line)s).", no=staff_no, line=check.seen[staff_no]))
    elif other is not None:
        check.err(row, "staff_no", _l("The new staff number %(no)s differs from %(existing)s only by leading zeros: write "
                                      "%(existing)s (format the column as text so that its zeros are kept).", no=staff_no, existing=other))
    else:
        check.seen[staff_no] = row.line
        check.twins.setdefault(unpadded(staff_no), staff_no)


def _names(row, item: dict, check: _Check) -> None:
    for column in ("name_zh", "name_en"):
        if not row.get(column):
            check.err(row, column, _l("Required."))
    check.errors += too_long(row, {"staff_no": Employee.staff_no, "name_zh": Employee.name_zh, "name_en": Employee.name_en,
                                   "email": User.email})


def _org_unit_and_position(row, item: dict, check: _Check) -> None:
    unit, position = row.get("org_unit_code"), row.get("position_code")
    item["org_unit_id"] = check.units.get(unit) or check.named["org_unit_code"].get(unit)
    item["position_id"] = check.positions.get(position) or check.named["position_code"].get(position)
    if item["org_unit_id"] is None:
        check.err(row, "org_unit_code", unknown_unit(unit, check.unit_twins))
    if item["position_id"] is None:
        check.err(row, "position_code", _l("Unknown position %(code)s.", code=row.get("position_code")))


def _grade(row, item: dict, check: _Check) -> None:
    code = choose(check.names["grade"], row.get("grade"))
    if code is None:
        check.err(row, "grade", _l("Unknown grade %(value)s: use trainee, junior, intermediate or senior (见习, 初级, 中级, 高级).",
                                   value=row.get("grade")))
    else:
        item["grade"] = Grade(code)


def _date(row, column: str, check: _Check) -> date | None:
    try:
        return parse_date(row.get(column))
    except ValueError:
        check.err(row, column, date_error(row.get(column)))
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
    elif check.taken.get(email.lower(), own.id if own else None) != (own.id if own else None):
        check.err(row, "email", _l("Another account already uses this email."))
    check.emails[email.lower()] = row.line
    item["email"] = email


def _roles(row, item: dict, check: _Check) -> None:
    parts = [part.strip() for part in parse_list(row.get("roles")).replace(",", ";").split(";") if part.strip()]
    codes = [choose(check.names["roles"], part) for part in parts]
    item["roles"] = [Role(code) for code in codes if code is not None]
    if None in codes:
        item["roles"] = []
        check.err(row, "roles", _l("Unknown role in %(value)s: use employee, supervisor, trainer, hr or admin, separated by "
                                   "semicolons.", value=row.get("roles")))


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
    supervisor_of = {e.staff_no: e.supervisor_staff_no for e in check.existing.values()}
    for row in rows:
        staff_no, boss = row.get("staff_no"), row.get("supervisor_staff_no") or None
        if boss and boss not in check.seen and boss not in check.existing:
            check.err(row, "supervisor_staff_no", unknown_person(boss, check.twins, supervisor=True))
        elif boss and boss == staff_no:
            check.err(row, "supervisor_staff_no", _l("An employee cannot be their own supervisor."))
        elif staff_no:
            supervisor_of[staff_no] = boss
    for staff_no in sorted(find_cycle(supervisor_of) & set(check.seen)):
        check.errors.append(RowError(check.seen[staff_no], "supervisor_staff_no",
                                     _l("Supervisor cycle: %(no)s ends up reporting to themself.", no=staff_no)))


def import_employees(data: bytes, filename: str, *, dry_run=False, actor=None, probation_months=3,
                     today: date | None = None, password=None, hash_method=None, progress=None) -> ImportResult:
    """Upsert employees (and accounts when roles are given) by staff number; ImportFailed on any error. A dry run
    reads and plans, and writes nothing."""
    rows = read_rows(data, filename, REQUIRED, OPTIONAL, labels=LABELS)
    return import_employee_rows(rows, filename, dry_run=dry_run, actor=actor, probation_months=probation_months, today=today,
                                password=password, hash_method=hash_method, progress=progress)


def import_employee_rows(rows, filename: str, *, dry_run=False, actor=None, probation_months=3, today: date | None = None,
                         password=None, hash_method=None, progress=None) -> ImportResult:
    """Upsert the rows (of a file, or the API's items) as `import_employees` does; ImportFailed on any error."""
    steps = Progress(progress, len(rows), stages=1 if dry_run else 2)
    with unit_of_work() as work:
        check = _load(rows, actor, probation_months)
        parsed = {}
        for done, row in enumerate(rows, start=1):
            item = parsed[row.line] = {}
            for validator in VALIDATORS:
                validator(row, item, check)
            steps.at(0, done)
        _supervisor_errors(rows, check)
        refuse(check.errors, rows.sheet)
        today = today or bank_today()
        plan = [_plan(row, parsed[row.line], check, today) for row in rows]
        steps.at(1, 0)
        # Everything but the writing is done before the first write: on SQLite, that takes the one write lock,
        # which sign-ins wait for until the import commits.
        result = ImportResult("employees", dry_run=dry_run, notices=rows.notices)
        codes = _codes(check)
        for person in plan:
            result.track(person.line, person.staff_no, None,
                         None if person.old is None else _fields(person.old._asdict(), codes, check.accounts.get(person.old.id)),
                         _fields(person.new, codes, person.account))
        if not dry_run:
            ids = _write(plan, check, today, filename, actor, password, hash_method)
            result.rows = [(("employee", ids[key]), line, key, created, changes) for _none, line, key, created, changes in result.rows]
        result = finish(work, result, actor, filename)
    steps.finish()
    return result


@dataclass
class _Person:
    """One row's plan: the person as stored (None when new) and as the import leaves them, with their account."""

    line: int
    staff_no: str
    old: Row | None
    new: dict
    account: _Account | None


def _plan(row, item: dict, check: _Check, today: date) -> _Person:
    """What the row makes of the person: the values, the grade and status (through the grade history's rules for
    people who exist), the supervisor and the account."""
    staff_no, old = row.get("staff_no"), check.existing.get(row.get("staff_no"))
    new = {"name_zh": row.get("name_zh"), "name_en": row.get("name_en"), "org_unit_id": item["org_unit_id"],
           "position_id": item["position_id"], "hire_date": item["hire_date"],
           "probation_end": item["probation_end"], "supervisor": row.get("supervisor_staff_no") or None}
    if old is None:
        on_probation = item["grade"] == Grade.TRAINEE and item["probation_end"] > today
        new.update(grade=item["grade"], status=EmployeeStatus.PROBATION if on_probation else EmployeeStatus.ACTIVE)
    else:
        new["grade"], new["status"] = grades.grade_and_status_after(old.grade, old.status, item["grade"]) or (old.grade, old.status)
    account = check.accounts.get(old.id) if old is not None else None
    if item["roles"] and account is None:
        account = _Account(None, item["email"], frozenset(item["roles"]))
    elif account is not None:
        account = account._replace(roles=frozenset(item["roles"]) if item["roles"] else account.roles,
                                   email=item["email"] or account.email)
    return _Person(row.line, staff_no, old, new, account)


def _codes(check: _Check) -> dict:
    """Codes by id, as the audit trail shows references."""
    return {"org_unit_id": {i: c for c, i in check.units.items()}, "position_id": {i: c for c, i in check.positions.items()}}


def _fields(person: dict, codes: dict, account: _Account | None) -> dict:
    """What an import sets on a person (a stored row as a dict, or a planned one) and their account, as the audit trail
    compares it."""
    return {"name_zh": person["name_zh"], "name_en": person["name_en"], "org_unit": codes["org_unit_id"][person["org_unit_id"]],
            "position": codes["position_id"][person["position_id"]], "hire_date": person["hire_date"],
            "probation_end": person["probation_end"], "grade": person["grade"], "status": person["status"],
            "supervisor": person["supervisor"] if "supervisor" in person else person["supervisor_staff_no"],
            "email": account.email if account else None, "roles": sorted(r.value for r in account.roles) if account else []}


def _write(plan: list[_Person], check: _Check, today: date, filename: str, actor, password, hash_method) -> dict:
    """Write the plan in bulk, a statement per kind of change however many rows: new people, grade changes (history
    first), changed people and reporting lines, accounts. Returns every person's id by staff number."""
    table = Employee.__table__
    now = utcnow()
    new = [p for p in plan if p.old is None]
    ids = {e.staff_no: e.id for e in check.existing.values()}
    ids.update(zip((p.staff_no for p in new), bulk.insert_returning_ids(table, (
        {"staff_no": p.staff_no, "supervisor_id": None, "created_at": now, "updated_at": now, **{k: p.new[k] for k in _VALUES}}
        for p in new)), strict=True))
    grades.record_grade_changes({p.old.id: (p.old.grade, p.old.status, p.new["grade"]) for p in plan if p.old is not None},
                                effective=today, reason_code="import", reason_data={"file": filename}, actor=actor, today=today)
    changed, reporting = [], []
    for p in plan:
        supervisor_id = ids.get(p.new["supervisor"])
        if p.old is None:  # inserted above with every value but the supervisor's id
            if supervisor_id is not None:
                reporting.append({"person_id": ids[p.staff_no], "supervisor_id": supervisor_id})
            continue
        values = {k: p.new[k] for k in _VALUES} | {"supervisor_id": supervisor_id}
        if any(getattr(p.old, k) != v for k, v in values.items()):
            changed.append({"person_id": ids[p.staff_no], "updated_at": now, **values})
    for statement, rows in ((update(table), changed), (update(table).values(supervisor_id=bindparam("supervisor_id")), reporting)):
        bulk.execute_many(statement.where(table.c.id == bindparam("person_id")), rows)
    _write_accounts(plan, check, ids, actor, password, hash_method)
    return ids


def _write_accounts(plan: list[_Person], check: _Check, ids: dict, actor, password, hash_method) -> None:
    """Create the new accounts in bulk, change emails in bulk, and roles through `accounts.set_roles` (which keeps
    the last administrator) for the accounts whose roles change."""
    accounts.create_users([(ids[p.staff_no], p.staff_no, p.account.email, sorted(p.account.roles))
                           for p in plan if p.account is not None and p.account.id is None],
                          password=password, actor=actor, hash_method=hash_method)
    stored = {a.id: a for a in check.accounts.values()}
    emails = [{"account_id": p.account.id, "email": p.account.email} for p in plan
              if p.account is not None and p.account.id is not None and p.account.email != stored[p.account.id].email]
    table = User.__table__
    bulk.execute_many(update(table).where(table.c.id == bindparam("account_id")), emails)
    roles = {p.account.id: p.account.roles for p in plan
             if p.account is not None and p.account.id is not None and p.account.roles != stored[p.account.id].roles}
    changing = sorted(roles)
    for start in range(0, len(changing), LOOKUP_IN):
        chunk = changing[start:start + LOOKUP_IN]
        for user in db.session.scalars(select(User).where(User.id.in_(chunk)).options(selectinload(User.role_rows))):
            accounts.set_roles(user, roles[user.id], actor=actor)
    db.session.flush()
