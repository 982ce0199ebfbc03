"""Results stored when they are final: `refresh` rewrites the result rows of some assessments from their ratings
and keeps the per-(cycle, unit, position, grade, competency) sums current in the same transaction, by taking away
what the old rows contributed and adding what the new ones do. Every write that changes a completed result calls
it (completing, reopening, importing ratings); `people_changed` follows a person leaving or returning (the latest
view leaves out people who left). Everything here is set-based: the work grows with the assessments touched, and
at most a few statements run whatever their number.

tests/test_stored_results.py checks that, after any sequence of completions, reopenings, imports and departures,
the rows and sums equal a recomputation from the ratings.
"""
from sqlalchemy import Float, cast, delete, func, insert, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import LATEST, Assessment, Employee, EmployeeStatus, ResultAggregate, ResultRow
from . import raters
from .results import combined_levels, latest_completed_query

KEY = ("cycle_key", "org_unit_id", "position_id", "grade", "competency_code")
SUMS = ("people", "combined_sum", "target_people", "target_sum", "gap_sum")


def _sums(where, latest: bool):
    """SELECT of the sums of the result rows matching `where`, per aggregate key (cycle, or LATEST)."""
    r = ResultRow
    cycle_key = literal(LATEST).label("cycle_key") if latest else r.cycle_id.label("cycle_key")
    return (select(cycle_key, r.org_unit_id, r.position_id, r.grade, r.competency_code, func.count(r.id),
                   func.coalesce(func.sum(r.combined), 0.0), func.count(r.target),
                   func.coalesce(func.sum(cast(r.target, Float)), 0.0), func.coalesce(func.sum(r.gap), 0.0))
            .where(where, r.is_latest.is_(True) if latest else true())
            .group_by(*([] if latest else [r.cycle_id]), r.org_unit_id, r.position_id, r.grade, r.competency_code))


def _add(where, latest: bool, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) the contribution of the matching rows to the stored sums."""
    rows = [dict(zip(KEY + SUMS, row[:5] + tuple(sign * v for v in row[5:]), strict=True))
            for row in db.session.execute(_sums(where, latest))]
    if not rows:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ResultAggregate)
    table = ResultAggregate.__table__
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY), set_={name: table.c[name] + statement.excluded[name] for name in SUMS})
    for start in range(0, len(rows), 5000):
        db.session.execute(statement, rows[start:start + 5000])


def _rows_from_ratings(assessment_ids):
    """SELECT of new result rows (the ResultRow columns but `is_latest`) of the completed ones of these assessments."""
    levels = combined_levels(assessment_ids=assessment_ids)
    gap = cast(levels.c.target, Float) - levels.c.combined
    return (select(levels.c.assessment_id, levels.c.employee_id, levels.c.cycle_id, levels.c.org_unit_id, Employee.position_id,
                   levels.c.grade, levels.c.competency_id, levels.c.competency_code, levels.c.self_level,
                   levels.c.supervisor_level, levels.c.combined, levels.c.target, gap, literal(False))
            .join(Employee, Employee.id == levels.c.employee_id))


ROW_COLUMNS = ("assessment_id", "employee_id", "cycle_id", "org_unit_id", "position_id", "grade", "competency_id",
               "competency_code", "self_level", "supervisor_level", "combined", "target", "gap", "is_latest")


def _mark_latest(employee_ids, session=None) -> None:
    """Set `is_latest` on the rows of each person's most recent completed assessment, unless they left, and clear it
    on their other rows. Two updates that each find their rows by a join (a CASE over every row of these people
    rewrote them all, and PostgreSQL checked each against the latest ones one at a time)."""
    session = session or db.session
    latest = latest_completed_query(employee_ids=employee_ids).subquery()
    stayed = select(Employee.id).where(Employee.id.in_(employee_ids), Employee.status != EmployeeStatus.LEFT)
    session.execute(update(ResultRow).where(ResultRow.employee_id.in_(employee_ids), ResultRow.is_latest.is_(True))
                    .values(is_latest=False).execution_options(synchronize_session=False))
    session.execute(update(ResultRow).where(ResultRow.assessment_id.in_(
        select(latest.c.assessment_id).where(latest.c.employee_id.in_(stayed)))).values(is_latest=True)
                    .execution_options(synchronize_session=False))


def _tidy() -> None:
    db.session.execute(delete(ResultAggregate).where(ResultAggregate.people <= 0))
    raters.tidy()


def refresh(assessment_ids) -> None:
    """Rewrite the stored results of these assessments (a list of ids or a SELECT of them) from their ratings —
    rows for those completed, none for the others — and bring the sums up to date. Call it inside the unit of work
    that changed them, after the change."""
    if isinstance(assessment_ids, (list, tuple, set)):
        assessment_ids = sorted(set(assessment_ids))
        if not assessment_ids:
            return
    db.session.flush()
    people = select(Assessment.employee_id).where(Assessment.id.in_(assessment_ids)).distinct()
    mine, theirs = ResultRow.assessment_id.in_(assessment_ids), ResultRow.employee_id.in_(people)
    _add(mine, latest=False, sign=-1)
    _add(theirs, latest=True, sign=-1)
    raters.add(mine, sign=-1)
    db.session.execute(delete(ResultRow).where(mine).execution_options(synchronize_session=False))
    db.session.execute(insert(ResultRow).from_select(ROW_COLUMNS, _rows_from_ratings(assessment_ids)))
    _mark_latest(people)
    _add(mine, latest=False, sign=1)
    _add(theirs, latest=True, sign=1)
    raters.add(mine, sign=1)
    _tidy()


def people_changed(employee_ids) -> None:
    """Follow people leaving or returning: their latest results leave or rejoin the latest view."""
    if isinstance(employee_ids, (list, tuple, set)):
        employee_ids = sorted(set(employee_ids))
        if not employee_ids:
            return
    db.session.flush()
    theirs = ResultRow.employee_id.in_(employee_ids)
    _add(theirs, latest=True, sign=-1)
    _mark_latest(employee_ids)
    _add(theirs, latest=True, sign=1)
    _tidy()


def rebuild(session=None, rater_sums: bool = True) -> int:
    """Rewrite every stored result and sum from the ratings (after a migration or a bulk load); returns the rows.
    `session`: another session than the app's (the migration's); `rater_sums=False` for the migration made before
    those sums had their table."""
    session = session or db.session
    session.flush()
    session.execute(delete(ResultAggregate))
    session.execute(delete(ResultRow))
    session.execute(insert(ResultRow).from_select(ROW_COLUMNS, _rows_from_ratings(select(Assessment.id))))
    _mark_latest(select(Employee.id), session)
    for latest in (False, True):
        session.execute(insert(ResultAggregate).from_select(KEY + SUMS, _sums(true(), latest)))
    if rater_sums:
        raters.rebuild(session)
    return session.scalar(select(func.count(ResultRow.id)))
