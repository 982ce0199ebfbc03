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
    name = filename.lower()
    if name.endswith(".xlsx"):
        with safe_files.open_xlsx(data) as book:
            if not book.worksheets:
                raise ImportFailed([RowError(1, "", _l("The file is empty: it needs a header row."))])
            return _rows(safe_files.sheet_rows(book.worksheets[0], safe_files.MAX_ROWS), required, optional)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _rows(_csv_rows(data), required, optional)
    raise ImportFailed([RowError(0, "", _l("Unsupported file type: use .csv or .xlsx."))])


def _rows(table, required: list[str], optional) -> list[Row]:
    """The header checked before any other row is read, then each non-blank row of (line, cells) as a Row."""
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
    columns = [(i, h) for i, h in enumerate(header) if h]
    # kept as they come, so that a file near the row limit holds only its non-blank rows in memory
    return [Row(line, {h: (cells[i] if i < len(cells) else None) for i, h in columns})
            for line, cells in table if not safe_files.blank(cells)]


def _csv_rows(data: bytes):
    """(line, cells) of UTF-8 CSV, at most MAX_COLUMNS cells each; ImportFailed past MAX_ROWS or on a line csv refuses."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowError(0, "", _l("The file is not UTF-8 text."))]) from None
    reader = csv.reader(io.StringIO(text))
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if line > safe_files.MAX_ROWS:
                safe_files.too_many_rows(safe_files.MAX_ROWS)
            yield line, cells[:safe_files.MAX_COLUMNS]
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
