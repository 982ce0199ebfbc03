"""The dashboard."""
from flask import render_template
from flask_login import current_user, login_required

from ..models import Role
from ..services import assessment as assessments
from ..services import dashboard as figures
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
    if user.has_role(Role.ADMIN):
        context["accounts"] = figures.account_summary()
        context["events"] = figures.recent_events()
    return render_template("main/dashboard.html", **context)
