"""Acknowledging or appealing a result or a grade decision (the employee), and the appeals queue (hr)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import DomainError
from ..extensions import db
from ..models import Appeal, Grade
from ..security import permission_required
from ..services import access, appeals, audit
from . import bp
from .forms import ResolveForm, RespondForm


def _respond(form: RespondForm, **subject) -> None:
    """Acknowledge or appeal the subject with the form's text; flash what happened."""
    if not form.validate_on_submit():
        flash(_("Choose to acknowledge or to appeal."), "error")
        return
    try:
        if form.choice.data == "appeal":
            appeals.file_appeal(current_user.employee, reason=form.text.data, actor=current_user, **subject)
            flash(_("Your appeal is with hr. You will see their answer here."), "success")
        else:
            appeals.acknowledge(current_user.employee, comment=form.text.data or "", actor=current_user, **subject)
            flash(_("Thank you: acknowledged."), "success")
    except DomainError as error:
        flash(str(error), "error")


@bp.route("/assessments/<int:assessment_id>/respond", methods=["POST"])
@login_required
def respond_to_result(assessment_id: int):
    """The employee acknowledges or appeals their completed assessment."""
    item = access.own_result_or_404(current_user, assessment_id)
    _respond(RespondForm(), assessment=item)
    return redirect(url_for("assessments.result", assessment_id=item.id))


@bp.route("/my-grade/decisions/<int:recommendation_id>/respond", methods=["POST"])
@login_required
def respond_to_decision(recommendation_id: int):
    """The employee acknowledges or appeals their grade decision."""
    item = access.own_decision_or_404(current_user, recommendation_id)
    _respond(RespondForm(), recommendation=item)
    return redirect(url_for("review.my_grade"))


@bp.route("/appeals")
@permission_required("appeals.resolve")
def queue():
    """hr: open appeals first (oldest first), then the resolved ones."""
    page = db.paginate(appeals.queue(open_only=False), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("appeals/queue.html", page=page, open_count=appeals.open_count())


@bp.route("/appeals/<int:appeal_id>", methods=["GET", "POST"])
@permission_required("appeals.resolve")
def resolve(appeal_id: int):
    """hr: one appeal with its subject; uphold it, reopen the assessment or change the grade."""
    item = db.get_or_404(Appeal, appeal_id)
    if request.method == "GET":
        audit.record_view(current_user, "appeal", item.employee_id, appeal=item.id)
    form = ResolveForm().for_appeal(item)
    if form.validate_on_submit():
        try:
            if form.outcome.data == "uphold":
                appeals.uphold(item, form.response.data, actor=current_user)
            elif form.outcome.data == "reopen":
                appeals.reopen_assessment(item, form.response.data, actor=current_user)
            else:
                appeals.change_grade(item, Grade(form.grade.data), form.response.data, actor=current_user)
            flash(_("The appeal is resolved; the employee sees your response."), "success")
            return redirect(url_for("appeals.queue"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("appeals/resolve.html", appeal=item, form=form)
