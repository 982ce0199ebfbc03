"""Import of past appraisal results: `staff_no, competency_code, rater, level` and optionally `comment`.

A cycle code that does not exist yet becomes a closed historical cycle for the given period; each person is
assessed against their position's published model with the default rater weights. People with both raters'
full sets become completed assessments (scored), the rest incomplete.
"""
from collections import defaultdict
from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import LEVELS, Assessment, AssessmentStatus, Cycle, CycleStatus, ModelVersion, Rater, Rating, VersionStatus
from ...models.limits import max_length
from ...timeutil import utcnow
from .. import safe_files
from ..assessments.results import result_of
from ..org import employees_by_staff_no
from ..unit_of_work import unit_of_work
from .common import ImportResult, compare, finish, refuse
from .tabular import ImportFailed, RowError, read_rows

COLUMNS = ["staff_no", "competency_code", "rater", "level"]
OPTIONAL = ["comment"]


def _existing_cycle(cycle_code: str, start: date, end: date) -> Cycle | None:
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    if cycle is not None and not cycle.historical:
        raise ImportFailed([RowError(0, "", _l("Cycle %(code)s exists and is not an imported historical cycle.", code=cycle_code))])
    if end < start:
        raise ImportFailed([RowError(0, "", _l("The period must end after it starts."))])
    return cycle


def _row_rating(row, person, version, already: set, errors: list):
    """(competency, rater, level) of one row, or None after appending its error."""
    if person is None:
        errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
        return None
    if person.id in already:
        errors.append(RowError(row.line, "staff_no", _l("%(no)s already has an assessment in this cycle.", no=person.staff_no)))
        return None
    if version is None:
        errors.append(RowError(row.line, "staff_no", _l("No published competency model for the position of %(no)s.", no=person.staff_no)))
        return None
    comp = next((c for c in version.competencies if c.code == row.get("competency_code")), None)
    if comp is None:
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
    return None if comp is None else (comp, rater, int(level))


class _Given(NamedTuple):
    """One row's rating."""

    level: int
    comment: str
    line: int
    code: str


def _collect(rows, people, published, already) -> dict[int, dict]:
    """{employee id: {(competency id, rater): _Given}}; ImportFailed with every row error."""
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    ratings: dict[int, dict] = defaultdict(dict)
    for row in rows:
        person = people.get(row.get("staff_no"))
        found = _row_rating(row, person, published.get(person.position_id) if person else None, already, errors)
        if found is None:
            continue
        comp, rater, level = found
        key = (person.id, comp.id, rater)
        if key in seen:
            errors.append(RowError(row.line, "rater", _l("A second %(rater)s rating of %(code)s (also on line %(line)s).",
                                                         rater=rater.value, code=comp.code, line=seen[key])))
            continue
        seen[key] = row.line
        ratings[person.id][(comp.id, rater)] = _Given(level, row.get("comment"), row.line, comp.code)
    refuse(errors)
    return ratings


def import_ratings(data: bytes, filename: str, *, cycle_code: str, start: date, end: date, dry_run=False,
                   actor=None) -> ImportResult:
    """Import ratings into the (new, historical) cycle; ImportFailed with every row error, nothing written."""
    cycle_code = _cycle_code(cycle_code)
    rows = read_rows(data, filename, COLUMNS, OPTIONAL)
    with unit_of_work() as work:
        cycle = _existing_cycle(cycle_code, start, end)
        people = employees_by_staff_no(r.get("staff_no") for r in rows)
        published = {v.position_id: v for v in db.session.scalars(
            select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED))}
        already = set(db.session.scalars(select(Assessment.employee_id).where(Assessment.cycle_id == cycle.id))) if cycle else set()
        ratings = _collect(rows, people, published, already)
        cycle = cycle or _historical_cycle(cycle_code, start, end)
        result = ImportResult("ratings", dry_run=dry_run, counts={"completed": 0, "incomplete": 0})
        by_id = {p.id: p for p in people.values()}
        for person_id, given in ratings.items():
            person = by_id[person_id]
            full = _assessment(cycle, person, published[person.position_id], given, result)
            result.add(0, person.staff_no, "create")
            result.counts["completed" if full else "incomplete"] += 1
        db.session.flush()
        return finish(work, result, actor, filename, cycle=cycle.code, **result.counts)


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


def _assessment(cycle: Cycle, person, version: ModelVersion, given: dict, result: ImportResult) -> bool:
    """Add one person's assessment with their ratings (each kept for the audit trail with its level and comment);
    return whether it is complete (and so scored)."""
    assessment = Assessment(cycle=cycle, employee_id=person.id, version=version, grade=person.grade,
                            org_unit_id=person.org_unit_id, supervisor_id=person.supervisor_id)
    for (comp_id, rater), item in given.items():
        rating = Rating(competency_id=comp_id, rater=rater, level=item.level, comment=item.comment or "")
        assessment.ratings.append(rating)
        result.log(rating, item.line, f"{person.staff_no} {cycle.code} {item.code} {rater.value}",
                   compare(None, {"level": rating.level, "comment": rating.comment}), created=True)
    full = all((c.id, r) in given for c in version.competencies for r in Rater)
    assessment.status = AssessmentStatus.COMPLETED if full else AssessmentStatus.INCOMPLETE
    db.session.add(assessment)
    if full:
        assessment.self_submitted_at = assessment.supervisor_submitted_at = utcnow()
        db.session.flush()
        assessment.overall_score = result_of(assessment).overall
    return full
