"""A streaming .xlsx writer for exports: rows go straight into the zipped sheet XML as they arrive, so memory stays
constant however many rows there are.

Only what an export needs: text (always an inline string, so never a formula), numbers, booleans, dates and date-times
(real date cells), empty cells; a bold header row that stays in view (frozen) with an autofilter, and column widths
from the header and the first rows. Why not a library: writing 200,000 rows of the results export's 11 columns took 23.7 s
with openpyxl's write-only mode and 11.2 s with XlsxWriter's constant-memory mode (both check and convert every
cell through several calls), 2.3 s here; at 1.6 M rows only this stays within the 90 s an export may take.
"""
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from functools import lru_cache
from itertools import chain, islice
from xml.sax.saxutils import escape, quoteattr

from .safe_files import xlsx_text

# Rows in one sheet, header included (Excel's limit).
MAX_ROWS = 1_048_576
# Sheet XML is handed to the zip stream in pieces of about this many characters.
_PIECE = 64 * 1024
# Column widths are measured on the header and this many first rows (held until the sheet starts), in characters
# (a Chinese character counts two), within these bounds.
WIDTH_SAMPLE = 200
MIN_WIDTH, MAX_WIDTH = 6, 60
# Day 0 of Excel's date serial numbers (1900 system, past its leap-year bug).
_EPOCH = datetime(1899, 12, 30)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Cell formats: 0 plain, 1 bold (the header), 2 a date, 3 a date and time.
_HEADER, _DATE, _DATETIME = ' s="1"', ' s="2"', ' s="3"'
_STYLES = (f'{_XML}<styleSheet xmlns="{_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
           '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2">'
           '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def write(file, header: list[str], data: Iterable[list], name: str, max_rows: int = MAX_ROWS) -> None:
    """Write a workbook of the header and rows to the binary file (seekable). After `max_rows` rows (header
    included) the rows go on in a new sheet, "<name> (2)" and so on, under the header again. Every sheet keeps its
    header row in view, has an autofilter over its rows, and the column widths of the header and the first rows."""
    name = _sheet_name(name)
    rows = iter(data)
    sample = list(islice(rows, WIDTH_SAMPLE))
    widths = column_widths(header, sample)
    fits = sum(widths) <= FIT_WIDTH
    rows = chain(sample, rows)
    row = next(rows, None)
    sheets: list[tuple[str, int]] = []  # (name, rows written, header included)
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        while True:
            suffix = f" ({len(sheets) + 1})" if sheets else ""
            title = name[:31 - len(suffix)] + suffix
            with archive.open(f"xl/worksheets/sheet{len(sheets) + 1}.xml", "w") as part:
                row, lines = _write_sheet(part, header, widths, fits, row, rows, max_rows)
            sheets.append((title, lines))
            if row is None:
                break
        for path, xml in _package(sheets, len(header), fits):
            archive.writestr(path, xml)


def column_widths(header: list[str], rows: list[list]) -> list[int]:
    """The width of each column, in characters: its longest value among the header and the rows, within bounds."""
    widths = [_width(h) + 2 for h in header]  # room for the autofilter's button
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 1)) for w in widths]


def _width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, (date, bool, int, float)):
        return len(str(value))
    text = str(value)
    return len(text) + sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")


# Printed on A4 landscape with the header row on every page and "page n / N" in the footer. A sheet whose columns
# fit one page at a readable size (FIT_WIDTH characters of column width: printed at 55 % of full size or more) is
# printed one page wide; a wider one goes on over several pages, each repeating the first two columns (staff number
# and name, in every export).
FIT_WIDTH = 250
_FIT = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
_PRINT = ('<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" header="0.3" footer="0.3"/>'
          '<pageSetup paperSize="9" orientation="landscape"{fit}/>'
          '<headerFooter><oddFooter>&amp;C&amp;P / &amp;N</oddFooter></headerFooter>')


def _write_sheet(part, header: list[str], widths: list[int], fits: bool, row, rows: Iterator[list], max_rows: int):
    """Write the header and rows from `row` on until the sheet is full; returns the first row left (None: none) and
    the lines written."""
    columns = [_column(i) for i in range(len(header))]
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    printed = _PRINT.format(fit=' fitToWidth="1" fitToHeight="0"' if fits else "")
    pieces = [f'{_XML}<worksheet xmlns="{_MAIN}">{_FIT if fits else ""}<sheetViews><sheetView workbookViewId="0">'
              '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
              '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
              f'<cols>{cols}</cols><sheetData>',
              _row_xml(columns, header, 1, _HEADER)]
    size, line = 0, 1
    while row is not None and line < max_rows:
        line += 1
        piece = _row_xml(columns, row, line)
        pieces.append(piece)
        size += len(piece)
        if size >= _PIECE:
            part.write("".join(pieces).encode("utf-8"))
            pieces, size = [], 0
        row = next(rows, None)
    pieces.append(f'</sheetData><autoFilter ref="A1:{columns[-1]}{line}"/>{printed}</worksheet>' if columns
                  else f"</sheetData>{printed}</worksheet>")
    part.write("".join(pieces).encode("utf-8"))
    return row, line


@lru_cache(maxsize=8192)
def _inline_text(text: str) -> str:
    """Text as an inline string cell holds it; remembered, since most of an export's text repeats row after row (org
    units, cycles, competencies, labels)."""
    return escape(xlsx_text(text))


def _row_xml(columns: list[str], values, line: int, style: str = "") -> str:
    cells = []
    for column, value in zip(columns, values, strict=True):
        if value is None:
            continue
        if type(value) is str:  # the commonest cell first
            cells.append(f'<c r="{column}{line}"{style} t="inlineStr"><is><t xml:space="preserve">{_inline_text(value)}</t></is></c>')
        elif isinstance(value, bool):
            cells.append(f'<c r="{column}{line}"{style} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, (int, float)):
            cells.append(f'<c r="{column}{line}"{style}><v>{value!r}</v></c>')
        elif isinstance(value, datetime):
            serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86_400
            cells.append(f'<c r="{column}{line}"{_DATETIME}><v>{serial!r}</v></c>')
        elif isinstance(value, date):
            cells.append(f'<c r="{column}{line}"{_DATE}><v>{(value - _EPOCH.date()).days}</v></c>')
        else:
            # an inline string is text whatever it starts with: "=…" never becomes a formula, "#N/A" never an error
            text = _inline_text(str(value))
            cells.append(f'<c r="{column}{line}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    return f'<row r="{line}">{"".join(cells)}</row>'


def _column(index: int) -> str:
    """The letters of a column, from 0: A … Z, AA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _package(sheets: list[tuple[str, int]], width: int, fits: bool) -> list[tuple[str, str]]:
    """The parts besides the sheets: content types, relationships, the workbook (its sheets in order, and the range
    of each sheet's autofilter and its printed title row as Excel names them), styles."""
    names = [title for title, _lines in sheets]
    numbers = range(1, len(names) + 1)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPES}.worksheet+xml"/>' for n in numbers)
    relations = "".join(f'<Relationship Id="rId{n}" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in numbers)
    entries = "".join(f'<sheet name={quoteattr(names[n - 1])} sheetId="{n}" r:id="rId{n}"/>' for n in numbers)
    last = _column(width - 1) if width else "A"
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f'{escape(_quoted(title))}!$A$1:${last}${lines}</definedName>'
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">'
        f'{"" if fits else escape(_quoted(title)) + "!$A:$B,"}{escape(_quoted(title))}!$1:$1</definedName>'
        for n, (title, lines) in enumerate(sheets))
    return [
        ("[Content_Types].xml",
         f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         f'<Default Extension="xml" ContentType="application/xml"/>'
         f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
         f'<Override PartName="/xl/styles.xml" ContentType="{_TYPES}.styles+xml"/>{types}</Types>'),
        ("_rels/.rels", f'{_XML}<Relationships xmlns="{_RELS}">'
                        f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml", f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>{entries}</sheets>'
                            f'{f"<definedNames>{filters}</definedNames>" if width else ""}</workbook>'),
        ("xl/_rels/workbook.xml.rels",
         f'{_XML}<Relationships xmlns="{_RELS}">{relations}'
         f'<Relationship Id="rId{len(names) + 1}" Type="{_DOC_RELS}/styles" Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml", _STYLES),
    ]


def _sheet_name(name: str) -> str:
    """A name Excel accepts for a sheet: none of : \\ / ? * [ ], at most 31 characters."""
    return re.sub(r"[:\\/?*\[\]]", " ", name).strip()[:31] or "Sheet"


def _quoted(title: str) -> str:
    """A sheet name as a formula names it: in single quotes, a quote doubled."""
    return "'" + title.replace("'", "''") + "'"
