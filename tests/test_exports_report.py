"""Report-ready exports as an hr user opens them in Excel: headers in the user's language, names beside codes, labels
for coded values, real number and date cells, a frozen header row with an autofilter and readable column widths, a
BOM in the CSV, the results one row per person, the latest review by default, and file names that say what they hold."""
import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from competency.extensions import db
from competency.models import Assessment, Competency, Cycle, Employee, ResultRow
from competency.services import exports
from competency.services.analytics import Filters
from competency.services.assessments.results import result_of
from competency.services.review import runs

from . import factories

EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh"}
REVIEWED = 2025  # the seeded sales and ratings are of 2025


@pytest.fixture
def hr(seeded):
    """The seeded bank with the review of 2025 run, and an hr account; returns the account."""
    runs.run_review(REVIEWED)
    account = factories.user(roles=["hr"], with_employee=False, email="hr-report@example.com")
    db.session.commit()
    return account


def _book(response):
    assert response.status_code == 200, response.data[:500]
    return load_workbook(io.BytesIO(response.data))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_headers_follow_the_users_language(hr, client, login_as):
    login_as(hr)
    english = _csv(client.get("/exports/results.csv", headers=EN))[0]
    chinese = _csv(client.get("/exports/results.csv", headers=ZH))[0]
    assert english[:4] == ["Staff number", "Name", "Org unit code", "Org unit"]
    assert [chinese[0], chinese[1], chinese[3]] == ["工号", "姓名", "机构"]
    assert "Competency" in english and "Gap" in english and "胜任力" in chinese and "差距" in chinese


def test_rows_carry_names_beside_codes_and_labels_for_codes(hr, client, login_as):
    login_as(hr)
    rows = _csv(client.get("/exports/results.csv", headers=EN))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    person = db.session.scalar(select(Employee).where(Employee.staff_no == first["Staff number"]))
    assert first["Name"] == person.name_en and first["Org unit code"] == person.org_unit.code
    assert first["Org unit"] == person.org_unit.name_en
    competency = db.session.scalar(select(Competency).where(Competency.code == first["Competency code"]))
    assert first["Competency"] == competency.name_en and header.index("Competency") == header.index("Competency code") + 1
    chinese = dict(zip(*_csv(client.get("/exports/results.csv", headers=ZH))[:2], strict=True))
    assert chinese["姓名"] == person.name_zh and chinese["机构"] == person.org_unit.name_zh
    credits = _csv(client.get(f"/exports/credits.csv?year={REVIEWED}", headers=EN))
    assert {r[credits[0].index("Grade")] for r in credits[1:]} <= {"Trainee", "Junior", "Intermediate", "Senior"}
    assert {r[credits[0].index("Requirement met")] for r in credits[1:]} <= {"Yes", "No"}
    recommended = _csv(client.get(f"/exports/recommendations.csv?year={REVIEWED}", headers=EN))
    actions = {r[recommended[0].index("Recommended action")] for r in recommended[1:]}
    assert actions and not actions & {"confirm", "refer", "promote", "keep", "demote", "transfer"}
    assert {r[recommended[0].index("Decision")] for r in recommended[1:]} == {"Pending"}


def test_xlsx_cells_have_real_types_a_frozen_header_an_autofilter_and_widths(hr, client, login_as):
    login_as(hr)
    sheet = _book(client.get("/exports/results.xlsx", headers=EN))["Results"]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["Staff number"].data_type == "s" and row["Name"].data_type == "s"
    assert row["Combined"].data_type == "n" and isinstance(row["Combined"].value, float)
    assert row["Supervisor"].data_type == "n" and isinstance(row["Supervisor"].value, int)
    assert isinstance(row["Period end"].value, datetime) and row["Period end"].is_date
    assert row["Period end"].number_format == "yyyy-mm-dd"
    assert all(c.font.b for c in sheet[1]) and not row["Name"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(header)).column_letter}{sheet.max_row}"
    # printed: A4 landscape, one page wide (these columns fit), the header row on every page, page numbers
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$1:$1" and sheet.oddFooter.center.text == "&P / &N"
    widths = {h: sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width for i, h in enumerate(header, 1)}
    assert widths["Org unit"] > widths["Gap"] >= len("Gap") and all(6 <= w <= 60 for w in widths.values())


def test_csv_starts_with_a_bom_and_is_served_as_utf8_once(hr, client, login_as):
    login_as(hr)
    response = client.get("/exports/credits.csv", headers=ZH)
    assert response.data.startswith(b"\xef\xbb\xbf") and not response.data.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "工号" in response.data.decode("utf-8-sig").splitlines()[0]
    xlsx = client.get("/exports/credits.xlsx")
    assert xlsx.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_wide_results_have_a_column_per_competency_and_the_stored_scores(hr, client, login_as):
    login_as(hr)
    sheet = _book(client.get("/exports/results_wide.xlsx", headers=EN))["Results, one row per person"]
    header = [c.value for c in sheet[1]]
    codes = [h.split(" ", 1)[0] for h in header[8:-4]]
    assert header[:8] == ["Staff number", "Name", "Org unit code", "Org unit", "Cycle code", "Cycle", "Period end", "Grade when assessed"]
    assert header[-4:] == ["Knowledge score", "Skills score", "Abilities score", "Overall score"]
    assert codes[:4] == ["K1", "K2", "K3", "K4"] and codes[-1] == "A7" and len(codes) == len(set(codes))
    # too wide for one page: printed over several, each repeating the staff number and name beside the header row
    assert not (sheet.sheet_properties.pageSetUpPr and sheet.sheet_properties.pageSetUpPr.fitToPage)
    assert (sheet.print_title_rows, sheet.print_title_cols) == ("$1:$1", "$A:$B")
    assert header[8] == "K1 " + db.session.scalar(select(Competency.name_en).where(Competency.code == "K1").limit(1))
    stored = db.session.scalars(select(ResultRow).where(ResultRow.is_latest.is_(True))).all()
    people = {r.employee_id for r in stored}
    assert sheet.max_row - 1 == len(people) == exports.count("results_wide", Filters(), select(Employee.id), 2026)
    for line in sheet.iter_rows(min_row=2, values_only=True):
        person = db.session.scalar(select(Employee).where(Employee.staff_no == line[0]))
        mine = {r.competency_code: r for r in stored if r.employee_id == person.id}
        assert {code: line[8 + i] for i, code in enumerate(codes) if line[8 + i] is not None} == {
            code: round(r.combined, 4) for code, r in mine.items()}
        assessment = db.session.get(Assessment, next(iter(mine.values())).assessment_id)
        result = result_of(assessment)
        assert line[-1] == round(assessment.overall_score, 4) == pytest.approx(result.overall, abs=1e-4)
        assert line[-4:-1] == pytest.approx(tuple(result.categories[c] for c in "KSA"), abs=1e-4)
        assert line[7] in ("Trainee", "Junior", "Intermediate", "Senior")


def test_the_wide_results_keep_formulas_as_text_and_are_offered_on_the_page(hr, client, login_as):
    person = db.session.scalar(select(Employee).join(ResultRow, ResultRow.employee_id == Employee.id).limit(1))
    person.name_en = "=cmd|' /C calc'!A0"
    db.session.commit()
    login_as(hr)
    rows = _csv(client.get("/exports/results_wide.csv", headers=EN))
    assert "'=cmd|' /C calc'!A0" in [r[1] for r in rows]
    page = client.get("/analytics", headers=EN).data.decode()
    assert "/exports/results_wide.xlsx" in page and "results, one row per person" in page


def test_recommendations_default_to_the_latest_review(hr, client, login_as):
    login_as(hr)
    assert date.today().year > REVIEWED  # the default year of the other exports has no review
    default = client.get("/exports/recommendations.csv", headers=EN)
    rows = _csv(default)
    assert len(rows) > 1 and {r[rows[0].index("Year")] for r in rows[1:]} == {str(REVIEWED)}
    assert f"recommendations-{REVIEWED}-" in default.headers["Content-Disposition"]
    this_year = _csv(client.get(f"/exports/recommendations.csv?year={date.today().year}", headers=EN))
    assert len(this_year) == 1  # a year with no review: the header only


def test_the_analytics_page_charts_the_review_the_recommendations_export_holds(hr, client, login_as):
    """One choice of review (review.runs.chosen_run): the latest review by default, else the year chosen, on the
    page's chart as in the export."""
    login_as(hr)
    for query, year, held in (("", REVIEWED, True), (f"year={REVIEWED}", REVIEWED, True), (f"year={REVIEWED - 1}", None, False)):
        page = client.get(f"/analytics?{query}", headers=EN).data.decode()
        figures = factories.page_figures(page)
        review = [f for f in figures if f["layout"]["title"]["text"].startswith("Review ")]
        rows = _csv(client.get(f"/exports/recommendations.csv?{query}", headers=EN))[1:]
        assert bool(review) == held and bool(rows) == held
        if held:
            assert review[0]["layout"]["title"]["text"].startswith(f"Review {year}:")
            assert sum(review[0]["data"][0]["x"]) == len(rows) and {r[4] for r in rows} == {str(year)}


def test_file_names_carry_the_chosen_cycle_or_year(hr, client, login_as):
    login_as(hr)
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == "2025"))
    today = date.today().isoformat()

    def name(url: str) -> str:
        return client.get(url).headers["Content-Disposition"].split("filename=")[1]

    assert name(f"/exports/results.xlsx?cycle={cycle.id}") == f"results-2025-{today}.xlsx"
    assert name("/exports/gaps.csv") == f"gaps-latest-{today}.csv"
    assert name(f"/exports/results_wide.csv?cycle={cycle.id}") == f"results_wide-2025-{today}.csv"
    assert name("/exports/credits.csv?year=2024") == f"credits-2024-{today}.csv"
    assert exports.filename("results", "csv", cycle="Q1 2026/../x") == f"results-Q1_2026_.._x-{today}.csv"


def test_a_job_writes_the_export_in_the_language_of_its_owner(hr, make_app, tmp_path):
    small = make_app(EXPORT_JOB_ROWS=5, FILES_DIR=str(tmp_path))
    with small.app_context():
        client = small.test_client()
        with client.session_transaction() as session:
            factories.sign_in(session, db.session.get(type(hr), hr.id))
        started = client.get("/exports/results_wide.xlsx", headers=ZH)
        state = client.get(started.headers["Location"] + "/status").get_json()
        file = client.get(state["next"])
    sheet = load_workbook(io.BytesIO(file.data))["评估结果（每人一行）"]
    assert [c.value for c in sheet[1]][:2] == ["工号", "姓名"] and sheet.freeze_panes == "A2"
    assert "filename=results_wide-latest-" in file.headers["Content-Disposition"]
