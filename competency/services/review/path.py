"""What it takes to reach the next grade: the same criteria, data and certification rule as the review."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ...extensions import db
from ...models import AnnualSales, Employee, Grade
from ...timeutil import bank_today
from ..assessments.results import latest_completed
from ..training.certifications import held_on
from ..training.ledger import credits_earned
from ..training.recommendations import recommendations
from .engine import PersonInput, Standard, criteria
from .standards import standards_of


@dataclass
class NextGradePath:
    grade: Grade
    criteria: list[dict]
    gaps: list  # training.recommendations.Recommendation rows against the next grade's targets


def next_grade_path(employee: Employee, year: int, as_of: date | None = None) -> NextGradePath | None:
    """The next grade's criteria with required and actual values for performance year `year` (its sales, the
    credits earned in it, the score of the latest completed assessment of a cycle ending in it, certifications
    valid on `as_of`), and the competencies below its targets, with courses. None for a trainee or a senior."""
    next_grade = employee.grade.next()
    if next_grade is None or employee.is_trainee:
        return None
    row = standards_of(employee.position_id).get(next_grade)
    if row is None:
        return None
    as_of = as_of or bank_today()
    sales = db.session.scalar(select(AnnualSales.amount).where(AnnualSales.employee_id == employee.id, AnnualSales.year == year))
    earned = credits_earned(year, [employee.id])
    credits = db.session.scalar(select(func.coalesce(func.sum(earned.c.earned), 0)))
    latest = latest_completed(employee.id, year)
    person = PersonInput(employee.id, employee.staff_no, employee.grade, employee.probation_end, employee.org_unit_id,
                         employee.position_id, sales=sales, credits=Decimal(credits or 0),
                         score=latest.overall_score if latest else None,
                         certifications=held_on(as_of, [employee.id]).get(employee.id, frozenset()))
    standard = Standard(row.min_sales, row.min_score, row.min_credits, row.certification)
    return NextGradePath(next_grade, criteria(person, next_grade, standard, employee.position.sales_unit),
                         recommendations(employee, latest, grade=next_grade) if latest else [])
