"""The self → supervisor workflow of one assessment: rating, submitting, reopening, changing the supervisor.

States: not_started → self_in_progress → self_submitted → supervisor_in_progress → completed
(incomplete when the cycle closes first). A cycle with self weight 0 starts at self_submitted.
Each change is a unit of work and is audited.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import (
    LEVELS,
    Assessment,
    AssessmentStatus,
    Cycle,
    CycleStatus,
    Employee,
    Rater,
    Rating,
    Reopening,
)
from ...timeutil import bank_today, utcnow
from .. import audit, settings
from ..access import may_assess_as_supervisor
from ..ksa.published import CompetencyPart, parts_of
from ..notifications import events as notifications
from ..unit_of_work import unit_of_work
from . import stored
from .results import result_of

S = AssessmentStatus


class EditConflict(Conflict):
    """Someone saved the same form after it was opened here."""

    def __init__(self):
        super().__init__(_l("This assessment was changed since you opened it (perhaps in another tab). "
                            "Nothing was saved: reload the page to see the latest version."))


class RatingsIncomplete(DomainError):
    """Submitting needs every competency rated and a comment for level 1 and 5."""

    def __init__(self, missing: list[str], uncommented: list[str]):
        self.missing, self.uncommented = missing, uncommented
        parts = []
        if missing:
            parts.append(str(_l("Rate every competency before submitting (missing: %(codes)s).", codes=", ".join(missing))))
        if uncommented:
            parts.append(str(_l("Level 1 and level 5 need a comment (%(codes)s).", codes=", ".join(uncommented))))
        super().__init__(" ".join(parts))


def form_query(saving: bool):
    """The SELECT of an assessment (by its "id" parameter) with what its rating form reads: the cycle and model
    version (joined); showing the form also reads the person. `with_form_parts` reads the rest."""
    return _SAVE_QUERY if saving else _FORM_QUERY


def with_form_parts(assessment: Assessment, saving: bool) -> Assessment:
    """The assessment with its ratings and, to show the form, its reopenings, read by one statement each (built once:
    a selectin load builds its statement on every request, which cost more than the rows)."""
    set_committed_value(assessment, "ratings", db.session.scalars(_RATINGS, {"id": assessment.id}).all())
    if not saving:
        set_committed_value(assessment, "reopenings", db.session.scalars(_REOPENINGS, {"id": assessment.id}).all())
    return assessment


# Statements run on every form, save or dashboard, built once: building one (and its options) costs more than
# running it.
_SAVE_QUERY = (select(Assessment).where(Assessment.id == bindparam("id"))
               .options(joinedload(Assessment.cycle), joinedload(Assessment.version)))
_FORM_QUERY = _SAVE_QUERY.options(joinedload(Assessment.employee))
_UPDATE_RATING = (update(Rating.__table__).where(Rating.__table__.c.id == bindparam("rating_id"))
                  .values(level=bindparam("new_level"), comment=bindparam("new_comment"), updated_at=bindparam("at")))
_RATINGS = select(Rating).where(Rating.assessment_id == bindparam("id"))
_REOPENINGS = select(Reopening).where(Reopening.assessment_id == bindparam("id")).order_by(Reopening.id.desc())
_MINE = (select(Assessment).join(Assessment.cycle).where(Assessment.employee_id == bindparam("employee_id"))
         .order_by(Cycle.period_end.desc(), Cycle.id.desc()).options(contains_eager(Assessment.cycle)))


def ratings_of(assessment: Assessment, rater: Rater) -> dict[int, Rating]:
    """The rater's ratings by competency id."""
    return {r.competency_id: r for r in assessment.ratings if r.rater == rater}


def _check_editable(assessment: Assessment, rater: Rater, lock_version: int) -> None:
    if assessment.lock_version != lock_version:
        raise EditConflict()
    if not assessment.accepts_ratings:
        raise DomainError(_l("The cycle is not open: nothing can be rated."))
    editable = assessment.self_editable if rater == Rater.SELF else assessment.supervisor_editable
    if not editable:
        raise DomainError(_l("This part of the assessment cannot be edited now (state: %(state)s).",
                             state=assessment.status.value))


def _check_complete(competencies: dict[int, CompetencyPart], mine: dict[int, Rating]) -> None:
    missing = [c.code for cid, c in competencies.items() if mine.get(cid) is None or mine[cid].level is None]
    uncommented = [c.code for cid, c in competencies.items()
                   if mine.get(cid) is not None and mine[cid].level in (1, 5) and not mine[cid].comment]
    if missing or uncommented:
        raise RatingsIncomplete(missing, uncommented)


def _set_overall(assessment: Assessment, rater: Rater, overall: tuple[str, str] | None) -> bool:
    """Set the rater's overall comment; return whether it changed."""
    if overall is None:
        return False
    strengths, to_develop = ((text or "").strip() for text in overall)
    before = assessment.overall_comment(rater)
    if rater == Rater.SELF:
        assessment.self_strengths, assessment.self_to_develop = strengths, to_develop
    else:
        assessment.supervisor_strengths, assessment.supervisor_to_develop = strengths, to_develop
    return tuple(before) != (strengths, to_develop)


def _rating_change(rating: Rating, code: str, level: int | None, comment: str) -> dict | None:
    """What saving (level, comment) changes in the rating, for the audit trail: {code, rater, level: [before,
    after]} and `comment: true` when the comment changed (its text stays on the rating and in the reopening
    snapshot, not in every draft save), or None when nothing changes."""
    comment_changed = (rating.comment or "") != comment
    if rating.level == level and not comment_changed:
        return None
    change = {"code": code, "rater": rating.rater.value, "level": [rating.level, level]}
    if comment_changed:
        change["comment"] = True
    return change


def _apply_ratings(assessment: Assessment, rater: Rater, entries: dict, competencies: dict, mine: dict) -> list[dict]:
    """Write the entries {competency id: (level or None, comment)} to the rater's ratings (`mine`, by competency id,
    completed with the new ones); return the audit trail's changes."""
    changes, updates = [], []
    for comp_id, (level, comment) in entries.items():
        if comp_id not in competencies:
            raise DomainError(_l("Unknown competency."))
        if level is not None and level not in LEVELS:
            raise DomainError(_l("Levels run from 1 to 5."))
        comment = (comment or "").strip()
        rating = mine.get(comp_id)
        if rating is None:
            rating = mine[comp_id] = Rating(competency_id=comp_id, rater=rater, level=None, comment="")
            assessment.ratings.append(rating)
        change = _rating_change(rating, competencies[comp_id].code, level, comment)
        if change:
            changes.append(change)
        if rating.id is None:  # new: inserted by the flush
            rating.level, rating.comment = level, comment
        elif change:  # changed: updated below, all in one statement; the object shows the saved values
            updates.append({"rating_id": rating.id, "new_level": level, "new_comment": comment, "at": utcnow()})
            set_committed_value(rating, "level", level)
            set_committed_value(rating, "comment", comment)
    if updates:  # by primary key, one executemany: the unit of work's bookkeeping per rating cost more than the SQL
        db.session.connection().execute(_UPDATE_RATING, updates)
    return changes


@unit_of_work()
def save_ratings(assessment: Assessment, rater: Rater, entries: dict[int, tuple[int | None, str]], *,
                 submit: bool, lock_version: int, overall: tuple[str, str] | None = None, actor=None) -> Assessment:
    """Save a rater's draft or submission {competency id: (level or None, comment)} and their overall comment
    (strengths, what to develop). Unit of work.

    Refuses a stale form (EditConflict), a phase that is not open to this rater, and an incomplete submission.
    """
    _check_editable(assessment, rater, lock_version)
    overall_changed = _set_overall(assessment, rater, overall)
    competencies = parts_of(assessment.version).by_id
    mine = ratings_of(assessment, rater)
    changes = _apply_ratings(assessment, rater, entries, competencies, mine)
    if submit:
        _check_complete(competencies, mine)
    now = utcnow()
    if rater == Rater.SELF:
        assessment.status = S.SELF_SUBMITTED if submit else S.SELF_IN_PROGRESS
        assessment.self_submitted_at = now if submit else None
    else:
        assessment.status = S.COMPLETED if submit else S.SUPERVISOR_IN_PROGRESS
        assessment.supervisor_submitted_at = now if submit else None
        if submit:
            assessment.overall_score = result_of(assessment).overall
            assessment.respond_by = bank_today() + timedelta(days=settings.appeal_days())
    assessment.updated_at = now
    audit.record(f"assessment.{rater.value}_{'submit' if submit else 'save'}", "assessment", assessment.id, actor=actor,
                 changes=changes, **({"overall_comment": True} if overall_changed else {}))
    try:
        db.session.flush()
    except StaleDataError:
        raise EditConflict() from None
    if assessment.status == S.COMPLETED:
        stored.refresh([assessment.id])
        notifications.assessment_completed(assessment)
    elif assessment.status == S.SELF_SUBMITTED:
        notifications.self_submitted(assessment)
    return assessment


REOPEN_PHASES = {"self": S.SELF_IN_PROGRESS, "supervisor": S.SUPERVISOR_IN_PROGRESS}


@unit_of_work()
def reopen(assessment: Assessment, phase: str, reason: str, actor=None, after_appeal: bool = False) -> None:
    """hr: send an assessment back to the self or supervisor phase, with a reason. Audited. Unit of work.
    Only in an open cycle — except a completed assessment reopened to resolve an appeal, which may be finished
    after its cycle closed."""
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason for reopening."))
    if not assessment.cycle.is_open and not (after_appeal and assessment.is_completed):
        raise DomainError(_l("Only assessments of an open cycle can be reopened."))
    if phase not in REOPEN_PHASES:
        raise DomainError(_l("Choose the phase to reopen."))
    if phase == "self" and not assessment.cycle.has_self_phase:
        raise DomainError(_l("This cycle has no self-assessment phase."))
    if phase == "supervisor" and assessment.self_editable:
        raise DomainError(_l("The self-assessment has not been submitted yet."))
    before, score, snapshot = assessment.status, assessment.overall_score, rating_snapshot(assessment)
    assessment.reopenings.append(Reopening(phase=Rater(phase), reason=reason.strip(), before=snapshot,
                                           by_id=getattr(actor, "id", None)))
    assessment.status = REOPEN_PHASES[phase]
    assessment.supervisor_submitted_at, assessment.overall_score = None, None
    if phase == "self":
        assessment.self_submitted_at = None
    assessment.updated_at = utcnow()
    # The ratings and score as they were: re-rating overwrites the ratings, and the trail must keep the old values.
    audit.record("assessment.reopen", "assessment", assessment.id, actor=actor, phase=phase,
                 before=before.value, reason=reason.strip(), score=score, ratings=snapshot)
    if before == S.COMPLETED:
        stored.refresh([assessment.id])
    notifications.assessment_reopened(assessment, phase, reason.strip())


def rating_snapshot(assessment: Assessment) -> dict:
    """Every rating as {rater: {competency code: [level, comment]}} (kept when an assessment is reopened)."""
    codes = {c.id: c.code for c in parts_of(assessment.version).competencies}
    snapshot: dict = {r.value: {} for r in Rater}
    for rating in assessment.ratings:
        snapshot[rating.rater.value][codes.get(rating.competency_id, str(rating.competency_id))] = [rating.level, rating.comment]
    return snapshot


@dataclass
class Change:
    code: str
    rater: Rater
    before: list  # [level, comment]
    now: list

    @property
    def by_self(self) -> bool:
        return self.rater == Rater.SELF


def changes_since_reopening(assessment: Assessment) -> list[Change]:
    """What the raters changed since the assessment was last reopened (empty when never reopened)."""
    reopening = assessment.last_reopening
    if reopening is None:
        return []
    now = rating_snapshot(assessment)
    found = []
    for comp in parts_of(assessment.version).competencies:
        for rater in Rater:
            old = (reopening.before.get(rater.value) or {}).get(comp.code, [None, ""])
            new = now[rater.value].get(comp.code, [None, ""])
            if list(old) != list(new):
                found.append(Change(comp.code, rater, list(old), list(new)))
    return found


@unit_of_work()
def change_supervisor(assessment: Assessment, supervisor: Employee, actor=None) -> None:
    """Let another supervisor do the supervisor assessment. Unit of work."""
    if supervisor.id == assessment.employee_id:
        raise DomainError(_l("Nobody assesses themself as supervisor."))
    if not assessment.cycle.is_open or assessment.is_completed:
        raise DomainError(_l("Only an unfinished assessment of an open cycle can change its supervisor."))
    if not may_assess_as_supervisor(supervisor):
        raise DomainError(_l("%(no)s has no active account with the supervisor role.", no=supervisor.staff_no))
    before = assessment.supervisor_id
    assessment.supervisor_id, assessment.updated_at = supervisor.id, utcnow()
    audit.record("assessment.change_supervisor", "assessment", assessment.id, actor=actor, before=before, after=supervisor.id)


@dataclass
class Comments:
    """The comments of an assessment that one reader may see (None for a side they may not)."""

    by_competency: list  # (competency, self comment or None, supervisor comment or None)
    self_overall: tuple[str, str] | None
    supervisor_overall: tuple[str, str] | None

    @property
    def commented(self) -> list:
        """The competencies that carry a comment the reader may see."""
        return [row for row in self.by_competency if row[1] or row[2]]

    @property
    def any(self) -> bool:
        overall = [t for pair in (self.self_overall, self.supervisor_overall) if pair for t in pair]
        return any(overall) or bool(self.commented)


def visible_comments(assessment: Assessment, *, self_side: bool, supervisor_side: bool) -> Comments:
    """Per competency and overall, the self and supervisor comments, each side only when the reader may see it
    (the access module decides: `shows_self_ratings`, `shows_supervisor_comments`)."""
    self_ratings, supervisor_ratings = ratings_of(assessment, Rater.SELF), ratings_of(assessment, Rater.SUPERVISOR)
    rows = []
    for comp in parts_of(assessment.version).competencies:
        own = self_ratings.get(comp.id)
        theirs = supervisor_ratings.get(comp.id)
        rows.append((comp, (own.comment if own else "") if self_side else None,
                     (theirs.comment if theirs else "") if supervisor_side else None))
    return Comments(rows, assessment.overall_comment(Rater.SELF) if self_side else None,
                    assessment.overall_comment(Rater.SUPERVISOR) if supervisor_side else None)


def my_assessments(user) -> list[Assessment]:
    """The user's own assessments, newest cycle first."""
    if user.employee_id is None:
        return []
    return db.session.scalars(_MINE, {"employee_id": user.employee_id}).all()


def team_assessments(user, include_closed: bool = False) -> list[Assessment]:
    """Assessments the user is the assessing supervisor of (open cycles unless asked), by cycle and staff number."""
    if user.employee_id is None:
        return []
    query = (select(Assessment).join(Assessment.cycle).join(Assessment.employee)
             .where(Assessment.supervisor_id == user.employee_id))
    if not include_closed:
        query = query.where(Cycle.status == CycleStatus.OPEN)
    return db.session.scalars(query.order_by(Cycle.period_end.desc(), Employee.staff_no)
                              .options(contains_eager(Assessment.cycle), contains_eager(Assessment.employee))).all()
