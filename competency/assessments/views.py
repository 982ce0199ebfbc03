"""My assessments, the rating forms, results, my team, and hr's reopen / change of supervisor."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..appeals.forms import RespondForm
from ..errors import Conflict, DomainError
from ..i18n import lang
from ..models import Rater
from ..security import permission_required
from ..services import access, appeals, audit
from ..services.assessments import cycles, workflow
from ..services.assessments.results import result_of
from ..services.assessments.workflow import RatingsIncomplete
from ..services.ksa.published import parts_of
from . import bp
from .forms import ChangeSupervisorForm, ReopenForm, radio_group, rating_form, rating_texts
from .guidance import item_problems, mark_incomplete, rating_progress, read_only_note, return_anchor


@bp.route("/assessments")
@login_required
def mine():
    """My assessments, with what to do next on each."""
    items = workflow.my_assessments(current_user)
    return render_template("assessments/mine.html", items=items, is_overdue=cycles.is_overdue,
                           appeals=appeals.latest_appeals([a.id for a in items]))


@bp.route("/team")
@permission_required("team.lead")
def team():
    """The assessments I rate as supervisor: status, overdue, links to rate."""
    show_all = request.args.get("all") == "1"
    return render_template("assessments/team.html", items=workflow.team_assessments(current_user, show_all),
                           show_all=show_all, is_overdue=cycles.is_overdue)


def _form_page(assessment, rater: Rater):
    """Show or process the rating form of one rater; a saved draft opens the form again where the person was."""
    parts, assessment_id = parts_of(assessment.version), assessment.id  # the id read before the commit expires it
    form = rating_form(parts, workflow.ratings_of(assessment, rater), assessment.lock_version,
                       assessment.overall_comment(rater), formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        entries = {c.id: (int(form[f"level_{c.id}"].data) if form[f"level_{c.id}"].data else None,
                          form[f"comment_{c.id}"].data or "") for c in parts.competencies}
        try:
            workflow.save_ratings(assessment, rater, entries, submit=bool(form.submit.data),
                                  lock_version=form.lock_version.data, actor=current_user,
                                  overall=(form.strengths.data or "", form.to_develop.data or ""))
        except RatingsIncomplete as error:  # shown at each item, and in the summary above the form
            mark_incomplete(form, parts, error.missing, error.uncommented)
            return render_form(assessment, rater, form), 422
        except DomainError as error:
            flash(str(error), "error")
            return render_form(assessment, rater, form), 409 if isinstance(error, Conflict) else 422
        if form.submit.data:
            flash(_("Submitted."), "success")
            return redirect(url_for("assessments.mine" if rater == Rater.SELF else "assessments.team"))
        flash(_("Draft saved."), "success")
        return redirect(url_for(request.endpoint, assessment_id=assessment_id, _anchor=return_anchor(form, parts)))
    return render_form(assessment, rater, form)


def render_form(assessment, rater, form):
    """The rating form; the supervisor sees the self ratings beside theirs when the cycle allows it."""
    editable = assessment.self_rating_open if rater == Rater.SELF else assessment.supervisor_rating_open
    own = None
    if rater == Rater.SUPERVISOR and access.shows_self_ratings(current_user, assessment):
        own = workflow.ratings_of(assessment, Rater.SELF)
    reopened = assessment.last_reopening if editable else None
    parts = parts_of(assessment.version)
    level_names, texts = rating_texts(parts, lang())
    return render_template("assessments/form.html", assessment=assessment, is_self=rater == Rater.SELF, form=form,
                           groups=parts.groups, texts=texts, level_names=level_names, editable=editable, self_ratings=own,
                           radio_group=radio_group,
                           late=cycles.is_overdue(assessment), reopened=reopened, progress=rating_progress(form, parts),
                           problems=item_problems(form, parts) if request.method == "POST" else [],
                           state_note=None if editable else read_only_note(assessment, rater),
                           changes=_visible_changes(assessment, rater) if reopened else [])


def _visible_changes(assessment, rater):
    """What changed since the reopening, leaving out the self side where the reader may not see it."""
    shown = access.shows_self_ratings(current_user, assessment) or rater == Rater.SELF
    return [c for c in workflow.changes_since_reopening(assessment) if shown or c.rater != Rater.SELF]


@bp.route("/assessments/<int:assessment_id>/self", methods=["GET", "POST"])
@login_required
def self_form(assessment_id: int):
    """My self-assessment form."""
    saving = request.method == "POST"
    assessment = access.self_assessment_or_404(current_user, assessment_id, workflow.form_query(saving))
    return _form_page(workflow.with_form_parts(assessment, saving), Rater.SELF)


@bp.route("/assessments/<int:assessment_id>/review", methods=["GET", "POST"])
@login_required
def supervisor_form(assessment_id: int):
    """The supervisor's form for one report (no self ratings in it while rating blind)."""
    saving = request.method == "POST"
    assessment = access.supervisor_assessment_or_404(current_user, assessment_id, workflow.form_query(saving))
    return _form_page(workflow.with_form_parts(assessment, saving), Rater.SUPERVISOR)


@bp.route("/assessments/<int:assessment_id>")
@login_required
def result(assessment_id: int):
    """Levels by rater, combined level, targets, gaps, flags, scores and the comments the reader may see; the
    person acknowledges or appeals here."""
    item = access.result_or_404(current_user, assessment_id)
    audit.record_view(current_user, "result", item.employee_id, assessment=item.id)
    own = access.shows_self_ratings(current_user, item)
    outcome = result_of(item, include_self=own)
    mine = access.can_respond(current_user, item.employee_id) and item.is_completed
    return render_template(
        "assessments/result.html", assessment=item, result=outcome, late=cycles.late_flags(item),
        comments=workflow.visible_comments(item, self_side=own,
                                           supervisor_side=access.shows_supervisor_comments(current_user, item)),
        standing=appeals.standing(assessment=item) if access.sees_responses(current_user, item.employee_id) else None,
        respond_form=RespondForm() if mine else None, reopen_form=ReopenForm(), supervisor_form=ChangeSupervisorForm())


@bp.route("/assessments/<int:assessment_id>/reopen", methods=["POST"])
@permission_required("assessments.administer")
def reopen(assessment_id: int):
    """hr: reopen an assessment to a phase, with a reason (audited)."""
    item = access.result_or_404(current_user, assessment_id)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            workflow.reopen(item, form.phase.data, form.reason.data, actor=current_user)
            flash(_("The assessment is reopened."), "success")
        except DomainError as error:
            flash(str(error), "error")
    else:
        flash(_("Give a reason for reopening."), "error")
    return redirect(url_for("assessments.result", assessment_id=item.id))


@bp.route("/assessments/<int:assessment_id>/supervisor", methods=["POST"])
@permission_required("assessments.administer")
def change_supervisor(assessment_id: int):
    """hr: let another supervisor do the supervisor assessment."""
    item = access.result_or_404(current_user, assessment_id)
    form = ChangeSupervisorForm()
    if form.validate_on_submit():
        try:
            workflow.change_supervisor(item, form.staff_no.person, actor=current_user)
            flash(_("The assessing supervisor is changed."), "success")
        except DomainError as error:
            flash(str(error), "error")
    else:
        for error in form.staff_no.errors:
            flash(error, "error")
    return redirect(url_for("assessments.result", assessment_id=item.id))
