"""Import of past training: `staff_no, course_code, completed_on, result` and optionally `score` and `external_id`
(or 工号, 课程代码, 完成日期, 培训结果, 成绩; results also as 通过/未通过). The API's completions feed is this import on
its JSON items.

Each new row becomes a closed enrolment; a pass earns its credits once; a completion date in the future is refused
(the credits would count in a year not yet begun). A row imported before is left unchanged, so importing the same
file twice earns nothing twice: a row with an external id (the e-learning platform's id of the completion) when that
id, or the same person, course, completion date and result, was recorded before (a completion first imported from a
file, then sent by the feed, or sent again under a new id); a row without one when the same person, course and
completion date were. Set-based: the
reference data is read in a fixed number of queries (the people by the staff number's index, or all of them for a
file of more than LOOKUP_IN), the enrolments, ledger entries and audit events are written in a statement each.
"""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from ...extensions import db
from ...models import Course, CreditEntry, CreditSource, Enrolment, EnrolmentStatus, TrainingResult
from ...models.limits import max_length
from ...timeutil import bank_day_start, bank_today, utcnow
from .. import audit, bulk
from ..training.enrolment import result_date_error
from ..unit_of_work import unit_of_work
from .common import ImportResult, date_error, finish, keys_to_read, people_by_staff_no, refuse, unknown_people, where_among
from .headers import STAFF_NO
from .tabular import RowError, read_rows
from .values import at_scale, choices, choose, parse_date, parse_number, step_of, twin, zero_twins

COLUMNS = ["staff_no", "course_code", "completed_on", "result"]
OPTIONAL = ["score", "external_id"]
LABELS = {"staff_no": STAFF_NO, "course_code": ("课程代码", "课程编号"), "completed_on": ("完成日期", "结业日期", "培训日期"),
          "result": ("培训结果", "考核结果", "结果"), "score": ("成绩", "分数", "考试成绩"),
          "external_id": ("外部编号", "学习平台编号")}
# Besides the labels the app shows (通过, 未通过): the words of a Chinese training record.
SYNONYMS = {TrainingResult.PASS: ("合格", "及格"), TrainingResult.FAIL: ("不合格", "不及格", "不通过")}


SCORE_STEP = step_of(Enrolment.score)


def _score(text: str) -> Decimal | None:
    """The score as stored, to one decimal (66.67 is 66.7), or None when it is not a number from 0 to 100."""
    value = parse_number(text)
    return at_scale(value, SCORE_STEP) if value is not None and 0 <= value <= 100 else None


def _check(rows, people: dict, catalogue: dict) -> list[tuple]:
    """Each row as (line, person, course, date, result, score, external id); ImportFailed on any bad row."""
    errors, items, seen, external, missing = [], [], {}, {}, []
    results, twins, longest = choices(TrainingResult, SYNONYMS), zero_twins(catalogue), max_length(Enrolment.external_id)
    today = bank_today()
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
        problem = result_date_error(on, today=today) if on is not None else None
        if problem is not None:
            errors.append(RowError(row.line, "completed_on", problem))
        outcome = choose(results, row.get("result"))
        if outcome is None:
            errors.append(RowError(row.line, "result", _l("Unknown result %(value)s: use pass or fail (通过, 未通过).",
                                                          value=row.get("result"))))
        score = row.get("score")
        kept = _score(score) if score else None
        if score and kept is None:
            errors.append(RowError(row.line, "score", _l("The score must be a number from 0 to 100: %(value)s.", value=score)))
        external_id = row.get("external_id") or None
        if external_id and len(external_id) > longest:
            errors.append(RowError(row.line, "external_id", _l("At most %(n)s characters.", n=longest)))
        elif external_id in external:
            errors.append(RowError(row.line, "external_id", _l("The same external id appears twice (also on line %(line)s).",
                                                               line=external[external_id])))
        elif external_id:
            external[external_id] = row.line
        # one training reported twice: the same person, course and day — but between two external ids only with the
        # same result (a fail and the retake's pass on one day are two); unless the row's id appeared before (said above)
        key = (row.get("staff_no"), row.get("course_code"), on or row.get("completed_on"))
        twice = next((line for line, other_id, other_outcome in seen.get(key, ())
                      if not external_id or not other_id or other_outcome == outcome), None)
        if twice is not None and (not external_id or external.get(external_id) == row.line):
            errors.append(RowError(row.line, "course_code", _l("The same training appears twice (also on line %(line)s).", line=twice)))
        seen.setdefault(key, []).append((row.line, external_id, outcome))
        items.append((row.line, person, course, on, outcome, kept, external_id))
    errors += unknown_people(missing)
    refuse(errors, rows.sheet)
    return items


def _unknown_course(code: str, twins: dict):
    other = twin(code, twins)
    if other is not None:
        return _l("Unknown course %(code)s: did you mean %(existing)s?", code=code, existing=other)
    return _l("Unknown course %(code)s.", code=code)


def import_training(data: bytes, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Past training; passes earn their credits. ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS, OPTIONAL, labels=LABELS, totals="staff_no")
    return import_training_rows(rows, filename, dry_run=dry_run, actor=actor)


def _recorded(items: list[tuple]) -> tuple[set, dict]:
    """What was recorded before: the (person, course, date, result) of completed enrolments of the people in the rows,
    and {external id: (person, course, date, result, score)} of the external ids the rows name. Two queries."""
    if not items:
        return set(), {}
    days = [on for *_start, on, _outcome, _score, _external in items]
    completed = db.session.execute(where_among(
        select(Enrolment.employee_id, Enrolment.course_id, Enrolment.completed_on, Enrolment.result)
        .where(Enrolment.completed_on.is_not(None), Enrolment.completed_on.between(min(days), max(days))),
        Enrolment.employee_id, keys_to_read(person.id for _line, person, *_rest in items)))
    known = {(employee_id, course_id, on, getattr(result, "value", None)) for employee_id, course_id, on, result in completed}
    wanted = keys_to_read(external for *_start, external in items)
    external = {} if wanted == set() else {row.external_id: tuple(row[1:]) for row in db.session.execute(where_among(
        select(Enrolment.external_id, Enrolment.employee_id, Enrolment.course_id, Enrolment.completed_on, Enrolment.result,
               Enrolment.score).where(Enrolment.external_id.is_not(None)), Enrolment.external_id, wanted))}
    return known, external


def _conflicts(items: list[tuple], external: dict, sheet) -> None:
    """Refuse rows whose external id was recorded before for another completion: a correction is an undo on the
    course's roster (it reverses the credits), not a second report."""
    errors = []
    for line, person, course, on, outcome, score, external_id in items:
        stored = external.get(external_id)
        if stored is not None and stored != (person.id, course.id, on, TrainingResult(outcome), score):
            errors.append(RowError(line, "external_id", _l(
                "The external id %(id)s was recorded before for another completion (another person, course, date, result "
                "or score): nothing was changed. Correct a recorded completion on the course's roster.", id=external_id)))
    refuse(errors, sheet)


def import_training_rows(rows, filename: str, *, dry_run=False, actor=None) -> ImportResult:
    """Record the rows (of a file, or the API's completions) as `import_training` does, in bulk; ImportFailed
    (nothing written) on any bad row."""
    with unit_of_work() as work, db.session.no_autoflush:
        people = people_by_staff_no(r.get("staff_no") for r in rows)
        catalogue = {c.code: c for c in db.session.execute(select(Course.id, Course.code, Course.credits))}
        items = _check(rows, people, catalogue)
        known, external = _recorded(items)
        trainings = {known_training[:3] for known_training in known}
        _conflicts(items, external, rows.sheet)
        result = ImportResult("training", dry_run=dry_run, counts={"passed": 0, "failed": 0}, notices=rows.notices)
        new = []
        for item in items:
            line, person, course, on, outcome, score, external_id = item
            key = external_id or f"{person.staff_no} {course.code} {on.isoformat()}"
            # recorded before: by its external id; else the same training (of a file, or under another id: a pass
            # earns its credits once however it is reported) — without an id, the same person, course and day
            same = (person.id, course.id, on, outcome) in known if external_id else (person.id, course.id, on) in trainings
            if external_id in external or same:
                result.add(line, key, "unchanged")
                continue
            new.append(item)
            result.add(line, key, "create")
            result.counts["passed" if outcome == "pass" else "failed"] += 1
        if not dry_run and new:
            _write(new, result, actor)
        return finish(work, result, actor, filename, **result.counts)


def _write(new: list[tuple], result: ImportResult, actor) -> None:
    """Insert the new enrolments, closed, in bulk; a ledger entry for each pass; a `training.result` event for each,
    as recording a result on the roster writes; each row's changes for the import's audit. A statement per table
    however many rows."""
    now, actor_id = utcnow(), getattr(actor, "id", None)
    status = {"pass": (EnrolmentStatus.COMPLETED, TrainingResult.PASS), "fail": (EnrolmentStatus.FAILED, TrainingResult.FAIL)}
    midnight = {on: bank_day_start(on) for _line, _person, _course, on, *_rest in new}  # a few days, many rows
    ids = bulk.insert_returning_ids(Enrolment.__table__, (
        {"course_id": course.id, "employee_id": person.id, "status": status[outcome][0], "result": status[outcome][1],
         "score": score, "completed_on": on, "assigned_by_id": actor_id, "assigned_at": midnight[on],
         "updated_at": now, "external_id": external_id}
        for _line, person, course, on, outcome, score, external_id in new))
    bulk.execute_many(insert(CreditEntry.__table__), (
        {"employee_id": person.id, "amount": course.credits, "earned_on": on, "source": CreditSource.ENROLMENT,
         "reason": course.code, "enrolment_id": enrolment_id, "created_by_id": actor_id, "created_at": now}
        for enrolment_id, (_line, person, course, on, outcome, _score, _external) in zip(ids, new, strict=True)
        if outcome == "pass"))
    audit.record_many("training.result", actor, (
        ("enrolment", enrolment_id, {"outcome": outcome, "score": None if score is None else str(score)})
        for enrolment_id, (_line, _person, _course, _on, outcome, score, _external) in zip(ids, new, strict=True)))
    for enrolment_id, (line, person, course, on, outcome, score, external_id) in zip(ids, new, strict=True):
        key = external_id or f"{person.staff_no} {course.code} {on.isoformat()}"
        changes = {"result": [None, outcome]} | ({"score": [None, str(score)]} if score is not None else {})
        result.log(("enrolment", enrolment_id), line, key, changes, created=True)
