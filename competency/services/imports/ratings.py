"""Import of past appraisal results: `staff_no, competency_code, rater, level` and optionally `comment` (or 工号,
能力代码, 评价人, 等级, 评语; raters also as 自评/上级评, levels also as 3.0).

A cycle code that does not exist yet becomes a closed historical cycle for the given period; each person is
assessed against their position's published model with the default rater weights. People with both raters'
full sets become completed assessments (scored), the rest incomplete.

A whole bank's ratings run to millions of rows, so the file is read row by row into compact arrays per person
(never one object per row), checked against reference data read once, and written a batch of people at a time as
rows of driver values (services/bulk.py); a dry run only reads. The audit trail gets one event per imported
assessment listing each of its ratings (file line, competency, rater, level before and after, comment).
"""
from array import array
from collections.abc import Callable
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
    ModelVersion,
    Rater,
    Rating,
    VersionStatus,
)
from ...models.limits import max_length
from ...timeutil import utcnow
from .. import audit, bulk, safe_files, scoring
from ..assessments import stored
from ..unit_of_work import unit_of_work
from .common import ImportResult, Progress, estimated_rows, record_summary, refuse, unknown_person
from .headers import STAFF_NO
from .tabular import ImportFailed, RowError, iter_rows
from .values import choices, choose, parse_whole, zero_twins

COLUMNS = ["staff_no", "competency_code", "rater", "level"]
OPTIONAL = ["comment"]
LABELS = {"staff_no": STAFF_NO, "competency_code": ("能力代码", "能力项代码", "胜任力代码", "能力项"),
          "rater": ("评价人", "评价方", "评价类型"), "level": ("等级", "级别", "评分", "熟练度"), "comment": ("评语", "评价意见")}
# Besides the labels the app shows (自评, 主管): the words of a Chinese appraisal form.
SYNONYMS = {Rater.SELF: ("本人", "自我评价"), Rater.SUPERVISOR: ("上级评", "上级", "上级评价", "主管评", "主管评价")}
# A CSV file of ratings may be longer than a sheet: everyone × the model's competencies × two raters.
MAX_CSV_ROWS = 6_000_000
# People written per batch (their assessments, ratings and audit events).
BATCH = 1_000
RATERS = list(Rater)
LEVEL_OF = {str(level): level for level in LEVELS} | {f"{level}.0": level for level in LEVELS}
RATING_COLUMNS = ("assessment_id", "competency_id", "rater", "level", "comment", "updated_at")


def _existing_cycle(cycle_code: str, start: date, end: date) -> Cycle | None:
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    if cycle is not None and not cycle.historical:
        raise ImportFailed([RowError(0, "", _l("Cycle %(code)s exists and is not an imported historical cycle.", code=cycle_code))])
    if end < start:
        raise ImportFailed([RowError(0, "", _l("The period must end after it starts."))])
    return cycle


class _Model(NamedTuple):
    """A published version with its competencies by code: (position in the version, competency); their codes,
    ids and weights by position."""

    version: ModelVersion
    slots: dict
    codes: list
    ids: list
    weights: dict


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


def _row_rating(row, person, model: _Model | None, already: set, errors: list, known: dict):
    """(competency position, competency, rater, level) of one row, or None after appending its error."""
    if person is None:
        if "twins" not in known:
            known["twins"] = zero_twins(known["people"])
        errors.append(RowError(row.line, "staff_no", unknown_person(row.get("staff_no"), known["twins"])))
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
    rater = choose(known["raters"], row.get("rater"))
    if rater is None:
        errors.append(RowError(row.line, "rater", _l("Unknown rater %(value)s: use self or supervisor (自评, 上级评).",
                                                     value=row.get("rater"))))
        return None
    level = parse_whole(row.get("level"))
    if level not in LEVELS:
        errors.append(RowError(row.line, "level", _l("Levels run from 1 to 5: %(value)s.", value=row.get("level"))))
        return None
    return None if found is None else (*found, Rater(rater), level)


def _collect(rows, people: dict, models: dict, already: set, progress: Progress) -> tuple[dict, dict]:
    """({employee id: _Person} in the order people first appear, {(employee id, slot): comment}); ImportFailed
    with every row error. A well-formed row takes the fast path: its cells read once per distinct text, a level and a
    rater found in a table; any other row is checked by `_row_rating`, which says what is wrong."""
    errors: list[RowError] = []
    given: dict[int, _Person] = {}
    comments: dict[tuple, str] = {}
    cell = _cells()
    raters = choices(Rater, SYNONYMS)
    rater_index = {name: RATERS.index(Rater(code)) for name, code in raters.items()}
    known = {"people": people, "raters": raters}
    count = 0
    for count, row in enumerate(rows, start=1):
        if count % 20_000 == 0:
            progress.at(0, count)
        person = people.get(cell(row, "staff_no"))
        model = models.get(person.position_id) if person is not None else None
        found = model.slots.get(cell(row, "competency_code")) if model is not None else None
        rater, level = rater_index.get(cell(row, "rater")), LEVEL_OF.get(cell(row, "level"))
        if found is None or rater is None or level is None or person.id in already:
            checked = _row_rating(row, person, model, already, errors, known)
            if checked is None:
                continue
            found, rater, level = checked[:2], RATERS.index(checked[2]), checked[3]
        position, comp = found
        ratings = given.get(person.id) or given.setdefault(person.id, _Person(person, model))
        slot = 2 * position + rater
        if ratings.lines[slot]:
            errors.append(RowError(row.line, "rater", _l("A second %(rater)s rating of %(code)s (also on line %(line)s).",
                                                         rater=RATERS[rater].value, code=comp.code, line=ratings.lines[slot])))
            continue
        ratings.lines[slot], ratings.levels[slot] = row.line, level
        if row.values.get("comment") not in (None, ""):
            comment = row.get("comment")
            if comment:
                comments[(person.id, slot)] = comment
    progress.at(0, count)
    refuse(errors, rows.header.sheet)
    return given, comments


def _cells():
    """A reader of a row's cell as `Row.get` gives it, computed once per distinct text (staff numbers, codes, raters
    and levels repeat across millions of rows)."""
    seen: dict[str, str] = {}

    def cell(row, column: str) -> str:
        raw = row.values.get(column)
        if type(raw) is not str:
            return row.get(column)
        value = seen.get(raw)
        if value is None:
            value = seen[raw] = row.get(column)
        return value
    return cell


def _models() -> dict[int, _Model]:
    """The published versions by position id, with their competencies and targets (read once)."""
    versions = db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED).options(
        selectinload(ModelVersion.competencies).selectinload(Competency.targets)))
    return {v.position_id: _Model(v, {c.code: (i, c) for i, c in enumerate(v.competencies)}, [c.code for c in v.competencies],
                                  [c.id for c in v.competencies], {c.code: float(c.weight) for c in v.competencies})
            for v in versions}


def import_ratings(data: bytes, filename: str, *, cycle_code: str, start: date, end: date, dry_run=False,
                   actor=None, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import ratings into the (new, historical) cycle; ImportFailed with every row error, nothing written.
    `progress(done, total)` hears of the rows checked, then (unless a dry run) of the ratings written."""
    cycle_code = _cycle_code(cycle_code)
    steps = Progress(progress, estimated_rows(data, filename), stages=1 if dry_run else 2)
    rows = iter_rows(data, filename, COLUMNS, OPTIONAL, csv_max_rows=MAX_CSV_ROWS, labels=LABELS)
    with unit_of_work() as work:
        cycle = _existing_cycle(cycle_code, start, end)
        people = {p.staff_no: p for p in db.session.execute(select(
            Employee.id, Employee.staff_no, Employee.position_id, Employee.grade, Employee.org_unit_id, Employee.supervisor_id))}
        already = set(db.session.scalars(select(Assessment.employee_id).where(Assessment.cycle_id == cycle.id))) if cycle else set()
        given, comments = _collect(rows, people, _models(), already, steps)
        result = ImportResult("ratings", dry_run=dry_run, counts={"completed": 0, "incomplete": 0}, notices=rows.notices)
        for ratings in given.values():
            result.add(0, ratings.person.staff_no, "create")
            result.counts["completed" if ratings.complete else "incomplete"] += 1
        if dry_run:
            work.discard()
            steps.finish()
            return result
        cycle = cycle or _historical_cycle(cycle_code, start, end)
        record_summary(result, actor, filename, cycle=cycle.code, **result.counts)
        everyone, written = list(given.values()), 0
        batch = _Batch(cycle, comments, actor, filename)
        for first in range(0, len(everyone), BATCH):
            written += batch.write(everyone[first:first + BATCH])
            steps.at(1, written)
        bulk.analyze(Assessment.__table__, Rating.__table__)
        stored.refresh(select(Assessment.id).where(Assessment.cycle_id == cycle.id))
    steps.finish()
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


class _Batch:
    """Writes batches of people's assessments (scored when complete), ratings and audit events, each as rows of
    driver values converted once per import."""

    def __init__(self, cycle: Cycle, comments: dict, actor, filename: str):
        self.cycle, self.comments, self.actor, self.filename = cycle, comments, actor, filename
        self.rater = [bulk.converter(Rating.rater)(r) for r in RATERS]
        self.weights = cycle.rater_weights

    def write(self, batch: list[_Person]) -> int:
        """Store a batch; returns how many ratings."""
        now = utcnow()
        table = Assessment.__table__
        ids = dict(db.session.execute(insert(table).returning(table.c.employee_id, table.c.id),
                                      [self._assessment(ratings, now) for ratings in batch]).all())
        at = bulk.converter(Rating.updated_at)(now)
        order = {ratings.person.id: _file_order(ratings) for ratings in batch}
        written = bulk.insert_rows(Rating.__table__, RATING_COLUMNS, [
            (ids[ratings.person.id], ratings.model.ids[slot >> 1], self.rater[slot & 1], ratings.levels[slot],
             self.comments.get((ratings.person.id, slot), ""), at)
            for ratings in batch for _line, slot in order[ratings.person.id]])
        audit.record_many("import.ratings.assessment", self.actor, (
            ("assessment", ids[ratings.person.id], self._event(ratings, order[ratings.person.id])) for ratings in batch),
            json_safe=True)
        return written

    def _assessment(self, ratings: _Person, now) -> dict:
        """One person's assessment as a row to insert: complete, with its submission times and its score, when both
        raters rated every competency, else incomplete."""
        person, full = ratings.person, ratings.complete
        return {"cycle_id": self.cycle.id, "employee_id": person.id, "version_id": ratings.model.version.id,
                "grade": person.grade, "org_unit_id": person.org_unit_id, "supervisor_id": person.supervisor_id,
                "lock_version": 1, "updated_at": now,
                "status": AssessmentStatus.COMPLETED if full else AssessmentStatus.INCOMPLETE,
                "self_submitted_at": now if full else None, "supervisor_submitted_at": now if full else None,
                "overall_score": self._score(ratings) if full else None}

    def _score(self, ratings: _Person) -> float | None:
        """The overall score of a complete assessment, as `results.result_of` computes it (the same `scoring`)."""
        codes, levels = ratings.model.codes, ratings.levels
        by_rater = {rater.value: {code: levels[2 * i + r] for i, code in enumerate(codes)} for r, rater in enumerate(RATERS)}
        return scoring.score(scoring.combined_levels(by_rater, self.weights), ratings.model.weights)

    def _event(self, ratings: _Person, order: list[tuple[int, int]]) -> dict:
        """The audit event of one imported assessment: each rating created, in file order, as the workflow's events
        show changes (code, rater, level before and after), with its line and its comment."""
        changes = []
        for line, slot in order:
            change = {"line": line, "code": ratings.model.codes[slot >> 1], "rater": RATERS[slot & 1].value,
                      "level": [None, ratings.levels[slot]]}
            comment = self.comments.get((ratings.person.id, slot))
            if comment:
                change["comment"] = [None, comment]
            changes.append(change)
        return {"file": self.filename, "key": f"{ratings.person.staff_no} {self.cycle.code}", "created": True,
                "changes": changes}


def _file_order(ratings: _Person) -> list[tuple[int, int]]:
    """(line, slot) of one person's ratings, in file order."""
    return sorted((line, slot) for slot, line in enumerate(ratings.lines) if line)
