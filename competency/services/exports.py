"""Exports (CSV and .xlsx) of results, gaps, credit compliance and review recommendations, for the rows a user
may see and with the same filters as the charts. Exports stream in constant memory: the rows come from a
server-side cursor, CSV goes out chunk by chunk, .xlsx is written row by row to a temporary file first."""
import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import Cycle, Employee, OrgUnit, Recommendation, ResultRow
from . import safe_files, xlsx_writer
from .analytics import Filters, people
from .review.runs import get_run
from .streaming import released, stream_rows
from .training.ledger import yearly_status

KINDS = ("results", "gaps", "credits", "recommendations")
_RESULTS = ["staff_no", "name_zh", "name_en", "org_unit", "cycle", "competency", "self", "supervisor", "combined", "target", "gap"]
# The columns of each export, in order: a contract with whoever reads the files.
HEADERS = {
    "results": _RESULTS,
    "gaps": _RESULTS,
    "credits": ["staff_no", "name_zh", "name_en", "grade", "year", "earned", "required", "met"],
    "recommendations": ["staff_no", "name_zh", "name_en", "year", "current_grade", "recommended_grade", "action", "below_junior",
                        "decision", "final_grade"],
}
# Rows fetched from the database per round trip while an export streams.
BATCH = 2_000
# Streamed exports hand the server chunks of about this size.
CHUNK_BYTES = 64 * 1024


def rows(kind: str, filters: Filters, scope, year: int) -> tuple[list[str], Iterator[list]]:
    """The header and the rows of one export. The rows are read lazily from a server-side cursor (the query runs
    when the first row is asked for, in the transaction open then), never held in a list; closing the iterator
    closes the cursor."""
    query, shape = _QUERIES[kind](filters, scope, year)
    return list(HEADERS[kind]), (shape(row) for row in (() if query is None else stream_rows(query, BATCH)))


def count(kind: str, filters: Filters, scope, year: int) -> int:
    """How many rows the export holds: a COUNT over the export's own query, in its own statement (a change committed
    between it and the reading of the rows would make the two differ by that change)."""
    query, _shape = _QUERIES[kind](filters, scope, year)
    return 0 if query is None else db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def results_query(filters: Filters, scope, gaps_only: bool = False) -> Select:
    """SELECT of the results export's columns (HEADERS["results"], unrounded), one row per person and competency
    rated, by staff number and competency; only competencies below their target when `gaps_only`. The one place
    exports read assessment results from."""
    who = people(filters, scope).subquery()
    r = ResultRow  # the stored results
    which = r.cycle_id == filters.cycle_id if filters.cycle_id else r.is_latest.is_(True)
    query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, Cycle.code, r.competency_code,
                    r.self_level, r.supervisor_level, r.combined, r.target, r.gap)
             .join(Employee, Employee.id == r.employee_id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
             .join(Cycle, Cycle.id == r.cycle_id)
             .where(which, r.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no, r.competency_code))
    if gaps_only:
        query = query.where(r.target.is_not(None), r.combined < r.target)
    return query


def _result_row(r) -> list:
    return [*r[:8], round(r[8], 4), r[9], None if r[10] is None else round(r[10], 4)]


def _results(filters: Filters, scope, _year: int) -> tuple[Select, Callable]:
    return results_query(filters, scope), _result_row


def _gaps(filters: Filters, scope, _year: int) -> tuple[Select, Callable]:
    return results_query(filters, scope, gaps_only=True), _result_row


def _credits(filters: Filters, scope, year: int) -> tuple[Select, Callable]:
    who = people(filters, scope).subquery()
    status = yearly_status(select(who.c.id), year)
    earned, required = status.selected_columns.earned, status.selected_columns.required
    # the columns written, not the Employee entity the credits page reads
    query = status.with_only_columns(Employee.staff_no, Employee.name_zh, Employee.name_en, Employee.grade, earned, required)
    return query, lambda r: [r[0], r[1], r[2], r[3].value, year, float(r[4]), float(r[5]), r[4] >= r[5]]


def _recommendations(filters: Filters, scope, year: int) -> tuple[Select | None, Callable]:
    def shape(r) -> list:
        return [r[0], r[1], r[2], year, r[3].value, r[4].value, r[5].value, r[6], r[7].value, r[8].value if r[8] else None]

    run = get_run(year)
    if run is None:
        return None, shape
    who = people(filters, scope).subquery()
    # the columns written: never the explanation JSON of every recommendation
    query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, Recommendation.current_grade,
                    Recommendation.recommended_grade, Recommendation.action, Recommendation.below_junior, Recommendation.decision,
                    Recommendation.final_grade)
             .select_from(Recommendation).join(Employee, Employee.id == Recommendation.employee_id)
             .where(Recommendation.run_id == run.id, Recommendation.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no))
    return query, shape


_QUERIES = {"results": _results, "gaps": _gaps, "credits": _credits, "recommendations": _recommendations}


def stream_csv(header: list[str], data: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (as Excel expects), produced chunk by chunk as the rows arrive (constant memory); text
    that starts like a formula is prefixed with an apostrophe. When it ends or is closed early, the rows are closed
    and the memory given back."""
    with released(data):
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


def stream_xlsx(header: list[str], data: Iterable[list], sheet: str, max_rows: int = xlsx_writer.MAX_ROWS) -> Iterator[bytes]:
    """An .xlsx workbook written row by row to a temporary file, then handed out in chunks (constant memory). Text
    is stored as text (never a formula), without the characters .xlsx cannot hold and cut to what a cell holds;
    after `max_rows` rows (header included) the rows go on in a new sheet, "<sheet> (2)" and so on, under the header.
    When it ends or is closed early, the rows are closed and the memory given back."""
    with released(data), tempfile.TemporaryFile() as file:
        xlsx_writer.write(file, header, data, sheet, max_rows)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
