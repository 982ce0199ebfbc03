"""Annual review pages (hr), standards and settings (hr), probation (supervisor), my grade (everyone)."""
from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import contains_eager

from ..appeals.forms import RespondForm
from ..errors import DomainError, NotFound
from ..extensions import db
from ..formutil import options, org_unit_options
from ..i18n import label
from ..jobs.views import start_once
from ..models import Decision, Employee, Grade, Recommendation, ReviewAction, ReviewRun
from ..pagination import KeysetPage
from ..security import permission_required
from ..services import access, appeals, audit, grades, safe_files
from ..services import settings as settings_service
from ..services.imports import ImportFailed
from ..services.org import org_subtree_ids, positions
from ..services.review import decisions, path, runs
from ..services.review import probation as probation_service
from ..services.review import standards as standards_service
from ..timeutil import bank_today
from . import bp
from .forms import (
    BulkDecisionForm,
    DecisionForm,
    EffectiveDateForm,
    FilterForm,
    FinaliseForm,
    ProbationForm,
    RunForm,
    SettingsForm,
    StandardsFileForm,
    StandardsForm,
)


@bp.route("/review", methods=["GET", "POST"])
@permission_required("review.read")
def index():
    """Review runs by year; check a year's readiness, then run its review (re-running a draft keeps decisions)."""
    form = RunForm()
    found = None
    if form.validate_on_submit():
        access.require(current_user, "review.manage")
        found = runs.readiness(form.year.data)
        run_it = not form.check.data  # "Check readiness" only checks; any other submit runs
        if run_it and (found.ready or form.anyway.data):
            # In the background (services/background.py): the page shows its progress, then the recommendations.
            return start_once("review.run", {"year": form.year.data}, url_for("review.index"))
        elif run_it:
            flash(_("The year is not ready: read the warnings, then tick the box to run anyway."), "error")
    items = runs.runs()
    return render_template("review/index.html", form=form, runs=items, readiness=found,
                           counts={r.id: runs.action_counts(r) for r in items})


def _key(name: str) -> str | None:
    """A staff number from the query string, for paging by key (bounded like the column)."""
    value = request.args.get(name, "").strip()
    return value[:32] or None


def _run_or_404(year: int) -> ReviewRun:
    item = runs.get_run(year)
    if item is None:
        raise NotFound()
    return item


def _decide_in_bulk(item: ReviewRun, bulk: BulkDecisionForm, action: str | None, units) -> str:
    """Apply the bulk buttons; the message that says what was done."""
    access.require(current_user, "review.manage")
    if bulk.approve_all.data:
        counts = decisions.approve_filtered(item, action, units, actor=current_user)
        return _("Approved %(n)s: %(detail)s.", n=sum(counts.values()),
                 detail=", ".join(f"{label(a)} {n}" for a, n in sorted(counts.items())) or "—")
    if bulk.reject.data:
        count = decisions.decide(item, bulk.items.data, Decision.REJECTED, reason=bulk.reason.data, actor=current_user)
    else:
        count = decisions.decide(item, bulk.items.data, Decision.APPROVED, actor=current_user)
    return ngettext("%(num)s recommendation updated.", "%(num)s recommendations updated.", count)


@bp.route("/review/<int:year>", methods=["GET", "POST"])
@permission_required("review.read")
def run(year: int):
    """A review's recommendations: filter by action and org unit, approve or reject in bulk, then finalise."""
    item = _run_or_404(year)
    filters = FilterForm(request.args)
    filters.action.choices = options([("", _("All"))] + [(a.value, label(a)) for a in ReviewAction])
    filters.org_unit.choices = org_unit_options(_("All"))
    valid = filters.validate()
    action = filters.action.data if valid else None
    units = org_subtree_ids(int(filters.org_unit.data)) if valid and filters.org_unit.data else None
    page = KeysetPage(runs.recommendations_query(item, action, units).options(contains_eager(Recommendation.employee)),
                      Employee.staff_no, current_app.config["PAGE_SIZE"], after=_key("after"), before=_key("before"))
    bulk = BulkDecisionForm()
    bulk.items.choices = options((r.id, r.id) for r in page.items)
    if bulk.validate_on_submit():
        try:
            flash(_decide_in_bulk(item, bulk, action, units), "success")
        except DomainError as error:
            flash(str(error), "error")
        return redirect(request.full_path)
    pending = decisions.pending_by_action(item, action, units)
    return render_template("review/run.html", run=item, page=page, filters=filters, bulk=bulk,
                           counts=runs.action_counts(item), pending=pending, undecided=decisions.pending_count(item),
                           pending_detail=", ".join(f"{label(a)} {n}" for a, n in sorted(pending.items())),
                           effective_form=EffectiveDateForm(effective=date(year + 1, 1, 1), formdata=None))


@bp.route("/review/<int:year>/finalise", methods=["GET", "POST"])
@permission_required("review.finalise")
def finalise(year: int):
    """Say what finalising will do (how many promotions, demotions, transfers, confirmations, from which date)
    and ask to confirm; refused while anything is undecided, by a person who decided (four-eyes), or when the
    decisions changed since the summary was shown."""
    item = _run_or_404(year)
    form = FinaliseForm()
    if form.validate_on_submit():
        try:
            changed = decisions.finalise(item, form.effective.data, actor=current_user, expected=form.fingerprint.data)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(ngettext("The review is finalised: %(num)s person's grade or post changes on %(date)s.",
                           "The review is finalised: %(num)s people's grades or posts change on %(date)s.", changed,
                           date=form.effective.data.isoformat()), "success")
            return redirect(url_for("review.run", year=year))
    chosen = EffectiveDateForm(request.args)
    effective = form.effective.data if form.is_submitted() and form.effective.data else (
        chosen.effective.data if chosen.validate() else date(year + 1, 1, 1))
    form.effective.data, form.fingerprint.data = effective, decisions.fingerprint(item)
    return render_template("review/finalise.html", run=item, form=form, effective=effective,
                           chosen=EffectiveDateForm(effective=effective, formdata=None),
                           outcome=decisions.outcome_counts(item),
                           blocked=decisions.finalise_problem(item, current_user) or decisions.effective_problem(item, effective))


@bp.route("/review/item/<int:item_id>", methods=["GET", "POST"])
@permission_required("review.read")
def recommendation(item_id: int):
    """One recommendation with its explanation; approve, override (grade and reason) or reject it."""
    item = db.get_or_404(Recommendation, item_id)
    if request.method == "GET":
        audit.record_view(current_user, "recommendation", item.employee_id, recommendation=item.id)
    form = DecisionForm(grade=item.recommended_grade.value)
    if form.validate_on_submit():
        access.require(current_user, "review.manage")
        try:
            decision = Decision(form.decision.data)
            decisions.decide(item.run, [item.id], decision, grade=Grade(form.grade.data) if decision == Decision.OVERRIDDEN else None,
                             reason=form.reason.data, actor=current_user)
            flash(_("Decision saved."), "success")
            return redirect(url_for("review.run", year=item.run.year))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("review/recommendation.html", item=item, form=form)


def _standards_form(position) -> StandardsForm:
    data = {"unit": position.sales_unit}
    for grade, row in standards_service.standards_of(position.id).items():
        data.update({f"{grade.value}_sales": row.min_sales, f"{grade.value}_score": row.min_score,
                     f"{grade.value}_credits": row.min_credits, f"{grade.value}_certification": row.certification or ""})
    return StandardsForm(data=data)


@bp.route("/standards", methods=["GET", "POST"])
@permission_required("review.manage")
def standards():
    """Grade standards per position (edit, or import/export YAML)."""
    items = positions()
    code = request.args.get("position") or (items[0].code if items else None)
    position = next((p for p in items if p.code == code), None)
    if position is None:
        raise NotFound()
    form = _standards_form(position)
    if form.validate_on_submit():
        values = {Grade(g): {"min_sales": form[f"{g}_sales"].data, "min_score": form[f"{g}_score"].data,
                             "min_credits": form[f"{g}_credits"].data,
                             "certification": (form[f"{g}_certification"].data or "").strip() or None}
                  for g in standards_service.STANDARD_GRADES}
        standards_service.save_standards(position, values, form.unit.data.strip(), actor=current_user)
        flash(_("Standards saved."), "success")
        return redirect(url_for("review.standards", position=position.code))
    return render_template("review/standards.html", form=form, positions=items, position=position,
                           grades=standards_service.STANDARD_GRADES, file_form=StandardsFileForm())


@bp.route("/standards/export.yaml")
@permission_required("review.manage")
def export_standards():
    """Download every position's standards as YAML."""
    audit.record_download("standards", current_user, format="yaml")
    return Response(standards_service.export_standards(), mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=grade_standards.yaml"})


@bp.route("/standards/import", methods=["POST"])
@permission_required("review.manage")
def import_standards():
    """Set standards from an uploaded YAML file (all or nothing)."""
    form = StandardsFileForm()
    if form.validate_on_submit():
        try:
            count = standards_service.import_standards(safe_files.decode_text(form.file.data.read()), actor=current_user)
            flash(_("Standards set for %(n)s positions.", n=count), "success")
        except ImportFailed as failure:
            for error in failure.errors:
                flash(str(error), "error")
    else:
        flash(_("Choose a .yaml file."), "error")
    return redirect(url_for("review.standards"))


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("settings.edit")
def settings():
    """Settings: the probation length, four-eyes finalising, the appeal window."""
    form = SettingsForm(probation_months=settings_service.probation_months(current_app.config["PROBATION_MONTHS"]),
                        four_eyes=settings_service.four_eyes(), appeal_days=settings_service.appeal_days())
    if form.validate_on_submit():
        try:
            settings_service.save(probation=form.probation_months.data, appeal_window=form.appeal_days.data,
                                  four_eyes_on=form.four_eyes.data if access.can(current_user, "settings.four_eyes") else None,
                                  actor=current_user)
            flash(_("Settings saved."), "success")
            return redirect(url_for("review.settings"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("review/settings.html", form=form)


@bp.route("/team/probation")
@permission_required("team.lead")
def probation():
    """Trainees among my reports, with their probation end and confirmation."""
    return render_template("review/probation.html", today=bank_today(),
                           rows=probation_service.trainees_to_confirm(access.team_ids(current_user)))


@bp.route("/team/probation/<int:employee_id>", methods=["GET", "POST"])
@permission_required("team.lead")
def confirm(employee_id: int):
    """Confirm a report's probation: qualified (合格) or not, with a comment."""
    person = access.team_member_or_404(current_user, employee_id)
    form = ProbationForm()
    if form.validate_on_submit():
        try:
            probation_service.confirm_probation(person, form.qualified.data == "yes", form.comment.data, actor=current_user)
            flash(_("Probation confirmation saved."), "success")
            return redirect(url_for("review.probation"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("review/confirm.html", person=person, form=form)


@bp.route("/my-grade")
@bp.route("/employees/<int:employee_id>/grade")
@login_required
def my_grade(employee_id: int | None = None):
    """Current grade and history, the latest finalised recommendation explained, and the path to the next grade."""
    person = access.private_employee_or_404(current_user, employee_id)
    audit.record_view(current_user, "grade", person.id)
    year = bank_today().year
    latest = runs.latest_finalised(person.id)
    return render_template("review/my_grade.html", person=person, latest=latest, path=path.next_grade_path(person, year),
                           year=year, scheduled=grades.scheduled_changes(person.id),
                           standing=appeals.standing(recommendation=latest)
                           if latest and access.sees_responses(current_user, person.id) else None,
                           respond_form=RespondForm() if latest and access.can_respond(current_user, person.id) else None)
