"""Grade standards per position: what junior, intermediate and senior require (edited by hr, YAML in and out)."""
from decimal import Decimal, InvalidOperation

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Grade, GradeStandard, Position
from ...models.limits import holds_number, max_length
from .. import audit, safe_files
from ..imports.tabular import ImportFailed, RowError
from ..unit_of_work import unit_of_work

STANDARD_GRADES = ("junior", "intermediate", "senior")
NUMBERS = (("min_sales", None), ("min_score", 100), ("min_credits", None))  # (key, upper bound)


def standards_query(position_id: int | None = None):
    """SELECT of grade standards, of one position when given (the one query for "a position's standards")."""
    query = select(GradeStandard)
    return query.where(GradeStandard.position_id == position_id) if position_id is not None else query


def standards_of(position_id: int) -> dict[Grade, GradeStandard]:
    """A position's standards by grade."""
    return {s.grade: s for s in db.session.scalars(standards_query(position_id))}


def standards_data(position: Position) -> dict:
    """A position's standards in the YAML shape."""
    rows = standards_of(position.id)
    standards = {}
    for grade in STANDARD_GRADES:
        row = rows.get(Grade(grade))
        if row is not None:
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


def _documents(text: str) -> list:
    try:
        documents = [d for d in safe_files.load_yaml_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise ImportFailed([RowError(0, "", _l("Not valid YAML: %(problem)s", problem=getattr(error, "problem", error)))]) from None
    if len(documents) == 1 and isinstance(documents[0], list):
        documents = documents[0]
    return documents


def _grade_values(grade: str, item, err) -> dict | None:
    """One grade's standard as values, or None after reporting what is wrong."""
    if grade not in STANDARD_GRADES:
        err(f"standards.{grade}", _l("Standards exist for junior, intermediate and senior only."))
        return None
    if not isinstance(item, dict):
        err(f"standards.{grade}", _l("Must be a mapping."))
        return None
    row = {}
    for key, top in NUMBERS:
        try:
            number = Decimal(str(item.get(key)))
            if not holds_number(getattr(GradeStandard, key), number) or number < 0 or (top is not None and number > top):
                raise InvalidOperation
        except InvalidOperation:
            err(f"standards.{grade}.{key}", _l("Must be a number of at least 0 (a score at most 100)."))
            continue
        row[key] = number
    row["certification"] = str(item["certification"]).strip() if item.get("certification") else None
    limit = max_length(GradeStandard.certification)
    if row["certification"] and len(row["certification"]) > limit:
        err(f"standards.{grade}.certification", _l("At most %(n)s characters.", n=limit))
    return row


def _document(doc, err) -> tuple | None:
    """(position, unit, {grade: values}) of one document, reporting errors through `err`."""
    if not isinstance(doc, dict):
        err("", _l("Must be a mapping."))
        return None
    position = db.session.scalar(select(Position).where(Position.code == str(doc.get("position"))))
    if position is None:
        err("position", _l("Unknown position %(code)s.", code=doc.get("position")))
    standards = doc.get("standards")
    if not isinstance(standards, dict) or not standards:
        err("standards", _l("Give the standards of junior, intermediate and senior."))
        return None
    unit = str(doc.get("unit") or "") or None
    if unit and len(unit) > max_length(Position.sales_unit):
        err("unit", _l("At most %(n)s characters.", n=max_length(Position.sales_unit)))
    values = {}
    for grade, item in standards.items():
        row = _grade_values(grade, item, err)
        if row is not None:
            values[Grade(grade)] = row
    return position, unit, values


@unit_of_work()
def import_standards(text: str, actor=None) -> int:
    """Set standards from YAML (one document per position, several documents, or a list). All or nothing.
    Unit of work; returns how many positions."""
    errors, parsed = [], []
    for index, doc in enumerate(_documents(text), start=1):
        def err(column, message, index=index):
            errors.append(RowError(index, column, message, "standards"))
        found = _document(doc, err)
        if found is not None:
            parsed.append(found)
    if errors:
        raise ImportFailed(errors)
    for position, unit, values in parsed:
        save_standards(position, values, unit, actor=actor)
    return len(parsed)


@unit_of_work()
def save_standards(position: Position, values: dict, unit: str | None = None, actor=None) -> None:
    """Set a position's standards {grade: {min_sales, min_score, min_credits, certification}} and sales unit.
    Unit of work."""
    existing = standards_of(position.id)
    for grade, row in values.items():
        standard = existing.get(grade) or GradeStandard(position=position, grade=grade)
        standard.min_sales, standard.min_score, standard.min_credits = row["min_sales"], row["min_score"], row["min_credits"]
        standard.certification = row.get("certification") or None
        db.session.add(standard)
    if unit:
        position.sales_unit = unit
    audit.record("standards.update", "position", position.id, actor=actor, position=position.code,
                 standards={g.value: {k: str(v) for k, v in r.items()} for g, r in values.items()})
