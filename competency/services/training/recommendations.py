"""Which courses to take: per person, from their latest completed assessment; per course, the demand."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from ...extensions import db
from ...models import Assessment, Competency, Course, CourseCompetency, Employee, Enrolment, EnrolmentStatus, Grade, ResultRow
from ..assessments.results import latest_completed, result_of

# A course the person already has: enrolled in, or completed — it is no longer recommended to them.
TAKEN = (EnrolmentStatus.ASSIGNED, EnrolmentStatus.IN_PROGRESS, EnrolmentStatus.COMPLETED)


@dataclass
class Recommendation:
    competency_code: str
    competency: Competency
    level: float
    target: int
    weight: Decimal
    courses: list[Course]

    @property
    def gap(self) -> float:
        return self.target - self.level

    @property
    def priority(self) -> float:
        return float(self.weight) * self.gap


def recommendations(employee: Employee, assessment: Assessment | None = None, grade: Grade | None = None) -> list[Recommendation]:
    """From the latest completed assessment: competencies below the current grade's target (or `grade`'s), ranked
    by weight × gap, each with the active courses that develop it to at least the target, minus those the person is
    enrolled in (assigned or in progress) or has completed."""
    assessment = assessment or latest_completed(employee.id)
    if assessment is None:
        return []
    taken = set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.employee_id == employee.id,
                                                                     Enrolment.status.in_(TAKEN))))
    result = []
    for row in result_of(assessment).rows:
        target = row.competency.target(grade or employee.grade)
        if row.combined is None or target is None or row.combined >= target:
            continue
        offered = db.session.scalars(
            select(Course).join(CourseCompetency)
            .where(Course.active.is_(True), CourseCompetency.competency_code == row.competency.code,
                   CourseCompetency.up_to_level >= target, Course.id.not_in(taken or [-1]))
            .order_by(Course.code)).all()
        result.append(Recommendation(row.competency.code, row.competency, row.combined, target, row.competency.weight, offered))
    return sorted(result, key=lambda r: (-r.priority, r.competency_code))


def demand(cycle_id: int | None = None) -> list[tuple[Course, int]]:
    """Per active course: how many people have a gap (below their grade's target) on a competency it develops,
    from each person's latest completed assessment (or the given cycle) — from the stored results."""
    r = ResultRow
    gaps = (select(r.employee_id, r.competency_code)
            .where(r.cycle_id == cycle_id if cycle_id is not None else r.is_latest.is_(True), r.target.is_not(None),
                   r.combined < r.target).subquery())
    people = func.count(func.distinct(gaps.c.employee_id))
    rows = db.session.execute(
        select(Course, people)
        .join(CourseCompetency, CourseCompetency.course_id == Course.id)
        .outerjoin(gaps, gaps.c.competency_code == CourseCompetency.competency_code)
        .where(Course.active.is_(True))
        .group_by(Course.id)
        .order_by(people.desc(), Course.code)).all()
    return [(course, n) for course, n in rows]
