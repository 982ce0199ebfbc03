"""hr's decisions on a review's recommendations, and finalising: every recommendation decided, by a second
person (four-eyes, 双人复核) unless the bank turned that off; changes take effect on the effective date."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import Decision, EmployeeStatus, Grade, Recommendation, ReviewAction, ReviewRun, RunStatus
from ...timeutil import bank_today, utcnow
from .. import audit, settings
from ..access import second_pair_of_eyes
from ..grades import record_grade_change
from ..notifications import events as notifications
from ..unit_of_work import unit_of_work

FINALISED = _l("This review is finalised: it can no longer change.")


def _draft(run: ReviewRun) -> ReviewRun:
    if not run.is_draft:
        raise DomainError(FINALISED)
    return run


def _in_draft(run: ReviewRun):
    """Condition: the recommendation belongs to the run while it is still a draft (checked by the database, so a
    decision racing a finalise changes nothing)."""
    drafts = select(ReviewRun.id).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
    return Recommendation.run_id.in_(drafts)


@unit_of_work()
def decide(run: ReviewRun, ids, decision: Decision, *, grade: Grade | None = None, reason: str = "", actor=None,
           pending_only: bool = False) -> int:
    """Approve, override (another grade, with a reason) or reject recommendations (`ids`, or all of the run when
    None; only the undecided ones with `pending_only`). Unit of work; returns how many."""
    _draft(run)
    reason = (reason or "").strip()
    if decision == Decision.OVERRIDDEN and (grade is None or not reason):
        raise DomainError(_l("An override needs the grade and a reason."))
    if decision == Decision.REJECTED and not reason:
        raise DomainError(_l("A rejection needs a reason."))
    query = update(Recommendation).where(_in_draft(run))
    if ids is not None:
        query = query.where(Recommendation.id.in_(list(ids)))
    if pending_only:
        query = query.where(Recommendation.decision == Decision.PENDING)
    result = db.session.execute(query.values(
        decision=decision, final_grade=grade if decision == Decision.OVERRIDDEN else None, decision_reason=reason,
        decided_by_id=getattr(actor, "id", None), decided_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount == 0 and db.session.scalar(select(ReviewRun.status).where(ReviewRun.id == run.id)) != RunStatus.DRAFT:
        raise DomainError(FINALISED)
    audit.record(f"review.{decision.value}", "review_run", run.id, actor=actor,
                 recommendations="all" if ids is None else sorted(ids), grade=grade, reason=reason)
    return result.rowcount


def _filtered(run: ReviewRun, action: str | None = None, unit_ids=None):
    """The undecided recommendations of the filtered list that a bulk approval may decide: referrals (probation
    without confirmation, missing data) are hr's call one by one."""
    query = select(Recommendation.id).where(Recommendation.run_id == run.id, Recommendation.decision == Decision.PENDING,
                                            Recommendation.action != ReviewAction.REFER)
    if action:
        query = query.where(Recommendation.action == ReviewAction(action))
    if unit_ids is not None:
        query = query.where(Recommendation.org_unit_id.in_(unit_ids))
    return query


def pending_by_action(run: ReviewRun, action: str | None = None, unit_ids=None) -> dict[ReviewAction, int]:
    """Undecided recommendations per action within the filter, referrals left out (what "Approve all" approves)."""
    ids = _filtered(run, action, unit_ids).subquery()
    return dict(db.session.execute(select(Recommendation.action, func.count()).join(ids, ids.c.id == Recommendation.id)
                                   .group_by(Recommendation.action)).all())


@unit_of_work()
def approve_filtered(run: ReviewRun, action: str | None = None, unit_ids=None, actor=None) -> dict[ReviewAction, int]:
    """Approve the undecided recommendations of the filtered list (never other people's, never a decision already
    made, never a referral). Unit of work; returns how many of each action were approved."""
    _draft(run)
    counts = pending_by_action(run, action, unit_ids)
    ids = list(db.session.scalars(_filtered(run, action, unit_ids)))
    for start in range(0, len(ids), 5000):
        decide(run, ids[start:start + 5000], Decision.APPROVED, actor=actor, pending_only=True)
    return counts


def pending_count(run: ReviewRun) -> int:
    """How many recommendations are still undecided."""
    return db.session.scalar(select(func.count()).where(Recommendation.run_id == run.id,
                                                        Recommendation.decision == Decision.PENDING))


def outcome_counts(run: ReviewRun) -> dict[str, int]:
    """What finalising will do: promotions, demotions, transfers, confirmations, unchanged, rejected, pending."""
    final = case((Recommendation.decision == Decision.OVERRIDDEN, Recommendation.final_grade),
                 else_=Recommendation.recommended_grade)
    counts = dict.fromkeys(("promotions", "demotions", "transfers", "confirmations", "unchanged", "rejected",
                            "pending"), 0)
    for decision, action, current, grade in db.session.execute(
            select(Recommendation.decision, Recommendation.action, Recommendation.current_grade, final)
            .where(Recommendation.run_id == run.id)):
        counts[_outcome(decision, action, current, Grade(grade))] += 1
    return counts


def _outcome(decision: Decision, action: ReviewAction, current: Grade, grade: Grade) -> str:
    if decision == Decision.PENDING:
        return "pending"
    if decision == Decision.REJECTED:
        return "rejected"
    if action == ReviewAction.TRANSFER and decision == Decision.APPROVED:
        return "transfers"
    if action == ReviewAction.CONFIRM and grade != current:
        return "confirmations"
    if grade.rank != current.rank:
        return "promotions" if grade.rank > current.rank else "demotions"
    return "unchanged"


def fingerprint(run: ReviewRun) -> str:
    """A short token of the run's decisions: the finalise page carries it, so a decision changed by someone else
    between the summary and the click is noticed."""
    count, latest = db.session.execute(select(func.count(Recommendation.decided_at), func.max(Recommendation.decided_at))
                                       .where(Recommendation.run_id == run.id)).one()
    return f"{count}-{latest.isoformat() if latest else '0'}"


def deciders(run: ReviewRun) -> set[int]:
    """The accounts whose decisions stand on the run."""
    return set(db.session.scalars(select(Recommendation.decided_by_id).distinct().where(
        Recommendation.run_id == run.id, Recommendation.decided_by_id.is_not(None))))


def effective_problem(run: ReviewRun, effective: date) -> str | None:
    """An effective date outside the review's reach: before its performance year, or more than two years after."""
    if not date(run.year, 1, 1) <= effective <= date(run.year + 2, 12, 31):
        return str(_l("Choose an effective date from %(first)s to %(last)s.",
                      first=date(run.year, 1, 1).isoformat(), last=date(run.year + 2, 12, 31).isoformat()))
    return None


def finalise_problem(run: ReviewRun, actor) -> str | None:
    """Why this actor may not finalise the run now (finalised already, undecided recommendations, four-eyes)."""
    if not run.is_draft:
        return str(FINALISED)
    undecided = pending_count(run)
    if undecided:
        return str(lazy_ngettext(
            "%(num)s recommendation is still undecided: decide it before finalising.",
            "%(num)s recommendations are still undecided: decide them before finalising.", undecided))
    if actor is not None and settings.four_eyes() and not second_pair_of_eyes(actor, deciders(run)):
        return str(_l("Four eyes (双人复核): you made decisions in this review, so another hr colleague or an "
                      "administrator finalises it."))
    return None


@unit_of_work()
def finalise(run: ReviewRun, effective: date, actor=None, via: str = "web", expected: str | None = None) -> int:
    """Finalise a review once every recommendation is decided (by a second person, unless four-eyes is off or the
    system operator does it from the CLI): approved and overridden changes are written to the grade history, taking
    effect on the effective date; the run becomes read-only. `expected` is the fingerprint the confirming page
    showed. Unit of work; returns how many people's grade or status changes."""
    problem = finalise_problem(run, actor) or effective_problem(run, effective)
    if problem:
        raise DomainError(problem)
    if expected is not None and expected != fingerprint(run):
        raise Conflict(_l("Decisions changed since this summary was shown: check the summary again."))
    claimed = db.session.execute(update(ReviewRun).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
                                 .values(status=RunStatus.FINALISED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # finalised meanwhile (a double click, another tab)
        raise DomainError(FINALISED)
    changed = []
    decided = db.session.scalars(select(Recommendation).options(selectinload(Recommendation.employee)).where(
        Recommendation.run_id == run.id, Recommendation.decision.in_([Decision.APPROVED, Decision.OVERRIDDEN]))).all()
    for item in decided:
        transfer = item.action == ReviewAction.TRANSFER and item.decision == Decision.APPROVED
        before = item.employee.grade
        if record_grade_change(
                item.employee, item.final, effective=effective, actor=actor, recommendation_id=item.id,
                to_status=EmployeeStatus.TRANSFERRED if transfer else None, reason=item.decision_reason,
                reason_code="review", reason_data={"year": run.year, "action": item.action.value}) is not None:
            changed.append((item, before, item.final))
    run.status, run.effective_date, run.finalised_at = RunStatus.FINALISED, effective, utcnow()
    run.finalised_by_id = getattr(actor, "id", None)
    run.respond_by = bank_today() + timedelta(days=settings.appeal_days())
    audit.record("review.finalise", "review_run", run.id, actor=actor, effective=effective, changed=len(changed), via=via)
    notifications.grade_changes(run, [c for c in changed if c[1] != c[2]])
    return len(changed)
