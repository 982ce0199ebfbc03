"""Streamed exports: the same columns and rows as the list-based exports they replace, on the seeded demo
organisation, in CSV and .xlsx; long exports split into sheets; text stays text; nothing read that is not written."""
import csv
import inspect
import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import Float, cast, event, select, text

from competency.extensions import db
from competency.models import AuditEvent, Cycle, Employee, OrgUnit, Recommendation
from competency.services import exports, safe_files, streaming
from competency.services.analytics import Filters, people
from competency.services.assessments.results import combined_levels
from competency.services.review import runs
from competency.services.review.runs import get_run
from competency.services.training.ledger import yearly_status

from . import factories

YEAR = date.today().year
HOSTILE = "=HYPERLINK(\"http://x\",\"y\")"


def _listed(kind: str, filters: Filters, scope, year: int) -> tuple[list[str], list[list]]:
    """The export as it was read before it streamed (every row in a list, ORM entities included): the reference."""
    who = people(filters, scope).subquery()
    if kind in ("results", "gaps"):
        levels = combined_levels(cycle_id=filters.cycle_id, latest_only=filters.cycle_id is None)
        query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, Cycle.code, levels.c.competency_code,
                        levels.c.self_level, levels.c.supervisor_level, levels.c.combined, levels.c.target,
                        cast(levels.c.target, Float) - levels.c.combined)
                 .join(Employee, Employee.id == levels.c.employee_id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
                 .join(Cycle, Cycle.id == levels.c.cycle_id)
                 .where(levels.c.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no, levels.c.competency_code))
        if kind == "gaps":
            query = query.where(levels.c.target.is_not(None), levels.c.combined < levels.c.target)
        header = ["staff_no", "name_zh", "name_en", "org_unit", "cycle", "competency", "self", "supervisor", "combined", "target", "gap"]
        return header, [[*r[:8], round(r[8], 4), r[9], None if r[10] is None else round(r[10], 4)] for r in db.session.execute(query)]
    if kind == "credits":
        header = ["staff_no", "name_zh", "name_en", "grade", "year", "earned", "required", "met"]
        return header, [[p.staff_no, p.name_zh, p.name_en, p.grade.value, year, float(earned), float(required), earned >= required]
                        for p, earned, required in db.session.execute(yearly_status(select(who.c.id), year))]
    run = get_run(year)
    header = ["staff_no", "name_zh", "name_en", "year", "current_grade", "recommended_grade", "action", "below_junior", "decision",
              "final_grade"]
    if run is None:
        return header, []
    query = (select(Recommendation, Employee).join(Employee, Employee.id == Recommendation.employee_id)
             .where(Recommendation.run_id == run.id, Recommendation.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no))
    return header, [[e.staff_no, e.name_zh, e.name_en, year, r.current_grade.value, r.recommended_grade.value, r.action.value,
                     r.below_junior, r.decision.value, r.final_grade.value if r.final_grade else None]
                    for r, e in db.session.execute(query)]


def _listed_csv(header: list[str], data: list[list]) -> bytes:
    """The CSV the list-based export wrote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_files.csv_value(v) for v in row] for row in data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


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
        assert _sheets(response.data) == {kind: [tuple(header), *map(tuple, expected)]}
    download = db.session.scalars(select(AuditEvent).where(AuditEvent.action == f"export.{kind}")).one()
    assert download.details["rows"] == len(expected) and download.details["format"] == fmt


def test_formula_like_names_stay_text_in_both_formats(organisation, client, login_as):
    login_as(organisation)
    rows = list(csv.reader(io.StringIO(client.get("/exports/results.csv").data.decode("utf-8-sig"))))
    assert ["'@cmd", "'" + HOSTILE] in [r[1:3] for r in rows]
    content = client.get("/exports/results.xlsx").data
    cells = [row[1:3] for row in load_workbook(io.BytesIO(content))["results"].iter_rows(min_row=2)]
    hostile = [c for c in cells if c[1].value == HOSTILE]
    assert hostile and all(c[0].value == "@cmd" and c[0].data_type == c[1].data_type == "s" for c in hostile)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize(("count", "sheets"), [(0, [0]), (2, [2]), (4, [2, 2]), (7, [2, 2, 2, 1])])
def test_xlsx_past_the_row_limit_goes_on_in_new_sheets_under_the_header(count, sheets):
    header = ["n", "text"]
    content = b"".join(exports.stream_xlsx(header, ([i, f"row {i}"] for i in range(count)), "results", max_rows=3))
    found = _sheets(content)
    assert list(found) == ["results"] + [f"results ({n})" for n in range(2, len(sheets) + 1)]
    assert [len(rows) - 1 for rows in found.values()] == sheets
    assert all(rows[0] == ("n", "text") for rows in found.values())
    assert [row[0] for rows in found.values() for row in rows[1:]] == list(range(count))  # in order, none lost


def test_xlsx_cells_are_cut_to_what_excel_holds_and_keep_their_types():
    header = ["long", "flag", "number", "empty", "control", "markup"]
    content = b"".join(exports.stream_xlsx(header, [["x" * 40_000, True, 2.5, None, "a\x01b", "<b>&amp;</b>"]], "audit"))
    row = _sheets(content)["audit"][1]
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
