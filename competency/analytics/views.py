"""Dashboards for hr and supervisors, my development with charts, the printable report, exports, plotly.js."""
from datetime import date
from pathlib import Path

import plotly
from flask import Response, abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..formutil import options
from ..i18n import label, localized
from ..models import Cycle, CycleStatus, Employee, Grade, ReviewRun, Role
from ..security import roles_required
from ..services import assessment, exports, grading, training
from ..services import org as org_service
from ..services.analytics import Filters
from ..services.scope import can_see_private, private_ids, report_ids
from . import bp, figures
from .forms import FilterForm

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@bp.route("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js from the installed plotly package: no CDN, bank intranets have no internet."""
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)


def _filters(with_units: bool = True) -> tuple[FilterForm, Filters, int]:
    form = FilterForm(request.args)
    cycles = db.session.scalars(select(Cycle).where(Cycle.status != CycleStatus.DRAFT).order_by(Cycle.period_end.desc())).all()
    form.cycle.choices = options([("", _("Latest per person"))] + [(str(c.id), f"{c.code} {localized(c)}") for c in cycles])
    form.org_unit.choices = options([("", _("All"))] + [(str(u.id), "\u00a0\u00a0" * d + localized(u)) for u, d, _n in org_service.org_tree()])
    form.position.choices = options([("", _("All"))] + [(str(p.id), localized(p)) for p in org_service.positions()])
    form.grade.choices = options([("", _("All"))] + [(g.value, label(g)) for g in Grade])
    if not form.validate():
        return form, Filters(), date.today().year
    filters = Filters(cycle_id=int(form.cycle.data) if form.cycle.data else None,
                      org_unit_id=int(form.org_unit.data) if with_units and form.org_unit.data else None,
                      position_id=int(form.position.data) if form.position.data else None, grade=form.grade.data or None)
    return form, filters, form.year.data or date.today().year


@bp.route("/analytics")
@roles_required(Role.HR, Role.ADMIN)
def organisation():
    """hr: gap heatmap by org unit, grade distribution, cycle completion, credit compliance, review outcomes."""
    form, filters, year = _filters()
    scope = private_ids(current_user)
    cycle = db.session.get(Cycle, filters.cycle_id) if filters.cycle_id else db.session.scalar(
        select(Cycle).where(Cycle.status != CycleStatus.DRAFT).order_by(Cycle.period_end.desc()).limit(1))
    run = db.session.scalar(select(ReviewRun).order_by(ReviewRun.year.desc()).limit(1))
    ids = select(Employee.id).where(Employee.id.in_(scope))
    return render_template("analytics/organisation.html", form=form, year=year, charts=[
        figures.unit_heatmap(filters, scope), figures.grade_distribution(filters, scope), figures.completion(cycle),
        figures.compliance(year, ids), figures.review_actions(run)])


@bp.route("/team/analytics")
@roles_required(Role.SUPERVISOR)
def team():
    """Supervisor: my team's average radar against the target and the members × competencies gap heatmap."""
    form, filters, year = _filters(with_units=False)
    scope = report_ids(current_user.employee_id)
    return render_template("analytics/team.html", form=form, year=year,
                           charts=[figures.team_radar(filters, scope), figures.member_heatmap(filters, scope)])


def _person(employee_id: int | None) -> Employee:
    person = db.session.get(Employee, employee_id) if employee_id else current_user.employee
    if person is None or not can_see_private(current_user, person.id):
        abort(404)
    return person


@bp.route("/development")
@bp.route("/employees/<int:employee_id>/development")
@login_required
def development(employee_id: int | None = None):
    """A person's development: radars, credits, grade timeline; printable as the development report."""
    person = _person(employee_id)
    year = date.today().year
    latest = training.latest_completed(person.id)
    result = assessment.result_of(latest) if latest else None
    levels, raters = figures.employee_radars(person, latest, result)
    earned, required = training.my_year(person, year)
    return render_template(
        "analytics/development.html", person=person, year=year, levels=levels, raters=raters,
        credits=figures.credit_progress(person, year), timeline=figures.grade_timeline(person), earned=earned,
        required=required, latest=latest, result=result,
        recommendations=training.recommendations(person, latest) if latest else [],
        path=grading.next_grade_path(person, year), printed=request.args.get("print") == "1")


@bp.route("/exports/<any(results,gaps,credits,recommendations):kind>.<any(csv,xlsx):fmt>")
@login_required
def export(kind: str, fmt: str):
    """Download results, gaps, credit compliance or review recommendations for the rows the user may see."""
    if not current_user.has_role(Role.HR, Role.ADMIN, Role.SUPERVISOR):
        abort(403)
    _form, filters, year = _filters()
    scope = report_ids(current_user.employee_id) if not current_user.has_role(Role.HR, Role.ADMIN) else private_ids(current_user)
    header, data = exports.rows(kind, filters, scope, year)
    name = f"{kind}-{date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(exports.to_csv(header, data), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    return Response(exports.to_xlsx(header, data, kind), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
