"""Aggregates behind the charts, read from the stored results (`assessments.stored`), never from raw ratings:
the organisation's heatmap from the stored sums, a team's charts from the stored rows of the people a user may see."""
import re
from dataclasses import dataclass

from flask import g, has_request_context
from sqlalchemy import ARRAY, Float, Integer, Select, and_, any_, bindparam, case, cast, func, literal, select

from ..extensions import db
from ..models import LATEST, Assessment, Competency, Employee, EmployeeStatus, Grade, OrgUnit, ResultAggregate, ResultRow
from .access import among
from .assessments.cycles import progress_by_unit
from .org import narrow, org_subtree_ids, rolled_up, unit_tree
from .review.runs import action_counts
from .training.ledger import compliance_by_unit


@dataclass
class Filters:
    cycle_id: int | None = None
    org_unit_id: int | None = None
    position_id: int | None = None
    grade: str | None = None


def people(filters: Filters, scope):
    """SELECT of employee ids within the scope and the filters (org subtree, position, grade), not left."""
    query = select(Employee.id).where(among(Employee.id, scope), Employee.status != EmployeeStatus.LEFT)
    return narrow(query, filters.org_unit_id, filters.position_id, filters.grade)


# Up to this many people, a team's ids are fetched first and given to the query as a list: planners misjudge the
# size of a recursive reporting-line query and then scan every stored row instead of using the index per person.
LISTED_PEOPLE = 20_000


def _once(name: str, filters: Filters, scope, compute):
    """compute() once per request for the same scope and filters: a page's charts share what it finds. The scope is
    kept with the value, so that its id names it for the whole request."""
    cache = g.setdefault(name, {}) if has_request_context() else {}
    key = (id(scope), filters.cycle_id, filters.org_unit_id, filters.position_id, filters.grade)
    if key not in cache:
        cache[key] = (scope, compute())
    return cache[key][1]


def _listed(filters: Filters, scope) -> tuple[list[int], Select]:
    """(the ids of the people in scope and filters, up to one more than LISTED_PEOPLE, once per request; the SELECT
    of them all)."""
    who = select(people(filters, scope).subquery().c.id)
    return _once("listed_people", filters, scope, lambda: db.session.scalars(who.limit(LISTED_PEOPLE + 1)).all()), who


def in_scope(filters: Filters, scope, column):
    """The condition that an employee id column names one of the people in scope and filters."""
    ids, who = _listed(filters, scope)
    return _among(column, ids) if len(ids) <= LISTED_PEOPLE else column.in_(who)


def stored_rows(filters: Filters, scope):
    """The condition on the stored results (ResultRow) that the filters select: the rows of the filter's cycle (or
    everyone's latest) of the people in scope and filters. What every chart and export of results reads."""
    r = ResultRow
    which = r.cycle_id == filters.cycle_id if filters.cycle_id else r.is_latest.is_(True)
    return and_(which, in_scope(filters, scope, r.employee_id))


def _among(column, ids: list[int]):
    """column IN the ids: on PostgreSQL as one array parameter (thousands of separate parameters cost more to
    send and plan than the query takes to run)."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


def model_order(codes) -> list[str]:
    """The distinct competency codes in the model's order: knowledge, skills, abilities (other codes after them), each
    by its number (K2 before K10). The one order of competencies in every chart and export."""
    return sorted(set(codes), key=_code_key)


def model_order_by(code) -> tuple:
    """`model_order` in SQL, for ORDER BY: knowledge, skills, abilities, others; by number (length, then text)."""
    letter = case((code.startswith("K"), 0), (code.startswith("S"), 1), (code.startswith("A"), 2), else_=3)
    return letter, func.length(code), code


def _code_key(code: str) -> tuple:
    number = re.search(r"\d+", code)
    return ("KSA".index(code[0]) if code[:1] in ("K", "S", "A") else 3, int(number.group()) if number else 0, code)


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
    return _units(cells), model_order(c for _, c in cells), cells


def _inside(totals: dict, org_unit_id: int | None) -> dict:
    """The {(unit id, key): …} entries of the unit and the units below it (all without one)."""
    if not org_unit_id:
        return totals
    inside = set(db.session.scalars(org_subtree_ids(org_unit_id)))
    return {key: value for key, value in totals.items() if key[0] in inside}


def _units(cells: dict) -> list[OrgUnit]:
    """The org units named in {(unit id, key): …}, in tree order."""
    return in_tree_order({u for u, _ in cells})


def in_tree_order(ids) -> list[OrgUnit]:
    """The org units of the ids in the order of the org tree (a unit, then the units below it, by code), the one order
    of units in every chart and table."""
    ids = set(ids)
    if not ids:
        return []
    # read once per request: a page's charts and tables all order their units by it
    tree = g.setdefault("unit_tree", None) if has_request_context() else None
    if tree is None:
        tree = [unit for unit, _depth in unit_tree()]
        if has_request_context():
            g.unit_tree = tree
    return [unit for unit in tree if unit.id in ids]


def competency_names(codes) -> dict:
    """{code: (code, name_zh, name_en)} for the competency codes, each named as in the newest model version that has it:
    the one naming of competencies in every chart and export."""
    found = db.session.execute(_NAMES, {"codes": list(codes)}).all()
    names: dict = {}
    for row in found:
        names.setdefault(row.code, row)
    return names


_NAMES = (select(Competency.code, Competency.name_zh, Competency.name_en)
          .where(Competency.code.in_(bindparam("codes", expanding=True))).order_by(Competency.id.desc()))


def unit_completion(cycle, filters: Filters, scope) -> list[tuple[OrgUnit, int, int]]:
    """(org unit, assessments in its subtree, completed) of the cycle, in tree order, counting the assessments of the
    people in scope: each in the unit and grade they had when the cycle opened (like the heatmap), of the filter's
    position; units are the filter's unit and those below it (all without one)."""
    where = [among(Assessment.employee_id, scope)]
    if filters.grade:
        where.append(Assessment.grade == Grade(filters.grade))
    if filters.position_id:
        where.append(Assessment.employee_id.in_(select(Employee.id).where(Employee.position_id == filters.position_id)))
    totals = _inside({(unit, None): (n, done) for unit, n, done in progress_by_unit(cycle, *where)}, filters.org_unit_id)
    return [(unit, *totals[(unit.id, None)]) for unit in _units(totals)]


def unit_compliance(year: int, filters: Filters, scope) -> list[tuple[OrgUnit, int, int]]:
    """(org unit, people in its subtree, of whom meeting the year's credit requirement), in tree order, over the
    people in scope and filters (as the credits export); units are the filter's unit and those below it."""
    totals = _inside({(unit, None): (n, ok) for unit, n, ok in compliance_by_unit(year, people(filters, scope))},
                     filters.org_unit_id)
    return [(unit, *totals[(unit.id, None)]) for unit in _units(totals)]


def review_actions(run, filters: Filters, scope) -> dict:
    """Recommendations of the review run per action, over the people in scope and filters (as the recommendations
    export)."""
    return action_counts(run, people(filters, scope))


# A team with more people than this is shown by org unit: thousands of rows help nobody and weigh megabytes.
MEMBER_ROWS = 100


def _team_sums(filters: Filters, scope) -> list[tuple]:
    """Sums of the stored rows of the people in scope and filters per (their org unit, competency): (unit id, code,
    rows, sum of combined levels, rows with a target, sum of targets, sum of gaps). One pass over the rows, once per
    request, for both the team's radar and its heatmap by unit."""
    def compute():
        r = ResultRow
        where = stored_rows(filters, scope)
        on = Employee.id == r.employee_id
        if db.engine.dialect.name == "postgresql":  # the team's employees read by key, not the whole table hashed
            on = and_(on, in_scope(filters, scope, Employee.id))
        return db.session.execute(
            select(Employee.org_unit_id, r.competency_code, func.count(), func.sum(r.combined), func.count(r.target),
                   func.sum(cast(r.target, Float)), func.sum(r.gap))
            .join(Employee, on).where(where).group_by(Employee.org_unit_id, r.competency_code)).all()

    return _once("team_sums", filters, scope, compute)


def member_gap_heatmap(filters: Filters, scope) -> tuple[list, list[str], dict]:
    """Gap per person and competency (latest completed assessment, or the filter's cycle); for a team of more
    than MEMBER_ROWS people, the average gap per org unit of its members instead. Returns (people or org units,
    codes, {(id, code): gap})."""
    r = ResultRow
    where = and_(stored_rows(filters, scope), r.target.is_not(None))
    many = len(_listed(filters, scope)[0]) > MEMBER_ROWS  # else fewer people with a target than that, uncounted
    if many and db.session.scalar(select(func.count(func.distinct(r.employee_id))).where(where)) > MEMBER_ROWS:
        # a gap is stored exactly where there is a target: the average gap is the sum of gaps over those rows
        cells = {(unit, code): gap_sum / targets for unit, code, _n, _sum, targets, _t, gap_sum in _team_sums(filters, scope)
                 if targets}
        model = OrgUnit
    else:
        cells = {(e, c): float(gap) for e, c, gap in db.session.execute(select(r.employee_id, r.competency_code, r.gap).where(where))}
        model = Employee
    if model is OrgUnit:
        return _units(cells), model_order(c for _, c in cells), cells
    ids = {e for e, _ in cells}
    found = db.session.scalars(select(Employee).where(Employee.id.in_(ids)).order_by(Employee.staff_no)).all() if ids else []
    return found, model_order(c for _, c in cells), cells


def average_levels(filters: Filters, scope) -> tuple[list[str], dict, dict]:
    """Average combined level and average target per competency over the people in scope."""
    per_code: dict[str, list] = {}
    for _unit, code, n, combined, targets, target_sum, _gaps in _team_sums(filters, scope):
        sums = per_code.setdefault(code, [0, 0.0, 0, 0.0])
        for i, value in enumerate((n, combined, targets, target_sum or 0.0)):
            sums[i] += value
    levels = {code: combined / n for code, (n, combined, _t, _s) in per_code.items()}
    targets = {code: target_sum / n for code, (_n, _c, n, target_sum) in per_code.items() if n}
    return model_order(per_code), levels, targets


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
