"""What the rating form tells the person besides the ratings: how far they are, what is wrong at which item, where a
saved draft opens again, and what a read-only form is waiting for. Plain functions of the form and the version's
parts (services.ksa.published): they read nothing from the database, so the form costs no extra statement."""
from dataclasses import dataclass

from flask_babel import gettext as _

from ..models import AssessmentStatus, Rater
from ..timeutil import bank_time

S = AssessmentStatus


@dataclass(frozen=True)
class Progress:
    """Competencies rated so far, in all and per category: [(category, rated, total)] in the form's order."""

    rated: int
    total: int
    categories: list


@dataclass(frozen=True)
class Problem:
    """One line of the error summary: the id of the control to go to, the competency (None for another field)
    or the field's label, and the messages."""

    target: str
    competency_id: int | None
    code: str
    label: str
    messages: list


def _level(form, comp_id: int):
    return form[f"level_{comp_id}"].data


def rating_progress(form, parts) -> Progress:
    """How many competencies carry a level in the form (as saved, or as just posted), in all and per category."""
    categories = []
    for category, clusters in parts.groups:
        comps = [c for _cluster, members in clusters for c in members]
        categories.append((category, sum(1 for c in comps if _level(form, c.id)), len(comps)))
    return Progress(sum(c[1] for c in categories), sum(c[2] for c in categories), categories)


def mark_incomplete(form, parts, missing: list[str], uncommented: list[str]) -> None:
    """Put a refused submission's reasons at the items: no level at the level, a missing comment at the comment."""
    by_code = {c.code: c.id for c in parts.competencies}
    for code in missing:
        field = form[f"level_{by_code[code]}"]
        field.errors = [*field.errors, _("Choose a level for this competency.")]
    for code in uncommented:
        field = form[f"comment_{by_code[code]}"]
        field.errors = [*field.errors, _("Levels 1 and 5 need a comment: say what you observed.")]


def item_problems(form, parts) -> list[Problem]:
    """Every error of the form for the summary above it, in the form's order, each linked to its control."""
    found = []
    for _category, clusters in parts.groups:
        for _cluster, comps in clusters:
            for c in comps:
                level, comment = form[f"level_{c.id}"], form[f"comment_{c.id}"]
                if level.errors:
                    found.append(Problem(f"level_{c.id}-0", c.id, c.code, "", list(level.errors)))
                if comment.errors:
                    found.append(Problem(comment.id, c.id, c.code, "", list(comment.errors)))
    for field in (form.strengths, form.to_develop):
        if field.errors:
            found.append(Problem(field.id, None, "", str(field.label.text), list(field.errors)))
    other = list(form.csrf_token.errors if hasattr(form, "csrf_token") else []) + list(form.lock_version.errors)
    if other:
        found.append(Problem("rating-form", None, "", "", [str(m) for m in other]))
    return found


def return_anchor(form, parts) -> str | None:
    """Where a saved draft opens again: the item or section the person last touched (sent by the page's script)
    when it is one of this form's, else the last item with a level, else the top."""
    ids = [f"c-{c.code}" for _category, clusters in parts.groups for _cluster, comps in clusters for c in comps]
    known = set(ids) | {f"cat-{category.value}" for category, _clusters in parts.groups} | {"overall"}
    if form.anchor.data in known:
        return form.anchor.data
    by_id = {f"c-{c.code}": c.id for c in parts.competencies}
    rated = [anchor for anchor in ids if _level(form, by_id[anchor])]
    return rated[-1] if rated else None


def _day(moment) -> str:
    """The bank's day of a stored (UTC) moment."""
    return bank_time(moment).strftime("%Y-%m-%d") if moment else ""


def read_only_note(assessment, rater: Rater) -> str:
    """What a form that can no longer be edited is: which state the assessment is in and what happens next."""
    status = assessment.status
    if status == S.INCOMPLETE:
        return _("The cycle closed before this assessment was finished: it can no longer be rated.")
    if rater == Rater.SELF:
        if status == S.COMPLETED:
            return _("Completed: your supervisor has submitted their ratings too. The result, with their comments, "
                     "is on the result page.")
        if assessment.self_submitted and not assessment.cycle.has_self_phase:
            return _("This cycle has no self-assessment: only your supervisor rates you.")
        if assessment.self_submitted:
            return _("You submitted your self-assessment on %(date)s. Your supervisor rates you next; you can read "
                     "the result once they submit.", date=_day(assessment.self_submitted_at))
    else:
        if status == S.COMPLETED:
            return _("You submitted your ratings on %(date)s: the assessment is completed. The employee can now read "
                     "the result and acknowledge or appeal it.", date=_day(assessment.supervisor_submitted_at))
        if assessment.self_editable:
            return _("The employee has not submitted their self-assessment yet. You can rate once they have.")
    return _("The cycle is not open: nothing can be rated now.")
