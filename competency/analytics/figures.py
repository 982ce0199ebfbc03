"""Each chart of the dashboards: fetch the aggregate, label it in the user's language, build the figure."""

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from ..extensions import db
from ..i18n import label, localized
from ..models import Assessment, Cycle, Grade, ModelVersion, OrgUnit, ResultRow, ReviewAction
from ..services import analytics, charts
from ..services.assessments.results import latest_completed, result_of
from ..services.ksa.published import parts_of
from ..services.training.ledger import my_year
from ..timeutil import bank_today


def employee_radars(employee, latest=None, result=None) -> tuple[dict | None, dict | None]:
    """Combined levels against the current and next grade's targets, and self vs supervisor (from the latest
    completed assessment and its result, looked up when not given)."""
    latest = latest or latest_completed(employee.id)
    if latest is None:
        return None, None
    result = result or result_of(latest)
    comps = [r.competency for r in result.rows]
    levels = _profile(employee, comps, {r.competency.code: r.combined for r in result.rows}, latest.cycle)
    raters = charts.radar([c.code for c in comps], [(_("Self"), {r.competency.code: r.self_level for r in result.rows}),
                                                    (_("Supervisor"), {r.competency.code: r.supervisor_level for r in result.rows})],
                          _("Self vs supervisor"), names=_names(comps))
    return levels, raters


def profile_radar(employee) -> dict | None:
    """The first chart of `employee_radars` (combined levels against the current and next grade's targets), read
    from the person's latest stored result in one query: what the dashboard shows on every visit."""
    rows = db.session.execute(_PROFILE, {"employee_id": employee.id}).all()
    if not rows:
        return None
    comps = parts_of(rows[0].ModelVersion).competencies
    return _profile(employee, comps, {r.competency_code: r.combined for r in rows}, rows[0])


# Built once (building it costs more than running it).
_PROFILE = (select(ResultRow.competency_code, ResultRow.combined, ModelVersion, Cycle.name_zh, Cycle.name_en)
            .join(Assessment, Assessment.id == ResultRow.assessment_id).join(Cycle, Cycle.id == ResultRow.cycle_id)
            .join(ModelVersion, ModelVersion.id == Assessment.version_id)
            .where(ResultRow.employee_id == bindparam("employee_id"), ResultRow.is_latest.is_(True)))


def _profile(employee, comps, combined: dict, cycle) -> dict:
    """Combined levels per competency against the targets of the person's grade and the next (the cycle names it)."""
    grades = [employee.grade] + ([employee.grade.next()] if employee.grade.next() else [])
    series = [(_("Assessed level"), {c.code: combined.get(c.code) for c in comps})]
    series += [(_("Target: %(grade)s", grade=label(g)), {c.code: c.target(g) for c in comps}) for g in grades]
    return charts.radar([c.code for c in comps], series, _("Competency profile (%(cycle)s)", cycle=localized(cycle)),
                        names=_names(comps))


def _names(comps) -> dict[str, str]:
    """{code: name in the user's language} of competencies (or rows with code, name_zh and name_en)."""
    return {c.code: localized(c) for c in comps}


def credit_progress(employee, year: int) -> dict:
    earned, required = my_year(employee, year)
    return charts.progress(float(earned), float(required), _("Credits %(year)s", year=year), _("Earned"), _("Required"))


def grade_timeline(employee) -> dict:
    history = sorted(employee.grade_history, key=lambda h: (h.effective_date, h.id))
    points = [(employee.hire_date.isoformat(), (history[0].from_grade or history[0].to_grade).rank if history else employee.grade.rank)]
    points += [(h.effective_date.isoformat(), h.to_grade.rank) for h in history]
    points.append((bank_today().isoformat(), employee.grade.rank))
    return charts.timeline([p[0] for p in points], [p[1] for p in points], [label(g) for g in Grade], _("Grade over time"))


def team_radar(filters, scope) -> dict | None:
    codes, levels, targets = analytics.average_levels(filters, scope)
    if not codes:
        return None
    return charts.radar(codes, [(_("Team average"), levels), (_("Average target"), targets)], _("Team average against the target"),
                        names=_names(analytics.competency_names(codes).values()))


def member_heatmap(filters, scope) -> dict | None:
    rows, codes, cells = analytics.member_gap_heatmap(filters, scope)
    if not rows:
        return None
    names = _names(analytics.competency_names(codes).values())
    if isinstance(rows[0], OrgUnit):  # a large team, summarised by unit
        return charts.heatmap([localized(u) for u in rows], codes, cells, _("Average gap by org unit of the team"),
                              row_keys=[u.id for u in rows], column_names=names)
    return charts.heatmap([f"{localized(m)} {m.staff_no}" for m in rows], codes, cells, _("Gaps by team member"),
                          row_keys=[m.id for m in rows], column_names=names)


def unit_heatmap(filters) -> dict | None:
    units, codes, cells = analytics.unit_gap_heatmap(filters)
    if not units:
        return None
    z = {(u, c): v[0] for (u, c), v in cells.items()}
    return charts.heatmap([localized(u) for u in units], codes, z, _("Average gap by org unit (sub-units included)"),
                          row_keys=[u.id for u in units], column_names=_names(analytics.competency_names(codes).values()))


def grade_distribution(filters, scope) -> dict | None:
    return grade_chart(*analytics.grade_distribution(filters, scope))


def grade_chart(units, counts) -> dict | None:
    """Stacked headcount per grade for the units ({(unit id, grade): n}), each unit with its sub-units."""
    if not units:
        return None
    return charts.stacked_bars([localized(u) for u in units],
                               [(label(g), [counts.get((u.id, g), 0) for u in units]) for g in Grade],
                               _("Grade distribution by org unit (sub-units included)"))


def completion(cycle, filters, scope) -> dict | None:
    """Share of the cycle's assessments completed per org unit (sub-units included), under the filters."""
    rows = analytics.unit_completion(cycle, filters, scope) if cycle else []
    if not rows:
        return None
    return charts.bars([localized(u) for u, _t, _d in rows], [100 * d / t for _u, t, d in rows],
                       _("Cycle completion by org unit (sub-units included): %(cycle)s", cycle=localized(cycle)), percent=True)


def compliance(year: int, filters, scope) -> dict | None:
    """Share of people meeting the year's credit requirement per org unit (sub-units included), under the filters."""
    rows = analytics.unit_compliance(year, filters, scope)
    if not rows:
        return None
    return charts.bars([localized(u) for u, _n, _o in rows], [100 * ok / n for _u, n, ok in rows],
                       _("Credit compliance by org unit (sub-units included), %(year)s", year=year), percent=True,
                       colour=charts.COLOURS[2])


def review_actions(run, filters, scope) -> dict | None:
    """The review run's recommendations per action, under the filters."""
    counts = analytics.review_actions(run, filters, scope) if run else {}
    if not counts:
        return None
    actions = [a for a in ReviewAction if counts.get(a)]
    return charts.bars([label(a) for a in actions], [counts[a] for a in actions],
                       _("Review %(year)s: recommendations by action", year=run.year), colour=charts.COLOURS[3])
