"""Review runs: load everyone's year in a fixed number of queries, apply the rules (engine.py), store the
recommendations with their explanations, record hr's decisions and finalise."""
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from ...errors import DomainError
from ...extensions import db
from ...models import (
    AnnualSales,
    Decision,
    Employee,
    EmployeeStatus,
    Grade,
    Position,
    ProbationConfirmation,
    Recommendation,
    ReviewAction,
    ReviewRun,
    RunStatus,
)
from ...timeutil import utcnow
from .. import audit
from ..assessments.results import latest_completed_query
from ..org import record_grade_change
from ..training.certifications import held_on
from ..training.ledger import credits_earned
from ..unit_of_work import unit_of_work
from .engine import PersonInput, Standard, evaluate
from .standards import standards_query


def load_standards() -> tuple[dict[int, dict[Grade, Standard]], dict[int, str]]:
    """Standards by position and grade, and each position's sales unit."""
    standards: dict[int, dict[Grade, Standard]] = {}
    for row in db.session.scalars(standards_query()):
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

    def fill(rows, attribute, convert=lambda v: v):
        for employee_id, value in rows:
            if employee_id in people:
                setattr(people[employee_id], attribute, convert(value))

    fill(db.session.execute(select(AnnualSales.employee_id, AnnualSales.amount).where(AnnualSales.year == year)), "sales")
    earned = credits_earned(year)
    fill(db.session.execute(select(earned.c.employee_id, earned.c.earned)), "credits", Decimal)
    latest = latest_completed_query(year).subquery()
    fill(db.session.execute(select(latest.c.employee_id, latest.c.overall_score)), "score")
    fill(db.session.execute(select(ProbationConfirmation.employee_id, ProbationConfirmation.qualified)), "qualified")
    fill(held_on(as_of).items(), "certifications")
    fill(((e, True) for e in db.session.scalars(
        select(Recommendation.employee_id).join(ReviewRun)
        .where(ReviewRun.year == year - 1, ReviewRun.status == RunStatus.FINALISED, Recommendation.below_junior.is_(True)))),
        "below_junior_last_year")
    return sorted(people.values(), key=lambda p: p.staff_no)


def get_run(year: int) -> ReviewRun | None:
    """The review of that performance year, if it was run."""
    return db.session.scalar(select(ReviewRun).where(ReviewRun.year == year))


def runs() -> list[ReviewRun]:
    """Every review run, newest year first."""
    return db.session.scalars(select(ReviewRun).order_by(ReviewRun.year.desc())).all()


def latest_run() -> ReviewRun | None:
    """The review of the most recent year that was run."""
    return db.session.scalar(select(ReviewRun).order_by(ReviewRun.year.desc()).limit(1))


@unit_of_work()
def run_review(year: int, as_of: date | None = None, actor=None) -> ReviewRun:
    """Run (or re-run, replacing the draft) the review of a performance year. Unit of work."""
    as_of = as_of or date.today()
    run = get_run(year)
    if run is not None and run.is_finalised:
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
    return run


def _draft(run: ReviewRun) -> ReviewRun:
    if not run.is_draft:
        raise DomainError(_l("This review is finalised: it can no longer change."))
    return run


@unit_of_work()
def decide(run: ReviewRun, ids, decision: Decision, *, grade: Grade | None = None, reason: str = "", actor=None) -> int:
    """Approve, override (another grade, with a reason) or reject recommendations. Unit of work; returns how many."""
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
    return result.rowcount


@unit_of_work()
def finalise(run: ReviewRun, effective: date, actor=None) -> int:
    """Finalise a review: approved and overridden changes update grades and write grade history; the run
    becomes read-only. Unit of work; returns how many people's grade or status changed."""
    _draft(run)
    claimed = db.session.execute(update(ReviewRun).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
                                 .values(status=RunStatus.FINALISED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # finalised meanwhile (a double click, another tab)
        raise DomainError(_l("This review is finalised: it can no longer change."))
    changed = 0
    decided = db.session.scalars(select(Recommendation).options(selectinload(Recommendation.employee)).where(
        Recommendation.run_id == run.id, Recommendation.decision.in_([Decision.APPROVED, Decision.OVERRIDDEN]))).all()
    for item in decided:
        person = item.employee
        if item.action == ReviewAction.TRANSFER and item.decision == Decision.APPROVED:
            person.status = EmployeeStatus.TRANSFERRED
            changed += 1
        new_grade = item.final_grade if item.is_overridden else item.recommended_grade
        changed += record_grade_change(person, new_grade, effective=effective, actor=actor, recommendation_id=item.id,
                                       reason=item.decision_reason or f"{run.year} review: {item.action.value}") is not None
    run.status, run.effective_date, run.finalised_at = RunStatus.FINALISED, effective, utcnow()
    run.finalised_by_id = getattr(actor, "id", None)
    audit.record("review.finalise", "review_run", run.id, actor=actor, effective=effective, changed=changed)
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
