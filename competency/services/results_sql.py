"""Combined levels and gaps computed in SQL, for features that aggregate over many people.

The combined level here is the same weighted mean of the raters as `scoring.combined_levels`: a missing self
rating falls back to the supervisor's, so the mean is over the raters present.
"""
from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.orm import aliased

from ..models import Assessment, AssessmentStatus, Competency, Cycle, Rater, Rating, Target


def combined_levels(cycle_id: int | None = None, latest_only: bool = False):
    """Subquery of completed assessments' levels: assessment_id, employee_id, cycle_id, grade, competency_code,
    weight, combined, target (for the assessed grade), self_level, supervisor_level. `latest_only` keeps each person's most recent completed
    assessment (by cycle end)."""
    assessments = select(Assessment.id, Assessment.employee_id, Assessment.cycle_id, Assessment.version_id,
                         Assessment.grade, Cycle.self_weight, Cycle.supervisor_weight)
    assessments = assessments.join(Cycle, Cycle.id == Assessment.cycle_id).where(
        Assessment.status == AssessmentStatus.COMPLETED)
    if cycle_id is not None:
        assessments = assessments.where(Assessment.cycle_id == cycle_id)
    if latest_only:
        rank = func.row_number().over(partition_by=Assessment.employee_id,
                                      order_by=(Cycle.period_end.desc(), Assessment.id.desc())).label("rank")
        ranked = assessments.add_columns(rank).subquery()
        assessments = select(ranked).where(ranked.c.rank == 1)
    a = assessments.subquery("a")
    sup, own = aliased(Rating), aliased(Rating)
    combined = (cast(a.c.self_weight * func.coalesce(own.level, sup.level) + a.c.supervisor_weight * sup.level, Float)
                / 100.0)
    return (
        select(a.c.id.label("assessment_id"), a.c.employee_id, a.c.cycle_id, a.c.grade,
               Competency.code.label("competency_code"), Competency.weight, combined.label("combined"),
               Target.level.label("target"), own.level.label("self_level"), sup.level.label("supervisor_level"))
        .join(Competency, Competency.version_id == a.c.version_id)
        .join(sup, and_(sup.assessment_id == a.c.id, sup.competency_id == Competency.id, sup.rater == Rater.SUPERVISOR,
                        sup.level.is_not(None)))
        .outerjoin(own, and_(own.assessment_id == a.c.id, own.competency_id == Competency.id, own.rater == Rater.SELF))
        .outerjoin(Target, and_(Target.competency_id == Competency.id, Target.grade == a.c.grade))
        .subquery("levels")
    )
