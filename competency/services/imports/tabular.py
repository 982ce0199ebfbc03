"""Reading import files into rows with line numbers: CSV or tab-separated text (UTF-8 with or without BOM, UTF-16,
GB18030), .xlsx and .xls. The header is the first row, within the first rows of the first sheet that has one, that
names every required column, by code or by label (headers.py); other columns are ignored with a notice.

Two habits of bank spreadsheets are read as the person who made them meant, each with a notice in the preview:
cells merged over several data rows (所属机构 merged over a branch's people) hold, in every row, the value the sheet
shows — openpyxl and xlrd give it only in the merge's first cell; and a totals row (合计, 总计, Total) of a file of
amounts or results, which is not a person, is skipped."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain

from flask_babel import lazy_gettext as _l

from ...errors import ValidationFailed
from .. import safe_files
from . import headers, sources


@dataclass(frozen=True)
class RowError:
    """One problem in an import file: where it is and what is wrong."""

    line: int
    column: str
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = f"{self.sheet}, " if self.sheet else ""
        return f"{where}line {self.line}, {self.column or '-'}: {self.message}"


class ImportFailed(ValidationFailed):
    """The file has errors; nothing was written."""


@dataclass
class Row:
    """A data row: its line, its import columns' values by code, and its first cell that is not empty (any column)."""

    line: int
    values: dict
    lead: object = None

    def get(self, column: str) -> str:
        """The cell as stripped text ('' when empty), without characters the database cannot store."""
        return cell_text(self.values.get(column))


class TextRow(Row):
    """A row of data rather than a file (the API's items), its cells made text once: the checks read a cell several
    times, and a file's rows would hold each cell twice."""

    def __init__(self, line: int, values: dict):
        super().__init__(line, {column: cell_text(value) for column, value in values.items()})

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def cell_text(value) -> str:
    """A cell's value as stripped text ('' when empty), without characters the database cannot store."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return safe_files.clean_text(str(value)).strip()


@dataclass
class Header:
    """Where the header is (sheet, line), its columns as (position, code), and what the preview notes about it."""

    sheet: str | None
    line: int
    columns: list
    notices: list = field(default_factory=list)


class Rows(list):
    """The rows of a file, with the sheet they come from (None for a text file) and the header's notices (columns
    ignored, the sheet read)."""

    def __init__(self, rows, header: Header):
        super().__init__(rows)
        self.sheet, self.notices = header.sheet, header.notices


class Table:
    """The rows of a file one at a time (for files too large to hold as Rows); the header is found and checked
    when the table is made."""

    def __init__(self, rows):
        self._rows = rows
        self.header: Header = next(rows)
        self.notices = self.header.notices

    def __iter__(self):
        return self._rows


def items_as_rows(items: list[dict]) -> Rows:
    """Rows of records that came as data rather than a file (the API's JSON items): the n-th item (from 1) is "line" n,
    so that its errors read like a file's."""
    return Rows((TextRow(number, item) for number, item in enumerate(items, start=1)), Header(None, 0, []))


def read_rows(data: bytes, filename: str, required: list[str], optional: list[str] = (), labels: dict | None = None,
              totals: str | None = None) -> Rows:
    """Rows of a CSV, .xlsx or .xls file; raises ImportFailed when the header is wrong or the file too large. With
    `totals`, the identifier column of a file of amounts or results: its totals rows are left out, with a notice."""
    table = iter_rows(data, filename, required, optional, labels=labels)
    rows = Rows(table, table.header)
    if totals is not None:
        rows[:] = _without_totals(rows, totals, rows.notices)
    return rows


# What a totals row says in its identifier column or its first cell (spaces and colons aside, in any case).
TOTALS = re.compile(r"(本页|全部|总|各项)?(合计|总计|小计|共计|累计)(数|金额)?|(grand)?totals?|subtotal|sum", re.IGNORECASE)


def is_totals(text) -> bool:
    """Whether a cell's text is a totals label: 合计, 总计, 小计, 共计, Total, Subtotal …"""
    return text is not None and TOTALS.fullmatch(re.sub(r"[\s:：]", "", str(text))) is not None


def _without_totals(rows: list, column: str, notices: list) -> list:
    """The rows without the totals rows, those whose identifier `column` is a totals label, or empty while their
    first cell is one (the label in a column of its own, 序号 say). Each one skipped is noted: it is not a person."""
    kept = []
    for row in rows:
        identifier = row.get(column)
        label = identifier if is_totals(identifier) else row.lead if not identifier and is_totals(row.lead) else None
        if label is None:
            kept.append(row)
        else:
            notices.append(_l("Skipped the totals row on line %(line)s (%(label)s): it is not a person.", line=row.line,
                              label=str(label).strip()))
    return kept


def iter_rows(data: bytes, filename: str, required: list[str], optional: list[str] = (), csv_max_rows: int | None = None,
              labels: dict | None = None) -> Table:
    """The rows of a file one at a time: the file type and header are checked at once (ImportFailed), a line that
    cannot be read raises ImportFailed when it is reached. A CSV file may have up to `csv_max_rows` lines (default:
    as many as a sheet). `labels` gives each column's other names ({code: (label, …)})."""
    return Table(_table(data, filename, list(required), list(optional), labels or {}, csv_max_rows or safe_files.MAX_ROWS))


def _table(data: bytes, filename: str, required: list, optional: list, labels: dict, csv_max_rows: int):
    """The Header, then each non-blank Row after it."""
    lookup = headers.lookup_of(required + optional, labels)
    best, seen_rows = None, False
    for index, sheet in enumerate(sources.sheets(data, filename, csv_max_rows)):
        for position, (line, cells) in enumerate(sheet.first):
            seen_rows = seen_rows or not safe_files.blank(cells)
            codes = [headers.column_of(c, lookup) for c in cells]
            found = {c for c in codes if c}
            if set(required) <= found:
                header = _header(sheet, index, line, cells, codes, labels)
                yield header
                width = max(i for i, _ in header.columns) + 1
                data = chain(sheet.first[position + 1:], sheet.rest(width))
                merged = [m for m in sheet.merges() if m[0] > line]  # not the title's above the header, nor the header's
                for later, values in _filled(data, merged, header) if merged else data:
                    yield from _row(later, values, header.columns)
                return
            if found and (best is None or len(found) > len(best[2])):
                best = (sheet.name, line, found, [c for c, code in zip(cells, codes, strict=False) if code is None])
    _no_header(best, seen_rows, required, labels)


def _row(line: int, cells, columns):
    if not safe_files.blank(cells):
        lead = next((c for c in cells if c is not None and str(c).strip()), None)
        yield Row(line, {code: (cells[i] if i < len(cells) else None) for i, code in columns}, lead)


def _letters(column: int) -> str:
    """A column's letters: 1 → A, 28 → AB."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _filled(rows, merges: list, header: Header):
    """The data rows, each cell of a merged range holding the value of the range's first cell, as the sheet shows it
    (a row that is otherwise empty stays empty); a notice names the ranges that filled an import column."""
    starting: dict = {}
    for merge in merges:
        starting.setdefault(merge[0], []).append(merge)
    used, active, named = {position for position, _code in header.columns}, [], []
    for line, cells in rows:
        for top, left, bottom, right in starting.pop(line, ()):
            value = cells[left - 1] if left - 1 < len(cells) else None
            if value is not None and str(value).strip():
                active.append((top, left, bottom, right, value))
        if active and not safe_files.blank(cells):
            cells = list(cells)
            for top, left, bottom, right, value in active:
                for column in range(left, min(right, len(cells)) + 1):
                    if (line, column) != (top, left):
                        cells[column - 1] = value
                ref = f"{_letters(left)}{top}:{_letters(right)}{bottom}"
                if ref not in named and any(c - 1 in used for c in range(left, right + 1)):
                    named.append(ref)
        active = [merge for merge in active if merge[2] > line]
        yield line, cells
    if named:
        shown = "、".join(named[:10]) + ("…" if len(named) > 10 else "")
        header.notices.append(_l("Merged cells %(ranges)s: each row took the value the merge shows (its first cell's).",
                                 ranges=shown))


def _header(sheet, index: int, line: int, cells, codes: list, labels: dict) -> Header:
    """The header row's columns; ImportFailed when two columns are the same one. Notices name the columns ignored
    and the sheet read when it is not simply the first row of the first sheet."""
    columns, errors, ignored = [], [], []
    first_at = {}
    for position, (cell, code) in enumerate(zip(cells, codes, strict=False)):
        text = safe_files.clean_text(str(cell)).strip().lstrip("\ufeff") if cell is not None else ""
        if code is None:
            if text:
                ignored.append(text)
        elif code in first_at:
            errors.append(RowError(line, code, _l("Two columns are %(column)s: %(first)s and %(second)s.", column=code,
                                                  first=first_at[code], second=text), sheet.name))
        else:
            first_at[code] = text
            columns.append((position, code))
    if errors:
        raise ImportFailed(errors)
    header = Header(sheet.name, line, columns)
    if sheet.name is not None and (index > 0 or line > 1):
        header.notices.append(_l("Read the sheet %(sheet)s, header on line %(line)s.", sheet=sheet.name, line=line))
    elif line > 1:
        header.notices.append(_l("The header is on line %(line)s; the lines above it were skipped.", line=line))
    if ignored:
        header.notices.append(_l("Columns ignored (not import columns): %(names)s.", names="、".join(ignored)))
    return header


def _no_header(best, seen_rows: bool, required: list, labels: dict):
    """Refuse a file without a header: the missing columns of the row that came closest, else what a header needs."""
    if not seen_rows:
        raise ImportFailed([RowError(1, "", _l("The file is empty: it needs a header row."))])
    if best is None:
        raise ImportFailed([RowError(1, "", _l("No header row found in the first %(n)s rows: the file needs a row naming "
                                               "the columns %(columns)s.", n=sources.HEADER_ROWS,
                                               columns=", ".join(headers.shown(c, labels) for c in required)))])
    sheet, line, found, others = best
    errors = [RowError(line, c, _l("Missing column %(name)s.", name=headers.shown(c, labels)), sheet) for c in required if c not in found]
    names = [safe_files.clean_text(str(c)).strip() for c in others if c is not None]
    raise ImportFailed(errors + [RowError(line, name, _l("Unknown column (perhaps misspelt)."), sheet) for name in names if name])


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
