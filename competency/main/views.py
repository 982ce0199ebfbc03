"""The dashboard."""

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..analytics import figures
from ..extensions import db
from ..models import Employee
from ..services import access, analytics, audit, dashboard, due
from ..services.analytics import Filters
from ..services.training.recommendations import demand
from ..timeutil import bank_today
from . import bp


@bp.route("/", endpoint="dashboard")
@login_required
def home():
    """Show the sections of the dashboard that the user's permissions call for."""
    user = current_user
    context = {"me": _me(user), "todo": due.todo(user), "today": bank_today()}
    if access.can(user, "team.lead") and user.employee:
        context["team"] = user.employee.reports
    if access.can(user, "dashboard.organisation"):
        counts = dashboard.unit_grade_counts(user)
        context["grades"] = dashboard.grade_counts(counts)
        rolled = context["rolled_up"] = analytics.rolled_up_grades(counts)  # the table's and the chart's, once
        context["units"] = dashboard.headcount_by_unit(*rolled)
    if access.can(user, "dashboard.probation"):
        context["probation"], context["probation_total"] = dashboard.probation_ending(user)
    if access.can(user, "dashboard.demand"):
        context["demand"] = demand()[:5]
    if access.can(user, "dashboard.accounts"):
        context["accounts"] = dashboard.account_summary()
        context["events"] = audit.recent_events()
        context["event_objects"] = audit.objects_of(context["events"])
    context["charts"] = _charts(user, context.get("rolled_up"))
    return render_template("main/dashboard.html", **context)


def _me(user) -> Employee | None:
    """The user's own person with what the profile card shows (unit, position, supervisor) in one query."""
    if user.employee_id is None:
        return None
    return db.session.scalar(_ME, {"id": user.employee_id})


# Built once: building the statement and its options costs more than running it.
_ME = select(Employee).where(Employee.id == bindparam("id")).options(
    joinedload(Employee.org_unit), joinedload(Employee.position), joinedload(Employee.supervisor))


def _charts(user, rolled_up=None) -> list:
    """The dashboard's charts: own profile and credits, the team's radar, the organisation's grades (from the
    headcounts already counted when the user sees everyone)."""
    found = []
    if user.employee:
        found += [figures.profile_radar(user.employee), figures.credit_progress(user.employee, bank_today().year)]
    if access.can(user, "team.lead") and user.employee:
        found.append(figures.team_radar(Filters(), access.team_ids(user)))
    if access.can(user, "analytics.organisation"):
        counted = rolled_up is not None and access.reads_everyone(user)
        found.append(figures.grade_chart(*rolled_up) if counted
                     else figures.grade_distribution(Filters(), access.private_ids(user)))
    return [c for c in found if c]
