"""Reading import files into rows with line numbers: CSV or tab-separated text (UTF-8 with or without BOM, UTF-16,
GB18030), .xlsx and .xls. The header is the first row, within the first rows of the first sheet that has one, that
names every required column, by code or by label (headers.py); other columns are ignored with a notice."""
from dataclasses import dataclass, field
from datetime import date, datetime

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
    line: int
    values: dict

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


def read_rows(data: bytes, filename: str, required: list[str], optional: list[str] = (), labels: dict | None = None) -> Rows:
    """Rows of a CSV, .xlsx or .xls file; raises ImportFailed when the header is wrong or the file too large."""
    table = iter_rows(data, filename, required, optional, labels=labels)
    return Rows(table, table.header)


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
                for later, values in sheet.first[position + 1:]:
                    yield from _row(later, values, header.columns)
                for later, values in sheet.rest(width):
                    yield from _row(later, values, header.columns)
                return
            if found and (best is None or len(found) > len(best[2])):
                best = (sheet.name, line, found, [c for c, code in zip(cells, codes, strict=False) if code is None])
    _no_header(best, seen_rows, required, labels)


def _row(line: int, cells, columns):
    if not safe_files.blank(cells):
        yield Row(line, {code: (cells[i] if i < len(cells) else None) for i, code in columns})


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
