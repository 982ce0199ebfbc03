"""The annual grade review engine.

`evaluate` is a pure function over one person's loaded data; `load_inputs` loads everyone in a handful of
set-based queries (their number does not grow with the number of employees); `run_review` stores the result.

Rules (DESIGN.md, "Annual grade review"):
1. A trainee whose probation has ended: confirmed qualified → confirm (junior); otherwise → refer to hr.
   A trainee still in probation is not reviewed.
2. Everyone else: the recommended grade is the highest grade whose standard is fully met with the performance
   year's sales, credits earned in that year and the overall score of the latest completed assessment whose cycle
   ends in that year; a credit minimum counts only for grades above the current one.
3. No standard met: junior (the floor), flagged below_junior.
4. below_junior now and in the finalised review of the year before → transfer (转岗).
5. Otherwise promote, keep or demote by comparing the recommended grade with the current one.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, extract, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from ..errors import DomainError
from ..extensions import db
from ..models import (
    AnnualSales, Assessment, AssessmentStatus, Certification, CreditEntry, Cycle, Decision, Employee, EmployeeStatus,
    Grade, GradeHistory, GradeStandard, ProbationConfirmation, Recommendation, ReviewAction, ReviewRun, RunStatus,
)
from ..timeutil import utcnow
from . import audit

REVIEWED_GRADES = (Grade.JUNIOR, Grade.INTERMEDIATE, Grade.SENIOR)


@dataclass(frozen=True)
class Standard:
    min_sales: Decimal
    min_score: Decimal
    min_credits: Decimal
    certification: str | None = None


@dataclass
class PersonInput:
    employee_id: int
    staff_no: str
    grade: Grade
    probation_end: date
    org_unit_id: int
    position_id: int
    sales: Decimal | None = None
    credits: Decimal = Decimal(0)
    score: float | None = None
    certifications: frozenset = frozenset()
    qualified: bool | None = None
    below_junior_last_year: bool = False


@dataclass
class Outcome:
    reviewed: bool
    recommended: Grade | None = None
    action: ReviewAction | None = None
    below_junior: bool = False
    explanation: dict = field(default_factory=dict)


def _criteria(person: PersonInput, grade: Grade, standard: Standard, unit: str) -> list[dict]:
    """Each criterion of one grade's standard: required, actual, met (None where it does not apply)."""
    items = [
        {"criterion": "sales", "required": float(standard.min_sales), "unit": unit,
         "actual": None if person.sales is None else float(person.sales),
         "met": person.sales is not None and person.sales >= standard.min_sales,
         **({"note": "no_sales"} if person.sales is None else {})},
        {"criterion": "score", "required": float(standard.min_score),
         "actual": None if person.score is None else round(person.score, 4),
         "met": person.score is not None and person.score >= float(standard.min_score) - 1e-9,
         **({"note": "no_assessment"} if person.score is None else {})},
    ]
    promotion = grade.rank > person.grade.rank
    items.append({"criterion": "credits", "required": float(standard.min_credits), "actual": float(person.credits),
                  "met": (person.credits >= standard.min_credits) if promotion else None,
                  **({} if promotion else {"note": "promotion_only"})})
    if standard.certification:
        items.append({"criterion": "certification", "required": standard.certification,
                      "actual": sorted(person.certifications), "met": standard.certification in person.certifications})
    return items


def evaluate(person: PersonInput, standards: dict[Grade, Standard], unit: str, as_of: date) -> Outcome:
    """Apply the five rules to one person (pure: no database)."""
    if person.grade == Grade.TRAINEE:
        if person.probation_end > as_of:
            return Outcome(reviewed=False)
        if person.qualified:
            return Outcome(True, Grade.JUNIOR, ReviewAction.CONFIRM, False,
                           {"rule": "probation_confirmed", "probation_end": person.probation_end.isoformat()})
        return Outcome(True, Grade.TRAINEE, ReviewAction.REFER, False,
                       {"rule": "probation_refer", "probation_end": person.probation_end.isoformat(),
                        "confirmation": "not_qualified" if person.qualified is False else "missing"})
    grades = []
    best = None
    for grade in REVIEWED_GRADES:
        standard = standards.get(grade)
        if standard is None:
            continue
        criteria = _criteria(person, grade, standard, unit)
        met = all(c["met"] is not False for c in criteria)
        grades.append({"grade": grade.value, "met": met, "criteria": criteria})
        if met:
            best = grade
    below_junior = best is None
    recommended = best or Grade.JUNIOR
    if below_junior and person.below_junior_last_year:
        action, rule = ReviewAction.TRANSFER, "transfer_two_years"
    elif recommended.rank > person.grade.rank:
        action, rule = ReviewAction.PROMOTE, "floor_junior" if below_junior else "highest_met"
    elif recommended.rank < person.grade.rank:
        action, rule = ReviewAction.DEMOTE, "floor_junior" if below_junior else "highest_met"
    else:
        action, rule = ReviewAction.KEEP, "floor_junior" if below_junior else "highest_met"
    return Outcome(True, recommended, action, below_junior, {"rule": rule, "grades": grades})


# --- loading (set-based) -------------------------------------------------------------------------


def load_standards() -> tuple[dict[int, dict[Grade, Standard]], dict[int, str]]:
    """Standards by position and grade, and each position's sales unit."""
    from ..models import Position

    standards: dict[int, dict[Grade, Standard]] = {}
    for row in db.session.scalars(select(GradeStandard)):
        standards.setdefault(row.position_id, {})[row.grade] = Standard(
            row.min_sales, row.min_score, row.min_credits, row.certification or None)
    units = dict(db.session.execute(select(Position.id, Position.sales_unit)).all())
    return standards, units


def load_inputs(year: int, as_of: date, position_ids) -> list[PersonInput]:
    """Everyone in scope (active or on probation, in a position with standards) with the year's data,
    in a fixed number of queries."""
    people = {row.id: PersonInput(row.id, row.staff_no, row.grade, row.probation_end, row.org_unit_id, row.position_id)
              for row in db.session.execute(
                  select(Employee.id, Employee.staff_no, Employee.grade, Employee.probation_end, Employee.org_unit_id,
                         Employee.position_id)
                  .where(Employee.status.in_([EmployeeStatus.ACTIVE, EmployeeStatus.PROBATION]),
                         Employee.position_id.in_(list(position_ids))))}
    for employee_id, amount in db.session.execute(select(AnnualSales.employee_id, AnnualSales.amount).where(AnnualSales.year == year)):
        if employee_id in people:
            people[employee_id].sales = amount
    for employee_id, total in db.session.execute(
            select(CreditEntry.employee_id, func.sum(CreditEntry.amount))
            .where(extract("year", CreditEntry.earned_on) == year).group_by(CreditEntry.employee_id)):
        if employee_id in people:
            people[employee_id].credits = Decimal(total)
    rank = func.row_number().over(partition_by=Assessment.employee_id,
                                  order_by=(Cycle.period_end.desc(), Assessment.id.desc())).label("rank")
    latest = (select(Assessment.employee_id, Assessment.overall_score, rank).join(Cycle)
              .where(Assessment.status == AssessmentStatus.COMPLETED, extract("year", Cycle.period_end) == year)
              .subquery())
    for employee_id, score in db.session.execute(select(latest.c.employee_id, latest.c.overall_score).where(latest.c.rank == 1)):
        if employee_id in people:
            people[employee_id].score = score
    for employee_id, qualified in db.session.execute(select(ProbationConfirmation.employee_id, ProbationConfirmation.qualified)):
        if employee_id in people:
            people[employee_id].qualified = qualified
    held: dict[int, set] = {}
    for employee_id, name in db.session.execute(
            select(Certification.employee_id, Certification.name)
            .where(Certification.issued_on <= as_of, or_(Certification.expires_on.is_(None), Certification.expires_on >= as_of))):
        held.setdefault(employee_id, set()).add(name)
    for employee_id, names in held.items():
        if employee_id in people:
            people[employee_id].certifications = frozenset(names)
    for (employee_id,) in db.session.execute(
            select(Recommendation.employee_id).join(ReviewRun)
            .where(ReviewRun.year == year - 1, ReviewRun.status == RunStatus.FINALISED, Recommendation.below_junior.is_(True))):
        if employee_id in people:
            people[employee_id].below_junior_last_year = True
    return sorted(people.values(), key=lambda p: p.staff_no)


# --- the review run ------------------------------------------------------------------------------


def get_run(year: int) -> ReviewRun | None:
    return db.session.scalar(select(ReviewRun).where(ReviewRun.year == year))


def run_review(year: int, as_of: date | None = None, actor=None) -> ReviewRun:
    """Run (or re-run, replacing the draft) the review of a performance year. Commits."""
    as_of = as_of or date.today()
    run = get_run(year)
    if run is not None and run.status == RunStatus.FINALISED:
        raise DomainError(_l("The review of %(year)s is finalised and cannot be run again.", year=year))
    standards, units = load_standards()
    if not standards:
        raise DomainError(_l("No grade standards are set: hr sets them first."))
    if run is None:
        run = ReviewRun(year=year, as_of=as_of, created_by_id=getattr(actor, "id", None))
        db.session.add(run)
        db.session.flush()
    else:
        db.session.execute(delete(Recommendation).where(Recommendation.run_id == run.id))
        run.as_of, run.created_at, run.created_by_id = as_of, utcnow(), getattr(actor, "id", None)
    rows = []
    for person in load_inputs(year, as_of, standards.keys()):
        outcome = evaluate(person, standards[person.position_id], units.get(person.position_id, ""), as_of)
        if outcome.reviewed:
            rows.append({"run_id": run.id, "employee_id": person.employee_id, "org_unit_id": person.org_unit_id,
                         "current_grade": person.grade, "recommended_grade": outcome.recommended,
                         "action": outcome.action, "below_junior": outcome.below_junior,
                         "explanation": outcome.explanation, "decision": Decision.PENDING, "decision_reason": ""})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Recommendation), rows[start:start + 5000])
    audit.record("review.run", "review_run", run.id, actor=actor, year=year, people=len(rows))
    db.session.commit()
    return run


def _draft(run: ReviewRun) -> ReviewRun:
    if run.status != RunStatus.DRAFT:
        raise DomainError(_l("This review is finalised: it can no longer change."))
    return run


def decide(run: ReviewRun, ids, decision: Decision, *, grade: Grade | None = None, reason: str = "", actor=None) -> int:
    """Approve, override (another grade, with a reason) or reject recommendations. Commits; returns how many."""
    _draft(run)
    reason = (reason or "").strip()
    if decision == Decision.OVERRIDDEN and (grade is None or not reason):
        raise DomainError(_l("An override needs the grade and a reason."))
    if decision == Decision.REJECTED and not reason:
        raise DomainError(_l("A rejection needs a reason."))
    query = update(Recommendation).where(Recommendation.run_id == run.id)
    if ids is not None:
        query = query.where(Recommendation.id.in_(list(ids)))
    result = db.session.execute(query.values(
        decision=decision, final_grade=grade if decision == Decision.OVERRIDDEN else None, decision_reason=reason,
        decided_by_id=getattr(actor, "id", None), decided_at=utcnow()).execution_options(synchronize_session=False))
    audit.record(f"review.{decision.value}", "review_run", run.id, actor=actor,
                 recommendations="all" if ids is None else sorted(ids), grade=grade, reason=reason)
    db.session.commit()
    return result.rowcount


def finalise(run: ReviewRun, effective: date, actor=None) -> int:
    """Finalise a review: approved and overridden changes update grades and write grade history; the run
    becomes read-only. Commits; returns how many people's grade or status changed."""
    _draft(run)
    claimed = db.session.execute(update(ReviewRun).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
                                 .values(status=RunStatus.FINALISED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # finalised meanwhile (a double click, another tab)
        db.session.rollback()
        raise DomainError(_l("This review is finalised: it can no longer change."))
    changed = 0
    decided = db.session.scalars(select(Recommendation).options(selectinload(Recommendation.employee)).where(
        Recommendation.run_id == run.id, Recommendation.decision.in_([Decision.APPROVED, Decision.OVERRIDDEN]))).all()
    for item in decided:
        person = item.employee
        new_grade = item.final_grade if item.decision == Decision.OVERRIDDEN else item.recommended_grade
        if item.action == ReviewAction.TRANSFER and item.decision == Decision.APPROVED:
            person.status = EmployeeStatus.TRANSFERRED
            changed += 1
        if new_grade != person.grade:
            db.session.add(GradeHistory(
                employee=person, from_grade=person.grade, to_grade=new_grade, effective_date=effective,
                reason=item.decision_reason or f"{run.year} review: {item.action.value}",
                approved_by_id=getattr(actor, "id", None), recommendation_id=item.id))
            person.grade = new_grade
            if person.status == EmployeeStatus.PROBATION and new_grade != Grade.TRAINEE:
                person.status = EmployeeStatus.ACTIVE
            changed += 1
    run.status, run.effective_date, run.finalised_at = RunStatus.FINALISED, effective, utcnow()
    run.finalised_by_id = getattr(actor, "id", None)
    audit.record("review.finalise", "review_run", run.id, actor=actor, effective=effective, changed=changed)
    db.session.commit()
    return changed


def recommendations_query(run: ReviewRun, action: str | None = None, unit_ids=None):
    """SELECT of a run's recommendations, optionally of one action and within some org units."""
    query = (select(Recommendation).join(Employee, Employee.id == Recommendation.employee_id)
             .where(Recommendation.run_id == run.id))
    if action:
        query = query.where(Recommendation.action == ReviewAction(action))
    if unit_ids is not None:
        query = query.where(Recommendation.org_unit_id.in_(unit_ids))
    return query.order_by(Employee.staff_no)


def action_counts(run: ReviewRun) -> dict[ReviewAction, int]:
    """Recommendations per action."""
    return dict(db.session.execute(select(Recommendation.action, func.count()).where(Recommendation.run_id == run.id)
                                   .group_by(Recommendation.action)).all())


def latest_finalised(employee_id: int) -> Recommendation | None:
    """The person's recommendation in the most recent finalised review."""
    return db.session.scalar(select(Recommendation).join(ReviewRun)
                             .where(Recommendation.employee_id == employee_id, ReviewRun.status == RunStatus.FINALISED)
                             .order_by(ReviewRun.year.desc()).limit(1))


@dataclass
class NextGradePath:
    grade: Grade
    criteria: list[dict]
    gaps: list  # training.Recommendation rows against the next grade's targets


def next_grade_path(employee: Employee, year: int, as_of: date | None = None) -> NextGradePath | None:
    """What it takes to reach the next grade: its criteria with required and actual values (this year's sales and
    credits, the latest completed assessment's score) and the competencies below its targets, with courses."""
    from .training import latest_completed, recommendations

    next_grade = employee.grade.next()
    if next_grade is None or employee.grade == Grade.TRAINEE:
        return None
    row = db.session.scalar(select(GradeStandard).where(GradeStandard.position_id == employee.position_id,
                                                        GradeStandard.grade == next_grade))
    if row is None:
        return None
    as_of = as_of or date.today()
    sales = db.session.scalar(select(AnnualSales.amount).where(AnnualSales.employee_id == employee.id, AnnualSales.year == year))
    credits = db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.employee_id == employee.id, extract("year", CreditEntry.earned_on) == year))
    latest = latest_completed(employee.id)
    certifications = frozenset(db.session.scalars(select(Certification.name).where(
        Certification.employee_id == employee.id,
        or_(Certification.expires_on.is_(None), Certification.expires_on >= as_of))))
    person = PersonInput(employee.id, employee.staff_no, employee.grade, employee.probation_end, employee.org_unit_id,
                         employee.position_id, sales=sales, credits=Decimal(credits or 0),
                         score=latest.overall_score if latest else None, certifications=certifications)
    standard = Standard(row.min_sales, row.min_score, row.min_credits, row.certification)
    return NextGradePath(next_grade, _criteria(person, next_grade, standard, employee.position.sales_unit),
                         recommendations(employee, latest, grade=next_grade) if latest else [])
