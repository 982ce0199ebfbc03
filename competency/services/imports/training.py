"""Import of past training: `staff_no, course_code, completed_on, result` and optionally `score` (or 工号, 课程代码,
完成日期, 培训结果, 成绩; results also as 通过/未通过).

Each new row becomes a closed enrolment; a pass earns its credits once; a completion date in the future is refused
(the credits would count in a year not yet begun). A row imported before (same person,
course and completion date) is left unchanged, so importing the same file twice earns nothing twice.
"""
from datetime import datetime, time
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Course, Enrolment, EnrolmentStatus, TrainingResult
from ..org import employees_by_staff_no
from ..training.enrolment import record_result, result_date_error
from ..unit_of_work import unit_of_work
from .common import ImportResult, date_error, finish, refuse, unknown_people
from .headers import STAFF_NO
from .tabular import RowError, read_rows
from .values import choices, choose, parse_date, parse_number, twin, zero_twins

COLUMNS = ["staff_no", "course_code", "completed_on", "result"]
OPTIONAL = ["score"]
LABELS = {"staff_no": STAFF_NO, "course_code": ("课程代码", "课程编号"), "completed_on": ("完成日期", "结业日期", "培训日期"),
          "result": ("培训结果", "考核结果", "结果"), "score": ("成绩", "分数", "考试成绩")}
# Besides the labels the app shows (通过, 未通过): the words of a Chinese training record.
SYNONYMS = {TrainingResult.PASS: ("合格", "及格"), TrainingResult.FAIL: ("不合格", "不及格", "不通过")}


def _score(text: str) -> Decimal | None:
    value = parse_number(text)
    return value if value is not None and 0 <= value <= 100 else None


def _check(rows, people: dict, catalogue: dict) -> list[tuple]:
    """Each row as (line, person, course, date, result, score); ImportFailed on any bad row."""
    errors, items, seen, missing = [], [], {}, []
    results, twins = choices(TrainingResult, SYNONYMS), zero_twins(catalogue)
    for row in rows:
        person, course = people.get(row.get("staff_no")), catalogue.get(row.get("course_code"))
        if person is None:
            missing.append((row, row.get("staff_no")))
        if course is None:
            errors.append(RowError(row.line, "course_code", _unknown_course(row.get("course_code"), twins)))
        try:
            on = parse_date(row.get("completed_on"))
        except ValueError:
            errors.append(RowError(row.line, "completed_on", date_error(row.get("completed_on"))))
            on = None
        problem = result_date_error(on) if on is not None else None
        if problem is not None:
            errors.append(RowError(row.line, "completed_on", problem))
        outcome = choose(results, row.get("result"))
        if outcome is None:
            errors.append(RowError(row.line, "result", _l("Unknown result %(value)s: use pass or fail (通过, 未通过).",
                                                          value=row.get("result"))))
        score = row.get("score")
        if score and _score(score) is None:
            errors.append(RowError(row.line, "score", _l("The score must be a number from 0 to 100: %(value)s.", value=score)))
        key = (row.get("staff_no"), row.get("course_code"), on or row.get("completed_on"))
        if key in seen:
            errors.append(RowError(row.line, "course_code", _l("The same training appears twice (also on line %(line)s).", line=seen[key])))
        seen.setdefault(key, row.line)
        items.append((row.line, person, course, on, outcome, _score(score) if score else None))
    errors += unknown_people(missing)
    refuse(errors, rows.sheet)
    return items


def _unknown_course(code: str, twins: dict):
    other = twin(code, twins)
    if other is not None:
        return _l("Unknown course %(code)s: did you mean %(existing)s?", code=code, existing=other)
    return _l("Unknown course %(code)s.", code=code)


def import_training(data: bytes, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Past training; passes earn their credits. ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS, OPTIONAL, labels=LABELS, totals="staff_no")
    with unit_of_work() as work:
        people = employees_by_staff_no(r.get("staff_no") for r in rows)
        items = _check(rows, people, {c.code: c for c in db.session.scalars(select(Course))})
        known = set(db.session.execute(select(Enrolment.employee_id, Enrolment.course_id, Enrolment.completed_on).where(
            Enrolment.employee_id.in_([p.id for p in people.values()]), Enrolment.completed_on.is_not(None))).all())
        result = ImportResult("training", dry_run=dry_run, counts={"passed": 0, "failed": 0}, notices=rows.notices)
        for line, person, course, on, outcome, score in items:
            key = f"{person.staff_no} {course.code} {on.isoformat()}"
            if (person.id, course.id, on) in known:
                result.add(line, key, "unchanged")
                continue
            enrolment = Enrolment(course=course, employee=person, status=EnrolmentStatus.IN_PROGRESS,
                                  assigned_by_id=getattr(actor, "id", None), assigned_at=datetime.combine(on, time()))
            db.session.add(enrolment)
            record_result(enrolment, outcome, score=score, on=on, actor=actor, tell=False)
            result.track(line, key, enrolment, None, {"result": outcome, "score": score})
            result.counts["passed" if outcome == "pass" else "failed"] += 1
        return finish(work, result, actor, filename, **result.counts)
