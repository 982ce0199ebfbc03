"""The sheets of an import file as Excel and WPS users make them: each sheet of an .xlsx or .xls workbook, or the one
table of a CSV or tab-separated text file in UTF-8, UTF-16 or GB18030, as (line, cells).

A cell comes as the user sees it: a number shown zero-padded by its number format (`00000`, LibreOffice's and
Excel's way to keep leading zeros on a number) comes as the padded text, a date cell as a datetime. A workbook's
merged cells are listed with each sheet (`merges`): the reader fills them as the user sees them (tabular.py)."""
import csv
import io
import re
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l

from .. import safe_files

# The first rows of a sheet searched for the header (a title row or a note may come above it).
HEADER_ROWS = 10
XLSX_MAGIC, XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
NOT_XLS = _l("The file is not a valid .xls workbook.")
UNSUPPORTED = _l("Unsupported file type: use .csv, .txt, .xlsx or .xls.")
# A number format that pads with zeros: 00000, or 00000 with an escaped or quoted literal zero in front.
_ZERO_PADDED = re.compile(r'^(?:\\0|"0+"|0)+$')


class Sheet:
    """One table of a file: its name (None for a CSV file), its first HEADER_ROWS rows as (line, cells) with every
    column, `rest(width)`, the lines after the first rows, cut to the header's width, and `merges()`, its merged
    ranges as (first row, first column, last row, last column), 1-based (none for a text file)."""

    def __init__(self, name: str | None, first: list, rest, merges=list):
        self.name, self.first, self.rest, self.merges = name, first, rest, merges


def kind_of(data: bytes, filename: str) -> str:
    """'xlsx', 'xls' or 'csv': by the file's content when it is a workbook (a file saved as .xls under an .xlsx name
    still reads), else by its name."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    name = filename.lower()
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    if name.endswith((".xlsx", ".xls")):
        return "xlsx" if name.endswith(".xlsx") else "xls"
    safe_files.refuse(UNSUPPORTED)


def sheets(data: bytes, filename: str, csv_max_rows: int) -> Iterator[Sheet]:
    """The tables of the file in order; the workbook stays open while they are read."""
    kind = kind_of(data, filename)
    if kind == "xlsx":
        yield from _xlsx_sheets(data)
    elif kind == "xls":
        yield from _xls_sheets(data)
    else:
        yield _csv_sheet(data, csv_max_rows)


def padded(value, number_format: str | None):
    """A number as its cell shows it when its format pads with zeros (123 in format 00000 → "00123"), or as text when
    the cell is formatted as text (@); any other value as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    pattern = (number_format or "").split(";")[0]
    if pattern == "@" or _ZERO_PADDED.match(pattern):
        whole = int(value) if float(value).is_integer() else None
        if whole is None:
            return value
        width = len(pattern.replace("\\", "").replace('"', "")) if pattern != "@" else 0
        return str(whole).zfill(width)
    return value


# --- .xlsx ---------------------------------------------------------------------------------------


def _xlsx_sheets(data: bytes) -> Iterator[Sheet]:
    with safe_files.open_xlsx(data) as book:
        for sheet in book.worksheets:
            if not hasattr(sheet, "iter_rows"):  # a chart sheet
                continue
            sheet.reset_dimensions()  # read what is there, not the size the file declares
            first = list(_xlsx_rows(sheet, sheet.title, 1, safe_files.MAX_COLUMNS, HEADER_ROWS))
            yield Sheet(sheet.title, first, lambda width, sheet=sheet: _xlsx_rows(sheet, sheet.title, HEADER_ROWS + 1, width, None),
                        lambda sheet=sheet: _xlsx_merges(sheet))


def _xlsx_rows(sheet, name: str, min_row: int, width: int, max_row: int | None):
    try:
        for number, cells in enumerate(sheet.iter_rows(min_row=min_row, max_row=max_row, max_col=max(width, 1)), start=min_row):
            if number > safe_files.MAX_ROWS:
                safe_files.too_many_rows(safe_files.MAX_ROWS, name)
            # only a number has its format looked up: that is the rare cell, and the lookup costs
            yield number, tuple(padded(c.value, c.number_format) if c.value.__class__ in (int, float) else c.value for c in cells)
    except safe_files.XLSX_ERRORS:
        safe_files.refuse(safe_files.NOT_XLSX, sheet=name)


# <mergeCell ref="C3:C6"/>, with or without a namespace prefix; the <mergeCells> list follows the sheet's data.
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"')
_CHUNK = 1024 * 1024


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _xlsx_merges(sheet) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only sheet, which openpyxl does not read in that mode: found in the sheet's XML,
    read in chunks as it unpacks (its list comes after the data, past anything a parser would need to hold)."""
    found, tail = set(), b""
    try:
        with sheet._get_source() as source:  # the sheet's part of the archive (openpyxl's read-only worksheet)
            while chunk := source.read(_CHUNK):
                data = tail + chunk
                found.update(_MERGE.findall(data))
                tail = data[-256:]  # a reference cut between two chunks is found whole in the next
    except safe_files.XLSX_ERRORS:
        safe_files.refuse(safe_files.NOT_XLSX, sheet=sheet.title)
    return sorted((int(r1), _column_number(c1), int(r2), _column_number(c2)) for c1, r1, c2, r2 in found)


# --- .xls ----------------------------------------------------------------------------------------


def _xls_sheets(data: bytes) -> Iterator[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception:  # xlrd raises many kinds on a file that is not a workbook (XLRDError, struct.error, …)
        safe_files.refuse(NOT_XLS)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.nrows > safe_files.MAX_ROWS:
                safe_files.too_many_rows(safe_files.MAX_ROWS, sheet.name)
            cells = [(n + 1, tuple(_xls_value(book, c) for c in sheet.row(n)[:safe_files.MAX_COLUMNS])) for n in range(sheet.nrows)]
            first = cells[:HEADER_ROWS]
            merges = [(r1 + 1, c1 + 1, r2, c2) for r1, r2, c1, c2 in sheet.merged_cells]  # 0-based, ends excluded
            yield Sheet(sheet.name, first, lambda width, cells=cells: ((n, v[:width]) for n, v in cells[HEADER_ROWS:]),
                        lambda merges=merges: merges)
    finally:
        book.release_resources()


def _xls_value(book, cell):
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        fmt = book.format_map.get(book.xf_list[cell.xf_index].format_key) if cell.xf_index is not None else None
        return padded(cell.value, fmt.format_str if fmt is not None else None)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


# --- CSV and tab-separated text -------------------------------------------------------------------


def _csv_sheet(data: bytes, max_rows: int) -> Sheet:
    """The one table of a text file: its encoding and separator (tab or comma) found from its bytes and first lines,
    decoded as it is read."""
    encoding = safe_files.text_encoding(data)
    start = data[:64 * 1024].decode(encoding, errors="ignore")
    lines = [line for line in start.splitlines()[:HEADER_ROWS] if line.strip()]
    # Tabs rarely appear in a CSV's values, while commas do in a tab-separated file's (1,234.5): tabs win a tie.
    tabbed, commas = sum("\t" in line for line in lines), sum("," in line for line in lines)
    delimiter = "\t" if tabbed and tabbed >= commas else ","
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="\n"), delimiter=delimiter)
    rows = _csv_rows(reader, max_rows)
    first = [row for _, row in zip(range(HEADER_ROWS), rows, strict=False)]
    return Sheet(None, first, lambda width: ((n, cells[:width]) for n, cells in rows))


def _csv_rows(reader, max_rows: int):
    """(line, cells) of a CSV reader, at most MAX_COLUMNS cells each; ImportFailed past max_rows or on a line csv
    refuses."""
    from .tabular import ImportFailed, RowError

    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if line > max_rows:
                safe_files.too_many_rows(max_rows)
            yield line, cells[:safe_files.MAX_COLUMNS]
    except UnicodeDecodeError:
        safe_files.refuse(safe_files.NOT_TEXT)
    except csv.Error:  # a value over csv's field size limit (128 KB), or a bare carriage return inside a line
        raise ImportFailed([RowError(line + 1, "", _l("This line is not valid CSV or holds a value longer than %(limit)s "
                                                      "characters.", limit=format(csv.field_size_limit(), ",")))]) from None

