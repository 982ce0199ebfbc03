"""Exports (CSV and .xlsx) of results (per competency, or one row per person), gaps, credit compliance and review
recommendations, for the rows a user may see and with the same filters as the charts. Report-ready: headers in the
language of the request (or of the job that writes the file), names beside codes, labels for coded values, numbers
as numbers and dates as dates. Exports stream in constant memory: the rows come from a server-side cursor, CSV goes
out chunk by chunk, .xlsx is written row by row to a temporary file first."""
import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from .. import audit_labels
from ..extensions import db
from ..i18n import in_language, label, lang
from ..models import Assessment, Competency, Cycle, Employee, OrgUnit, Recommendation, ResultRow
from ..timeutil import bank_time, bank_today
from . import safe_files, scoring, xlsx_writer
from .analytics import Filters, competency_names, model_order, model_order_by, people, stored_rows
from .review.runs import get_run
from .streaming import released, stream_rows
from .training.ledger import yearly_status

KINDS = ("results", "results_wide", "gaps", "credits", "recommendations")
# Who a row is about: the person and their org unit, each name beside its code.
_PERSON = (_l("Staff number"), _l("Name"), _l("Org unit code"), _l("Org unit"))
_CYCLE = (_l("Cycle code"), _l("Cycle"), _l("Period end"))
_RESULTS = (*_PERSON, *_CYCLE, _l("Competency code"), _l("Competency"), _l("Self"), _l("Supervisor"), _l("Combined"),
            _l("Target level"), _l("Gap"))
# The columns of each export, in order (translated when the file is written): a contract with whoever reads the files.
# The wide results export adds a column per competency between these and its scores (SCORES).
HEADERS = {
    "results": _RESULTS,
    "results_wide": (*_PERSON, *_CYCLE, _l("Grade when assessed")),
    "gaps": _RESULTS,
    "credits": (*_PERSON, _l("Grade"), _l("Year"), _l("Credits earned"), _l("Credits required"), _l("Requirement met")),
    "recommendations": (*_PERSON, _l("Year"), _l("Current grade"), _l("Recommended grade"), _l("Recommended action"),
                        _l("Below the junior standard"), _l("Decision"), _l("Final grade"), _l("Decided at")),
}
SCORES = (_l("Knowledge score"), _l("Skills score"), _l("Abilities score"), _l("Overall score"))
YES, NO = _l("Yes"), _l("No")
# Rows fetched from the database per round trip while an export streams.
BATCH = 2_000
# Streamed exports hand the server chunks of about this size.
CHUNK_BYTES = 64 * 1024


@dataclass
class _Export:
    """One export's query (None: no rows), how a row of it becomes a written row, the header, and what to count."""

    query: Select | None
    shape: Callable
    header: list[str]
    counted: Select | None = None  # the SELECT whose rows are the export's rows, when not the query's
    grouped: Callable | None = None  # turns the query's rows into the written rows, when not one for one


def _yes_no(value) -> str | None:
    return None if value is None else str(YES if value else NO)


def rows(kind: str, filters: Filters, scope, year: int) -> tuple[list[str], Iterator[list]]:
    """The header and the rows of one export, in the current language. The rows are read lazily from a server-side
    cursor (the query runs when the first row is asked for, in the transaction open then), never held in a list;
    closing the iterator closes the cursor."""
    export = _QUERIES[kind](filters, scope, year)
    raw = () if export.query is None else stream_rows(export.query, BATCH)
    data = export.grouped(raw) if export.grouped else (export.shape(row) for row in raw)
    return export.header, data


def count(kind: str, filters: Filters, scope, year: int) -> int:
    """How many rows the export holds: a COUNT over the export's own query, in its own statement (a change committed
    between it and the reading of the rows would make the two differ by that change)."""
    export = _QUERIES[kind](filters, scope, year)
    query = export.counted if export.counted is not None else export.query
    return 0 if query is None else db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def results_query(filters: Filters, scope, gaps_only: bool = False) -> Select:
    """SELECT of the results export's columns (unrounded, names in both languages), one row per person and
    competency rated, by staff number and competency (in the model's order, as the charts); only competencies below
    their target when `gaps_only`. The one place exports read assessment results per competency from."""
    r = ResultRow  # the stored results
    query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en,
                    Cycle.code, Cycle.name_zh, Cycle.name_en, Cycle.period_end, r.competency_code, Competency.name_zh,
                    Competency.name_en, r.self_level, r.supervisor_level, r.combined, r.target, r.gap)
             .join(Employee, Employee.id == r.employee_id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
             .join(Cycle, Cycle.id == r.cycle_id).outerjoin(Competency, Competency.id == r.competency_id)
             .where(stored_rows(filters, scope)).order_by(Employee.staff_no, *model_order_by(r.competency_code)))
    if gaps_only:
        query = query.where(r.target.is_not(None), r.combined < r.target)
    return query


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _person(r, language: str) -> list:
    """Staff number, name, org unit code and name from the first six columns of a row, the names in the language."""
    return [r[0], in_language(r[1], r[2], language), r[3], in_language(r[4], r[5], language)]


def _results(filters: Filters, scope, _year: int, gaps_only: bool = False) -> _Export:
    language = lang()  # asked once per export, not once per name written

    def shape(r) -> list:
        return [*_person(r, language), r[6], in_language(r[7], r[8], language), r[9], r[10], in_language(r[11], r[12], language),
                r[13], r[14], _round(r[15]), r[16], _round(r[17])]

    return _Export(results_query(filters, scope, gaps_only), shape, [str(h) for h in HEADERS["results"]])


def _gaps(filters: Filters, scope, year: int) -> _Export:
    return _results(filters, scope, year, gaps_only=True)


def wide_columns(filters: Filters, scope) -> list[tuple[str, str | None, str | None]]:
    """(code, zh name, en name) of each competency rated in the rows the wide results export holds, in the order and
    with the names of the charts (analytics.model_order and competency_names)."""
    rated = db.session.scalars(select(ResultRow.competency_code).where(stored_rows(filters, scope)).distinct()).all()
    names = competency_names(rated)
    return [tuple(names[code]) if code in names else (code, None, None) for code in model_order(rated)]


def _results_wide(filters: Filters, scope, _year: int) -> _Export:
    """One row per assessment: the person, the cycle, the combined level of each competency in its own column, the
    knowledge, skills and abilities scores and the overall score on the 100-point scale."""
    language = lang()
    columns = wide_columns(filters, scope)
    position = {code: i for i, (code, _zh, _en) in enumerate(columns)}
    r = ResultRow
    query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en,
                    Cycle.code, Cycle.name_zh, Cycle.name_en, Cycle.period_end, r.grade, Assessment.overall_score,
                    r.assessment_id, r.competency_code, r.combined, Competency.weight, Competency.category)
             .join(Employee, Employee.id == r.employee_id).join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
             .join(Cycle, Cycle.id == r.cycle_id).join(Assessment, Assessment.id == r.assessment_id)
             .outerjoin(Competency, Competency.id == r.competency_id)
             .where(stored_rows(filters, scope)).order_by(Employee.staff_no, r.assessment_id, r.competency_code))
    counted = select(r.assessment_id).where(stored_rows(filters, scope)).distinct()

    def person_row(first, group: list) -> list:
        levels = [None] * len(columns)
        for row in group:
            levels[position[row[13]]] = _round(row[14])
        combined = {row[13]: row[14] for row in group}
        weights = {row[13]: float(row[15] or 0) for row in group}
        categories = {row[13]: row[16].value for row in group if row[16] is not None}
        by_category = scoring.category_scores(combined, weights, categories)
        return [*_person(first, language), first[6], in_language(first[7], first[8], language), first[9], label(first[10]), *levels,
                *(_round(by_category.get(c)) for c in "KSA"), _round(first[11])]

    def grouped(data: Iterable) -> Iterator[list]:
        """The rows of one assessment (consecutive in the query's order) become one written row."""
        group: list = []
        try:
            for row in data:
                if group and row[12] != group[0][12]:
                    yield person_row(group[0], group)
                    group = []
                group.append(row)
            if group:
                yield person_row(group[0], group)
        finally:
            close = getattr(data, "close", None)
            if close is not None:
                close()

    header = [str(h) for h in HEADERS["results_wide"]]
    header += [f"{code} {in_language(zh, en, language)}".strip() for code, zh, en in columns] + [str(h) for h in SCORES]
    return _Export(query, None, header, counted=counted, grouped=grouped)


def _credits(filters: Filters, scope, year: int) -> _Export:
    language = lang()
    who = people(filters, scope).subquery()
    status = yearly_status(select(who.c.id), year)
    earned, required = status.selected_columns.earned, status.selected_columns.required
    # the columns written, not the Employee entity the credits page reads
    query = (status.with_only_columns(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, OrgUnit.name_zh,
                                      OrgUnit.name_en, Employee.grade, earned, required)
             .join(OrgUnit, OrgUnit.id == Employee.org_unit_id))

    def shape(r) -> list:
        return [*_person(r, language), label(r[6]), year, float(r[7]), float(r[8]), _yes_no(r[7] >= r[8])]

    return _Export(query, shape, [str(h) for h in HEADERS["credits"]])


def _recommendations(filters: Filters, scope, year: int) -> _Export:
    language = lang()

    def shape(r) -> list:
        return [*_person(r, language), year, label(r[6]), label(r[7]), label(r[8]), _yes_no(r[9]), label(r[10]), label(r[11]) or None,
                bank_time(r[12])]

    header = [str(h) for h in HEADERS["recommendations"]]
    run = get_run(year)
    if run is None:
        return _Export(None, shape, header)
    who = people(filters, scope).subquery()
    # the columns written: never the explanation JSON of every recommendation
    query = (select(Employee.staff_no, Employee.name_zh, Employee.name_en, OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en,
                    Recommendation.current_grade, Recommendation.recommended_grade, Recommendation.action,
                    Recommendation.below_junior, Recommendation.decision, Recommendation.final_grade, Recommendation.decided_at)
             .select_from(Recommendation).join(Employee, Employee.id == Recommendation.employee_id)
             .join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
             .where(Recommendation.run_id == run.id, Recommendation.employee_id.in_(select(who.c.id))).order_by(Employee.staff_no))
    return _Export(query, shape, header)


_QUERIES = {"results": _results, "results_wide": _results_wide, "gaps": _gaps, "credits": _credits,
            "recommendations": _recommendations}


def filename(kind: str, fmt: str, year: int | None = None, cycle: str | None = None) -> str:
    """The download's file name: the kind, the chosen cycle's code (results and gaps; "latest" without one) or the
    year (credits, recommendations), and the date it was made, e.g. `results-C2026-2026-11-28.xlsx`. Only letters,
    digits, "-", "_" and "." (a cycle code could hold anything)."""
    which = (cycle or "latest") if kind in ("results", "results_wide", "gaps") else str(year)
    which = re.sub(r"[^A-Za-z0-9_.-]+", "_", which).strip("._") or "cycle"
    return f"{kind}-{which}-{bank_today().isoformat()}.{fmt}"


def _csv_cell(value):
    """A value as CSV writes it: dates as YYYY-MM-DD, times as YYYY-MM-DD HH:MM:SS, text that starts like a formula
    with an apostrophe."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return safe_files.csv_value(value)


# Values CSV writes as they are (a bool or a subclass goes through _csv_cell).
_AS_IS = frozenset({int, float, type(None)})


def _csv_row(row) -> list:
    """The row's values as _csv_cell writes them; numbers, empty cells and text that cannot start a formula (most
    cells) without a call each: 1.6 million rows of 14 values make 22 million cells."""
    starts = safe_files.FORMULA_STARTS
    return [value if type(value) in _AS_IS or (type(value) is str and not value.startswith(starts)) else _csv_cell(value)
            for value in row]


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
            writer.writerow(_csv_row(row))
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")


def sheet_title(kind: str) -> str:
    """The title of an export's sheet: what it holds, in the user's language ("Results, one row per person",
    "评估结果（每人一行）")."""
    title = str(audit_labels.WHAT[kind])
    return title[:1].upper() + title[1:]


def stream_xlsx(header: list[str], data: Iterable[list], kind: str, max_rows: int = xlsx_writer.MAX_ROWS) -> Iterator[bytes]:
    """An .xlsx workbook written row by row to a temporary file, then handed out in chunks (constant memory), its
    sheet titled with what the export of this kind holds (`sheet_title`). Text
    is stored as text (never a formula), without the characters .xlsx cannot hold and cut to what a cell holds;
    numbers, dates and times keep their types; the header row stays in view and carries an autofilter. After
    `max_rows` rows (header included) the rows go on in a new sheet, "<sheet> (2)" and so on, under the header.
    When it ends or is closed early, the rows are closed and the memory given back."""
    with released(data), tempfile.TemporaryFile() as file:
        xlsx_writer.write(file, header, data, sheet_title(kind), max_rows)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
