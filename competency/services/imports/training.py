"""Import of past training: `staff_no, course_code, completed_on, result` and optionally `score`.
A completion date in the future is refused (the credits would count in a year not yet begun).

Each new row becomes a closed enrolment; a pass earns its credits once. A row imported before (same person,
course and completion date) is left unchanged, so importing the same file twice earns nothing twice.
"""
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Course, Enrolment, EnrolmentStatus, TrainingResult
from ..org import employees_by_staff_no
from ..training.enrolment import record_result, result_date_error
from ..unit_of_work import unit_of_work
from .common import ImportResult, finish, refuse
from .tabular import RowError, parse_date, read_rows

COLUMNS = ["staff_no", "course_code", "completed_on", "result"]
OPTIONAL = ["score"]
RESULTS = {r.value for r in TrainingResult}


def _score(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value <= 100 else None


def _check(rows, people: dict, catalogue: dict) -> list[tuple]:
    """Each row as (line, person, course, date, result, score); ImportFailed on any bad row."""
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
            errors.append(RowError(row.line, "completed_on",
                                   _l("Not a date in YYYY-MM-DD form: %(value)s.", value=row.get("completed_on"))))
            on = None
        problem = result_date_error(on) if on is not None else None
        if problem is not None:
            errors.append(RowError(row.line, "completed_on", problem))
        if row.get("result") not in RESULTS:
            errors.append(RowError(row.line, "result", _l("Unknown result %(value)s: use pass or fail.", value=row.get("result"))))
        score = row.get("score")
        if score and _score(score) is None:
            errors.append(RowError(row.line, "score", _l("The score must be a number from 0 to 100.")))
        key = (row.get("staff_no"), row.get("course_code"), row.get("completed_on"))
        if key in seen:
            errors.append(RowError(row.line, "course_code", _l("The same training appears twice (also on line %(line)s).", line=seen[key])))
        seen.setdefault(key, row.line)
        items.append((row.line, person, course, on, row.get("result"), _score(score) if score else None))
    refuse(errors)
    return items


def import_training(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Past training; passes earn their credits. ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS, OPTIONAL)
    with unit_of_work() as work:
        people = employees_by_staff_no(r.get("staff_no") for r in rows)
        items = _check(rows, people, {c.code: c for c in db.session.scalars(select(Course))})
        known = set(db.session.execute(select(Enrolment.employee_id, Enrolment.course_id, Enrolment.completed_on).where(
            Enrolment.employee_id.in_([p.id for p in people.values()]), Enrolment.completed_on.is_not(None))).all())
        result = ImportResult("training", dry_run=dry_run, counts={"passed": 0, "failed": 0})
        for line, person, course, on, outcome, score in items:
            key = f"{person.staff_no} {course.code} {on.isoformat()}"
            if (person.id, course.id, on) in known:
                result.add(line, key, "unchanged")
                continue
            enrolment = Enrolment(course=course, employee=person, status=EnrolmentStatus.IN_PROGRESS,
                                  assigned_by_id=getattr(actor, "id", None), assigned_at=datetime.combine(on, time()))
            db.session.add(enrolment)
            record_result(enrolment, outcome, score=score, on=on, actor=actor)
            result.track(line, key, enrolment, None, {"result": outcome, "score": score})
            result.counts["passed" if outcome == "pass" else "failed"] += 1
        return finish(work, result, actor, filename, **result.counts)
