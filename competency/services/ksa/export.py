"""Export of competency model versions as YAML (round-trips exactly through the importer) and .xlsx."""
import io
from decimal import Decimal

import yaml

from ...models import Grade, ModelVersion
from .. import safe_files

GRADES = [g.value for g in Grade]
SHEETS = ("Model", "DutyAreas", "Clusters", "Competencies", "Descriptors", "Targets")
COLUMNS = {
    "Model": ["position", "name_zh", "name_en"],
    "DutyAreas": ["code", "name_zh", "name_en", "tasks_zh", "tasks_en"],
    "Clusters": ["code", "category", "name_zh", "name_en"],
    "Competencies": ["code", "category", "cluster", "name_zh", "name_en", "description_zh", "description_en", "weight", "duty_areas"],
    "Descriptors": ["competency", "level", "zh", "en"],
    "Targets": ["competency", *GRADES],
}


# --- export --------------------------------------------------------------------------------------


def _number(value: Decimal):
    """A weight as YAML shows it: 5 rather than 5.00, 2.5 rather than 2.50."""
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def to_data(version: ModelVersion) -> dict:
    """The version as the plain structure of the YAML file."""
    return {
        "position": version.position.code,
        "name_zh": version.name_zh,
        "name_en": version.name_en,
        "duty_areas": [
            {"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "tasks_zh": list(a.tasks_zh), "tasks_en": list(a.tasks_en)}
            for a in version.duty_areas
        ],
        "clusters": [
            {"code": c.code, "category": c.category.value, "name_zh": c.name_zh, "name_en": c.name_en} for c in version.clusters
        ],
        "competencies": [
            {
                "code": k.code, "category": k.category.value, "cluster": k.cluster.code,
                "name_zh": k.name_zh, "name_en": k.name_en,
                "description_zh": k.description_zh, "description_en": k.description_en,
                "weight": _number(k.weight), "duty_areas": [a.code for a in k.duty_areas],
                "descriptors": {d.level: {"zh": d.text_zh, "en": d.text_en} for d in k.descriptors},
                "targets": {g.value: k.target(g) for g in Grade if k.target(g) is not None},
            }
            for k in version.competencies
        ],
    }


def export_yaml(version: ModelVersion) -> str:
    """The version as YAML text."""
    return yaml.safe_dump(to_data(version), allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)


def export_xlsx(version: ModelVersion) -> bytes:
    """The version as an .xlsx workbook with one sheet per part."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = to_data(version)
    rows = {
        "Model": [[data["position"], data["name_zh"], data["name_en"]]],
        "DutyAreas": [[a["code"], a["name_zh"], a["name_en"], "\n".join(a["tasks_zh"]), "\n".join(a["tasks_en"])]
                      for a in data["duty_areas"]],
        "Clusters": [[c["code"], c["category"], c["name_zh"], c["name_en"]] for c in data["clusters"]],
        "Competencies": [[k["code"], k["category"], k["cluster"], k["name_zh"], k["name_en"], k["description_zh"],
                          k["description_en"], k["weight"], ";".join(k["duty_areas"])] for k in data["competencies"]],
        "Descriptors": [[k["code"], level, d["zh"], d["en"]] for k in data["competencies"] for level, d in k["descriptors"].items()],
        "Targets": [[k["code"], *[k["targets"].get(g) for g in GRADES]] for k in data["competencies"]],
    }
    book = Workbook()
    book.remove(book.active)
    for name in SHEETS:
        sheet = book.create_sheet(name)
        sheet.append(COLUMNS[name])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows[name]:
            sheet.append(safe_files.xlsx_values(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


