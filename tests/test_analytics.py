"""Charts and exports: exact values on a small fixture, and that a supervisor sees only their team."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from competency.extensions import db
from competency.models import Assessment, Employee, Grade, OrgUnitKind, Rater
from competency.services import analytics, charts
from competency.services.analytics import Filters
from competency.services.assessments import cycles, workflow

from . import factories


def _open_cycle(version):
    """Cycle C of the first half of 2026 on the version, open, assessing the juniors by their supervisors only."""
    cycle = cycles.save_cycle(cycles.CycleValues(
        code="C", name_zh="周期", name_en="Cycle", version_id=version.id, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
        self_deadline=date.today() + timedelta(days=3), supervisor_deadline=date.today() + timedelta(days=6), self_weight=0,
        filter_grades=("junior",)))
    cycles.open_cycle(cycle)
    return cycle


@pytest.fixture
def team(app):
    """Model K1 (weight 10), S1 (weight 11); a lead with two reports and an outsider, all assessed by supervisors only."""
    version = factories.model_version(publish=True)
    branch = factories.org_unit(code="BR", kind=OrgUnitKind.TIER1_BRANCH, name_en="Branch")
    sub = factories.org_unit(code="SUB", parent=branch, name_en="Sub")
    other = factories.org_unit(code="OTH", name_en="Other")
    lead = factories.user(roles=["employee", "supervisor"], staff_no="LEAD", org_unit=sub, grade=Grade.SENIOR)
    a = factories.employee(staff_no="A", org_unit=sub, grade=Grade.JUNIOR, supervisor=lead.employee)
    b = factories.employee(staff_no="B", org_unit=sub, grade=Grade.JUNIOR, supervisor=lead.employee)
    c = factories.employee(staff_no="OUTSIDER", org_unit=other, grade=Grade.JUNIOR)
    cycle = _open_cycle(version)
    comps = {comp.code: comp.id for comp in version.competencies}
    for person, (k1, s1) in ((a, (1, 3)), (b, (2, 4)), (c, (5, 5))):
        item = db.session.scalar(select(Assessment).where(Assessment.employee_id == person.id))
        workflow.save_ratings(item, Rater.SUPERVISOR, {comps["K1"]: (k1, "x"), comps["S1"]: (s1, "x")}, submit=True,
                                lock_version=item.lock_version)
    return dict(lead=lead, a=a, b=b, c=c, branch=branch, sub=sub, other=other, cycle=cycle)


def test_team_average_levels_exact(team):
    from competency.services.org import report_ids

    codes, levels, targets = analytics.average_levels(Filters(), report_ids(team["lead"].employee_id))
    assert codes == ["K1", "S1"]
    assert levels == {"K1": pytest.approx(1.5), "S1": pytest.approx(3.5)}   # A: 1, 3; B: 2, 4
    assert targets == {"K1": 2.0, "S1": 2.0}                                 # junior targets


def test_member_gap_heatmap_exact_and_team_only(team):
    from competency.services.org import report_ids

    members, codes, cells = analytics.member_gap_heatmap(Filters(), report_ids(team["lead"].employee_id))
    assert [m.staff_no for m in members] == ["A", "B"]
    assert cells == {(team["a"].id, "K1"): 1.0, (team["a"].id, "S1"): -1.0, (team["b"].id, "K1"): 0.0, (team["b"].id, "S1"): -2.0}
    figure = charts.heatmap(["A", "B"], codes, cells, "t", row_keys=[team["a"].id, team["b"].id])
    assert figure["data"][0]["z"] == [[1.0, -1.0], [0.0, -2.0]] and list(figure["data"][0]["y"]) == ["A", "B"]


def test_a_large_team_is_summarised_by_org_unit(team, monkeypatch, client):
    from competency.services.org import report_ids

    monkeypatch.setattr(analytics, "MEMBER_ROWS", 1)  # the lead's two reports are "many"
    rows, codes, cells = analytics.member_gap_heatmap(Filters(), report_ids(team["lead"].employee_id))
    assert [u.code for u in rows] == ["SUB"]
    assert cells == {(team["sub"].id, "K1"): pytest.approx(0.5), (team["sub"].id, "S1"): pytest.approx(-1.5)}
    with client.session_transaction() as session:
        factories.sign_in(session, team["lead"])
    page = client.get("/team/analytics", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Average gap by org unit of the team" in page and "Gaps by team member" not in page


def test_unit_heatmap_includes_sub_units(team):
    units, codes, cells = analytics.unit_gap_heatmap(Filters())
    # BR and SUB: A and B (K1 gaps 1 and 0 → 0.5); OTH: the outsider (K1 target 2 − 5 = −3)
    assert cells[(team["branch"].id, "K1")] == (pytest.approx(0.5), 2)
    assert cells[(team["sub"].id, "S1")] == (pytest.approx(-1.5), 2)
    assert cells[(team["other"].id, "K1")] == (pytest.approx(-3.0), 1)
    units, _codes, only_branch = analytics.unit_gap_heatmap(Filters(org_unit_id=team["branch"].id))
    assert {u.code for u in units} == {"BR", "SUB"}


def test_radar_figure_closes_the_loop_with_exact_values():
    figure = charts.radar(["K1", "S1", "A1"], [("level", {"K1": 2.6, "S1": 3, "A1": 4})], "t")
    trace = figure["data"][0]
    assert list(trace["r"]) == [2.6, 3, 4, 2.6] and list(trace["theta"]) == ["K1", "S1", "A1", "K1"]
    assert figure["layout"]["polar"]["radialaxis"]["range"] == [0, 5]


def test_supervisor_charts_contain_only_their_team(team, client, login_as):
    login_as(team["lead"])
    page = client.get("/team/analytics", headers={"Accept-Language": "en"}).data.decode()
    assert "OUTSIDER" not in page
    assert "A" in page and "B" in page and 'class="chart"' in page


def _csv(response):
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_supervisor_exports_contain_only_their_team(team, client, login_as):
    login_as(team["lead"])
    rows = _csv(client.get("/exports/results.csv"))
    assert rows[0] == ["Staff number", "Name", "Org unit code", "Org unit", "Cycle code", "Cycle", "Period end", "Competency code",
                       "Competency", "Self", "Supervisor", "Combined", "Target level", "Gap"]
    assert {r[0] for r in rows[1:]} == {"A", "B"}
    assert [[r[7], *r[9:]] for r in rows[1:] if r[0] == "A"] == [["K1", "", "1", "1.0", "2", "1.0"], ["S1", "", "3", "3.0", "2", "-1.0"]]
    workbook = load_workbook(io.BytesIO(client.get("/exports/gaps.xlsx").data))
    values = list(workbook.active.iter_rows(values_only=True))
    assert {v[0] for v in values[1:]} == {"A"} and [v[7] for v in values[1:]] == ["K1"]   # only below-target rows
    assert {r[0] for r in _csv(client.get("/exports/results_wide.csv"))[1:]} == {"A", "B"}
    credits = _csv(client.get("/exports/credits.csv?year=2026"))
    assert {r[0] for r in credits[1:]} == {"A", "B"}


def test_hr_exports_everyone_with_filters(team, client, login_as):
    login_as("hr")
    everyone = {r[0] for r in _csv(client.get("/exports/results.csv"))[1:]}
    assert everyone == {"A", "B", "OUTSIDER"}
    filtered = {r[0] for r in _csv(client.get(f"/exports/results.csv?org_unit={team['other'].id}"))[1:]}
    assert filtered == {"OUTSIDER"}


def _figures(page: str) -> dict:
    """{trace type: first trace} of the figures on a page."""
    return {figure["data"][0]["type"]: figure["data"][0] for figure in factories.page_figures(page)}


def test_the_team_heatmap_and_the_results_exports_hold_the_same_people(team, client, login_as):
    """The charts and the exports read the stored results a filter selects through one condition
    (analytics.stored_rows): under each filter the heatmap's people are the exports' people."""
    login_as(team["lead"])
    for query, people in (("", {"A", "B"}), (f"cycle={team['cycle'].id}", {"A", "B"}), ("grade=junior", {"A", "B"}),
                          ("grade=senior", set())):
        heatmap = _figures(client.get(f"/team/analytics?{query}", headers={"Accept-Language": "en"}).data.decode()).get("heatmap")
        assert ({row.split(" ")[-1] for row in heatmap["y"]} if heatmap else set()) == people
        for kind in ("results", "results_wide"):
            assert {r[0] for r in _csv(client.get(f"/exports/{kind}.csv?{query}"))[1:]} == people


def test_the_wide_export_orders_competencies_as_the_charts_do(app, client, login_as):
    """K1, K2, …, K10 (by number, not as text), then the skills, then the abilities: the wide export's columns, the
    long export's rows of a person, the team radar's axes and the gap heatmap's columns, whatever order the model
    lists them in."""
    version = factories.model_version(publish=True, codes=("A1", "K10", "S1", "K2", "K1"))
    lead = factories.user(roles=["employee", "supervisor"], staff_no="LEAD", grade=Grade.SENIOR)
    factories.employee(staff_no="M", grade=Grade.JUNIOR, supervisor=lead.employee)
    _open_cycle(version)
    item = db.session.scalar(select(Assessment))
    workflow.save_ratings(item, Rater.SUPERVISOR, {c.id: (1, "x") for c in version.competencies}, submit=True,
                          lock_version=item.lock_version)
    db.session.commit()
    login_as(lead)
    order = ["K1", "K2", "K10", "S1", "A1"]
    header = _csv(client.get("/exports/results_wide.csv", headers={"Accept-Language": "en"}))[0]
    assert header[8:-4] == [f"{code} Competency {code}" for code in order]
    assert [row[7] for row in _csv(client.get("/exports/results.csv"))[1:]] == order
    page = client.get("/team/analytics", headers={"Accept-Language": "en"}).data.decode()
    traces = _figures(page)
    radar, heatmap = traces["scatterpolar"], traces["heatmap"]
    assert [hover.split(" ")[0] for hover in radar["customdata"]] == [*order, "K1"]  # the loop closes on the first
    assert [label.split(" ")[0] for label in heatmap["x"]] == order


@pytest.mark.parametrize(("role", "url", "expected"), [
    ("employee", "/analytics", 403), ("supervisor", "/analytics", 403), ("hr", "/analytics", 200), ("admin", "/analytics", 200),
    ("employee", "/team/analytics", 403), ("employee", "/exports/results.csv", 403), ("trainer", "/exports/results.csv", 403),
    ("employee", "/development", 200),
])
def test_analytics_access(team, client, login_as, role, url, expected):
    login_as(role)
    assert client.get(url).status_code == expected


def test_development_report_is_private(team, client, login_as):
    account = factories.user(employee_=team["a"])
    login_as(account)
    page = client.get("/development", headers={"Accept-Language": "en"}).data.decode()
    assert "Development report" in page and 'class="chart"' in page and "Print" in page
    assert client.get(f"/employees/{team['c'].id}/development").status_code == 404
    login_as(team["lead"])
    assert client.get(f"/employees/{team['a'].id}/development").status_code == 200
    assert client.get(f"/employees/{team['c'].id}/development").status_code == 404


def test_plotly_is_served_by_the_app_and_allowed_by_the_csp(app, client, login_as):
    login_as("hr")
    page = client.get("/analytics")
    html = page.data.decode()
    src = re.search(r'<script src="(/vendor/plotly-4\.[0-9.]+-[0-9a-f]{10}\.min\.js)"></script>', html).group(1)
    # every script and stylesheet comes from the app itself (a random CSRF token may well contain "cdn")
    assert all(url.startswith("/") for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html))
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    with client.get(src) as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert 500_000 < len(response.data) < 1_500_000          # the full plotly.js is 4.8 MB
        cache_control = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache_control and "immutable" in cache_control and "no-store" not in cache_control
        bundle = response.data.decode()
    # every trace type the charts draw is registered, and the ones they do not are left out
    drawn = {trace["type"] for trace in _every_figure_trace()}
    assert drawn == {"bar", "heatmap", "scatterpolar", "scatter"}
    for kind in drawn:
        assert f'moduleType:"trace",name:"{kind}"' in bundle
    assert 'name:"pie"' not in bundle and 'name:"scattergl"' not in bundle
    assert client.get(src.replace(".min.js", "0.min.js")).status_code == 404   # an old build's URL is gone
    with client.get("/vendor/plotly-template.js") as response:
        assert "max-age=86400" in response.headers["Cache-Control"]


def _every_figure_trace():
    """The traces of one figure of every builder in services/charts.py."""
    yield from charts.radar(["K1"], [("a", {"K1": 1})], "t")["data"]
    yield from charts.heatmap(["u"], ["K1"], {("u", "K1"): 1.0}, "t")["data"]
    yield from charts.stacked_bars(["u"], [("a", [1])], "t")["data"]
    yield from charts.bars(["u"], [1], "t")["data"]
    yield from charts.progress(1, 2, "t", "e", "r")["data"]
    yield from charts.timeline(["2026-01-01"], [1], ["a", "b"], "t")["data"]


def test_postgresql_connections_run_without_jit(app):
    """A page runs short queries that the planner may overestimate; JIT compiling them cost more than it saved."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("JIT is a PostgreSQL setting")
    assert db.session.scalar(text("SHOW jit")) == "off"


def test_the_dashboards_profile_radar_from_stored_results_is_the_radar_of_the_latest_result(seeded):
    from competency.analytics import figures

    with seeded.test_request_context(headers={"Accept-Language": "en"}):
        person = db.session.scalar(select(Employee).where(Employee.staff_no == "E0001"))
        stored = figures.profile_radar(person)
        assert stored is not None and stored == figures.employee_radars(person)[0]
        nobody = factories.employee(staff_no="NEW1")
        assert figures.profile_radar(nobody) is None
