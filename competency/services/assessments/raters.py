"""Sums per cycle and assessing supervisor of the stored result rows (RaterSum), for the leniency page: kept current
by `stored.refresh` the way the other sums are — the rows' old contribution taken away, the new one added — so that
the page reads a few thousand sums instead of every supervisor rating of the cycle."""
from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import Assessment, RaterSum, ResultRow

KEY = ("cycle_id", "supervisor_id")
SUMS = ("level_sum", "levels", "assessments")


def _sums(where):
    """SELECT (cycle, supervisor, sum of supervisor levels, levels, assessments) of the result rows matching `where`."""
    r = ResultRow
    return (select(r.cycle_id, Assessment.supervisor_id, func.sum(r.supervisor_level), func.count(r.id),
                   func.count(func.distinct(r.assessment_id)))
            .join(Assessment, Assessment.id == r.assessment_id)
            .where(where, Assessment.supervisor_id.is_not(None))
            .group_by(r.cycle_id, Assessment.supervisor_id))


def add(where, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) what the matching result rows contribute to the sums."""
    rows = [dict(zip(KEY + SUMS, row[:2] + tuple(sign * v for v in row[2:]), strict=True))
            for row in db.session.execute(_sums(where))]
    if not rows:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RaterSum)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY), set_={name: RaterSum.__table__.c[name] + statement.excluded[name] for name in SUMS})
    for start in range(0, len(rows), 5000):
        db.session.execute(statement, rows[start:start + 5000])


def tidy() -> None:
    db.session.execute(delete(RaterSum).where(RaterSum.levels <= 0))


def rebuild(session=None) -> None:
    """Every sum anew from the result rows."""
    session = session or db.session
    session.execute(delete(RaterSum))
    session.execute(insert(RaterSum).from_select(KEY + SUMS, _sums(true())))

