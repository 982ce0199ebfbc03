"""Imports of the course catalogue (upsert by code) and of past training (all or nothing)."""
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Course, CourseType, Delivery, Employee, Enrolment, EnrolmentStatus, TrainingResult
from . import audit
from .imports import ImportResult, _finish, check_code
from .tabular import ImportFailed, RowError, parse_date, read_rows
from .training import CourseValues, apply_course, parse_competencies, record_result

COURSE_COLUMNS = ["code", "title_zh", "title_en", "type", "delivery", "hours", "credits", "competencies"]
TRAINING_COLUMNS = ["staff_no", "course_code", "completed_on", "result"]


def _number(text: str):
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def import_courses(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Upsert courses by code; ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COURSE_COLUMNS)
    existing = {c.code: c for c in db.session.scalars(select(Course))}
    errors, seen, parsed = [], {}, []
    for row in rows:
        code = check_code(row, seen, errors)
        for column in ("title_zh", "title_en"):
            if not row.get(column):
                errors.append(RowError(row.line, column, _l("Required.")))
        if row.get("type") not in {t.value for t in CourseType}:
            errors.append(RowError(row.line, "type", _l("Unknown type %(value)s: use law, industry, sales, exchange, mentoring or certification.", value=row.get("type"))))
        if row.get("delivery") not in {d.value for d in Delivery}:
            errors.append(RowError(row.line, "delivery", _l("Unknown delivery %(value)s: use classroom, online, self_study or on_the_job.", value=row.get("delivery"))))
        hours, credits = _number(row.get("hours")), _number(row.get("credits"))
        if hours is None or hours <= 0:
            errors.append(RowError(row.line, "hours", _l("Hours must be a positive number.")))
        if credits is None or credits < 0:
            errors.append(RowError(row.line, "credits", _l("Credits must be a number of at least 0.")))
        try:
            competencies = parse_competencies(row.get("competencies"))
        except ValueError as bad:
            errors.append(RowError(row.line, "competencies", _l("Write competencies as CODE:LEVEL separated by semicolons, levels 1 to 5 (problem: %(part)s).", part=str(bad))))
            competencies = {}
        parsed.append((row, CourseValues(code=code, title_zh=row.get("title_zh"), title_en=row.get("title_en"),
                                         type=row.get("type"), delivery=row.get("delivery"), hours=hours, credits=credits,
                                         competencies=competencies)))
    result = ImportResult("courses", dry_run=dry_run)
    if errors:
        return _finish(result, errors, actor, filename)
    for row, values in parsed:
        course = existing.get(values.code)
        if course is None:
            course = existing[values.code] = Course(code=values.code, description_zh="", description_en="", active=True)
            db.session.add(course)
            apply_course(course, values)
            result.created += 1
            result.actions.append((row.line, values.code, "create"))
        else:
            values.description_zh, values.description_en, values.active = course.description_zh, course.description_en, course.active
            changed = apply_course(course, values)
            result.updated += changed
            result.unchanged += not changed
            result.actions.append((row.line, values.code, "update" if changed else "unchanged"))
    db.session.flush()
    return _finish(result, errors, actor, filename)


def import_training(data: bytes, filename: str, *, actor=None) -> dict:
    """Past training: staff_no, course_code, completed_on, result (pass/fail), score. Passes earn their credits.
    ImportFailed (nothing written) on any bad row. Commits."""
    rows = read_rows(data, filename, TRAINING_COLUMNS, ["score"])
    people = {e.staff_no: e for e in db.session.scalars(select(Employee).where(Employee.staff_no.in_({r.get("staff_no") for r in rows})))}
    catalogue = {c.code: c for c in db.session.scalars(select(Course))}
    errors, items, seen = [], [], {}
    for row in rows:
        person, course = people.get(row.get("staff_no")), catalogue.get(row.get("course_code"))
        if person is None:
            errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
        if course is None:
            errors.append(RowError(row.line, "course_code", _l("Unknown course %(code)s.", code=row.get("course_code"))))
        try:
            on = parse_date(row.get("completed_on"))
        except ValueError:
            errors.append(RowError(row.line, "completed_on", _l("Not a date in YYYY-MM-DD form: %(value)s.", value=row.get("completed_on"))))
            on = None
        if row.get("result") not in {r.value for r in TrainingResult}:
            errors.append(RowError(row.line, "result", _l("Unknown result %(value)s: use pass or fail.", value=row.get("result"))))
        score = row.get("score")
        if score and (_number(score) is None or not 0 <= _number(score) <= 100):
            errors.append(RowError(row.line, "score", _l("The score must be a number from 0 to 100.")))
        key = (row.get("staff_no"), row.get("course_code"), row.get("completed_on"))
        if key in seen:
            errors.append(RowError(row.line, "course_code", _l("The same training appears twice (also on line %(line)s).", line=seen[key])))
        seen.setdefault(key, row.line)
        items.append((person, course, on, row.get("result"), score))
    if errors:
        raise ImportFailed(errors)
    known = set(db.session.execute(select(Enrolment.employee_id, Enrolment.course_id, Enrolment.completed_on).where(
        Enrolment.employee_id.in_([p.id for p in people.values()]), Enrolment.completed_on.is_not(None))).all())
    counts = {"passed": 0, "failed": 0, "unchanged": 0}
    for person, course, on, outcome, score in items:
        if (person.id, course.id, on) in known:
            counts["unchanged"] += 1  # imported before: importing the same file twice earns nothing twice
            continue
        enrolment = Enrolment(course=course, employee=person, status=EnrolmentStatus.IN_PROGRESS, assigned_by_id=getattr(actor, "id", None),
                              assigned_at=datetime.combine(on, time()))
        db.session.add(enrolment)
        record_result(enrolment, outcome, score=score or None, on=on, actor=actor, commit=False)
        counts["passed" if outcome == "pass" else "failed"] += 1
    audit.record("import.training", "import", None, actor=actor, file=filename, **counts)
    db.session.commit()
    return counts
