"""Import of past appraisal results: `staff_no, competency_code, rater, level` and optionally `comment`.

A cycle code that does not exist yet becomes a closed historical cycle for the given period; each person is
assessed against their position's published model with the default rater weights. People with both raters'
full sets become completed assessments (scored), the rest incomplete.

A whole bank's ratings run to millions of rows, so the file is read row by row into compact arrays per person
(never one object per row), checked against reference data read once, and written a batch of people at a time with
bulk statements; a dry run only reads.
"""
from array import array
from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    LEVELS,
    Assessment,
    AssessmentStatus,
    Competency,
    Cycle,
    CycleStatus,
    Employee,
    Grade,
    ModelVersion,
    Rater,
    Rating,
    VersionStatus,
)
from ...models.limits import max_length
from ...timeutil import utcnow
from .. import safe_files
from ..assessments import stored
from ..assessments.results import result_of
from ..unit_of_work import unit_of_work
from .common import ImportResult, record_rows, record_summary, refuse
from .tabular import ImportFailed, RowError, iter_rows

COLUMNS = ["staff_no", "competency_code", "rater", "level"]
OPTIONAL = ["comment"]
# A CSV file of ratings may be longer than a sheet: everyone × the model's competencies × two raters.
MAX_CSV_ROWS = 6_000_000
# People written per batch (their assessments, ratings and audit events).
BATCH = 1_000
RATERS = list(Rater)


def _existing_cycle(cycle_code: str, start: date, end: date) -> Cycle | None:
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    if cycle is not None and not cycle.historical:
        raise ImportFailed([RowError(0, "", _l("Cycle %(code)s exists and is not an imported historical cycle.", code=cycle_code))])
    if end < start:
        raise ImportFailed([RowError(0, "", _l("The period must end after it starts."))])
    return cycle


class _Model(NamedTuple):
    """A published version with its competencies by code: (position in the version, competency)."""

    version: ModelVersion
    slots: dict


class _Person:
    """One assessed person's ratings as the file gives them: per slot (competency position × 2 + rater), the line
    (0 when not given) and the level; comments apart, as most are empty."""

    __slots__ = ("person", "model", "lines", "levels")

    def __init__(self, person, model: _Model):
        self.person, self.model = person, model
        size = 2 * len(model.slots)
        self.lines = array("l", bytes(array("l").itemsize * size))
        self.levels = bytearray(size)

    @property
    def complete(self) -> bool:
        return all(self.lines)


def _row_rating(row, person, model: _Model | None, already: set, errors: list):
    """(competency position, competency, rater, level) of one row, or None after appending its error."""
    if person is None:
        errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
        return None
    if person.id in already:
        errors.append(RowError(row.line, "staff_no", _l("%(no)s already has an assessment in this cycle.", no=person.staff_no)))
        return None
    if model is None:
        errors.append(RowError(row.line, "staff_no", _l("No published competency model for the position of %(no)s.", no=person.staff_no)))
        return None
    found = model.slots.get(row.get("competency_code"))
    if found is None:
        errors.append(RowError(row.line, "competency_code", _l("Unknown competency %(code)s.", code=row.get("competency_code"))))
    try:
        rater = Rater(row.get("rater"))
    except ValueError:
        errors.append(RowError(row.line, "rater", _l("Unknown rater %(value)s: use self or supervisor.", value=row.get("rater"))))
        return None
    level = row.get("level")
    if not level.isdecimal() or int(level) not in LEVELS:
        errors.append(RowError(row.line, "level", _l("Levels run from 1 to 5.")))
        return None
    return None if found is None else (*found, rater, int(level))


def _collect(rows, people: dict, models: dict, already: set) -> tuple[dict, dict]:
    """({employee id: _Person} in the order people first appear, {(employee id, slot): comment}); ImportFailed
    with every row error."""
    errors: list[RowError] = []
    given: dict[int, _Person] = {}
    comments: dict[tuple, str] = {}
    for row in rows:
        person = people.get(row.get("staff_no"))
        found = _row_rating(row, person, models.get(person.position_id) if person else None, already, errors)
        if found is None:
            continue
        position, comp, rater, level = found
        ratings = given.get(person.id) or given.setdefault(person.id, _Person(person, models[person.position_id]))
        slot = 2 * position + RATERS.index(rater)
        if ratings.lines[slot]:
            errors.append(RowError(row.line, "rater", _l("A second %(rater)s rating of %(code)s (also on line %(line)s).",
                                                         rater=rater.value, code=comp.code, line=ratings.lines[slot])))
            continue
        ratings.lines[slot], ratings.levels[slot] = row.line, level
        if row.get("comment"):
            comments[(person.id, slot)] = row.get("comment")
    refuse(errors)
    return given, comments


def _models() -> dict[int, _Model]:
    """The published versions by position id, with their competencies and targets (read once)."""
    versions = db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED).options(
        selectinload(ModelVersion.competencies).selectinload(Competency.targets)))
    return {v.position_id: _Model(v, {c.code: (i, c) for i, c in enumerate(v.competencies)}) for v in versions}


def import_ratings(data: bytes, filename: str, *, cycle_code: str, start: date, end: date, dry_run=False,
                   actor=None) -> ImportResult:
    """Import ratings into the (new, historical) cycle; ImportFailed with every row error, nothing written."""
    cycle_code = _cycle_code(cycle_code)
    rows = iter_rows(data, filename, COLUMNS, OPTIONAL, csv_max_rows=MAX_CSV_ROWS)
    with unit_of_work() as work:
        cycle = _existing_cycle(cycle_code, start, end)
        people = {p.staff_no: p for p in db.session.execute(select(
            Employee.id, Employee.staff_no, Employee.position_id, Employee.grade, Employee.org_unit_id, Employee.supervisor_id))}
        already = set(db.session.scalars(select(Assessment.employee_id).where(Assessment.cycle_id == cycle.id))) if cycle else set()
        given, comments = _collect(rows, people, _models(), already)
        result = ImportResult("ratings", dry_run=dry_run, counts={"completed": 0, "incomplete": 0})
        for ratings in given.values():
            result.add(0, ratings.person.staff_no, "create")
            result.counts["completed" if ratings.complete else "incomplete"] += 1
        if dry_run:
            work.discard()
            return result
        cycle = cycle or _historical_cycle(cycle_code, start, end)
        record_summary(result, actor, filename, cycle=cycle.code, **result.counts)
        everyone = list(given.values())
        for first in range(0, len(everyone), BATCH):
            _write(cycle, everyone[first:first + BATCH], comments, actor, filename)
        stored.refresh(select(Assessment.id).where(Assessment.cycle_id == cycle.id))
        return result


def _cycle_code(code: str) -> str:
    """The cycle code given with the file (the CLI's --cycle), refused when empty or longer than a code holds."""
    code = safe_files.clean_text(code or "").strip()
    limit = max_length(Cycle.code)
    if not code or len(code) > limit:
        raise ImportFailed([RowError(0, "cycle", _l("Give a cycle code of at most %(n)s characters.", n=limit))])
    return code


def _historical_cycle(code: str, start: date, end: date) -> Cycle:
    cycle = Cycle(code=code, name_zh=f"历史评估 {code}", name_en=f"Imported assessment {code}",
                  period_start=start, period_end=end, self_deadline=end, supervisor_deadline=end,
                  self_weight=30, supervisor_weight=70, blind=True, status=CycleStatus.CLOSED, historical=True,
                  opened_at=utcnow(), closed_at=utcnow())
    db.session.add(cycle)
    return cycle


class _Given(NamedTuple):
    """One row's rating (what `result_of` reads of a rating, and what the audit trail keeps)."""

    competency_id: int
    rater: Rater
    level: int
    comment: str
    line: int
    code: str


class _Draft(NamedTuple):
    """An assessment as `result_of` reads it, before it is stored."""

    cycle: Cycle
    version: ModelVersion
    grade: Grade
    ratings: list


def _given(ratings: _Person, comments: dict) -> list[_Given]:
    """One person's ratings, in file order."""
    competencies = list(ratings.model.slots.values())
    return [_Given(competencies[slot // 2][1].id, RATERS[slot % 2], ratings.levels[slot],
                   comments.get((ratings.person.id, slot), ""), line, competencies[slot // 2][1].code)
            for line, slot in sorted((line, slot) for slot, line in enumerate(ratings.lines) if line)]


def _assessment(cycle: Cycle, person, version: ModelVersion, given: list[_Given], now) -> dict:
    """One person's assessment as a row to insert: complete, with its submission times and its score, when both
    raters rated every competency, else incomplete."""
    full = len(given) == 2 * len(version.competencies)
    row = {"cycle_id": cycle.id, "employee_id": person.id, "version_id": version.id, "grade": person.grade,
           "org_unit_id": person.org_unit_id, "supervisor_id": person.supervisor_id, "lock_version": 1, "updated_at": now,
           "status": AssessmentStatus.COMPLETED if full else AssessmentStatus.INCOMPLETE,
           "self_submitted_at": now if full else None, "supervisor_submitted_at": now if full else None, "overall_score": None}
    if full:
        row["overall_score"] = result_of(_Draft(cycle, version, person.grade, given)).overall
    return row


def _write(cycle: Cycle, batch: list[_Person], comments: dict, actor, filename: str) -> None:
    """Store a batch of people's assessments and ratings in bulk, and audit each rating (its level and comment) as
    a created row."""
    now = utcnow()
    given = {ratings.person.id: _given(ratings, comments) for ratings in batch}
    table = Assessment.__table__
    ids = dict(db.session.execute(insert(table).returning(table.c.employee_id, table.c.id), [
        _assessment(cycle, ratings.person, ratings.model.version, given[ratings.person.id], now) for ratings in batch]).all())
    db.session.execute(insert(Rating.__table__), [
        {"assessment_id": ids[person_id], "competency_id": item.competency_id, "rater": item.rater, "level": item.level,
         "comment": item.comment, "updated_at": now} for person_id, items in given.items() for item in items])
    rating_id = {(a, c, r): i for i, a, c, r in db.session.execute(select(
        Rating.id, Rating.assessment_id, Rating.competency_id, Rating.rater).where(Rating.assessment_id.in_(list(ids.values()))))}
    staff_no = {ratings.person.id: ratings.person.staff_no for ratings in batch}
    record_rows("ratings", actor, filename, (
        (("rating", rating_id[(ids[person_id], item.competency_id, item.rater)]), item.line,
         f"{staff_no[person_id]} {cycle.code} {item.code} {item.rater.value}", True, _changes(item))
        for person_id, items in given.items() for item in items))


def _changes(item: _Given) -> dict:
    """A created rating's changes as `compare(None, …)` gives them, without its cost per row."""
    return {"level": [None, item.level], "comment": [None, item.comment]} if item.comment else {"level": [None, item.level]}
