"""The annual review end to end: data, the set-based run, decisions, finalising, CLI, pages and access."""
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import event, func, select

from competency.errors import DomainError
from competency.extensions import db
from competency.models import (
    AnnualSales,
    AuditEvent,
    Decision,
    Employee,
    EmployeeStatus,
    Grade,
    GradeHistory,
    GradeStandard,
    Position,
    ProbationConfirmation,
    Recommendation,
    ReviewAction,
    RunStatus,
)
from competency.services import settings
from competency.services.imports import ImportFailed
from competency.services.review import decisions, probation, runs, standards
from competency.services.training import ledger

from . import factories

STANDARDS_YAML = """position: CM_CORP
unit: 万元
standards:
  junior:       {min_sales: 300,  min_score: 60, min_credits: 20}
  intermediate: {min_sales: 800,  min_score: 70, min_credits: 30}
  senior:       {min_sales: 1500, min_score: 80, min_credits: 40, certification: AFP}
"""


@pytest.fixture
def setup(app):
    factories.position("CM_CORP")
    standards.import_standards(STANDARDS_YAML)
    return app


def _person(staff_no, grade=Grade.JUNIOR, sales=None, year=2025, **fields):
    person = factories.employee(staff_no=staff_no, grade=grade, position=factories.position("CM_CORP"), **fields)
    if sales is not None:
        db.session.add(AnnualSales(employee=person, year=year, amount=Decimal(sales)))
    db.session.commit()
    return person


def _scored(person, score, year=2025):
    """A completed assessment with a given overall score in a cycle ending in the year."""
    from competency.models import Assessment, AssessmentStatus, Cycle, CycleStatus

    cycle = db.session.scalar(select(Cycle).where(Cycle.code == f"Y{year}"))
    if cycle is None:
        version = factories.model_version(publish=True) if not db.session.scalar(select(func.count()).select_from(Assessment)) and \
            not hasattr(_scored, "version") else None
        cycle = Cycle(code=f"Y{year}", name_zh="周期", name_en="Cycle", period_start=date(year, 1, 1), period_end=date(year, 12, 31),
                      self_deadline=date(year, 12, 31), supervisor_deadline=date(year, 12, 31), status=CycleStatus.CLOSED,
                      historical=True)
        db.session.add(cycle)
        db.session.flush()
        _scored.version_id = (version.id if version else _scored.version_id)
    db.session.add(Assessment(cycle=cycle, employee_id=person.id, version_id=_scored.version_id, grade=person.grade,
                              org_unit_id=person.org_unit_id, status=AssessmentStatus.COMPLETED, overall_score=score))
    db.session.commit()


def _recommendation(run, person):
    return db.session.scalar(select(Recommendation).where(Recommendation.run_id == run.id, Recommendation.employee_id == person.id))


def test_the_run_loads_sales_scores_credits_and_last_year(setup):
    promoted = _person("P1", sales=900)
    _scored(promoted, 72.0)
    ledger.adjust(promoted, "31", "training", on=date(2025, 6, 1))
    ledger.adjust(promoted, "50", "other year", on=date(2024, 6, 1))
    _person("P2")
    trainee = _person("T1", grade=Grade.TRAINEE, hire_date=date(2025, 1, 1), probation_end=date(2025, 4, 1),
                      status=EmployeeStatus.PROBATION)
    db.session.add(ProbationConfirmation(employee=trainee, qualified=True, confirmed_on=date(2025, 4, 1)))
    _person("T2", grade=Grade.TRAINEE, hire_date=date.today(), probation_end=date.today() + timedelta(days=60),
            status=EmployeeStatus.PROBATION)
    _person("GONE", status=EmployeeStatus.LEFT, sales=5000)
    run = runs.run_review(2025)
    items = {r.employee.staff_no: r for r in db.session.scalars(select(Recommendation))}
    assert set(items) == {"P1", "P2", "T1"}   # in probation, left: not reviewed
    assert (items["P1"].recommended_grade, items["P1"].action) == (Grade.INTERMEDIATE, ReviewAction.PROMOTE)
    # no sales and no assessment: missing data never punishes (referred to hr, not below junior)
    assert (items["P2"].action, items["P2"].data_missing, items["P2"].below_junior) == (ReviewAction.REFER, True, False)
    assert items["T1"].action == ReviewAction.CONFIRM
    assert run.status == RunStatus.DRAFT


def test_two_consecutive_below_junior_years_lead_to_transfer(setup):
    weak = _person("W1", sales=100)
    _scored(weak, 40.0, year=2024)
    db.session.add(AnnualSales(employee_id=weak.id, year=2024, amount=Decimal(100)))
    _scored(weak, 40.0, year=2025)
    runs.run_review(2024)
    decisions.decide(runs.get_run(2024), None, Decision.APPROVED)
    decisions.finalise(runs.get_run(2024), date(2025, 1, 1))
    run = runs.run_review(2025)
    assert _recommendation(run, weak).action == ReviewAction.TRANSFER
    alone = _person("W2", sales=100)
    _scored(alone, 40.0, year=2025)
    run = runs.run_review(2025)   # re-running a draft replaces it
    assert _recommendation(run, alone).action == ReviewAction.KEEP
    assert db.session.scalar(select(func.count(Recommendation.id)).where(Recommendation.run_id == run.id)) == 2


def _count_statements(callback) -> int:
    count = 0

    def before(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        callback()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return count


@pytest.mark.parametrize("year", [2025])
def test_statement_count_does_not_grow_with_the_number_of_employees(setup, year):
    def population(n, prefix):
        for i in range(n):
            person = _person(f"{prefix}{i}", sales=400 + i)
            ledger.adjust(person, "5", "x", on=date(year, 3, 1))

    population(10, "A")
    runs.run_review(year)
    small = _count_statements(lambda: runs.run_review(year))
    population(190, "B")
    large = _count_statements(lambda: runs.run_review(year))
    assert db.session.scalar(select(func.count(Recommendation.id))) == 200
    # a re-run rewrites only what changed (here: nothing of the 10, then the 190 new people): at most a DELETE and an
    # INSERT per batch of people more, however many there are
    assert small <= large <= small + 2


def test_decisions_and_finalising_write_grade_history(setup):
    up = _person("UP", sales=900)
    _scored(up, 75.0)
    ledger.adjust(up, "30", "x", on=date(2025, 5, 1))
    down = _person("DOWN", grade=Grade.SENIOR, sales=900)
    _scored(down, 75.0)
    other = _person("OTHER", sales=100)
    run = runs.run_review(2025)
    hr, second = factories.user(roles=["hr"]), factories.user(roles=["hr"])
    db.session.commit()
    with pytest.raises(DomainError):
        decisions.decide(run, [_recommendation(run, other).id], Decision.OVERRIDDEN, grade=Grade.INTERMEDIATE, reason=" ")
    decisions.decide(run, [_recommendation(run, up).id], Decision.APPROVED, actor=hr)
    decisions.decide(run, [_recommendation(run, down).id], Decision.OVERRIDDEN, grade=Grade.SENIOR,
                     reason="Strong pipeline for 2026", actor=hr)
    decisions.decide(run, [_recommendation(run, other).id], Decision.REJECTED, reason="Sales data incomplete", actor=hr)
    assert decisions.finalise(run, date(2026, 1, 1), actor=second) == 1
    assert db.session.get(Employee, up.id).grade == Grade.INTERMEDIATE
    assert db.session.get(Employee, down.id).grade == Grade.SENIOR           # overridden back to senior: no change
    history = db.session.scalars(select(GradeHistory)).all()
    assert [(h.employee_id, h.from_grade, h.to_grade, h.effective_date, h.approved_by_id) for h in history] == [
        (up.id, Grade.JUNIOR, Grade.INTERMEDIATE, date(2026, 1, 1), second.id)]
    assert history[0].recommendation_id == _recommendation(run, up).id
    with pytest.raises(DomainError):
        decisions.decide(run, None, Decision.APPROVED)
    with pytest.raises(DomainError):
        runs.run_review(2025)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"review.run", "review.approved", "review.overridden", "review.rejected", "review.finalise"} <= actions


def test_confirmed_trainee_becomes_active_junior(setup):
    trainee = _person("T1", grade=Grade.TRAINEE, hire_date=date(2025, 1, 1), probation_end=date(2025, 4, 1),
                      status=EmployeeStatus.PROBATION)
    probation.confirm_probation(trainee, True, "Good start")
    run = runs.run_review(2025)
    decisions.decide(run, None, Decision.APPROVED)
    decisions.finalise(run, date(2026, 1, 1))
    person = db.session.get(Employee, trainee.id)
    assert (person.grade, person.status) == (Grade.JUNIOR, EmployeeStatus.ACTIVE)


def test_approved_transfer_changes_the_status(setup):
    weak = _person("W1", sales=100)
    db.session.add(AnnualSales(employee_id=weak.id, year=2024, amount=Decimal(100)))
    for year in (2024, 2025):
        _scored(weak, 40.0, year=year)
    for year in (2024, 2025):
        run = runs.run_review(year)
        decisions.decide(run, None, Decision.APPROVED)
        decisions.finalise(run, date(year + 1, 1, 1))
    assert db.session.get(Employee, weak.id).status == EmployeeStatus.TRANSFERRED


# --- data: standards, sales, probation ------------------------------------------------------------


def test_standards_yaml_round_trip_and_shapes(setup, tmp_path):
    runner = setup.test_cli_runner()
    out = tmp_path / "s.yaml"
    assert runner.invoke(args=["standards", "export", str(out)]).exit_code == 0
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data == [yaml.safe_load(STANDARDS_YAML)]
    factories.position("CM_RETAIL", name_zh="个人客户经理", name_en="Retail")
    db.session.commit()
    two = STANDARDS_YAML + "---\n" + STANDARDS_YAML.replace("CM_CORP", "CM_RETAIL").replace("1500", "900")
    (tmp_path / "two.yaml").write_text(two, encoding="utf-8")
    result = runner.invoke(args=["standards", "import", str(tmp_path / "two.yaml")])
    assert result.exit_code == 0 and "2 position(s)" in result.output
    retail = db.session.scalar(select(GradeStandard).join(Position)
                               .where(Position.code == "CM_RETAIL", GradeStandard.grade == Grade.SENIOR))
    assert (retail.min_sales, retail.certification) == (Decimal("900"), "AFP")


def test_bad_standards_change_nothing(setup):
    bad = STANDARDS_YAML.replace("min_score: 70", "min_score: 170").replace("position: CM_CORP", "position: CM_CORP\n")
    bad += "---\nposition: NOPE\nstandards: {junior: {min_sales: 1, min_score: 1, min_credits: 1}}\n"
    with pytest.raises(ImportFailed) as failure:
        standards.import_standards(bad)
    assert {(e.line, e.column) for e in failure.value.errors} == {(1, "standards.intermediate.min_score"), (2, "position")}
    assert db.session.scalar(select(GradeStandard.min_score).where(GradeStandard.grade == Grade.INTERMEDIATE)) == Decimal("70")


def test_sales_import_good_and_bad(setup, tmp_path):
    _person("S1")
    good = tmp_path / "sales.csv"
    good.write_text("staff_no,year,amount\nS1,2025,812.5\nS1,2024,400\n", encoding="utf-8")
    runner = setup.test_cli_runner()
    assert runner.invoke(args=["import", "sales", str(good)]).exit_code == 0
    assert db.session.scalar(select(func.count(AnnualSales.id))) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("staff_no,year,amount\nS1,2025,900\nNOPE,2025,1\nS1,25,1\nS1,2023,-5\nS1,2025,1\n", encoding="utf-8")
    result = runner.invoke(args=["import", "sales", str(bad)])
    assert result.exit_code != 0
    for where in ("line 3, staff_no", "line 4, year", "line 5, amount", "line 6, year"):
        assert where in result.output
    assert db.session.scalar(select(AnnualSales.amount).where(AnnualSales.year == 2025)) == Decimal("812.50")


def test_probation_cli(setup):
    _person("T9", grade=Grade.TRAINEE, hire_date=date(2025, 1, 1), probation_end=date(2025, 4, 1))
    runner = setup.test_cli_runner()
    result = runner.invoke(args=["probation", "confirm", "--staff-no", "T9", "--not-qualified", "--comment", "Missed targets"])
    assert result.exit_code == 0
    confirmation = db.session.scalar(select(ProbationConfirmation))
    assert (confirmation.qualified, confirmation.comment) == (False, "Missed targets")
    assert runner.invoke(args=["probation", "confirm", "--staff-no", "T9", "--not-qualified"]).exit_code != 0  # needs a comment
    assert runner.invoke(args=["probation", "confirm", "--staff-no", "T9", "--qualified"]).exit_code == 0
    assert db.session.scalar(select(func.count(ProbationConfirmation.id))) == 1


def test_review_cli_json_approve_finalise(setup):
    up = _person("UP", sales=900)
    _scored(up, 75.0)
    ledger.adjust(up, "30", "x", on=date(2025, 5, 1))
    runner = setup.test_cli_runner()
    result = runner.invoke(args=["review", "run", "--year", "2025", "--json"])
    assert result.exit_code == 0
    line = json.loads(result.output.strip().splitlines()[0])
    assert set(line) == {"staff_no", "current_grade", "recommended_grade", "action", "below_junior", "data_missing",
                         "explanation"}
    assert (line["staff_no"], line["current_grade"], line["recommended_grade"], line["action"], line["below_junior"]) == (
        "UP", "junior", "intermediate", "promote", False)
    assert runner.invoke(args=["review", "approve", "--year", "2025", "--all"]).exit_code == 0
    result = runner.invoke(args=["review", "finalise", "--year", "2025", "--effective", "2026-01-01"])
    assert result.exit_code == 0 and "1 change(s)" in result.output
    assert db.session.get(Employee, up.id).grade == Grade.INTERMEDIATE


# --- pages --------------------------------------------------------------------------------------


def _hr_position():
    """hr specialists hold another position than the customer managers under review."""
    return factories.position("HR_SPEC", name_zh="人力资源专员", name_en="HR specialist")


def test_hr_runs_overrides_and_finalises_in_the_pages(setup, client, login_as):
    person = _person("UP", sales=900)
    _scored(person, 75.0)
    account = factories.user(employee_=person)
    login_as("hr", position=_hr_position())
    assert client.post("/review", data={"year": "2025"}).status_code == 302
    item = db.session.scalar(select(Recommendation).where(Recommendation.employee_id == person.id))
    page = client.get(f"/review/item/{item.id}", headers={"Accept-Language": "en"}).data.decode()
    assert "Annual sales (万元)" in page and "counts only for promotion" in page
    response = client.post(f"/review/item/{item.id}",
                           data={"decision": "overridden", "grade": "intermediate", "reason": "Mentoring two trainees"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 302, response.data.decode()[-3000:]
    login_as("hr", position=_hr_position())  # four eyes: another hr colleague finalises
    done = client.post("/review/2025/finalise", data={"effective": "2026-01-01"}, follow_redirects=True,
                       headers={"Accept-Language": "en"})
    assert "is finalised" in done.data.decode()
    assert db.session.get(Employee, person.id).grade == Grade.INTERMEDIATE
    login_as(account)
    mine = client.get("/my-grade", headers={"Accept-Language": "en"}).data.decode()
    assert "2026-01-01" in mine and "Mentoring two trainees" in mine
    client.post("/language", data={"lang": "zh", "next": "/"})
    assert "年销售额" in client.get("/my-grade").data.decode()


def test_supervisor_confirms_probation_of_their_report_only(setup, client, login_as):
    boss = factories.user(roles=["employee", "supervisor"])
    mine = _person("T1", grade=Grade.TRAINEE, supervisor=boss.employee, probation_end=date(2025, 4, 1), hire_date=date(2025, 1, 1))
    other = _person("T2", grade=Grade.TRAINEE, probation_end=date(2025, 4, 1), hire_date=date(2025, 1, 1))
    login_as(boss)
    assert "T1" in client.get("/team/probation").data.decode()
    assert client.get(f"/team/probation/{other.id}").status_code == 404
    client.post(f"/team/probation/{mine.id}", data={"qualified": "yes", "comment": "合格"})
    assert db.session.scalar(select(ProbationConfirmation.qualified).where(ProbationConfirmation.employee_id == mine.id)) is True


@pytest.mark.parametrize(("role", "url", "expected"), [
    ("employee", "/review", 403), ("supervisor", "/review", 403), ("trainer", "/review", 403), ("hr", "/review", 200),
    ("employee", "/standards", 403), ("hr", "/standards", 200), ("employee", "/settings", 403), ("admin", "/settings", 200),
    ("employee", "/team/probation", 403), ("supervisor", "/team/probation", 200), ("employee", "/my-grade", 200),
    ("hr", "/review/1999", 404),
])
def test_review_access(setup, client, login_as, role, url, expected):
    login_as(role)
    assert client.get(url).status_code == expected


def test_someone_elses_grade_page_is_private(setup, client, login_as):
    person = _person("X1")
    login_as("employee")
    assert client.get(f"/employees/{person.id}/grade").status_code == 404
    login_as("trainer")
    assert client.get(f"/employees/{person.id}/grade").status_code == 404
    login_as("hr")
    assert client.get(f"/employees/{person.id}/grade").status_code == 200


def test_settings_change_the_probation_length_used_by_imports(setup, client, login_as):
    login_as("hr")
    client.post("/settings", data={"probation_months": "6", "four_eyes": "y", "appeal_days": "7"})
    assert settings.probation_months() == 6


def test_finalising_twice_is_refused_and_writes_history_once(setup):
    up = _person("UP", sales=900)
    _scored(up, 75.0)
    ledger.adjust(up, "30", "x", on=date(2025, 5, 1))
    run = runs.run_review(2025)
    decisions.decide(run, None, Decision.APPROVED)
    decisions.finalise(run, date(2026, 1, 1))
    with db.session.no_autoflush:
        run.status = RunStatus.DRAFT  # as a second request that loaded the run before the first one finished sees it
        with pytest.raises(DomainError):
            decisions.finalise(run, date(2026, 1, 1))
    db.session.rollback()
    assert db.session.scalar(select(func.count(GradeHistory.id))) == 1
