"""Reading and writing user files safely: .xlsx uploads checked before they are unpacked and read with bounded rows
and columns, YAML without anchors and aliases and with bounded nesting and size, text the database can store, and
exports whose cells a spreadsheet shows as text instead of running them as formulas."""
import codecs
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import yaml
from flask_babel import lazy_gettext as _l

from ..models.limits import WHOLE_DIGITS

MB = 1024 * 1024
# .xlsx uploads: the parts together unpack to at most this much; a part over RATIO_FROM_BYTES may be at most MAX_RATIO
# times smaller packed (real sheets pack 5-20:1; 60 MB of sheet XML is about 300,000 rows and 20 s of parsing).
MAX_UNPACKED_BYTES = 60 * MB
MAX_RATIO = 200
RATIO_FROM_BYTES = 1 * MB
# Rows per sheet (above Excel's 1,048,576, so only a file that is not a real sheet reaches it), and the columns read.
MAX_ROWS = 1_100_000
MAX_MODEL_ROWS = 10_000
MAX_COLUMNS = 200
# YAML: the seed model is 38 KB, 1,128 values and 6 levels deep; the pure-Python parser needs ~40 µs per value.
MAX_YAML_CHARS = 2 * MB  # characters, shown to users as MB
MAX_YAML_VALUES = 50_000
MAX_YAML_DEPTH = 20

# What a malformed workbook makes zipfile, zlib, the XML parser or openpyxl raise (SyntaxError covers ParseError).
XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, IndexError, OSError, SyntaxError, TypeError, ValueError)
NOT_XLSX = _l("The file is not a valid .xlsx workbook.")
# PostgreSQL refuses NUL in text and lone surrogates cannot be encoded as UTF-8: both would end an import in a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Text a spreadsheet may take for a formula (OWASP's list: the four signs, tab and carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE), and the most characters a cell holds.
_NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CELL_LIMIT = 32_767


def refuse(message, line: int = 0, sheet: str | None = None) -> NoReturn:
    """Raise ImportFailed with one error that has no column."""
    # imported here because imports.tabular itself builds on this module
    from .imports.tabular import ImportFailed, RowError

    raise ImportFailed([RowError(line, "", message, sheet)])


def clean_text(text: str) -> str:
    """The text without the characters the database cannot store (NUL, lone surrogates)."""
    return _UNSTORABLE.sub("", text)


# --- text files ----------------------------------------------------------------------------------

# What Excel and WPS write: UTF-8 (with a BOM or without), "Unicode text" (UTF-16 with a BOM), and on Chinese
# Windows the ANSI code page, GBK, of which GB18030 is the superset.
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
NOT_TEXT = _l("The file is not text in UTF-8, UTF-16 or GB18030 (GBK): save it again as CSV UTF-8.")


def _decodes(data: bytes, encoding: str, chunk: int = MB) -> bool:
    """Whether the bytes are valid in the encoding, checked a chunk at a time (a large file is not held twice)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(data[start:start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text_encoding(data: bytes) -> str:
    """The encoding of a text file: by its byte order mark, else UTF-8 when it is valid UTF-8, else GB18030;
    ImportFailed when it is none of them."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    for encoding in ("utf-8", "gb18030"):
        if _decodes(data, encoding):
            return encoding
    refuse(NOT_TEXT)


def decode_text(data: bytes) -> str:
    """The text of an uploaded text file (YAML, CSV) in whichever of the encodings Excel and WPS write."""
    encoding = text_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:  # a UTF-16 file cut in the middle of a character
        refuse(NOT_TEXT)


# --- .xlsx uploads -------------------------------------------------------------------------------


def check_xlsx_archive(data: bytes) -> None:
    """Refuse, from the zip directory alone, a workbook that would unpack too large or is packed too densely."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except XLSX_ERRORS:
        refuse(NOT_XLSX)
    # The declared sizes can be trusted: zipfile stops each part at its declared size (and then fails its CRC).
    if sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        refuse(_l("The workbook unpacks to more than %(limit)s MB: split it into smaller files.", limit=MAX_UNPACKED_BYTES // MB))
    if any(p.file_size > RATIO_FROM_BYTES and p.file_size > MAX_RATIO * p.compress_size for p in parts):
        refuse(_l("The workbook is packed too densely to be an ordinary spreadsheet; it was not read."))


@contextmanager
def open_xlsx(data: bytes):
    """A read-only workbook of an upload that passed check_xlsx_archive, closed afterwards; ImportFailed if invalid."""
    from openpyxl import load_workbook

    check_xlsx_archive(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except XLSX_ERRORS:
        refuse(NOT_XLSX)
    try:
        yield book
    finally:
        book.close()


def sheet_rows(sheet, max_rows: int, name: str | None = None) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of a read-only sheet, rows cut to the header's width; ImportFailed past max_rows or on broken XML."""
    # The dimension a file declares would pad every row to its width (up to 16,384 columns) and end reading at its
    # last row, true or not: read what is there instead.
    sheet.reset_dimensions()
    try:
        header = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), None)
        if header is None:
            return
        width = len(header)
        while width and (header[width - 1] is None or not str(header[width - 1]).strip()):
            width -= 1
        yield 1, header[:width]
        for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True), start=2):
            if number > max_rows:
                too_many_rows(max_rows, name)
            yield number, values
    except XLSX_ERRORS:
        refuse(NOT_XLSX, sheet=name)


def too_many_rows(limit: int, sheet: str | None = None) -> NoReturn:
    """Raise ImportFailed for a sheet or file longer than `limit` rows."""
    refuse(_l("The sheet has more than %(limit)s rows: split it into smaller files.", limit=format(limit, ",")), limit + 1, sheet)


def blank(values) -> bool:
    """Whether a row holds nothing but empty cells and whitespace."""
    if values.count(None) == len(values):  # the common case (padding rows), without a Python loop per cell
        return True
    return all(v is None or not str(v).strip() for v in values)


# --- YAML ----------------------------------------------------------------------------------------


class _Refused(yaml.YAMLError):
    """The loader stopped at something this application does not accept; `message` says what."""

    def __init__(self, message, mark=None):
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else 0


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (the "billion laughs") and stops at MAX_YAML_DEPTH levels of
    nesting and MAX_YAML_VALUES values; strings come without NUL."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._values = 0

    def compose_node(self, parent, index):
        """The next node, unless it is an alias or anchored or one node too deep or too many."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(_l("YAML anchors and aliases (& and *) are not allowed."), event.start_mark)
        self._values += 1
        if self._values > MAX_YAML_VALUES:
            raise _Refused(_l("The YAML holds more than %(limit)s values.", limit=format(MAX_YAML_VALUES, ",")), event.start_mark)
        if self._depth >= MAX_YAML_DEPTH:
            raise _Refused(_l("The YAML is nested more than %(limit)s levels deep.", limit=MAX_YAML_DEPTH), event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_clean_str(self, node) -> str:
        """A string scalar without the characters the database cannot store ("\\0" is a valid YAML escape)."""
        return clean_text(self.construct_scalar(node))

    def construct_bounded_int(self, node):
        """A whole number written in decimal digits, of at most WHOLE_DIGITS; any other (hexadecimal, base 60,
        longer) stays text, for the reader to refuse as it refuses a word: converting one costs time that grows with
        the square of its length (base 60), or fails beyond 4,300 digits."""
        text = self.construct_scalar(node)
        digits = text.replace("_", "").removeprefix("-").removeprefix("+")
        if digits.isascii() and digits.isdigit() and len(digits) <= WHOLE_DIGITS:
            return self.construct_yaml_int(node)
        return clean_text(text)

    def construct_checked_timestamp(self, node):
        """A date or moment, or its text when it names none (2025-13-45): the reader then refuses it as a value."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return clean_text(self.construct_scalar(node))


BoundedLoader.add_constructor("tag:yaml.org,2002:str", BoundedLoader.construct_clean_str)
BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_bounded_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_checked_timestamp)


def _load(text: str, sheet: str | None, read):
    """What `read` takes from a bounded loader on the text; ImportFailed when the text is too large or refused."""
    if len(text) > MAX_YAML_CHARS:
        refuse(_l("The YAML text is larger than %(limit)s MB.", limit=MAX_YAML_CHARS // MB), sheet=sheet)
    loader = BoundedLoader(text)
    try:
        return read(loader)
    except _Refused as error:
        refuse(error.message, error.line, sheet)
    finally:
        loader.dispose()


def load_yaml(text: str, sheet: str | None = None):
    """The one document of the text; ImportFailed when refused, yaml.YAMLError when it is not valid YAML."""
    return _load(text, sheet, lambda loader: loader.get_single_data())


def load_yaml_all(text: str, sheet: str | None = None) -> list:
    """Every document of the text; ImportFailed when refused, yaml.YAMLError when it is not valid YAML."""
    def read(loader):
        """Each document in turn, as yaml.safe_load_all reads them."""
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents

    return _load(text, sheet, read)


# --- exports -------------------------------------------------------------------------------------


def csv_value(value):
    """The value for a CSV cell: text that starts like a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_text(text: str) -> str:
    """Text for an .xlsx cell: without the characters .xlsx cannot hold, cut to the length a cell holds (Excel
    "repairs" a file with a longer one)."""
    text = _NOT_IN_XLSX.sub("", text)
    return text if len(text) <= XLSX_CELL_LIMIT else text[:XLSX_CELL_LIMIT - 1] + "…"


def xlsx_values(sheet, values) -> list:
    """The values as a row for sheet.append, text as plain string cells (never formulas) without characters .xlsx cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    row = []
    for value in values:
        if isinstance(value, str):
            # row and column are set again by append; given here because a write-only sheet prints the cell
            # (its coordinate) while it checks the value
            value = Cell(sheet, row=1, column=1, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            value.data_type = "s"  # openpyxl made a formula of "=…" and an error of "#N/A"; the text is kept as is
        row.append(value)
    return row
