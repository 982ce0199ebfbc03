"""Import of the course catalogue: `code, title_zh, title_en, type, delivery, hours, credits, competencies`,
upsert by code (columns, types and deliveries also by their Chinese labels; competencies as K1:3;S2:4 or K1：3；S2：4).
The competency codes must be those of a published model version."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Course, CourseType, Delivery
from ..ksa.versions import published_codes
from ..training.catalogue import CourseValues, apply_course, parse_competencies, unknown_codes, unknown_codes_message
from ..unit_of_work import unit_of_work
from .common import ImportResult, check_new_code, finish, refuse, too_large, too_long
from .tabular import RowError, read_rows
from .values import choices, choose, parse_list, parse_number, zero_twins

COLUMNS = ["code", "title_zh", "title_en", "type", "delivery", "hours", "credits", "competencies"]
LABELS = {"code": ("课程代码", "课程编号"), "title_zh": ("课程名称", "中文名称", "课程中文名称"), "title_en": ("英文名称", "课程英文名称"),
          "type": ("课程类型", "类型"), "delivery": ("授课方式", "培训方式"), "hours": ("学时", "课时"),
          "credits": ("学分", "积分", "培训积分"), "competencies": ("对应能力", "能力项", "培养能力")}

# Besides the labels the app shows (面授, 线上, 自学, 在岗带教): what training records also call them.
SYNONYMS = {Delivery.CLASSROOM: ("课堂", "线下", "课堂教学"), Delivery.ONLINE: ("在线", "网络", "网络培训"),
            Delivery.ON_THE_JOB: ("在岗", "带教", "岗位实践")}


def _values(row, code: str, errors: list, names: dict, known: set[str]) -> CourseValues:
    """The row as course values, appending an error per bad column (`known`: the competency codes of the published
    model versions)."""
    errors += [RowError(row.line, column, _l("Required.")) for column in ("title_zh", "title_en") if not row.get(column)]
    errors += too_long(row, {"code": Course.code, "title_zh": Course.title_zh, "title_en": Course.title_en})
    kind, delivery = choose(names["type"], row.get("type")), choose(names["delivery"], row.get("delivery"))
    if kind is None:
        errors.append(RowError(row.line, "type", _l(
            "Unknown type %(value)s: use law, industry, sales, exchange, mentoring or certification.", value=row.get("type"))))
    if delivery is None:
        errors.append(RowError(row.line, "delivery", _l(
            "Unknown delivery %(value)s: use classroom, online, self_study or on_the_job.", value=row.get("delivery"))))
    hours, credits = parse_number(row.get("hours")), parse_number(row.get("credits"))
    if hours is None or hours <= 0:
        errors.append(RowError(row.line, "hours", _l("Hours must be a positive number: %(value)s.", value=row.get("hours"))))
    if credits is None or credits < 0:
        errors.append(RowError(row.line, "credits", _l("Credits must be a number of at least 0: %(value)s.", value=row.get("credits"))))
    errors += too_large(row, "hours", Course.hours, hours) + too_large(row, "credits", Course.credits, credits)
    try:
        competencies = parse_competencies(parse_list(row.get("competencies")))
    except ValueError as bad:
        errors.append(RowError(row.line, "competencies", _l(
            "Write competencies as CODE:LEVEL separated by semicolons, levels 1 to 5 (problem: %(part)s).", part=str(bad))))
        competencies = {}
    unknown = unknown_codes(competencies, known)
    if unknown:
        errors.append(RowError(row.line, "competencies", unknown_codes_message(unknown)))
    return CourseValues(code=code, title_zh=row.get("title_zh"), title_en=row.get("title_en"), type=kind,
                        delivery=delivery, hours=hours, credits=credits, competencies=competencies)


def import_courses(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Upsert courses by code; ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS, labels=LABELS)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        existing = {c.code: c for c in db.session.scalars(select(Course).options(selectinload(Course.competencies)))}
        errors, seen, twins = [], {}, zero_twins(existing)
        names = {"type": choices(CourseType), "delivery": choices(Delivery, SYNONYMS)}
        known = published_codes()
        parsed = [(row, _values(row, check_new_code(row, seen, errors, existing, twins), errors, names, known)) for row in rows]
        refuse(errors, rows.sheet)
        result = ImportResult("courses", dry_run=dry_run, notices=rows.notices)
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
