"""Cycle administration pages (hr)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError
from ..extensions import db
from ..formutil import edit_form, grade_options, options, org_unit_options
from ..i18n import label, localized
from ..jobs.views import start_once
from ..models import AssessmentStatus, Cycle
from ..pagination import paginate_rows
from ..security import permission_required
from ..services import appeals
from ..services import org as org_service
from ..services.assessments import cycles as service
from ..services.assessments import results
from . import bp
from .forms import ActionForm, CycleForm, StatusFilterForm


@bp.route("/")
@permission_required("cycles.manage")
def index():
    """All cycles with their state and progress."""
    items = service.cycles()
    return render_template("cycles/index.html", cycles=items, counts={c.id: service.status_counts(c) for c in items},
                           done=AssessmentStatus.COMPLETED)


def _fill(form: CycleForm) -> None:
    form.version.choices = options((v.id, f"{localized(v.position)} · {localized(v)} v{v.number}") for v in service.published_versions())
    form.org_unit.choices = org_unit_options(_("All"))
    form.grades.choices = grade_options()


def _values(form: CycleForm) -> service.CycleValues:
    return service.CycleValues(
        code=form.code.data, name_zh=form.name_zh.data, name_en=form.name_en.data, version_id=form.version.data,
        period_start=form.period_start.data, period_end=form.period_end.data, self_deadline=form.self_deadline.data,
        supervisor_deadline=form.supervisor_deadline.data, self_weight=form.self_weight.data, blind=form.blind.data,
        filter_org_unit_id=int(form.org_unit.data) if form.org_unit.data else None, filter_grades=tuple(form.grades.data or ()),
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
@permission_required("cycles.manage")
def edit(cycle_id: int | None = None):
    """Create a draft cycle or edit one still in draft."""
    cycle = db.get_or_404(Cycle, cycle_id) if cycle_id else None
    form = edit_form(CycleForm, cycle)
    _fill(form)
    if cycle is not None and not form.is_submitted():
        form.version.data, form.grades.data = cycle.version_id, list(cycle.filter_grades or [])
        form.org_unit.data = str(cycle.filter_org_unit_id or "")
    if form.validate_on_submit():
        try:
            cycle = service.save_cycle(_values(form), cycle, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Cycle saved. Check the participants, then open it."), "success")
            return redirect(url_for("cycles.detail", cycle_id=cycle.id))
    return render_template("cycles/edit.html", form=form, cycle=cycle)


@bp.route("/<int:cycle_id>")
@permission_required("cycles.manage")
def detail(cycle_id: int):
    """A cycle: participants before opening; progress by org unit, overdue and assessments after."""
    cycle = db.get_or_404(Cycle, cycle_id)
    filters = StatusFilterForm(request.args)
    filters.status.choices = options([("", _("All"))] + [(s.value, label(s)) for s in AssessmentStatus])
    page = None if cycle.is_draft else db.paginate(
        service.cycle_assessments(cycle, filters.status.data if filters.validate() else None),
        per_page=current_app.config["PAGE_SIZE"], error_out=False)
    tree = org_service.org_tree()
    units = {u.id: u for u, _depth, _n in tree}
    progress = {unit_id: (total, done) for unit_id, total, done in service.progress_by_unit(cycle)}
    return render_template(
        "cycles/detail.html", cycle=cycle, action=ActionForm(), page=page, filters=filters, units=units,
        count=service.participant_count(cycle) if cycle.is_draft else None,
        counts=service.status_counts(cycle), tree=[(u, d) for u, d, _n in tree if u.id in progress], progress=progress,
        overdue=service.overdue(cycle), is_overdue=service.is_overdue,
        feedback=appeals.cycle_feedback_by_unit(cycle.id) if not cycle.is_draft else {})


@bp.route("/<int:cycle_id>/<any(open,close):operation>", methods=["POST"])
@permission_required("cycles.manage")
def operate(cycle_id: int, operation: str):
    """Open a draft cycle (creating the assessments) or close an open one."""
    cycle = db.get_or_404(Cycle, cycle_id)
    if ActionForm().validate_on_submit():
        back = url_for("cycles.detail", cycle_id=cycle.id)
        if operation == "open":  # in the background: a bank's cycle creates 100,000 assessments
            return start_once("cycle.open", {"cycle_id": cycle.id}, back)
        try:
            closed = service.close_cycle(cycle, actor=current_user)
            flash(_("The cycle is closed: %(n)s unfinished assessments marked incomplete.", n=closed), "success")
        except DomainError as error:
            flash(str(error), "error")
    return redirect(url_for("cycles.detail", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>/leniency")
@permission_required("cycles.manage")
def leniency(cycle_id: int):
    """Each supervisor's mean rating against the organisation's mean, for calibration."""
    cycle = db.get_or_404(Cycle, cycle_id)
    page = paginate_rows(results.leniency_query(cycle))
    org_mean = results.organisation_mean(cycle)
    return render_template("cycles/leniency.html", cycle=cycle, rows=results.leniency(cycle, page.items, org_mean) if page.items else [],
                           page=page, org_mean=org_mean)
