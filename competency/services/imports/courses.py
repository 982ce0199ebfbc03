"""Import of the course catalogue: `code, title_zh, title_en, type, delivery, hours, credits, competencies`,
upsert by code. The competency codes must be those of a published model version."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Course, CourseType, Delivery
from ..ksa.versions import published_codes
from ..training.catalogue import CourseValues, apply_course, parse_competencies, unknown_codes, unknown_codes_message
from ..unit_of_work import unit_of_work
from .common import ImportResult, check_code, finish, refuse, too_large, too_long
from .tabular import RowError, read_rows

COLUMNS = ["code", "title_zh", "title_en", "type", "delivery", "hours", "credits", "competencies"]
TYPES, DELIVERIES = {t.value for t in CourseType}, {d.value for d in Delivery}


def _number(text: str):
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _values(row, code: str, errors: list, known: set[str]) -> CourseValues:
    """The row as course values, appending an error per bad column (`known`: the competency codes of the published
    model versions)."""
    errors += [RowError(row.line, column, _l("Required.")) for column in ("title_zh", "title_en") if not row.get(column)]
    errors += too_long(row, {"code": Course.code, "title_zh": Course.title_zh, "title_en": Course.title_en})
    if row.get("type") not in TYPES:
        errors.append(RowError(row.line, "type", _l(
            "Unknown type %(value)s: use law, industry, sales, exchange, mentoring or certification.", value=row.get("type"))))
    if row.get("delivery") not in DELIVERIES:
        errors.append(RowError(row.line, "delivery", _l(
            "Unknown delivery %(value)s: use classroom, online, self_study or on_the_job.", value=row.get("delivery"))))
    hours, credits = _number(row.get("hours")), _number(row.get("credits"))
    if hours is None or hours <= 0:
        errors.append(RowError(row.line, "hours", _l("Hours must be a positive number.")))
    if credits is None or credits < 0:
        errors.append(RowError(row.line, "credits", _l("Credits must be a number of at least 0.")))
    errors += too_large(row, "hours", Course.hours, hours) + too_large(row, "credits", Course.credits, credits)
    try:
        competencies = parse_competencies(row.get("competencies"))
    except ValueError as bad:
        errors.append(RowError(row.line, "competencies", _l(
            "Write competencies as CODE:LEVEL separated by semicolons, levels 1 to 5 (problem: %(part)s).", part=str(bad))))
        competencies = {}
    unknown = unknown_codes(competencies, known)
    if unknown:
        errors.append(RowError(row.line, "competencies", unknown_codes_message(unknown)))
    return CourseValues(code=code, title_zh=row.get("title_zh"), title_en=row.get("title_en"), type=row.get("type"),
                        delivery=row.get("delivery"), hours=hours, credits=credits, competencies=competencies)


def import_courses(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Upsert courses by code; ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        existing = {c.code: c for c in db.session.scalars(select(Course).options(selectinload(Course.competencies)))}
        errors, seen = [], {}
        known = published_codes()
        parsed = [(row, _values(row, check_code(row, seen, errors), errors, known)) for row in rows]
        refuse(errors)
        result = ImportResult("courses", dry_run=dry_run)
        for row, values in parsed:
            course = existing.get(values.code)
            before = None
            if course is None:
                course = existing[values.code] = Course(code=values.code, description_zh="", description_en="", active=True)
                db.session.add(course)
            else:
                before = _fields(course)
                values.description_zh, values.description_en, values.active = course.description_zh, course.description_en, course.active
            apply_course(course, values)
            result.track(row.line, values.code, course, before, _fields(course))
        return finish(work, result, actor, filename)


def _fields(course: Course) -> dict:
    """What an import sets on a course, as the audit trail compares it (competencies as CODE:LEVEL;…)."""
    return {"title_zh": course.title_zh, "title_en": course.title_en, "type": course.type, "delivery": course.delivery,
            "hours": course.hours, "credits": course.credits,
            "competencies": ";".join(f"{c.competency_code}:{c.up_to_level}"
                                     for c in sorted(course.competencies, key=lambda c: c.competency_code))}
