"""Import of past appraisal results: `staff_no, competency_code, rater, level, comment`, all or nothing.

A cycle code that does not exist yet becomes a closed historical cycle for the given period; each person is
assessed against their position's published model with the default rater weights. People with both raters'
full sets become completed assessments (scored), the rest incomplete.
"""
from collections import defaultdict
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    LEVELS, Assessment, AssessmentStatus, Cycle, CycleStatus, Employee, ModelVersion, Rater, Rating, VersionStatus,
)
from ..timeutil import utcnow
from . import audit
from .assessment import result_of
from .tabular import ImportFailed, RowError, read_rows

COLUMNS = ["staff_no", "competency_code", "rater", "level"]
OPTIONAL = ["comment"]


def import_ratings(data: bytes, filename: str, *, cycle_code: str, start: date, end: date, actor=None) -> dict:
    """Import ratings into the (new, historical) cycle; ImportFailed with every row error, nothing written."""
    rows = read_rows(data, filename, COLUMNS, OPTIONAL)
    errors: list[RowError] = []
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    if cycle is not None and not cycle.historical:
        raise ImportFailed([RowError(0, "", _l("Cycle %(code)s exists and is not an imported historical cycle.", code=cycle_code))])
    if end < start:
        raise ImportFailed([RowError(0, "", _l("The period must end after it starts."))])
    people = {e.staff_no: e for e in db.session.scalars(
        select(Employee).where(Employee.staff_no.in_({r.get("staff_no") for r in rows})))}
    published = {v.position_id: v for v in db.session.scalars(
        select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED))}
    already = set()
    if cycle is not None:
        already = set(db.session.scalars(select(Assessment.employee_id).where(Assessment.cycle_id == cycle.id)))
    seen: dict[tuple, int] = {}
    ratings: dict[int, dict] = defaultdict(dict)
    for row in rows:
        person = people.get(row.get("staff_no"))
        if person is None:
            errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
            continue
        if person.id in already:
            errors.append(RowError(row.line, "staff_no", _l("%(no)s already has an assessment in this cycle.", no=person.staff_no)))
            continue
        version = published.get(person.position_id)
        if version is None:
            errors.append(RowError(row.line, "staff_no", _l("No published competency model for the position of %(no)s.", no=person.staff_no)))
            continue
        comp = next((c for c in version.competencies if c.code == row.get("competency_code")), None)
        if comp is None:
            errors.append(RowError(row.line, "competency_code", _l("Unknown competency %(code)s.", code=row.get("competency_code"))))
        try:
            rater = Rater(row.get("rater"))
        except ValueError:
            errors.append(RowError(row.line, "rater", _l("Unknown rater %(value)s: use self or supervisor.", value=row.get("rater"))))
            continue
        level = row.get("level")
        if not level.isdigit() or int(level) not in LEVELS:
            errors.append(RowError(row.line, "level", _l("Levels run from 1 to 5.")))
            continue
        if comp is None:
            continue
        key = (person.id, comp.id, rater)
        if key in seen:
            errors.append(RowError(row.line, "rater", _l("A second %(rater)s rating of %(code)s (also on line %(line)s).",
                                                         rater=rater.value, code=comp.code, line=seen[key])))
            continue
        seen[key] = row.line
        ratings[person.id][(comp.id, rater)] = (int(level), row.get("comment"))
    if errors:
        raise ImportFailed(errors)
    if cycle is None:
        cycle = Cycle(code=cycle_code, name_zh=f"历史评估 {cycle_code}", name_en=f"Imported assessment {cycle_code}",
                      period_start=start, period_end=end, self_deadline=end, supervisor_deadline=end,
                      self_weight=30, supervisor_weight=70, blind=True, status=CycleStatus.CLOSED, historical=True,
                      opened_at=utcnow(), closed_at=utcnow())
        db.session.add(cycle)
    counts = {"completed": 0, "incomplete": 0}
    by_id = {p.id: p for p in people.values()}
    for person_id, given in ratings.items():
        person = by_id[person_id]
        version = published[person.position_id]
        assessment = Assessment(cycle=cycle, employee_id=person.id, version=version, grade=person.grade,
                                org_unit_id=person.org_unit_id, supervisor_id=person.supervisor_id)
        for (comp_id, rater), (level, comment) in given.items():
            assessment.ratings.append(Rating(competency_id=comp_id, rater=rater, level=level, comment=comment or ""))
        full = all((c.id, r) in given for c in version.competencies for r in Rater)
        assessment.status = AssessmentStatus.COMPLETED if full else AssessmentStatus.INCOMPLETE
        db.session.add(assessment)
        if full:
            assessment.self_submitted_at = assessment.supervisor_submitted_at = utcnow()
            db.session.flush()
            assessment.overall_score = result_of(assessment).overall
        counts["completed" if full else "incomplete"] += 1
    db.session.flush()
    audit.record("import.ratings", "cycle", cycle.id, actor=actor, file=filename, **counts)
    db.session.commit()
    return counts
