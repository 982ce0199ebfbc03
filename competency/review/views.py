"""Annual review pages (hr), standards and settings (hr), probation (supervisor), my grade (everyone)."""
from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..formutil import options
from ..i18n import label, localized
from ..models import Decision, Employee, Grade, GradeStandard, Position, Recommendation, ReviewAction, ReviewRun, Role
from ..security import roles_required
from ..services import grading, review_data
from ..services import org as org_service
from ..services.scope import can_see_private, org_subtree_ids, report_ids
from ..services.tabular import ImportFailed
from . import bp
from .forms import (
    BulkDecisionForm, DecisionForm, FilterForm, FinaliseForm, ProbationForm, RunForm, SettingsForm, StandardsFileForm,
    StandardsForm,
)


@bp.route("/review", methods=["GET", "POST"])
@roles_required(Role.HR)
def index():
    """Review runs by year, and running one (re-running a draft replaces it)."""
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = grading.run_review(form.year.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("The review of %(year)s is ready: check the recommendations.", year=run.year), "success")
            return redirect(url_for("review.run", year=run.year))
    runs = db.session.scalars(select(ReviewRun).order_by(ReviewRun.year.desc())).all()
    return render_template("review/index.html", form=form, runs=runs, counts={r.id: grading.action_counts(r) for r in runs})


def _run_or_404(year: int) -> ReviewRun:
    run = grading.get_run(year)
    if run is None:
        abort(404)
    return run


@bp.route("/review/<int:year>", methods=["GET", "POST"])
@roles_required(Role.HR)
def run(year: int):
    """A review's recommendations: filter by action and org unit, approve or reject in bulk, finalise."""
    item = _run_or_404(year)
    filters = FilterForm(request.args)
    filters.action.choices = options([("", _("All"))] + [(a.value, label(a)) for a in ReviewAction])
    filters.org_unit.choices = options([("", _("All"))] + [(str(u.id), "\u00a0\u00a0" * d + localized(u)) for u, d, _n in org_service.org_tree()])
    valid = filters.validate()
    units = org_subtree_ids(int(filters.org_unit.data)) if valid and filters.org_unit.data else None
    page = db.paginate(grading.recommendations_query(item, filters.action.data if valid else None, units),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    bulk = BulkDecisionForm()
    bulk.items.choices = options((r.id, r.id) for r in page.items)
    if bulk.validate_on_submit():
        try:
            if bulk.approve_all.data:
                count = grading.decide(item, None, Decision.APPROVED, actor=current_user)
            elif bulk.reject.data:
                count = grading.decide(item, bulk.items.data, Decision.REJECTED, reason=bulk.reason.data, actor=current_user)
            else:
                count = grading.decide(item, bulk.items.data, Decision.APPROVED, actor=current_user)
            flash(_("%(n)s recommendations updated.", n=count), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        return redirect(request.full_path)
    return render_template("review/run.html", run=item, page=page, filters=filters, bulk=bulk, counts=grading.action_counts(item),
                           finalise_form=FinaliseForm(effective=date(year + 1, 1, 1)))


@bp.route("/review/<int:year>/finalise", methods=["POST"])
@roles_required(Role.HR)
def finalise(year: int):
    """Finalise: approved and overridden changes update grades and grade history; the run becomes read-only."""
    item = _run_or_404(year)
    form = FinaliseForm()
    if form.validate_on_submit():
        try:
            changed = grading.finalise(item, form.effective.data, actor=current_user)
            flash(ngettext("The review is finalised: %(num)s person's grade or post changed.",
                           "The review is finalised: %(num)s people's grades or posts changed.", changed), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("review.run", year=year))


@bp.route("/review/item/<int:item_id>", methods=["GET", "POST"])
@roles_required(Role.HR)
def recommendation(item_id: int):
    """One recommendation with its explanation; approve, override (grade and reason) or reject it."""
    item = db.get_or_404(Recommendation, item_id)
    form = DecisionForm(grade=item.recommended_grade.value)
    if form.validate_on_submit():
        try:
            decision = Decision(form.decision.data)
            grading.decide(item.run, [item.id], decision, grade=Grade(form.grade.data) if decision == Decision.OVERRIDDEN else None,
                           reason=form.reason.data, actor=current_user)
            flash(_("Decision saved."), "success")
            return redirect(url_for("review.run", year=item.run.year))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return render_template("review/recommendation.html", item=item, form=form)


@bp.route("/standards", methods=["GET", "POST"])
@roles_required(Role.HR)
def standards():
    """Grade standards per position (edit, or import/export YAML)."""
    positions = db.session.scalars(select(Position).order_by(Position.code)).all()
    code = request.args.get("position") or (positions[0].code if positions else None)
    position = next((p for p in positions if p.code == code), None)
    if position is None:
        abort(404)
    rows = {s.grade.value: s for s in db.session.scalars(select(GradeStandard).where(GradeStandard.position_id == position.id))}
    data = {"unit": position.sales_unit}
    for grade, row in rows.items():
        data.update({f"{grade}_sales": row.min_sales, f"{grade}_score": row.min_score, f"{grade}_credits": row.min_credits,
                     f"{grade}_certification": row.certification or ""})
    form = StandardsForm(data=data)
    if form.validate_on_submit():
        values = {Grade(g): {"min_sales": form[f"{g}_sales"].data, "min_score": form[f"{g}_score"].data,
                             "min_credits": form[f"{g}_credits"].data, "certification": form[f"{g}_certification"].data.strip() or None}
                  for g in review_data.STANDARD_GRADES}
        review_data.save_standards(position, values, form.unit.data.strip(), actor=current_user)
        flash(_("Standards saved."), "success")
        return redirect(url_for("review.standards", position=position.code))
    return render_template("review/standards.html", form=form, positions=positions, position=position,
                           grades=review_data.STANDARD_GRADES, file_form=StandardsFileForm())


@bp.route("/standards/export.yaml")
@roles_required(Role.HR)
def export_standards():
    """Download every position's standards as YAML."""
    return Response(review_data.export_standards(), mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=grade_standards.yaml"})


@bp.route("/standards/import", methods=["POST"])
@roles_required(Role.HR)
def import_standards():
    """Set standards from an uploaded YAML file (all or nothing)."""
    form = StandardsFileForm()
    if form.validate_on_submit():
        try:
            count = review_data.import_standards(form.file.data.read().decode("utf-8-sig"), actor=current_user)
            flash(_("Standards set for %(n)s positions.", n=count), "success")
        except (ImportFailed, UnicodeDecodeError) as failure:
            db.session.rollback()
            for error in getattr(failure, "errors", [failure]):
                flash(str(error), "error")
    else:
        flash(_("Choose a .yaml file."), "error")
    return redirect(url_for("review.standards"))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.HR, Role.ADMIN)
def settings():
    """Settings: the probation length."""
    form = SettingsForm(probation_months=review_data.probation_months(current_app.config["PROBATION_MONTHS"]))
    if form.validate_on_submit():
        try:
            review_data.set_probation_months(form.probation_months.data, actor=current_user)
            flash(_("Settings saved."), "success")
            return redirect(url_for("review.settings"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("review/settings.html", form=form)


@bp.route("/team/probation")
@roles_required(Role.SUPERVISOR)
def probation():
    """Trainees among my reports, with their probation end and confirmation."""
    return render_template("review/probation.html", rows=review_data.trainees_to_confirm(report_ids(current_user.employee_id)),
                           today=date.today())


@bp.route("/team/probation/<int:employee_id>", methods=["GET", "POST"])
@roles_required(Role.SUPERVISOR)
def confirm(employee_id: int):
    """Confirm a report's probation: qualified (合格) or not, with a comment."""
    person = db.get_or_404(Employee, employee_id)
    if person.id not in set(db.session.scalars(report_ids(current_user.employee_id))):
        abort(404)
    form = ProbationForm()
    if form.validate_on_submit():
        try:
            review_data.confirm_probation(person, form.qualified.data == "yes", form.comment.data, actor=current_user)
            flash(_("Probation confirmation saved."), "success")
            return redirect(url_for("review.probation"))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return render_template("review/confirm.html", person=person, form=form)


@bp.route("/my-grade")
@bp.route("/employees/<int:employee_id>/grade")
@login_required
def my_grade(employee_id: int | None = None):
    """Current grade and history, the latest finalised recommendation explained, and the path to the next grade."""
    person = db.session.get(Employee, employee_id) if employee_id else current_user.employee
    if person is None or not can_see_private(current_user, person.id):
        abort(404)
    year = date.today().year
    return render_template("review/my_grade.html", person=person, latest=grading.latest_finalised(person.id),
                           path=grading.next_grade_path(person, year), year=year)
