"""Reading import files (UTF-8 CSV, with or without BOM, or .xlsx) into rows with line numbers."""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ...errors import ValidationFailed


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
        """The cell as stripped text ('' when empty)."""
        value = self.values.get(column)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()


def read_rows(data: bytes, filename: str, required: list[str], optional: list[str] = ()) -> list[Row]:
    """Rows of a CSV or .xlsx file; raises ImportFailed when the header is wrong."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_table(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        table = _csv_table(data)
    else:
        raise ImportFailed([RowError(0, "", _l("Unsupported file type: use .csv or .xlsx."))])
    if not table:
        raise ImportFailed([RowError(1, "", _l("The file is empty: it needs a header row."))])
    header = [str(h).strip().lstrip("\ufeff") if h is not None else "" for h in table[0]]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h and h not in required and h not in optional]
    errors = [RowError(1, c, _l("Missing column.")) for c in missing]
    errors += [RowError(1, h, _l("Unknown column.")) for h in unknown]
    if errors:
        raise ImportFailed(errors)
    rows = []
    for index, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append(Row(index, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header) if h}))
    return rows


def _csv_table(data: bytes) -> list[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowError(0, "", _l("The file is not UTF-8 text."))]) from None
    return list(csv.reader(io.StringIO(text)))


def _xlsx_table(data: bytes) -> list[list]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise ImportFailed([RowError(0, "", _l("The file is not a valid .xlsx workbook."))]) from None
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


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
