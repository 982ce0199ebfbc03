"""The import templates (导入模板): per import kind an .xlsx workbook with an instructions sheet (填表说明) and a data
sheet whose header names each column in Chinese and by its code (「工号(staff_no)」, required ones starred), whose
identifier columns are formatted as text (so that 00123 keeps its zeros), whose date columns show dates, and whose
coded columns offer their values in a drop-down list. Filled in, it imports as it is."""
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import LEVELS, CourseType, Delivery, Grade, OrgUnitKind, Position, Rater, TrainingResult
from . import courses, employees, org_units, ratings, sales, training
from .headers import shown

# kind → (label, CLI command, required columns, optional columns, labels, an example row)
KINDS = {
    "org_units": (_l("Org units"), "org-units", org_units.COLUMNS, [], org_units.LABELS,
                  {"code": "0101", "parent_code": "01", "kind": "tier1_branch", "name_zh": "北京分行", "name_en": "Beijing Branch"}),
    "employees": (_l("Employees"), "employees", employees.REQUIRED, employees.OPTIONAL, employees.LABELS,
                  {"staff_no": "00123", "name_zh": "李娜", "name_en": "Na Li", "org_unit_code": "0101", "position_code": "CM_CORP",
                   "grade": "junior", "hire_date": "2024-03-01", "probation_end": "2024-06-01", "supervisor_staff_no": "00007",
                   "email": "na.li@bank.example", "roles": "employee;supervisor"}),
    "sales": (_l("Annual sales"), "sales", sales.COLUMNS, [], sales.LABELS, {"staff_no": "00123", "year": "2025", "amount": "1234567.50"}),
    "courses": (_l("Courses"), "courses", courses.COLUMNS, [], courses.LABELS,
                {"code": "C001", "title_zh": "信贷产品基础", "title_en": "Credit products", "type": "industry", "delivery": "classroom",
                 "hours": "8", "credits": "2", "competencies": "K1:3;S2:2"}),
    "training": (_l("Past training"), "training", training.COLUMNS, training.OPTIONAL, training.LABELS,
                 {"staff_no": "00123", "course_code": "C001", "completed_on": "2025-05-20", "result": "pass", "score": "92"}),
    "ratings": (_l("Past ratings"), "ratings --cycle CODE --start YYYY-MM-DD --end YYYY-MM-DD", ratings.COLUMNS, ratings.OPTIONAL,
                ratings.LABELS, {"staff_no": "00123", "competency_code": "K1", "rater": "self", "level": "3", "comment": ""}),
}
IDENTIFIERS = {"staff_no", "code", "parent_code", "org_unit_code", "position_code", "supervisor_staff_no", "course_code", "competency_code"}
DATES = {"hire_date", "probation_end", "completed_on"}
CODED = {"grade": Grade, "kind": OrgUnitKind, "type": CourseType, "delivery": Delivery, "result": TrainingResult, "rater": Rater}
# Rows of the data sheet prepared (formats and drop-downs); Excel extends them as rows are added below.
PREPARED_ROWS = 1_000
# Fill colours of the header cells (openpyxl is imported when a template is written, not at start-up).
_HEADER_COLOUR, _REQUIRED_COLOUR = "DDEBF7", "FCE4D6"


def _what(column: str) -> str:
    """What to write in a column, in the current language."""
    from ...i18n import LABELS

    if column in CODED:
        return _("One of: %(values)s.", values=", ".join(f"{m.value} ({LABELS[m]})" for m in CODED[column]))
    if column in IDENTIFIERS:
        return _("A code or number as text: leading zeros are kept (the column is formatted as text).")
    if column in DATES:
        return _("A date: YYYY-MM-DD (2024/3/1 and 2024年3月1日 also work).")
    texts = {"year": _l("A four-digit year, like 2025."), "amount": _l("An amount of at least 0, like 1234.5 or ¥1,234.50."),
             "hours": _l("A positive number."), "credits": _l("A number of at least 0."), "score": _l("A number from 0 to 100."),
             "level": _l("A level from 1 to 5."),
             "roles": _l("Roles separated by semicolons (employee, supervisor, trainer, hr, admin): gives the person an account."),
             "competencies": _l("Competencies as CODE:LEVEL separated by semicolons, like K1:3;S2:4.")}
    return str(texts.get(column, _l("Text.")))


def _choices(column: str, positions: list[str]) -> list[str]:
    """The values a drop-down offers in a column: the labels of the current language, or the codes where a label
    holds a comma (a list validation cannot hold one); none for a column without a fixed set."""
    from ...i18n import LABELS

    if column in CODED:
        labels = [str(LABELS[m]) for m in CODED[column]]
        return labels if not any("," in label for label in labels) else [m.value for m in CODED[column]]
    if column == "level":
        return [str(level) for level in LEVELS]
    if column == "position_code":
        return positions
    return []


def template(kind: str) -> bytes:
    """The .xlsx import template of an import kind, in the current language (headers are always bilingual)."""
    label, command, required, optional, labels, example = KINDS[kind]
    from openpyxl import Workbook

    columns = [*required, *optional]
    book = Workbook()
    notes = book.active
    notes.title = _("Instructions")[:31]
    sheet = book.create_sheet(str(label)[:31])
    _data_sheet(sheet, columns, required, labels, db.session.scalars(select(Position.code).order_by(Position.code)).all())
    _instructions(notes, label, command, sheet.title, columns, required, labels, example)
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _data_sheet(sheet, columns: list, required: list, labels: dict, positions: list[str]) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=("*" if column in required else "") + shown(column, labels))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_REQUIRED_COLOUR if column in required else _HEADER_COLOUR)
        sheet.column_dimensions[letter].width = max(14, len(cell.value) * 2)
        number_format = "@" if column in IDENTIFIERS else "yyyy-mm-dd" if column in DATES else None
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            for row in range(2, PREPARED_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = number_format
        values = _choices(column, positions)
        if values and len(",".join(values)) <= 255:
            check = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                   errorStyle="warning", showErrorMessage=True)
            check.add(f"{letter}2:{letter}{PREPARED_ROWS + 1}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "A2"


def _instructions(notes, label, command: str, sheet_name: str, columns: list, required: list, labels: dict, example: dict) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    lines = [
        _("Import template: %(kind)s", kind=label),
        _("Fill in the sheet %(sheet)s from the line under its header, one record per line; keep the header.", sheet=sheet_name),
        _("Columns marked * are required. Other columns you add (remarks, ID numbers…) are ignored."),
        _("Identifier columns are formatted as text, so that leading zeros (00123) are kept."),
        _("Upload the file on the Imports page, or run: flask import %(command)s FILE. Nothing is written until you confirm, "
          "and a file with any error is refused whole.", command=command),
    ]
    for line in lines:
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([])
    notes.append([_("Column"), _("Required column"), _("What to write"), _("Example")])
    for cell in notes[notes.max_row]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor=_HEADER_COLOUR)
    for column in columns:
        notes.append([shown(column, labels), _("Yes") if column in required else _("No"), _what(column), example.get(column, "")])
        notes.cell(row=notes.max_row, column=3).alignment = Alignment(wrap_text=True)
    for letter, width in zip("ABCD", (28, 14, 70, 24), strict=True):
        notes.column_dimensions[letter].width = width
