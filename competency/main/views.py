"""The dashboard."""
from datetime import date

from flask import render_template
from flask_login import current_user, login_required

from ..analytics import figures as charts
from ..models import Role
from ..services.analytics import Filters
from ..services.scope import private_ids, report_ids
from ..services import assessment as assessments
from ..services import dashboard as figures
from ..services import training
from . import bp


@bp.route("/")
@login_required
def dashboard():
    """Show the sections of the dashboard that the user's roles call for."""
    user = current_user
    context = {"me": user.employee}
    if user.employee:
        context["todo"] = [a for a in assessments.my_assessments(user)
                           if a.cycle.status.value == "open" and a.status in assessments.SELF_EDITABLE]
    if user.has_role(Role.SUPERVISOR):
        context["to_rate"] = [a for a in assessments.team_assessments(user) if a.status in assessments.SUPERVISOR_EDITABLE]
    if user.has_role(Role.SUPERVISOR) and user.employee:
        context["team"] = user.employee.reports
    if user.has_role(Role.HR, Role.ADMIN, Role.TRAINER):
        context["grades"] = figures.grade_counts(user)
        context["units"] = figures.headcount_by_unit(user)
    if user.has_role(Role.HR, Role.SUPERVISOR):
        context["probation"] = figures.probation_ending(user)
    if user.has_role(Role.TRAINER):
        context["demand"] = training.demand()[:5]
    if user.has_role(Role.ADMIN):
        context["accounts"] = figures.account_summary()
        context["events"] = figures.recent_events()
    context["charts"] = _charts(user)
    return render_template("main/dashboard.html", **context)


def _charts(user) -> list:
    """The dashboard's charts for the user's roles: own profile and credits, the team's radar, the organisation's grades."""
    found = []
    if user.employee:
        found += [charts.employee_radars(user.employee)[0], charts.credit_progress(user.employee, date.today().year)]
    if user.has_role(Role.SUPERVISOR) and user.employee:
        found.append(charts.team_radar(Filters(), report_ids(user.employee_id)))
    if user.has_role(Role.HR, Role.ADMIN):
        found.append(charts.grade_distribution(Filters(), private_ids(user)))
    return [c for c in found if c]
