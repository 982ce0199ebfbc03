"""Exports (CSV and .xlsx) of results, gaps, credit compliance and review recommendations, for the rows a user
may see and with the same filters as the charts; streamed CSV and .xlsx writers for exports too long to hold in memory."""
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from sqlalchemy import Float, cast, select

from ..extensions import db
from ..models import Cycle, Employee, OrgUnit, Recommendation
from . import safe_files
from .analytics import Filters, people
from .assessments.results import combined_levels
from .review.runs import get_run
from .training.ledger import yearly_status

KINDS = ("results", "gaps", "credits", "recommendations")


def rows(kind: str, filters: Filters, scope, year: int) -> tuple[list[str], list[list]]:
    """The header and rows of one export."""
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


def to_csv(header: list[str], data: list[list]) -> bytes:
    """UTF-8 CSV with a BOM, as Excel expects; text that starts like a formula is prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_files.csv_value(v) for v in row] for row in data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], data: list[list], sheet: str) -> bytes:
    """An .xlsx workbook with one sheet, text stored as text (never as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    ws.title = sheet
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in data:
        ws.append(safe_files.xlsx_values(ws, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# Streamed exports hand the server chunks of about this size.
CHUNK_BYTES = 64 * 1024
# The most characters an .xlsx cell holds (Excel "repairs" a file with a longer one).
XLSX_CELL_LIMIT = 32_767


def stream_csv(header: list[str], data: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, produced chunk by chunk as the rows arrive (constant memory); text that starts like a
    formula is prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in data:
        writer.writerow([safe_files.csv_value(v) for v in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def stream_xlsx(header: list[str], data: Iterable[list], sheet: str) -> Iterator[bytes]:
    """An .xlsx workbook written row by row to temporary files (openpyxl's write-only mode, constant memory), then
    handed out in chunks; text is stored as text (never as a formula) and cut to the length a cell holds."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(header)
    for row in data:
        ws.append(safe_files.xlsx_values(ws, [_cell_text(v) for v in row]))
    with tempfile.TemporaryFile() as file:
        book.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def _cell_text(value):
    if isinstance(value, str) and len(value) > XLSX_CELL_LIMIT:
        return value[:XLSX_CELL_LIMIT - 1] + "…"
    return value
