"""Streamed exports: the same columns and rows as the list-based exports they replace, on the seeded demo
organisation, in CSV and .xlsx; long exports split into sheets; text stays text; nothing read that is not written."""
import csv
import inspect
import io
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import Float, cast, event, select, text

from competency.extensions import db
from competency.models import Assessment, AuditEvent, Competency, Cycle, Employee, OrgUnit, Recommendation
from competency.services import exports, safe_files, streaming
from competency.services.analytics import Filters, model_order_by, people
from competency.services.assessments.results import combined_levels, result_of
from competency.services.review import runs
from competency.services.review.runs import get_run
from competency.services.training.ledger import yearly_status
from competency.timeutil import bank_time

from . import factories

YEAR = date.today().year
HOSTILE = "=HYPERLINK(\"http://x\",\"y\")"


LABELS = {"trainee": "Trainee", "junior": "Junior", "intermediate": "Intermediate", "senior": "Senior", "pending": "Pending",
          "approved": "Approved", "overridden": "Overridden", "rejected": "Rejected", "confirm": "Confirm (end of probation)",
          "refer": "Refer to HR", "promote": "Promote", "keep": "Keep", "demote": "Demote", "transfer": "Transfer to another post"}
PERSON = ["Staff number", "Name", "Org unit code", "Org unit"]
CYCLE = ["Cycle code", "Cycle", "Period end"]


def _label(value) -> str:
    return "" if value is None else LABELS[value.value]


def _listed(kind: str, filters: Filters, scope, year: int) -> tuple[list[str], list[list]]:
    """The export as it was read before it streamed (every row in a list, ORM entities included, levels computed from
    the ratings), in English: the reference."""
    who = people(filters, scope).subquery()
    if kind in ("results", "gaps", "results_wide"):
        levels = combined_levels(cycle_id=filters.cycle_id, latest_only=filters.cycle_id is None)
        query = (select(Employee, OrgUnit, Cycle, Competency, levels.c.assessment_id, levels.c.self_level, levels.c.supervisor_level,
                        levels.c.combined, levels.c.target, cast(levels.c.target, Float) - levels.c.combined)
                 .join(Employee, Employee.id == levels.c.employee_id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                 .join(Cycle, Cycle.id == levels.c.cycle_id).join(Competency, Competency.id == levels.c.competency_id)
                 .where(levels.c.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no, *model_order_by(levels.c.competency_code)))
        if kind == "gaps":
            query = query.where(levels.c.target.is_not(None), levels.c.combined < levels.c.target)
        found = db.session.execute(query).all()
        if kind == "results_wide":
            return _wide(found)
        header = [*PERSON, *CYCLE, "Competency code", "Competency", "Self", "Supervisor", "Combined", "Target level", "Gap"]
        return header, [[e.staff_no, e.name_en, u.code, u.name_en, c.code, c.name_en, c.period_end, k.code, k.name_en, own, sup,
                         round(combined, 4), target, None if gap is None else round(gap, 4)]
                        for e, u, c, k, _a, own, sup, combined, target, gap in found]
    if kind == "credits":
        header = [*PERSON, "Grade", "Year", "Credits earned", "Credits required", "Requirement met"]
        return header, [[p.staff_no, p.name_en, p.org_unit.code, p.org_unit.name_en, _label(p.grade), year, float(earned),
                         float(required), "Yes" if earned >= required else "No"]
                        for p, earned, required in db.session.execute(yearly_status(select(who.c.id), year))]
    run = get_run(year)
    header = [*PERSON, "Year", "Current grade", "Recommended grade", "Recommended action", "Below the junior standard", "Decision",
              "Final grade", "Decided at"]
    if run is None:
        return header, []
    query = (select(Recommendation, Employee).join(Employee, Employee.id == Recommendation.employee_id)
             .where(Recommendation.run_id == run.id, Recommendation.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no))
    return header, [[e.staff_no, e.name_en, e.org_unit.code, e.org_unit.name_en, year, _label(r.current_grade),
                     _label(r.recommended_grade), _label(r.action), "Yes" if r.below_junior else "No", _label(r.decision),
                     _label(r.final_grade) or None, bank_time(r.decided_at)]
                    for r, e in db.session.execute(query)]


def _wide(found) -> tuple[list[str], list[list]]:
    """The wide results: a column per competency rated, one row per assessment, its scores from the assessment's
    result (computed from its ratings)."""
    codes = sorted({k.code: k.name_en for _e, _u, _c, k, *_rest in found}.items(), key=lambda c: ("KSA".index(c[0][0]), int(c[0][1:])))
    header = [*PERSON, *CYCLE, "Grade when assessed", *(f"{code} {name}" for code, name in codes),
              "Knowledge score", "Skills score", "Abilities score", "Overall score"]
    data: dict[int, list] = {}
    for e, u, c, k, assessment_id, _own, _sup, combined, *_rest in found:
        assessment = db.session.get(Assessment, assessment_id)
        if assessment_id not in data:
            result = result_of(assessment)
            data[assessment_id] = [e.staff_no, e.name_en, u.code, u.name_en, c.code, c.name_en, c.period_end, _label(assessment.grade),
                                   *([None] * len(codes)), *(round(result.categories[x], 4) for x in "KSA"), round(result.overall, 4)]
        data[assessment_id][8 + [code for code, _name in codes].index(k.code)] = round(combined, 4)
    return header, sorted(data.values(), key=lambda row: row[0])


def _listed_csv(header: list[str], data: list[list]) -> bytes:
    """The CSV the list-based export wrote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else safe_files.csv_value(v) for v in row]
                     for row in data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _as_read(value):
    """A value as openpyxl reads it back from a date cell: a date is a datetime at midnight."""
    return datetime.combine(value, time()) if isinstance(value, date) and not isinstance(value, datetime) else value


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet of a workbook: name -> rows of values."""
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


@pytest.fixture
def organisation(seeded):
    """The demo organisation with this year's review run, one person whose names look like formulas, and an hr
    account; returns the account."""
    assessed = _listed("results", Filters(), select(Employee.id), YEAR)[1][0][0]
    person = db.session.scalar(select(Employee).where(Employee.staff_no == assessed))
    person.name_en, person.name_zh = HOSTILE, "@cmd"
    runs.run_review(YEAR)
    hr = factories.user(roles=["hr"], with_employee=False, email="hr-exports@example.com")
    db.session.commit()
    return hr


@pytest.mark.parametrize("kind", exports.KINDS)
def test_streamed_rows_equal_the_list_based_export(organisation, kind):
    scope = select(Employee.id)
    header, data = exports.rows(kind, Filters(), scope, YEAR)
    assert not isinstance(data, list)
    expected_header, expected = _listed(kind, Filters(), scope, YEAR)
    streamed = list(data)
    assert header == expected_header and streamed == expected
    assert len(expected) > 0 and exports.count(kind, Filters(), scope, YEAR) == len(expected)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", exports.KINDS)
def test_downloads_hold_the_same_rows_and_are_audited(organisation, client, login_as, kind, fmt):
    login_as(organisation)
    response = client.get(f"/exports/{kind}.{fmt}?year={YEAR}")
    assert response.status_code == 200 and "Content-Length" not in response.headers  # streamed, not built first
    header, expected = _listed(kind, Filters(), select(Employee.id), YEAR)
    if fmt == "csv":
        assert response.data == _listed_csv(header, expected)
    else:
        assert _sheets(response.data) == {exports.sheet_title(kind): [tuple(header), *(tuple(map(_as_read, row)) for row in expected)]}
    download = db.session.scalars(select(AuditEvent).where(AuditEvent.action == f"export.{kind}")).one()
    assert download.details["rows"] == len(expected) and download.details["format"] == fmt


def test_formula_like_names_stay_text_in_both_formats(organisation, client, login_as):
    login_as(organisation)
    english = client.get("/exports/results.csv", headers={"Accept-Language": "en"}).data.decode("utf-8-sig")
    chinese = client.get("/exports/results.csv", headers={"Accept-Language": "zh"}).data.decode("utf-8-sig")
    assert "'" + HOSTILE in [r[1] for r in csv.reader(io.StringIO(english))]
    assert "'@cmd" in [r[1] for r in csv.reader(io.StringIO(chinese))]
    for language, name in (("en", HOSTILE), ("zh", "@cmd")):
        content = client.get("/exports/results.xlsx", headers={"Accept-Language": language}).data
        cells = [row[1] for row in load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2)]
        hostile = [c for c in cells if c.value == name]
        assert hostile and all(c.data_type == "s" for c in hostile)
        assert b"<f>" not in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize(("count", "sheets"), [(0, [0]), (2, [2]), (4, [2, 2]), (7, [2, 2, 2, 1])])
def test_xlsx_past_the_row_limit_goes_on_in_new_sheets_under_the_header(count, sheets):
    header = ["n", "text"]
    content = b"".join(exports.stream_xlsx(header, ([i, f"row {i}"] for i in range(count)), "results", max_rows=3))
    found = _sheets(content)
    assert list(found) == ["Results"] + [f"Results ({n})" for n in range(2, len(sheets) + 1)]
    assert [len(rows) - 1 for rows in found.values()] == sheets
    assert all(rows[0] == ("n", "text") for rows in found.values())
    assert [row[0] for rows in found.values() for row in rows[1:]] == list(range(count))  # in order, none lost


def test_xlsx_cells_are_cut_to_what_excel_holds_and_keep_their_types():
    header = ["long", "flag", "number", "empty", "control", "markup"]
    content = b"".join(exports.stream_xlsx(header, [["x" * 40_000, True, 2.5, None, "a\x01b", "<b>&amp;</b>"]], "audit"))
    row = _sheets(content)["Audit log"][1]
    assert len(row[0]) == 32_767 and row[0].endswith("…")
    assert row[1:] == (True, 2.5, None, "ab", "<b>&amp;</b>")


def test_recommendations_export_reads_only_the_columns_it_writes(organisation, app):
    statements = []

    def remember(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        _header, data = exports.rows("recommendations", Filters(), select(Employee.id), YEAR)
        assert list(data)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    export = [s for s in statements if Recommendation.__tablename__ in s and "staff_no" in s]
    assert export and not any("explanation" in s for s in export)


def test_the_streamed_query_on_postgresql_plans_for_reading_every_row(organisation):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("cursor_tuple_fraction is a PostgreSQL setting")
    _header, data = exports.rows("results", Filters(), select(Employee.id), YEAR)
    next(data)
    assert db.session.scalar(text("SHOW cursor_tuple_fraction")) == "1"
    data.close()  # as when the client gives up: the cursor is closed (an open one warns, and warnings fail here)
    db.session.rollback()  # SET LOCAL ends with the transaction
    assert db.session.scalar(text("SHOW cursor_tuple_fraction")) == "0.1"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_download_given_up_closes_its_rows_and_gives_memory_back(organisation, monkeypatch, fmt):
    given_back = []
    monkeypatch.setattr(streaming, "give_memory_back", lambda: given_back.append(inspect.getgeneratorstate(data)))
    _header, data = exports.rows("results", Filters(), select(Employee.id), YEAR)
    body = exports.stream_csv(_header, data) if fmt == "csv" else exports.stream_xlsx(_header, data, "results")
    assert next(body)
    body.close()  # the client went away after the first chunk, while the test still holds the rows
    assert given_back == [inspect.GEN_CLOSED]
    if db.engine.dialect.name == "postgresql":
        assert db.session.scalar(text("SELECT count(*) FROM pg_cursors")) == 0
