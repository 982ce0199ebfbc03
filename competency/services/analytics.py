"""Aggregates behind the charts, read from the stored results (`assessments.stored`), never from raw ratings:
the organisation's heatmap from the stored sums, a team's charts from the stored rows of the people a user may see."""
from dataclasses import dataclass

from flask import g, has_request_context
from sqlalchemy import ARRAY, Float, Integer, and_, any_, cast, func, literal, select

from ..extensions import db
from ..models import LATEST, Employee, EmployeeStatus, Grade, OrgUnit, ResultAggregate, ResultRow
from .org import narrow, org_subtree_ids, rolled_up


@dataclass
class Filters:
    cycle_id: int | None = None
    org_unit_id: int | None = None
    position_id: int | None = None
    grade: str | None = None


def people(filters: Filters, scope):
    """SELECT of employee ids within the scope and the filters (org subtree, position, grade), not left."""
    query = select(Employee.id).where(Employee.id.in_(scope), Employee.status != EmployeeStatus.LEFT)
    return narrow(query, filters.org_unit_id, filters.position_id, filters.grade)


# Up to this many people, a team's ids are fetched first and given to the query as a list: planners misjudge the
# size of a recursive reporting-line query and then scan every stored row instead of using the index per person.
LISTED_PEOPLE = 20_000


def _listed(who, key: tuple, scope) -> list[int]:
    """The ids of `who` (up to one more than LISTED_PEOPLE), once per request for the same scope and filters: a
    page's charts share them. The scope is kept with them, so that its id names it for the whole request."""
    cache = g.setdefault("listed_people", {}) if has_request_context() else {}
    if key not in cache:
        cache[key] = (scope, db.session.scalars(who.limit(LISTED_PEOPLE + 1)).all())
    return cache[key][1]


def _rows(filters: Filters, scope):
    """Stored result rows of the filter's cycle (or everyone's latest) of the people in scope and filters."""
    who = select(people(filters, scope).subquery().c.id)
    ids = _listed(who, (id(scope), filters.cycle_id, filters.org_unit_id, filters.position_id, filters.grade), scope)
    r = ResultRow
    which = r.cycle_id == filters.cycle_id if filters.cycle_id else r.is_latest.is_(True)
    return r, and_(which, _among(r.employee_id, ids) if len(ids) <= LISTED_PEOPLE else r.employee_id.in_(who))


def _among(column, ids: list[int]):
    """column IN the ids: on PostgreSQL as one array parameter (thousands of separate parameters cost more to
    send and plan than the query takes to run)."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


def _codes_order(codes) -> list[str]:
    return sorted(set(codes), key=lambda c: ("KSA".index(c[0]) if c[:1] in ("K", "S", "A") else 9, c))


def unit_gap_query(filters: Filters):
    """SELECT (unit id, competency code, sum of gaps, people with a target) per unit itself, over the whole
    organisation, from the stored sums: people are counted in the unit, position and grade they had when assessed;
    a cycle's figures keep everyone assessed in it, the latest view leaves out people who left."""
    agg = ResultAggregate
    query = (select(agg.org_unit_id, agg.competency_code, func.sum(agg.gap_sum), func.sum(agg.target_people))
             .where(agg.cycle_key == (filters.cycle_id or LATEST), agg.target_people > 0)
             .group_by(agg.org_unit_id, agg.competency_code))
    if filters.position_id:
        query = query.where(agg.position_id == filters.position_id)
    if filters.grade:
        query = query.where(agg.grade == Grade(filters.grade))
    return query


def unit_gap_heatmap(filters: Filters) -> tuple[list[OrgUnit], list[str], dict]:
    """Average gap (target − combined level) per org unit and competency over the whole organisation (hr's page);
    each unit includes its sub-units (summed up the tree here). Units are the filter's unit and everything below
    it (all without a filter). Cells are {(unit id, code): (average gap, people)}."""
    sums = _inside(rolled_up(db.session.execute(unit_gap_query(filters)), keyed=True), filters.org_unit_id)
    cells = {key: (gap_sum / n, n) for key, (gap_sum, n) in sums.items()}
    return _units(cells), _codes_order(c for _, c in cells), cells


def _inside(totals: dict, org_unit_id: int | None) -> dict:
    """The {(unit id, key): …} entries of the unit and the units below it (all without one)."""
    if not org_unit_id:
        return totals
    inside = set(db.session.scalars(org_subtree_ids(org_unit_id)))
    return {key: value for key, value in totals.items() if key[0] in inside}


def _units(cells: dict) -> list[OrgUnit]:
    """The org units named in {(unit id, key): …}, by code."""
    ids = {u for u, _ in cells}
    return db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.code)).all() if ids else []


# A team with more people than this is shown by org unit: thousands of rows help nobody and weigh megabytes.
MEMBER_ROWS = 100


def member_gap_heatmap(filters: Filters, scope) -> tuple[list, list[str], dict]:
    """Gap per person and competency (latest completed assessment, or the filter's cycle); for a team of more
    than MEMBER_ROWS people, the average gap per org unit of its members instead. Returns (people or org units,
    codes, {(id, code): gap})."""
    r, where = _rows(filters, scope)
    where = and_(where, r.target.is_not(None))
    if db.session.scalar(select(func.count(func.distinct(r.employee_id))).where(where)) > MEMBER_ROWS:
        rows = db.session.execute(select(Employee.org_unit_id, r.competency_code, func.avg(r.gap))
                                  .join(Employee, Employee.id == r.employee_id).where(where)
                                  .group_by(Employee.org_unit_id, r.competency_code)).all()
        model = OrgUnit
    else:
        rows = db.session.execute(select(r.employee_id, r.competency_code, r.gap).where(where)).all()
        model = Employee
    cells = {(e, c): float(g) for e, c, g in rows}
    ids = {e for e, _ in cells}
    order = Employee.staff_no if model is Employee else OrgUnit.code
    found = db.session.scalars(select(model).where(model.id.in_(ids)).order_by(order)).all() if ids else []
    return found, _codes_order(c for _, c in cells), cells


def average_levels(filters: Filters, scope) -> tuple[list[str], dict, dict]:
    """Average combined level and average target per competency over the people in scope."""
    r, where = _rows(filters, scope)
    rows = db.session.execute(
        select(r.competency_code, func.avg(r.combined), func.avg(cast(r.target, Float))).where(where)
        .group_by(r.competency_code)).all()
    codes = _codes_order(row[0] for row in rows)
    return codes, {c: float(a) for c, a, _ in rows}, {c: float(t) for c, _, t in rows if t is not None}


def grade_distribution(filters: Filters, scope) -> tuple[list[OrgUnit], dict]:
    """Headcount per org unit (sub-units included) and grade."""
    who = people(filters, scope).subquery()
    rows = db.session.execute(select(Employee.org_unit_id, Employee.grade, func.count(Employee.id))
                              .where(Employee.id.in_(select(who.c.id))).group_by(Employee.org_unit_id, Employee.grade))
    return rolled_up_grades({(unit, grade): n for unit, grade, n in rows}, filters.org_unit_id)


def rolled_up_grades(counts: dict[tuple[int, Grade], int], org_unit_id: int | None = None) -> tuple[list[OrgUnit], dict]:
    """Headcounts per (own unit, grade) summed up the org tree: (units, {(unit id, grade): n}), units being the
    given unit and everything below it (all without one)."""
    totals = _inside(rolled_up(((unit, grade, n) for (unit, grade), n in counts.items()), keyed=True), org_unit_id)
    totals = {key: n for key, (n,) in totals.items()}
    return _units(totals), totals
