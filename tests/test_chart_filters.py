"""Every chart and export of the analytics pages follows every filter: org unit (with its sub-units), position,
grade, cycle and year, each narrowing what it counts the way the filter says."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from competency.extensions import db
from competency.models import Assessment, CreditRequirement, Grade, OrgUnitKind, Rater
from competency.services.assessments import cycles, workflow
from competency.services.review import runs, standards
from competency.services.training import ledger
from competency.timeutil import bank_today

from . import factories

STANDARDS_YAML = """position: CM_CORP
unit: 万元
standards:
  junior:       {min_sales: 300,  min_score: 60, min_credits: 20}
  intermediate: {min_sales: 800,  min_score: 70, min_credits: 30}
  senior:       {min_sales: 1500, min_score: 80, min_credits: 40}
"""


@pytest.fixture
def org(app, client, login_as):
    """Branch BR with sub-branch SUB (A junior, B intermediate), unit OTH (C junior; D junior, retail position).
    Cycle C1 (corporate model) assesses A, B, C: A and C completed, B not started. A earned this year's 10 credits.
    A review of this year has recommendations for A, B and C. hr is signed in."""
    year = bank_today().year  # when the test runs: a run may pass New Year
    version = factories.model_version(publish=True)
    retail = factories.position("CM_RETAIL", name_zh="零售客户经理", name_en="Retail customer manager")
    branch = factories.org_unit(code="BR", kind=OrgUnitKind.TIER1_BRANCH, name_en="Branch")
    sub = factories.org_unit(code="SUB", parent=branch, name_en="Sub")
    other = factories.org_unit(code="OTH", kind=OrgUnitKind.TIER1_BRANCH, name_en="Other")
    a = factories.employee(staff_no="A", org_unit=sub, grade=Grade.JUNIOR)
    factories.employee(staff_no="B", org_unit=sub, grade=Grade.INTERMEDIATE)
    c = factories.employee(staff_no="C", org_unit=other, grade=Grade.JUNIOR)
    factories.employee(staff_no="D", org_unit=other, grade=Grade.JUNIOR, position=retail)
    cycle = cycles.save_cycle(cycles.CycleValues(
        code="C1", name_zh="周期", name_en="Cycle one", version_id=version.id, period_start=date(year, 1, 1),
        period_end=date(year, 6, 30), self_deadline=bank_today() + timedelta(days=3),
        supervisor_deadline=bank_today() + timedelta(days=6), self_weight=0))
    cycles.open_cycle(cycle)
    comps = {comp.code: comp.id for comp in version.competencies}
    for person, (k1, s1) in ((a, (1, 3)), (c, (4, 1))):
        item = db.session.scalar(select(Assessment).where(Assessment.employee_id == person.id))
        workflow.save_ratings(item, Rater.SUPERVISOR, {comps["K1"]: (k1, "x"), comps["S1"]: (s1, "x")}, submit=True,
                              lock_version=item.lock_version)
    db.session.add_all([CreditRequirement(grade=Grade.JUNIOR, credits=Decimal("10")),
                        CreditRequirement(grade=Grade.INTERMEDIATE, credits=Decimal("10"))])
    ledger.adjust(a, "10", "course", on=date(year, 1, 1))
    standards.import_standards(STANDARDS_YAML)
    runs.run_review(year)
    db.session.commit()
    login_as(factories.user(roles=["hr"], with_employee=False))
    return dict(branch=branch.id, sub=sub.id, other=other.id, retail=retail.id, corporate=version.position_id,
                cycle=cycle.id, year=year)


def _charts(client, query: str = "") -> dict:
    """{title: figure} of the hr analytics page under the filters of the query string."""
    page = client.get(f"/analytics?{query}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    found = {}
    for figure in factories.page_figures(page):
        found[figure["layout"]["title"]["text"].replace("<br>", " ")] = figure
    return found


def _chart(charts: dict, start: str) -> dict | None:
    return next((figure for title, figure in charts.items() if title.startswith(start)), None)


def _names(trace) -> list[str]:
    return [name.replace("<br>", " ") for name in trace["y"]]


def heatmap_units(charts) -> list[str] | None:
    figure = _chart(charts, "Average gap by org unit")
    return figure and _names(figure["data"][0])


def headcounts(charts) -> dict | None:
    """{unit: headcount} of the grade distribution (its stacked bars summed)."""
    figure = _chart(charts, "Grade distribution by org unit")
    if figure is None:
        return None
    names = _names(figure["data"][0])
    return {name: sum(trace["x"][i] for trace in figure["data"]) for i, name in enumerate(names)}


def bar_values(charts, start: str) -> dict | None:
    figure = _chart(charts, start)
    return figure and dict(zip(_names(figure["data"][0]), figure["data"][0]["x"], strict=True))


def completion(charts):
    return bar_values(charts, "Cycle completion by org unit")


def compliance(charts):
    return bar_values(charts, "Credit compliance by org unit")


def review_total(charts, year: int) -> int | None:
    values = bar_values(charts, f"Review {year}: recommendations by action")
    return values and sum(values.values())


def test_without_filters_every_chart_counts_everyone(org, client):
    charts = _charts(client)
    assert heatmap_units(charts) == ["Branch", "Sub", "Other"]                 # tree order, as in every chart
    assert headcounts(charts) == {"Branch": 2, "Sub": 2, "Other": 2}
    assert completion(charts) == {"Branch": 50, "Sub": 50, "Other": 100}
    assert compliance(charts) == {"Branch": 50, "Sub": 50, "Other": 0}
    assert review_total(charts, org["year"]) == 3


def test_the_org_unit_filter_narrows_every_chart_to_the_unit_and_below(org, client):
    charts = _charts(client, f"org_unit={org['branch']}")
    assert heatmap_units(charts) == ["Branch", "Sub"]
    assert headcounts(charts) == {"Branch": 2, "Sub": 2}
    assert completion(charts) == {"Branch": 50, "Sub": 50}
    assert compliance(charts) == {"Branch": 50, "Sub": 50}
    assert review_total(charts, org["year"]) == 2                                           # A and B
    charts = _charts(client, f"org_unit={org['other']}")
    assert completion(charts) == {"Other": 100} and compliance(charts) == {"Other": 0} and review_total(charts, org["year"]) == 1


def test_the_position_filter_narrows_every_chart(org, client):
    charts = _charts(client, f"position={org['retail']}")                      # D only: not assessed, not reviewed
    assert heatmap_units(charts) is None and completion(charts) is None and review_total(charts, org["year"]) is None
    assert headcounts(charts) == {"Other": 1}
    assert compliance(charts) == {"Other": 0}
    charts = _charts(client, f"position={org['corporate']}")
    assert headcounts(charts) == {"Branch": 2, "Sub": 2, "Other": 1}
    assert compliance(charts) == {"Branch": 50, "Sub": 50, "Other": 0}
    assert completion(charts) == {"Branch": 50, "Sub": 50, "Other": 100} and review_total(charts, org["year"]) == 3


def test_the_grade_filter_narrows_every_chart(org, client):
    charts = _charts(client, "grade=intermediate")                              # B only: assessment not started
    assert heatmap_units(charts) is None
    assert headcounts(charts) == {"Branch": 1, "Sub": 1}
    assert completion(charts) == {"Branch": 0, "Sub": 0}
    assert compliance(charts) == {"Branch": 0, "Sub": 0}
    assert review_total(charts, org["year"]) == 1
    charts = _charts(client, "grade=junior")                                    # A, C, D
    assert heatmap_units(charts) == ["Branch", "Sub", "Other"]
    assert completion(charts) == {"Branch": 100, "Sub": 100, "Other": 100}
    assert compliance(charts) == {"Branch": 100, "Sub": 100, "Other": 0}
    assert review_total(charts, org["year"]) == 2


def test_the_year_filter_chooses_the_credits_year_and_the_review(org, client):
    charts = _charts(client, f"year={org['year'] - 1}")                                # no credits, no review that year
    assert compliance(charts) == {"Branch": 0, "Sub": 0, "Other": 0}
    assert review_total(charts, org["year"]) is None
    assert f"Credit compliance by org unit (sub-units included), {org['year'] - 1}" in _charts(client, f"year={org['year'] - 1}")


def test_the_cycle_filter_chooses_the_heatmaps_and_the_completions_cycle(org, client):
    charts = _charts(client, f"cycle={org['cycle']}")
    assert heatmap_units(charts) == ["Branch", "Sub", "Other"]
    assert _chart(charts, "Cycle completion by org unit (sub-units included): Cycle one") is not None


def _csv(client, url: str) -> list[list[str]]:
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _people(client, kind: str, query: str = "") -> set[str]:
    return {row[0] for row in _csv(client, f"/exports/{kind}.csv?{query}")[1:]}


@pytest.mark.parametrize(("kind", "everyone"), [
    ("results", {"A", "C"}), ("results_wide", {"A", "C"}), ("gaps", {"A", "C"}), ("credits", {"A", "B", "C", "D"}),
    ("recommendations", {"A", "B", "C"}),
])
def test_every_export_follows_the_org_unit_position_and_grade_filters(org, client, kind, everyone):
    assert _people(client, kind) == everyone
    assert _people(client, kind, f"org_unit={org['branch']}") == everyone & {"A", "B"}
    assert _people(client, kind, f"org_unit={org['other']}") == everyone & {"C", "D"}
    assert _people(client, kind, f"position={org['retail']}") == everyone & {"D"}
    assert _people(client, kind, "grade=intermediate") == everyone & {"B"}
    assert _people(client, kind, "grade=junior") == everyone & {"A", "C", "D"}


def test_the_cycle_and_year_filters_choose_what_the_exports_hold(org, client):
    other = cycles.save_cycle(cycles.CycleValues(
        code="C0", name_zh="旧周期", name_en="Cycle zero", version_id=db.session.scalar(select(Assessment.version_id).limit(1)),
        period_start=date(org["year"] - 1, 1, 1), period_end=date(org["year"] - 1, 6, 30), self_deadline=bank_today() + timedelta(days=3),
        supervisor_deadline=bank_today() + timedelta(days=6), self_weight=0))
    cycles.open_cycle(other)
    db.session.commit()
    for kind in ("results", "results_wide", "gaps"):
        assert _people(client, kind, f"cycle={org['cycle']}") == {"A", "C"}
        assert _people(client, kind, f"cycle={other.id}") == set()             # nobody's assessment completed in it
    assert [row[-1] for row in _csv(client, f"/exports/credits.csv?year={org['year']}")[1:] if row[0] == "A"] == ["Yes"]
    assert [row[-1] for row in _csv(client, f"/exports/credits.csv?year={org['year'] - 1}")[1:] if row[0] == "A"] == ["No"]
    assert _people(client, "recommendations", f"year={org['year'] - 1}") == set()
