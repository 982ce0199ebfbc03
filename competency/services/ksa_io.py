"""Import and export of competency models as YAML (round-trips exactly) and .xlsx.

Both formats become the same plain structure (the YAML shape), which is validated as a whole before
anything is written; every error names where it is (YAML section or xlsx sheet, row, column).
"""
import io
from decimal import Decimal, InvalidOperation

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import LEVELS, Category, Cluster, Competency, Descriptor, DutyArea, Grade, ModelVersion, Position, Target
from . import audit
from .ksa import next_number
from .tabular import ImportFailed, RowError

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
        "DutyAreas": [[a["code"], a["name_zh"], a["name_en"], "\n".join(a["tasks_zh"]), "\n".join(a["tasks_en"])] for a in data["duty_areas"]],
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
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- reading files into the plain structure ------------------------------------------------------


def read_yaml(text: str) -> tuple[dict, dict]:
    """The plain structure and where each item came from ({(section, index): row label})."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportFailed([RowError(mark.line + 1 if mark else 0, "", _l("Not valid YAML: %(problem)s", problem=getattr(error, "problem", error)), "YAML")]) from None
    if not isinstance(data, dict):
        raise ImportFailed([RowError(1, "", _l("The file must be a YAML mapping with position, duty_areas, clusters and competencies."), "YAML")])
    return data, {}


def read_xlsx(content: bytes) -> tuple[dict, dict]:
    """The plain structure of a workbook and, for each item, its sheet and row."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise ImportFailed([RowError(0, "", _l("The file is not a valid .xlsx workbook."))]) from None
    errors, tables = [], {}
    for name in SHEETS:
        if name not in book.sheetnames:
            errors.append(RowError(0, "", _l("The sheet is missing."), name))
            continue
        rows = [list(r) for r in book[name].iter_rows(values_only=True)]
        header = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
        for column in COLUMNS[name]:
            if column not in header:
                errors.append(RowError(1, column, _l("Missing column."), name))
        tables[name] = [
            (index, {h: _cell(r[i] if i < len(r) else None) for i, h in enumerate(header) if h})
            for index, r in enumerate(rows[1:], start=2)
            if any(c not in (None, "") for c in r)
        ]
    book.close()
    if errors:
        raise ImportFailed(errors)
    where: dict = {}
    model = tables["Model"][0][1] if tables["Model"] else {}
    data = {"position": model.get("position"), "name_zh": model.get("name_zh"), "name_en": model.get("name_en")}
    data["duty_areas"] = []
    for row, values in tables["DutyAreas"]:
        where[("duty_areas", len(data["duty_areas"]))] = ("DutyAreas", row)
        data["duty_areas"].append(values | {"tasks_zh": _lines(values.get("tasks_zh")), "tasks_en": _lines(values.get("tasks_en"))})
    data["clusters"] = []
    for row, values in tables["Clusters"]:
        where[("clusters", len(data["clusters"]))] = ("Clusters", row)
        data["clusters"].append(values)
    data["competencies"], by_code = [], {}
    for row, values in tables["Competencies"]:
        where[("competencies", len(data["competencies"]))] = ("Competencies", row)
        item = values | {"duty_areas": [c.strip() for c in str(values.get("duty_areas") or "").split(";") if c.strip()],
                         "descriptors": {}, "targets": {}}
        data["competencies"].append(item)
        by_code.setdefault(item.get("code"), item)
    for row, values in tables["Descriptors"]:
        item = by_code.get(values.get("competency"))
        if item is None:
            errors.append(RowError(row, "competency", _l("Unknown competency %(code)s.", code=values.get("competency")), "Descriptors"))
            continue
        level = _int(values.get("level"))
        if level not in LEVELS:
            errors.append(RowError(row, "level", _l("Levels run from 1 to 5."), "Descriptors"))
        elif level in item["descriptors"]:
            errors.append(RowError(row, "level", _l("A second descriptor for level %(level)s.", level=level), "Descriptors"))
        else:
            item["descriptors"][level] = {"zh": values.get("zh") or "", "en": values.get("en") or ""}
    for row, values in tables["Targets"]:
        item = by_code.get(values.get("competency"))
        if item is None:
            errors.append(RowError(row, "competency", _l("Unknown competency %(code)s.", code=values.get("competency")), "Targets"))
            continue
        for grade in GRADES:
            if values.get(grade) in (None, ""):
                continue
            level = _int(values.get(grade))
            if level not in LEVELS:
                errors.append(RowError(row, grade, _l("Levels run from 1 to 5."), "Targets"))
            else:
                item["targets"][grade] = level
    if errors:
        raise ImportFailed(errors)
    return data, where


def _cell(value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _lines(value) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def _int(value):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return int(number) if number == number.to_integral_value() else None


# --- validation and creation ---------------------------------------------------------------------


def validate(data: dict, where: dict) -> tuple[list[RowError], Position | None]:
    """Every problem in the structure, each located; and the position it names."""
    errors: list[RowError] = []

    def err(section, index, column, message):
        if section == "model":
            sheet, row = ("Model", 2) if where else ("model", 0)
        else:
            sheet, row = where.get((section, index), (section, (index or 0) + 1))
        errors.append(RowError(row, column, message, sheet))

    position = db.session.scalar(select(Position).where(Position.code == str(data.get("position") or "")))
    if position is None:
        err("model", None, "position", _l("Unknown position %(code)s.", code=data.get("position")))
    for field in ("name_zh", "name_en"):
        if not str(data.get(field) or "").strip():
            err("model", None, field, _l("Required."))
    for section in ("duty_areas", "clusters", "competencies"):
        if not isinstance(data.get(section, []), list):
            err(section, None, "", _l("Must be a list."))
            data[section] = []
    areas = _unique_codes(data.get("duty_areas", []), "duty_areas", err)
    clusters = _unique_codes(data.get("clusters", []), "clusters", err)
    for index, area in enumerate(data.get("duty_areas", [])):
        if not isinstance(area, dict):
            continue
        _require(area, ("name_zh", "name_en"), "duty_areas", index, err)
        for field in ("tasks_zh", "tasks_en"):
            if not isinstance(area.get(field, []), list):
                err("duty_areas", index, field, _l("Must be a list."))
    for index, cluster in enumerate(data.get("clusters", [])):
        if not isinstance(cluster, dict):
            continue
        _require(cluster, ("name_zh", "name_en"), "clusters", index, err)
        if cluster.get("category") not in {c.value for c in Category}:
            err("clusters", index, "category", _l("Unknown category %(value)s: use K, S or A.", value=cluster.get("category")))
    _unique_codes(data.get("competencies", []), "competencies", err)
    for index, comp in enumerate(data.get("competencies", [])):
        _validate_competency(comp, index, areas, clusters, err)
    return errors, position


def _unique_codes(items, section, err) -> dict:
    seen = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            err(section, index, "", _l("Must be a mapping."))
            continue
        code = item.get("code")
        code = str(code).strip() if isinstance(code, (str, int)) else ""
        if not code:
            err(section, index, "code", _l("Required."))
        elif code in seen:
            err(section, index, "code", _l("Duplicate code %(code)s.", code=code))
        else:
            seen[code] = item
    return seen


def _require(item, fields, section, index, err) -> None:
    for field in fields:
        if not str(item.get(field) or "").strip():
            err(section, index, field, _l("Required."))


def _validate_competency(comp, index, areas, clusters, err) -> None:
    if not isinstance(comp, dict):
        return
    _require(comp, ("name_zh", "name_en"), "competencies", index, err)
    if comp.get("category") not in {c.value for c in Category}:
        err("competencies", index, "category", _l("Unknown category %(value)s: use K, S or A.", value=comp.get("category")))
    cluster = clusters.get(comp.get("cluster")) if isinstance(comp.get("cluster"), str) else None
    if cluster is None:
        err("competencies", index, "cluster", _l("Unknown cluster %(code)s.", code=comp.get("cluster")))
    elif cluster.get("category") != comp.get("category"):
        err("competencies", index, "cluster", _l("Cluster %(code)s belongs to category %(category)s.", code=comp.get("cluster"), category=cluster.get("category")))
    try:
        weight = Decimal(str(comp.get("weight")))
        if not weight.is_finite() or weight <= 0:
            raise ValueError
    except (InvalidOperation, ValueError):
        err("competencies", index, "weight", _l("The weight must be a positive number."))
    duty_areas = comp.get("duty_areas") or []
    if not isinstance(duty_areas, list):
        err("competencies", index, "duty_areas", _l("Must be a list."))
        duty_areas = []
    for code in duty_areas:
        if not isinstance(code, str) or code not in areas:
            err("competencies", index, "duty_areas", _l("Unknown duty area %(code)s.", code=code))
    descriptors = comp.get("descriptors") or {}
    if not isinstance(descriptors, dict) or any(_int(k) not in LEVELS or not isinstance(v, dict) for k, v in descriptors.items()):
        err("competencies", index, "descriptors", _l("Descriptors are keyed by level 1 to 5, each with zh and en."))
    targets = comp.get("targets") or {}
    if not isinstance(targets, dict):
        err("competencies", index, "targets", _l("Targets map each grade to a level."))
        return
    for grade, level in targets.items():
        if grade not in GRADES:
            err("competencies", index, "targets", _l("Unknown grade %(value)s: use trainee, junior, intermediate or senior.", value=grade))
        elif _int(level) not in LEVELS:
            err("competencies", index, "targets", _l("The target for %(grade)s must be a level from 1 to 5.", grade=grade))


def create_draft(data: dict, position: Position, actor=None, source: str = "") -> ModelVersion:
    """A new draft version of the position built from validated data (not committed)."""
    version = ModelVersion(position=position, number=next_number(position.id),
                           name_zh=str(data["name_zh"]).strip(), name_en=str(data["name_en"]).strip())
    areas = {}
    for order, item in enumerate(data.get("duty_areas", []), start=1):
        areas[item["code"]] = DutyArea(code=str(item["code"]), name_zh=item["name_zh"], name_en=item["name_en"], order=order,
                                       tasks_zh=[str(t) for t in item.get("tasks_zh") or []],
                                       tasks_en=[str(t) for t in item.get("tasks_en") or []])
        version.duty_areas.append(areas[item["code"]])
    clusters = {}
    for order, item in enumerate(data.get("clusters", []), start=1):
        clusters[item["code"]] = Cluster(code=str(item["code"]), category=Category(item["category"]), name_zh=item["name_zh"],
                                         name_en=item["name_en"], order=order)
        version.clusters.append(clusters[item["code"]])
    for order, item in enumerate(data.get("competencies", []), start=1):
        descriptors = item.get("descriptors") or {}
        version.competencies.append(Competency(
            code=str(item["code"]), category=Category(item["category"]), cluster=clusters[item["cluster"]],
            name_zh=item["name_zh"], name_en=item["name_en"], order=order,
            description_zh=str(item.get("description_zh") or ""), description_en=str(item.get("description_en") or ""),
            weight=Decimal(str(item["weight"])), duty_areas=[areas[c] for c in item.get("duty_areas") or []],
            descriptors=[Descriptor(level=_int(k), text_zh=str(v.get("zh") or ""), text_en=str(v.get("en") or ""))
                         for k, v in sorted(descriptors.items(), key=lambda kv: _int(kv[0]))],
            targets=[Target(grade=Grade(g), level=_int(level)) for g, level in (item.get("targets") or {}).items()],
        ))
    db.session.add(version)
    db.session.flush()
    audit.record("model.import", "model_version", version.id, actor=actor, position=position.code,
                 number=version.number, file=source)
    return version


def import_file(content: bytes, filename: str, actor=None, position_code: str | None = None) -> ModelVersion:
    """Import a .yaml/.yml or .xlsx model file as a new draft; ImportFailed (nothing written) on any error. Commits."""
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFailed([RowError(0, "", _l("The file is not UTF-8 text."), "YAML")]) from None
        data, where = read_yaml(text)
    elif name.endswith(".xlsx"):
        data, where = read_xlsx(content)
    else:
        raise ImportFailed([RowError(0, "", _l("Use a .yaml or .xlsx file."))])
    if position_code:
        data["position"] = position_code
    errors, position = validate(data, where)
    if errors:
        raise ImportFailed(errors)
    version = create_draft(data, position, actor=actor, source=filename)
    db.session.commit()
    return version
