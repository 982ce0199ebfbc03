"""Reading import files (UTF-8 CSV, with or without BOM, or .xlsx) into rows with line numbers."""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ...errors import ValidationFailed
from .. import safe_files


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
        value = self.values.get(column)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return safe_files.clean_text(str(value)).strip()


def read_rows(data: bytes, filename: str, required: list[str], optional: list[str] = ()) -> list[Row]:
    """Rows of a CSV or .xlsx file; raises ImportFailed when the header is wrong or the file too large."""
    return list(iter_rows(data, filename, required, optional))


def iter_rows(data: bytes, filename: str, required: list[str], optional: list[str] = (), csv_max_rows: int | None = None):
    """The rows of a CSV or .xlsx file one at a time, for files too large to hold as Rows: the file type and header
    are checked at once (ImportFailed), a line that cannot be read raises ImportFailed when it is reached. A CSV file
    may have up to `csv_max_rows` lines (default: as many as a sheet)."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data, required, optional)
    if name.endswith(".csv") or name.endswith(".txt"):
        table = _csv_rows(data, csv_max_rows or safe_files.MAX_ROWS)
        return _rows(table, _columns(table, required, optional))
    raise ImportFailed([RowError(0, "", _l("Unsupported file type: use .csv or .xlsx."))])


def _xlsx_rows(data: bytes, required: list[str], optional):
    with safe_files.open_xlsx(data) as book:
        if not book.worksheets:
            raise ImportFailed([RowError(1, "", _l("The file is empty: it needs a header row."))])
        table = safe_files.sheet_rows(book.worksheets[0], safe_files.MAX_ROWS)
        yield from _rows(table, _columns(table, required, optional))


def _columns(table, required: list[str], optional) -> list[tuple[int, str]]:
    """The header checked before any other row is read: (position, name) of each named column."""
    first = next(table, None)
    if first is None:
        raise ImportFailed([RowError(1, "", _l("The file is empty: it needs a header row."))])
    header = [safe_files.clean_text(str(h)).strip().lstrip("\ufeff") if h is not None else "" for h in first[1]]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h and h not in required and h not in optional]
    errors = [RowError(1, c, _l("Missing column.")) for c in missing]
    errors += [RowError(1, h, _l("Unknown column.")) for h in unknown]
    if errors:
        raise ImportFailed(errors)
    return [(i, h) for i, h in enumerate(header) if h]


def _rows(table, columns: list[tuple[int, str]]):
    """Each non-blank row of (line, cells) as a Row (kept as they come, so that only non-blank rows are held)."""
    for line, cells in table:
        if not safe_files.blank(cells):
            yield Row(line, {h: (cells[i] if i < len(cells) else None) for i, h in columns})


def _csv_rows(data: bytes, max_rows: int):
    """(line, cells) of UTF-8 CSV, at most MAX_COLUMNS cells each; ImportFailed past max_rows, on a line csv refuses
    or on bytes that are not UTF-8. Decoded as it is read, so that a large file is not held twice as text."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="\n"))
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if line > max_rows:
                safe_files.too_many_rows(max_rows)
            yield line, cells[:safe_files.MAX_COLUMNS]
    except UnicodeDecodeError:
        raise ImportFailed([RowError(0, "", _l("The file is not UTF-8 text."))]) from None
    except csv.Error:  # a value over csv's field size limit (128 KB), or a bare carriage return inside a line
        raise ImportFailed([RowError(line + 1, "", _l("This line is not valid CSV or holds a value longer than %(limit)s "
                                                      "characters.", limit=format(csv.field_size_limit(), ",")))]) from None


def parse_date(text: str) -> date:
    """A YYYY-MM-DD date; ValueError otherwise."""
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

