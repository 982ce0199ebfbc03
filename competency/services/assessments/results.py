"""Assessment results: one person's result (in Python, from `scoring`), the combined levels of many (in SQL),
each person's latest completed assessment, and rater leniency.

The combined level in SQL is the same weighted mean of the raters as `scoring.combined_levels`: a missing self
rating falls back to the supervisor's, so the mean is over the raters present (tests/unit/test_parity.py).
"""
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Float, and_, bindparam, cast, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from ...extensions import db
from ...models import (
    Assessment,
    AssessmentStatus,
    Competency,
    Cycle,
    Employee,
    Rater,
    RaterSum,
    Rating,
    Target,
)
from .. import scoring
from ..ksa.published import CompetencyPart, parts_of


@dataclass
class CompetencyResult:
    competency: CompetencyPart
    self_level: int | None
    supervisor_level: int | None
    combined: float | None
    target: int | None
    next_target: int | None
    gap: float | None
    next_gap: float | None
    flag: str | None


@dataclass
class AssessmentResult:
    rows: list[CompetencyResult]
    categories: dict[str, float | None]
    overall: float | None


def _minus(target: int | None, level: float | None) -> float | None:
    return None if level is None or target is None else target - level


def result_of(assessment: Assessment, include_self: bool = True) -> AssessmentResult:
    """Levels by rater, combined levels, targets, gaps, flags and scores (self ratings left out when asked)."""
    comps = parts_of(assessment.version).competencies
    code_of = {c.id: c.code for c in comps}
    by_rater = {rater: {code_of[r.competency_id]: r.level for r in assessment.ratings
                        if r.rater == rater and r.level is not None and r.competency_id in code_of}
                for rater in Rater}
    self_levels, supervisor_levels = (by_rater[Rater.SELF] if include_self else {}), by_rater[Rater.SUPERVISOR]
    combined = scoring.combined_levels({Rater.SELF.value: self_levels, Rater.SUPERVISOR.value: supervisor_levels},
                                       assessment.cycle.rater_weights)
    flags = scoring.disagreements(self_levels, supervisor_levels)
    grade, next_grade = assessment.grade, assessment.grade.next()
    rows = []
    for comp in comps:
        level = combined.get(comp.code)
        target, next_target = comp.target(grade), comp.target(next_grade)
        rows.append(CompetencyResult(comp, self_levels.get(comp.code), supervisor_levels.get(comp.code), level,
                                     target, next_target, _minus(target, level), _minus(next_target, level),
                                     flags[comp.code].kind if comp.code in flags else None))
    comp_weights = {c.code: float(c.weight) for c in comps}
    categories = {c.code: c.category.value for c in comps}
    return AssessmentResult(rows, scoring.category_scores(combined, comp_weights, categories),
                            scoring.score(combined, comp_weights))


# --- the latest completed assessment ---------------------------------------------------------------

LATEST_FIRST = (Cycle.period_end.desc(), Assessment.id.desc())  # "latest" is by cycle end


def latest_completed_query(year: int | None = None, employee_ids=None):
    """SELECT (employee_id, assessment_id, overall_score) of each person's most recent completed assessment
    (by cycle end), among cycles ending in `year` when given, of `employee_ids` (a list or SELECT) when given.
    The one query for "the latest completed assessment"."""
    rank = func.row_number().over(partition_by=Assessment.employee_id, order_by=LATEST_FIRST).label("rank")
    query = _completed(select(Assessment.employee_id, Assessment.id.label("assessment_id"), Assessment.overall_score, rank)
                       .join(Cycle, Cycle.id == Assessment.cycle_id), year)
    if employee_ids is not None:
        query = query.where(Assessment.employee_id.in_(employee_ids))
    ranked = query.subquery()
    return select(ranked.c.employee_id, ranked.c.assessment_id, ranked.c.overall_score).where(ranked.c.rank == 1)


def latest_completed(employee_id: int, year: int | None = None) -> Assessment | None:
    """The person's most recent completed assessment (of a cycle ending in `year` when given), in the order of
    `latest_completed_query`, with its cycle, model version and ratings (what its result reads)."""
    return db.session.scalar(_latest_of_one(year), {"employee_id": employee_id})


@lru_cache(maxsize=16)
def _latest_of_one(year: int | None):
    """The statement of `latest_completed`, built once per year asked: building it costs more than running it."""
    query = _completed(select(Assessment).join(Assessment.cycle).where(Assessment.employee_id == bindparam("employee_id")), year)
    return query.order_by(*LATEST_FIRST).limit(1).options(
        contains_eager(Assessment.cycle), joinedload(Assessment.version), selectinload(Assessment.ratings))


def _completed(query, year: int | None):
    """The query (joined to the cycle) kept to completed assessments, of cycles ending in `year` when given."""
    query = query.where(Assessment.status == AssessmentStatus.COMPLETED)
    if year is not None:
        query = query.where(Cycle.period_end >= date(year, 1, 1), Cycle.period_end < date(year + 1, 1, 1))
    return query


# --- combined levels in SQL ------------------------------------------------------------------------


def combined_levels(cycle_id: int | None = None, latest_only: bool = False, assessment_ids=None):
    """Subquery of completed assessments' levels, computed from the ratings: assessment_id, employee_id, cycle_id,
    grade, org_unit_id, competency_id, competency_code, weight, combined, target (for the assessed grade),
    self_level, supervisor_level. `latest_only` keeps each person's most recent completed assessment (by cycle end);
    `assessment_ids` (a list or SELECT) keeps those. Reading pages use the stored results (`stored`) instead."""
    assessments = (select(Assessment.id, Assessment.employee_id, Assessment.cycle_id, Assessment.version_id,
                          Assessment.grade, Assessment.org_unit_id, Cycle.self_weight, Cycle.supervisor_weight)
                   .join(Cycle, Cycle.id == Assessment.cycle_id).where(Assessment.status == AssessmentStatus.COMPLETED))
    if cycle_id is not None:
        assessments = assessments.where(Assessment.cycle_id == cycle_id)
    if assessment_ids is not None:
        assessments = assessments.where(Assessment.id.in_(assessment_ids))
    if latest_only:
        latest = latest_completed_query().subquery()
        assessments = assessments.where(Assessment.id.in_(select(latest.c.assessment_id)))
    a = assessments.subquery("a")
    sup, own = aliased(Rating), aliased(Rating)
    combined = (cast(a.c.self_weight * func.coalesce(own.level, sup.level) + a.c.supervisor_weight * sup.level, Float)
                / 100.0)
    return (
        select(a.c.id.label("assessment_id"), a.c.employee_id, a.c.cycle_id, a.c.grade, a.c.org_unit_id,
               Competency.id.label("competency_id"), Competency.code.label("competency_code"), Competency.weight,
               combined.label("combined"), Target.level.label("target"), own.level.label("self_level"), sup.level.label("supervisor_level"))
        .join(Competency, Competency.version_id == a.c.version_id)
        .join(sup, and_(sup.assessment_id == a.c.id, sup.competency_id == Competency.id, sup.rater == Rater.SUPERVISOR,
                        sup.level.is_not(None)))
        .outerjoin(own, and_(own.assessment_id == a.c.id, own.competency_id == Competency.id, own.rater == Rater.SELF))
        .outerjoin(Target, and_(Target.competency_id == Competency.id, Target.grade == a.c.grade))
        .subquery("levels")
    )


# --- rater leniency --------------------------------------------------------------------------------


def leniency_query(cycle: Cycle):
    """SELECT (supervisor, mean supervisor rating, people rated) per assessing supervisor of the cycle's completed
    assessments, most lenient first, from the sums stored with the results (`raters`)."""
    mean = cast(RaterSum.level_sum, Float) / RaterSum.levels
    return (select(Employee, mean.label("mean"), RaterSum.assessments).join(Employee, Employee.id == RaterSum.supervisor_id)
            .where(RaterSum.cycle_id == cycle.id, RaterSum.levels > 0).order_by(mean.desc(), Employee.staff_no))


def leniency(cycle: Cycle, rows=None, org_mean: float | None = None) -> list[tuple]:
    """Per assessing supervisor: (employee, mean supervisor rating, people rated, difference from the
    organisation's mean), most lenient first — of every supervisor, or of `rows` of `leniency_query` (a page)."""
    org_mean = organisation_mean(cycle) if org_mean is None else org_mean
    rows = db.session.execute(leniency_query(cycle)) if rows is None else rows
    return [(person, mean, n, mean - org_mean) for person, mean, n in rows]


def organisation_mean(cycle: Cycle) -> float | None:
    """The mean of the supervisor ratings of the cycle's completed assessments (by their assessing supervisors)."""
    total, ratings = db.session.execute(select(func.sum(RaterSum.level_sum), func.sum(RaterSum.levels))
                                        .where(RaterSum.cycle_id == cycle.id)).one()
    return total / ratings if ratings else None
