"""Dashboards for hr and supervisors, my development with charts, the printable report, exports, plotly.js."""
import hashlib
from dataclasses import asdict
from functools import cache
from pathlib import Path

from flask import Response, abort, current_app, redirect, render_template, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..formutil import grade_options, options, org_unit_options
from ..i18n import lang, localized
from ..models import Cycle
from ..security import permission_required
from ..services import access, audit, charts, exports, jobs
from ..services import org as org_service
from ..services.analytics import Filters
from ..services.assessments.cycles import latest_started_cycle, started_cycles
from ..services.assessments.results import latest_completed, result_of
from ..services.review.path import next_grade_path
from ..services.review.runs import chosen_run
from ..services.training.ledger import my_year
from ..services.training.recommendations import recommendations
from ..timeutil import bank_today
from . import bp, figures
from .forms import FilterForm

# Given whole as the Content-Type (a mimetype would have Flask add "; charset=utf-8" to the CSV's a second time).
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


bp.add_app_template_filter(charts.attribute_json, "figure_json")


@bp.app_template_global()
@cache
def plotly_version() -> str:
    """The served bundle's version: plotly.js's own and the start of the file's SHA-256, so that a rebuilt bundle
    has a new URL and browsers may keep one for a year."""
    bundle = _plotly_bundle()
    return f"{(bundle.parent / 'plotly.version').read_text().strip()}-{hashlib.sha256(bundle.read_bytes()).hexdigest()[:10]}"


def _plotly_bundle() -> Path:
    """plotly.js with only the trace types the charts draw, rebuilt by tools/build-plotly-bundle.sh (static/vendor/README.md)."""
    return Path(current_app.static_folder) / "vendor" / "plotly.min.js"


@bp.route("/vendor/plotly-<version>.min.js")
def plotly_js(version: str):
    """plotly.js served by the app (no CDN: bank intranets have no internet), cached for a year as immutable: its
    URL names its version."""
    if version != plotly_version():
        abort(404)
    response = send_file(_plotly_bundle(), mimetype="text/javascript", max_age=365 * 86400, conditional=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.route("/vendor/plotly-template.js")
def plotly_template():
    """The charts' plotly template (services/charts.py), cached by the browser."""
    response = Response(charts.template_script(), mimetype="text/javascript")
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response


def _filters(with_units: bool = True) -> tuple[FilterForm, Filters, int]:
    form = FilterForm(request.args)
    form.cycle.choices = options([("", _("Latest per person"))] + [(str(c.id), f"{c.code} {localized(c)}") for c in started_cycles()])
    form.org_unit.choices = org_unit_options(_("All"))
    form.position.choices = options([("", _("All"))] + [(str(p.id), localized(p)) for p in org_service.positions()])
    form.grade.choices = grade_options(_("All"))
    if not form.validate():
        return form, Filters(), bank_today().year
    filters = Filters(cycle_id=int(form.cycle.data) if form.cycle.data else None,
                      org_unit_id=int(form.org_unit.data) if with_units and form.org_unit.data else None,
                      position_id=int(form.position.data) if form.position.data else None, grade=form.grade.data or None)
    return form, filters, form.year.data or bank_today().year


@bp.route("/analytics")
@permission_required("analytics.organisation")
def organisation():
    """hr: gap heatmap by org unit, grade distribution, cycle completion, credit compliance, review outcomes."""
    form, filters, year = _filters()
    scope = access.private_ids(current_user)
    cycle = db.session.get(Cycle, filters.cycle_id) if filters.cycle_id else latest_started_cycle()
    run = chosen_run(form.year.data)
    return render_template("analytics/organisation.html", form=form, year=year, charts=[
        figures.unit_heatmap(filters), figures.grade_distribution(filters, scope), figures.completion(cycle, filters, scope),
        figures.compliance(year, filters, scope), figures.review_actions(run, filters, scope)])


@bp.route("/team/analytics")
@permission_required("team.lead")
def team():
    """Supervisor: my team's average radar against the target and the members × competencies gap heatmap."""
    form, filters, year = _filters(with_units=False)
    scope = access.team_ids(current_user)
    return render_template("analytics/team.html", form=form, year=year,
                           charts=[figures.team_radar(filters, scope), figures.member_heatmap(filters, scope)])


@bp.route("/development")
@bp.route("/employees/<int:employee_id>/development")
@login_required
def development(employee_id: int | None = None):
    """A person's development: radars, credits, grade timeline; printable as the development report."""
    person = access.private_employee_or_404(current_user, employee_id)
    printed = request.args.get("print") == "1"
    audit.record_view(current_user, "development", person.id, **({"printed": True} if printed else {}))
    year = bank_today().year
    latest = latest_completed(person.id)
    result = result_of(latest) if latest else None
    levels, raters = figures.employee_radars(person, latest, result)
    earned, required = my_year(person, year)
    return render_template(
        "analytics/development.html", person=person, year=year, levels=levels, raters=raters,
        credits=figures.credit_progress(person, year), timeline=figures.grade_timeline(person), earned=earned,
        required=required, latest=latest, result=result,
        recommendations=recommendations(person, latest) if latest else [],
        path=next_grade_path(person, year), printed=printed)


@bp.route("/exports/<any(results,results_wide,gaps,credits,recommendations):kind>.<any(csv,xlsx):fmt>")
@permission_required("exports.download")
def export(kind: str, fmt: str):
    """Download results (per competency or one row per person), gaps, credit compliance or review recommendations for
    the rows the user may see, in their language, streamed in constant memory; the download is audited, with its row
    count, before the first byte goes out. Recommendations are those of the latest review unless a year is chosen."""
    form, filters, year = _filters()
    if kind == "recommendations" and (run := chosen_run(form.year.data)) is not None:
        year = run.year
    scope = access.export_scope(current_user)
    rows = exports.count(kind, filters, scope, year)
    audit.record_download(kind, current_user, format=fmt, rows=rows,
                          filters={k: v for k, v in asdict(filters).items() if v is not None} | {"year": year})
    cycle = db.session.get(Cycle, filters.cycle_id) if filters.cycle_id else None
    filename = exports.filename(kind, fmt, year=year, cycle=cycle.code if cycle else None)
    if rows > current_app.config["EXPORT_JOB_ROWS"]:  # written by a background job, downloaded when ready
        job = jobs.start("export", current_user, {"kind": kind, "format": fmt, "year": year, "rows": rows,
                                                  "filename": filename, "filters": asdict(filters)}, lang())
        return redirect(url_for("jobs.detail", job_id=job.id))
    header, data = exports.rows(kind, filters, scope, year)
    body = exports.stream_csv(header, data) if fmt == "csv" else exports.stream_xlsx(header, data, kind)
    return Response(stream_with_context(body), content_type=CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
