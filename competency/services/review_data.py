"""The data the annual review reads: grade standards (YAML), annual sales (CSV/xlsx), probation confirmations,
and the probation-length setting."""
from datetime import date
from decimal import Decimal, InvalidOperation

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import (
    AnnualSales, Employee, EmployeeStatus, Grade, GradeStandard, Position, ProbationConfirmation, Setting,
)
from . import audit
from .imports import ImportResult, _finish
from .tabular import ImportFailed, RowError, read_rows

STANDARD_GRADES = ("junior", "intermediate", "senior")
PROBATION_MONTHS = "probation_months"


# --- settings ------------------------------------------------------------------------------------


def probation_months(default: int = 3) -> int:
    """The probation length in months (the stored setting, else the default)."""
    value = db.session.scalar(select(Setting.value).where(Setting.key == PROBATION_MONTHS))
    return int(value) if value is not None else default


def set_probation_months(months: int, actor=None) -> None:
    """Change the probation length used for new hires. Commits."""
    if not 1 <= months <= 24:
        raise DomainError(_l("Probation lasts from 1 to 24 months."))
    setting = db.session.get(Setting, PROBATION_MONTHS) or Setting(key=PROBATION_MONTHS)
    setting.value = str(months)
    db.session.add(setting)
    audit.record("setting.update", "setting", PROBATION_MONTHS, actor=actor, value=months)
    db.session.commit()


# --- grade standards -----------------------------------------------------------------------------


def standards_data(position: Position) -> dict:
    """A position's standards in the YAML shape."""
    rows = {s.grade.value: s for s in db.session.scalars(select(GradeStandard).where(GradeStandard.position_id == position.id))}
    standards = {}
    for grade in STANDARD_GRADES:
        if grade in rows:
            row = rows[grade]
            item = {"min_sales": _plain(row.min_sales), "min_score": _plain(row.min_score), "min_credits": _plain(row.min_credits)}
            if row.certification:
                item["certification"] = row.certification
            standards[grade] = item
    return {"position": position.code, "unit": position.sales_unit, "standards": standards}


def _plain(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def export_standards() -> str:
    """Every position that has standards, as a YAML list of documents in the import shape."""
    positions = db.session.scalars(select(Position).where(Position.id.in_(select(GradeStandard.position_id)))
                                   .order_by(Position.code)).all()
    return yaml.safe_dump([standards_data(p) for p in positions], allow_unicode=True, sort_keys=False)


def import_standards(text: str, actor=None) -> int:
    """Set standards from YAML (one document per position, several documents, or a list). All or nothing. Commits."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise ImportFailed([RowError(0, "", _l("Not valid YAML: %(problem)s", problem=getattr(error, "problem", error)))]) from None
    if len(documents) == 1 and isinstance(documents[0], list):
        documents = documents[0]
    errors, parsed = [], []
    for index, doc in enumerate(documents, start=1):
        def err(column, message, index=index):
            errors.append(RowError(index, column, message, "standards"))
        if not isinstance(doc, dict):
            err("", _l("Must be a mapping."))
            continue
        position = db.session.scalar(select(Position).where(Position.code == str(doc.get("position"))))
        if position is None:
            err("position", _l("Unknown position %(code)s.", code=doc.get("position")))
        standards = doc.get("standards")
        if not isinstance(standards, dict) or not standards:
            err("standards", _l("Give the standards of junior, intermediate and senior."))
            continue
        values = {}
        for grade, item in standards.items():
            if grade not in STANDARD_GRADES:
                err(f"standards.{grade}", _l("Standards exist for junior, intermediate and senior only."))
                continue
            if not isinstance(item, dict):
                err(f"standards.{grade}", _l("Must be a mapping."))
                continue
            row = {}
            for key, top in (("min_sales", None), ("min_score", 100), ("min_credits", None)):
                try:
                    number = Decimal(str(item.get(key)))
                    if not number.is_finite() or number < 0 or (top is not None and number > top):
                        raise InvalidOperation
                except InvalidOperation:
                    err(f"standards.{grade}.{key}", _l("Must be a number of at least 0 (a score at most 100)."))
                    continue
                row[key] = number
            row["certification"] = str(item["certification"]).strip() if item.get("certification") else None
            values[Grade(grade)] = row
        parsed.append((position, str(doc.get("unit") or "") or None, values))
    if errors:
        raise ImportFailed(errors)
    for position, unit, values in parsed:
        save_standards(position, values, unit, actor=actor, commit=False)
    db.session.commit()
    return len(parsed)


def save_standards(position: Position, values: dict, unit: str | None = None, actor=None, commit: bool = True) -> None:
    """Set a position's standards {grade: {min_sales, min_score, min_credits, certification}} and sales unit."""
    existing = {s.grade: s for s in db.session.scalars(select(GradeStandard).where(GradeStandard.position_id == position.id))}
    for grade, row in values.items():
        standard = existing.get(grade) or GradeStandard(position=position, grade=grade)
        standard.min_sales, standard.min_score, standard.min_credits = row["min_sales"], row["min_score"], row["min_credits"]
        standard.certification = row.get("certification") or None
        db.session.add(standard)
    if unit:
        position.sales_unit = unit
    audit.record("standards.update", "position", position.id, actor=actor, position=position.code,
                 standards={g.value: {k: str(v) for k, v in r.items()} for g, r in values.items()})
    if commit:
        db.session.commit()


# --- annual sales --------------------------------------------------------------------------------


def import_sales(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Annual sales `staff_no, year, amount`, upsert by (person, year); all or nothing."""
    rows = read_rows(data, filename, ["staff_no", "year", "amount"])
    people = {e.staff_no: e for e in db.session.scalars(select(Employee).where(Employee.staff_no.in_({r.get("staff_no") for r in rows})))}
    errors, seen, parsed = [], {}, []
    for row in rows:
        person = people.get(row.get("staff_no"))
        if person is None:
            errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
        year = row.get("year")
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            errors.append(RowError(row.line, "year", _l("The year must be a four-digit year.")))
        try:
            amount = Decimal(row.get("amount"))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(RowError(row.line, "amount", _l("The amount must be a number of at least 0.")))
            amount = None
        key = (row.get("staff_no"), year)
        if key in seen:
            errors.append(RowError(row.line, "year", _l("The same person and year appear twice (also on line %(line)s).", line=seen[key])))
        seen.setdefault(key, row.line)
        parsed.append((row, person, year, amount))
    result = ImportResult("sales", dry_run=dry_run)
    if errors:
        return _finish(result, errors, actor, filename)
    existing = {(s.employee_id, s.year): s for s in db.session.scalars(
        select(AnnualSales).where(AnnualSales.employee_id.in_([p.id for p in people.values()])))}
    for row, person, year, amount in parsed:
        item = existing.get((person.id, int(year)))
        if item is None:
            db.session.add(AnnualSales(employee_id=person.id, year=int(year), amount=amount))
            result.created += 1
            result.actions.append((row.line, f"{person.staff_no} {year}", "create"))
        elif item.amount != amount:
            item.amount = amount
            result.updated += 1
            result.actions.append((row.line, f"{person.staff_no} {year}", "update"))
        else:
            result.unchanged += 1
            result.actions.append((row.line, f"{person.staff_no} {year}", "unchanged"))
    db.session.flush()
    return _finish(result, errors, actor, filename)


# --- probation -----------------------------------------------------------------------------------


def confirm_probation(employee: Employee, qualified: bool, comment: str = "", on: date | None = None, actor=None) -> ProbationConfirmation:
    """The supervisor's confirmation of a trainee: qualified (合格) or not. Commits."""
    if employee.grade != Grade.TRAINEE:
        raise DomainError(_l("Only a trainee's probation is confirmed."))
    if not qualified and not (comment or "").strip():
        raise DomainError(_l("Say why the probation is not passed."))
    item = db.session.scalar(select(ProbationConfirmation).where(ProbationConfirmation.employee_id == employee.id))
    item = item or ProbationConfirmation(employee=employee)
    item.qualified, item.comment, item.confirmed_on = qualified, (comment or "").strip(), on or date.today()
    item.confirmed_by_id = getattr(actor, "id", None)
    db.session.add(item)
    db.session.flush()
    audit.record("probation.confirm", "employee", employee.id, actor=actor, qualified=qualified, comment=item.comment)
    db.session.commit()
    return item


def trainees_to_confirm(employee_ids) -> list[tuple[Employee, ProbationConfirmation | None]]:
    """Trainees among the ids (on probation or active) with their confirmation, probation end first."""
    people = db.session.scalars(select(Employee).where(
        Employee.id.in_(employee_ids), Employee.grade == Grade.TRAINEE,
        Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE])).order_by(Employee.probation_end)).all()
    found = {c.employee_id: c for c in db.session.scalars(select(ProbationConfirmation).where(
        ProbationConfirmation.employee_id.in_([p.id for p in people])))}
    return [(p, found.get(p.id)) for p in people]
