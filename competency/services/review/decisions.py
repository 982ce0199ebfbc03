"""hr's decisions on a review's recommendations, and finalising: every recommendation decided, by a second
person (four-eyes, 双人复核) unless the bank turned that off; changes take effect on the effective date."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from ...errors import DomainError
from ...extensions import db
from ...models import Decision, EmployeeStatus, Grade, Recommendation, ReviewAction, ReviewRun, RunStatus
from ...timeutil import utcnow
from .. import audit, settings
from ..access import second_pair_of_eyes
from ..grades import record_grade_change
from ..unit_of_work import unit_of_work


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


def _filtered(run: ReviewRun, action: str | None = None, unit_ids=None):
    query = select(Recommendation.id).where(Recommendation.run_id == run.id, Recommendation.decision == Decision.PENDING)
    if action:
        query = query.where(Recommendation.action == ReviewAction(action))
    if unit_ids is not None:
        query = query.where(Recommendation.org_unit_id.in_(unit_ids))
    return query


def pending_by_action(run: ReviewRun, action: str | None = None, unit_ids=None) -> dict[ReviewAction, int]:
    """Undecided recommendations per action, within the filter (what "Approve all" would approve)."""
    ids = _filtered(run, action, unit_ids).subquery()
    return dict(db.session.execute(select(Recommendation.action, func.count()).join(ids, ids.c.id == Recommendation.id)
                                   .group_by(Recommendation.action)).all())


@unit_of_work()
def approve_filtered(run: ReviewRun, action: str | None = None, unit_ids=None, actor=None) -> dict[ReviewAction, int]:
    """Approve the undecided recommendations of the filtered list (never other people's, never a decision already
    made). Unit of work; returns how many of each action were approved."""
    _draft(run)
    counts = pending_by_action(run, action, unit_ids)
    ids = list(db.session.scalars(_filtered(run, action, unit_ids)))
    for start in range(0, len(ids), 5000):
        decide(run, ids[start:start + 5000], Decision.APPROVED, actor=actor)
    return counts


def pending_count(run: ReviewRun) -> int:
    """How many recommendations are still undecided."""
    return db.session.scalar(select(func.count()).where(Recommendation.run_id == run.id,
                                                        Recommendation.decision == Decision.PENDING))


def outcome_counts(run: ReviewRun) -> dict[str, int]:
    """What finalising will do: promotions, demotions, transfers, confirmations, unchanged, rejected."""
    final = case((Recommendation.decision == Decision.OVERRIDDEN, Recommendation.final_grade),
                 else_=Recommendation.recommended_grade)
    counts = {"promotions": 0, "demotions": 0, "transfers": 0, "confirmations": 0, "unchanged": 0, "rejected": 0,
              "pending": 0}
    ranks = {g: g.rank for g in Grade}
    for decision, action, current, grade in db.session.execute(
            select(Recommendation.decision, Recommendation.action, Recommendation.current_grade, final)
            .where(Recommendation.run_id == run.id)):
        grade = Grade(grade)
        if decision == Decision.PENDING:
            counts["pending"] += 1
        elif decision == Decision.REJECTED:
            counts["rejected"] += 1
        elif action == ReviewAction.TRANSFER and decision == Decision.APPROVED:
            counts["transfers"] += 1
        elif action == ReviewAction.CONFIRM and grade != current:
            counts["confirmations"] += 1
        elif ranks[grade] > ranks[current]:
            counts["promotions"] += 1
        elif ranks[grade] < ranks[current]:
            counts["demotions"] += 1
        else:
            counts["unchanged"] += 1
    return counts


def last_decider_id(run: ReviewRun) -> int | None:
    """The account that made the most recent decision on the run."""
    return db.session.scalar(select(Recommendation.decided_by_id).where(
        Recommendation.run_id == run.id, Recommendation.decided_at.is_not(None))
        .order_by(Recommendation.decided_at.desc(), Recommendation.id.desc()).limit(1))


def finalise_problem(run: ReviewRun, actor) -> str | None:
    """Why this actor may not finalise the run now (undecided recommendations, four-eyes), or None."""
    undecided = pending_count(run)
    if undecided:
        return str(lazy_ngettext(
            "%(num)s recommendation is still undecided: decide it before finalising.",
            "%(num)s recommendations are still undecided: decide them before finalising.", undecided))
    if actor is not None and settings.four_eyes() and not second_pair_of_eyes(actor, last_decider_id(run)):
        return str(_l("Four eyes (双人复核): you made the last decisions, so another hr colleague or an "
                      "administrator finalises this review."))
    return None


@unit_of_work()
def finalise(run: ReviewRun, effective: date, actor=None, via: str = "web") -> int:
    """Finalise a review once every recommendation is decided (by a second person, unless four-eyes is off or the
    system operator does it from the CLI): approved and overridden changes are written to the grade history, taking
    effect on the effective date; the run becomes read-only. Unit of work; returns how many people's grade or
    status changes."""
    _draft(run)
    problem = finalise_problem(run, actor)
    if problem:
        raise DomainError(problem)
    claimed = db.session.execute(update(ReviewRun).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
                                 .values(status=RunStatus.FINALISED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # finalised meanwhile (a double click, another tab)
        raise DomainError(_l("This review is finalised: it can no longer change."))
    changed = 0
    decided = db.session.scalars(select(Recommendation).options(selectinload(Recommendation.employee)).where(
        Recommendation.run_id == run.id, Recommendation.decision.in_([Decision.APPROVED, Decision.OVERRIDDEN]))).all()
    for item in decided:
        transfer = item.action == ReviewAction.TRANSFER and item.decision == Decision.APPROVED
        changed += record_grade_change(
            item.employee, item.final, effective=effective, actor=actor, recommendation_id=item.id,
            to_status=EmployeeStatus.TRANSFERRED if transfer else None, reason=item.decision_reason,
            reason_code="review", reason_data={"year": run.year, "action": item.action.value}) is not None
    run.status, run.effective_date, run.finalised_at = RunStatus.FINALISED, effective, utcnow()
    run.finalised_by_id = getattr(actor, "id", None)
    audit.record("review.finalise", "review_run", run.id, actor=actor, effective=effective, changed=changed, via=via)
    return changed
