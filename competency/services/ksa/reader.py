"""Reading competency model files (YAML or .xlsx) into the plain structure of the YAML shape, with where each
item came from (section or sheet, row) so that validation can locate every error."""
from decimal import Decimal, InvalidOperation

import yaml
from flask_babel import lazy_gettext as _l

from ...models import LEVELS
from .. import safe_files
from ..imports.tabular import ImportFailed, RowError
from ..imports.values import whole
from .export import COLUMNS, GRADES, SHEETS


def read_yaml(text: str) -> tuple[dict, dict]:
    """The plain structure and where each item came from ({(section, index): row label})."""
    try:
        data = safe_files.load_yaml(text, "YAML")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = _l("Not valid YAML: %(problem)s", problem=getattr(error, "problem", error))
        raise ImportFailed([RowError(mark.line + 1 if mark else 0, "", problem, "YAML")]) from None
    if not isinstance(data, dict):
        raise ImportFailed([RowError(1, "", _l("The file must be a YAML mapping with position, duty_areas, clusters and "
                                                 "competencies."), "YAML")])
    return data, {}


def _sheets(content: bytes) -> dict[str, list[tuple[int, dict]]]:
    """Each expected sheet's non-empty rows as (row number, {column: value}); ImportFailed naming missing sheets
    and columns, or refusing a workbook too large to read."""
    errors, tables = [], {}
    with safe_files.open_xlsx(content) as book:
        for name in SHEETS:
            if name not in book.sheetnames:
                errors.append(RowError(0, "", _l("The sheet is missing."), name))
                continue
            rows = safe_files.sheet_rows(book[name], safe_files.MAX_MODEL_ROWS, name)
            first = next(rows, (1, ()))
            header = [safe_files.clean_text(str(h)).strip() if h is not None else "" for h in first[1]]
            errors += [RowError(1, column, _l("Missing column."), name) for column in COLUMNS[name] if column not in header]
            tables[name] = [(index, {h: _cell(r[i] if i < len(r) else None) for i, h in enumerate(header) if h})
                            for index, r in rows if any(c not in (None, "") for c in r)]
    if errors:
        raise ImportFailed(errors)
    return tables


def read_xlsx(content: bytes) -> tuple[dict, dict]:
    """The plain structure of a workbook and, for each item, its sheet and row."""
    tables = _sheets(content)
    where: dict = {}
    model = tables["Model"][0][1] if tables["Model"] else {}
    data = {"position": model.get("position"), "name_zh": model.get("name_zh"), "name_en": model.get("name_en"),
            "duty_areas": [], "clusters": [], "competencies": []}
    for section, sheet, shape in (("duty_areas", "DutyAreas", _duty_area), ("clusters", "Clusters", dict),
                                  ("competencies", "Competencies", _competency)):
        for row, values in tables[sheet]:
            where[(section, len(data[section]))] = (sheet, row)
            data[section].append(shape(values))
    by_code: dict = {}
    for item in data["competencies"]:
        by_code.setdefault(item.get("code"), item)
    errors = _descriptor_rows(tables["Descriptors"], by_code) + _target_rows(tables["Targets"], by_code)
    if errors:
        raise ImportFailed(errors)
    return data, where


def _duty_area(values: dict) -> dict:
    return values | {"tasks_zh": _lines(values.get("tasks_zh")), "tasks_en": _lines(values.get("tasks_en"))}


def _competency(values: dict) -> dict:
    codes = [c.strip() for c in str(values.get("duty_areas") or "").split(";") if c.strip()]
    return values | {"duty_areas": codes, "descriptors": {}, "targets": {}}


def _unknown_competency(row: int, values: dict, sheet: str) -> RowError:
    return RowError(row, "competency", _l("Unknown competency %(code)s.", code=values.get("competency")), sheet)


def _descriptor_rows(rows, by_code: dict) -> list[RowError]:
    """Put each Descriptors row on its competency; the errors of the rows that do not fit."""
    errors = []
    for row, values in rows:
        item = by_code.get(values.get("competency"))
        level = int_or_none(values.get("level"))
        if item is None:
            errors.append(_unknown_competency(row, values, "Descriptors"))
        elif level not in LEVELS:
            errors.append(RowError(row, "level", _l("Levels run from 1 to 5."), "Descriptors"))
        elif level in item["descriptors"]:
            errors.append(RowError(row, "level", _l("A second descriptor for level %(level)s.", level=level), "Descriptors"))
        else:
            item["descriptors"][level] = {"zh": values.get("zh") or "", "en": values.get("en") or ""}
    return errors


def _target_rows(rows, by_code: dict) -> list[RowError]:
    """Put each Targets row on its competency; the errors of the cells that do not fit."""
    errors = []
    for row, values in rows:
        item = by_code.get(values.get("competency"))
        if item is None:
            errors.append(_unknown_competency(row, values, "Targets"))
            continue
        for grade in GRADES:
            if values.get(grade) in (None, ""):
                continue
            level = int_or_none(values.get(grade))
            if level not in LEVELS:
                errors.append(RowError(row, grade, _l("Levels run from 1 to 5."), "Targets"))
            else:
                item["targets"][grade] = level
    return errors


def _cell(value):
    if isinstance(value, str):
        return safe_files.clean_text(value).strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _lines(value) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def int_or_none(value):
    """The value as a whole number, or None."""
    try:
        return whole(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
