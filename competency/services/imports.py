"""Imports of org units and employees: all-or-nothing, row-level errors, dry-run, upsert by natural key."""
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Employee, EmployeeStatus, Grade, GradeHistory, OrgUnit, OrgUnitKind, Position, Role, User
from . import audit, users
from .tabular import ImportFailed, RowError, add_months, parse_date, read_rows

ORG_UNIT_COLUMNS = ["code", "parent_code", "kind", "name_zh", "name_en"]
EMPLOYEE_REQUIRED = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date"]
EMPLOYEE_OPTIONAL = ["probation_end", "supervisor_staff_no", "email", "roles"]


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    actions: list = field(default_factory=list)  # (line, key, "create" | "update" | "unchanged")

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _finish(result: ImportResult, errors: list, actor, filename: str) -> ImportResult:
    """Roll back on errors or dry runs, else audit and commit."""
    if errors:
        db.session.rollback()
        raise ImportFailed(sorted(errors, key=lambda e: (e.line, e.column)))
    if result.dry_run:
        db.session.rollback()
        return result
    if result.changed:
        audit.record(
            f"import.{result.kind}",
            "import",
            None,
            actor=actor,
            file=filename,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        )
    db.session.commit()
    return result


def _set(obj, values: dict) -> bool:
    """Assign the values that differ; return whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _find_cycle(parent_of: dict) -> set:
    """The keys that sit on a cycle of the parent mapping."""
    on_cycle: set = set()
    done: set = set()
    for start in parent_of:
        path, seen, node = [], set(), start
        while node is not None and node not in done and node not in seen:
            seen.add(node)
            path.append(node)
            node = parent_of.get(node)
        if node is not None and node in seen:
            on_cycle.update(path[path.index(node):])
        done.update(path)
    return on_cycle


def check_code(row, seen: dict, errors: list) -> str:
    """The row's `code`: required and unique in the file (remembers the first line of each code in `seen`)."""
    code = row.get("code")
    if not code:
        errors.append(RowError(row.line, "code", _l("Required.")))
    elif code in seen:
        errors.append(RowError(row.line, "code", _l("Duplicate code %(code)s (also on line %(line)s).", code=code, line=seen[code])))
    else:
        seen[code] = row.line
    return code


def import_org_units(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Upsert org units by code from a CSV/.xlsx file; raise ImportFailed (nothing written) on any error."""
    rows = read_rows(data, filename, ORG_UNIT_COLUMNS)
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        check_code(row, seen, errors)
        for column in ("name_zh", "name_en"):
            if not row.get(column):
                errors.append(RowError(row.line, column, _l("Required.")))
        if row.get("kind") not in {k.value for k in OrgUnitKind}:
            errors.append(RowError(row.line, "kind", _l("Unknown kind %(value)s: use head_office, tier1_branch, tier2_branch or sub_branch.", value=row.get("kind"))))
    parent_of = {code: (u.parent.code if u.parent else None) for code, u in existing.items()}
    for row in rows:
        code, parent = row.get("code"), row.get("parent_code") or None
        if parent and parent not in seen and parent not in existing:
            errors.append(RowError(row.line, "parent_code", _l("Unknown org unit %(code)s.", code=parent)))
        elif parent and parent == code:
            errors.append(RowError(row.line, "parent_code", _l("An org unit cannot be its own parent.")))
        elif code:
            parent_of[code] = parent
    for code in sorted(_find_cycle(parent_of) & set(seen)):
        errors.append(RowError(seen[code], "parent_code", _l("The parent chain of %(code)s loops back to itself.", code=code)))
    result = ImportResult("org_units", dry_run=dry_run)
    if errors:
        return _finish(result, errors, actor, filename)
    units = dict(existing)
    for row in rows:
        code = row.get("code")
        values = {"kind": OrgUnitKind(row.get("kind")), "name_zh": row.get("name_zh"), "name_en": row.get("name_en")}
        unit = units.get(code)
        if unit is None:
            unit = units[code] = OrgUnit(code=code, **values)
            db.session.add(unit)
            result.created += 1
            result.actions.append((row.line, code, "create"))
            continue
        changed = _set(unit, values)
        result.actions.append((row.line, code, "update" if changed else "unchanged"))
    for row in rows:
        unit, parent_code = units[row.get("code")], row.get("parent_code") or None
        parent = units[parent_code] if parent_code else None
        if unit.parent is not parent:
            unit.parent = parent
            if unit.id is not None:
                index = next(i for i, a in enumerate(result.actions) if a[1] == unit.code)
                result.actions[index] = (row.line, unit.code, "update")
    result.updated = sum(1 for a in result.actions if a[2] == "update")
    result.unchanged = sum(1 for a in result.actions if a[2] == "unchanged")
    db.session.flush()
    return _finish(result, errors, actor, filename)


def _parse_roles(text: str):
    """Roles from 'employee;supervisor' text; ValueError names the bad one."""
    roles = []
    for part in text.split(";"):
        part = part.strip()
        if part:
            roles.append(Role(part))
    return roles


def import_employees(data: bytes, filename: str, *, dry_run=False, actor=None, probation_months=3,
                     today: date | None = None, password=None, hash_method=None) -> ImportResult:
    """Upsert employees (and accounts when roles are given) by staff number; ImportFailed on any error."""
    today = today or date.today()
    rows = read_rows(data, filename, EMPLOYEE_REQUIRED, EMPLOYEE_OPTIONAL)
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    positions = {p.code: p for p in db.session.scalars(select(Position))}
    existing = {e.staff_no: e for e in db.session.scalars(select(Employee))}
    accounts = {u.employee_id: u for u in db.session.scalars(select(User)) if u.employee_id}
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    emails: dict[str, int] = {}
    parsed: dict[int, dict] = {}

    def err(row, column, message):
        errors.append(RowError(row.line, column, message))

    manages_accounts = actor is None or actor.has_role(Role.ADMIN)
    for row in rows:
        staff_no = row.get("staff_no")
        item = {}
        if not staff_no:
            err(row, "staff_no", _l("Required."))
        elif staff_no in seen:
            err(row, "staff_no", _l("Duplicate staff number %(no)s (also on line %(line)s).", no=staff_no, line=seen[staff_no]))
        else:
            seen[staff_no] = row.line
        for column in ("name_zh", "name_en"):
            if not row.get(column):
                err(row, column, _l("Required."))
        if row.get("org_unit_code") not in units:
            err(row, "org_unit_code", _l("Unknown org unit %(code)s.", code=row.get("org_unit_code")))
        if row.get("position_code") not in positions:
            err(row, "position_code", _l("Unknown position %(code)s.", code=row.get("position_code")))
        try:
            item["grade"] = Grade(row.get("grade"))
        except ValueError:
            err(row, "grade", _l("Unknown grade %(value)s: use trainee, junior, intermediate or senior.", value=row.get("grade")))
        try:
            item["hire_date"] = parse_date(row.get("hire_date"))
        except ValueError:
            err(row, "hire_date", _l("Not a date in YYYY-MM-DD form: %(value)s.", value=row.get("hire_date")))
        if row.get("probation_end"):
            try:
                item["probation_end"] = parse_date(row.get("probation_end"))
            except ValueError:
                err(row, "probation_end", _l("Not a date in YYYY-MM-DD form: %(value)s.", value=row.get("probation_end")))
            else:
                if "hire_date" in item and item["probation_end"] < item["hire_date"]:
                    err(row, "probation_end", _l("Probation cannot end before the hire date."))
        elif "hire_date" in item:
            item["probation_end"] = add_months(item["hire_date"], probation_months)
        email = row.get("email")
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError:
                err(row, "email", _l("Not a valid email address: %(value)s.", value=email))
            else:
                own = accounts.get(existing[staff_no].id) if staff_no in existing else None
                if email.lower() in emails:
                    err(row, "email", _l("Duplicate email (also on line %(line)s).", line=emails[email.lower()]))
                elif users.email_taken(email, own.id if own else None):
                    err(row, "email", _l("Another account already uses this email."))
                emails[email.lower()] = row.line
        item["email"] = email or None
        try:
            item["roles"] = _parse_roles(row.get("roles"))
        except ValueError:
            err(row, "roles", _l("Unknown role in %(value)s: use employee, supervisor, trainer, hr or admin.", value=row.get("roles")))
        if not manages_accounts:
            account = accounts.get(existing[staff_no].id) if staff_no in existing else None
            if item.get("roles") and (account is None or account.roles != set(item["roles"])):
                err(row, "roles", _l("Only an administrator can create accounts or change roles."))
            if item["email"] and (account is None or (account.email or "").lower() != item["email"].lower()):
                err(row, "email", _l("Only an administrator can create accounts or change their email."))
        parsed[row.line] = item

    supervisor_of = {e.staff_no: (e.supervisor.staff_no if e.supervisor else None) for e in existing.values()}
    for row in rows:
        staff_no, boss = row.get("staff_no"), row.get("supervisor_staff_no") or None
        if boss and boss not in seen and boss not in existing:
            err(row, "supervisor_staff_no", _l("Unknown supervisor %(no)s.", no=boss))
        elif boss and boss == staff_no:
            err(row, "supervisor_staff_no", _l("An employee cannot be their own supervisor."))
        elif staff_no:
            supervisor_of[staff_no] = boss
    for staff_no in sorted(_find_cycle(supervisor_of) & set(seen)):
        errors.append(RowError(seen[staff_no], "supervisor_staff_no", _l("Supervisor cycle: %(no)s ends up reporting to themself.", no=staff_no)))

    result = ImportResult("employees", dry_run=dry_run)
    if errors:
        return _finish(result, errors, actor, filename)

    people = dict(existing)
    for row in rows:
        staff_no, item = row.get("staff_no"), parsed[row.line]
        values = {
            "name_zh": row.get("name_zh"),
            "name_en": row.get("name_en"),
            "org_unit": units[row.get("org_unit_code")],
            "position": positions[row.get("position_code")],
            "grade": item["grade"],
            "hire_date": item["hire_date"],
            "probation_end": item["probation_end"],
        }
        person = people.get(staff_no)
        if person is None:
            status = EmployeeStatus.PROBATION if item["grade"] == Grade.TRAINEE and item["probation_end"] > today else EmployeeStatus.ACTIVE
            person = people[staff_no] = Employee(staff_no=staff_no, status=status, **values)
            db.session.add(person)
            result.actions.append([row.line, staff_no, "create"])
        else:
            before = person.grade
            changed = _set(person, values)
            if before != person.grade:
                db.session.add(GradeHistory(employee=person, from_grade=before, to_grade=person.grade, effective_date=today,
                                            reason=f"import {filename}", approved_by_id=getattr(actor, "id", None)))
            result.actions.append([row.line, staff_no, "update" if changed else "unchanged"])
    db.session.flush()
    for index, row in enumerate(rows):
        person, item = people[row.get("staff_no")], parsed[row.line]
        boss = row.get("supervisor_staff_no") or None
        changed = False
        if (person.supervisor.staff_no if person.supervisor else None) != boss:
            person.supervisor = people[boss] if boss else None
            changed = True
        account = accounts.get(person.id)
        if item["roles"] and account is None:
            account = users.create_user(
                email=item["email"], employee=person, password=password, roles=item["roles"], actor=actor,
                hash_method=hash_method,
            )
            changed = True
        elif account is not None:
            if item["roles"]:
                changed |= users.set_roles(account, item["roles"], actor=actor)
            if item["email"] and account.email != item["email"]:
                account.email = item["email"]
                changed = True
        if changed and result.actions[index][2] == "unchanged":
            result.actions[index][2] = "update"
    result.created = sum(1 for a in result.actions if a[2] == "create")
    result.updated = sum(1 for a in result.actions if a[2] == "update")
    result.unchanged = sum(1 for a in result.actions if a[2] == "unchanged")
    result.actions = [tuple(a) for a in result.actions]
    db.session.flush()
    return _finish(result, errors, actor, filename)

