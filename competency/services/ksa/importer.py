"""Import of competency models from YAML or .xlsx as a new draft version.

Both formats become the same plain structure (the YAML shape), which is validated as a whole before
anything is written; every error names where it is (YAML section or xlsx sheet, row, column).
"""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...models import LEVELS, Category, Cluster, Competency, Descriptor, DutyArea, Grade, ModelVersion, Position, Target
from ...models.limits import holds_number, max_length
from .. import audit, safe_files
from ..imports.tabular import ImportFailed, RowError
from ..unit_of_work import unit_of_work
from .editor import parse_weight
from .export import GRADES
from .reader import int_or_none, read_xlsx, read_yaml
from .versions import next_number

CATEGORIES = {c.value for c in Category}


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
    _require(data, ("name_zh", "name_en"), "model", None, err, ModelVersion)
    for section in ("duty_areas", "clusters", "competencies"):
        if not isinstance(data.get(section, []), list):
            err(section, None, "", _l("Must be a list."))
            data[section] = []
    areas = _unique_codes(data.get("duty_areas", []), "duty_areas", err)
    clusters = _unique_codes(data.get("clusters", []), "clusters", err)
    _unique_codes(data.get("competencies", []), "competencies", err)
    for index, area in enumerate(data.get("duty_areas", [])):
        _validate_duty_area(area, index, err)
    for index, cluster in enumerate(data.get("clusters", [])):
        _validate_cluster(cluster, index, err)
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
        elif len(code) > max_length(Competency.code):
            err(section, index, "code", _l("At most %(n)s characters.", n=max_length(Competency.code)))
        elif code in seen:
            err(section, index, "code", _l("Duplicate code %(code)s.", code=code))
        else:
            seen[code] = item
    return seen


def _require(item, fields, section, index, err, model) -> None:
    """Each field present, and no longer than the model's column holds."""
    for field in fields:
        text = str(item.get(field) or "").strip()
        limit = max_length(getattr(model, field))
        if not text:
            err(section, index, field, _l("Required."))
        elif limit and len(text) > limit:
            err(section, index, field, _l("At most %(n)s characters.", n=limit))


def _validate_duty_area(area, index, err) -> None:
    if not isinstance(area, dict):
        return
    _require(area, ("name_zh", "name_en"), "duty_areas", index, err, DutyArea)
    for field in ("tasks_zh", "tasks_en"):
        if not isinstance(area.get(field, []), list):
            err("duty_areas", index, field, _l("Must be a list."))


def _validate_cluster(cluster, index, err) -> None:
    if not isinstance(cluster, dict):
        return
    _require(cluster, ("name_zh", "name_en"), "clusters", index, err, Cluster)
    if cluster.get("category") not in CATEGORIES:
        err("clusters", index, "category", _l("Unknown category %(value)s: use K, S or A.", value=cluster.get("category")))


def _validate_competency(comp, index, areas, clusters, err) -> None:
    if not isinstance(comp, dict):
        return
    _require(comp, ("name_zh", "name_en"), "competencies", index, err, Competency)
    if comp.get("category") not in CATEGORIES:
        err("competencies", index, "category", _l("Unknown category %(value)s: use K, S or A.", value=comp.get("category")))
    cluster = clusters.get(comp.get("cluster")) if isinstance(comp.get("cluster"), str) else None
    if cluster is None:
        err("competencies", index, "cluster", _l("Unknown cluster %(code)s.", code=comp.get("cluster")))
    elif cluster.get("category") != comp.get("category"):
        err("competencies", index, "cluster", _l("Cluster %(code)s belongs to category %(category)s.",
                                                 code=comp.get("cluster"), category=cluster.get("category")))
    if not _positive(comp.get("weight")):
        err("competencies", index, "weight", _l("The weight must be a positive number."))
    _validate_references(comp, index, areas, err)
    _validate_levels(comp, index, err)


def _positive(value) -> bool:
    """A weight the editor would take (editor.parse_weight) that its column holds."""
    try:
        number = parse_weight(value)
    except DomainError:
        return False
    return holds_number(Competency.weight, number)


def _validate_references(comp, index, areas, err) -> None:
    duty_areas = comp.get("duty_areas") or []
    if not isinstance(duty_areas, list):
        err("competencies", index, "duty_areas", _l("Must be a list."))
        return
    for code in duty_areas:
        if not isinstance(code, str) or code not in areas:
            err("competencies", index, "duty_areas", _l("Unknown duty area %(code)s.", code=code))


def _validate_levels(comp, index, err) -> None:
    descriptors = comp.get("descriptors") or {}
    if not isinstance(descriptors, dict) or any(int_or_none(k) not in LEVELS or not isinstance(v, dict) for k, v in descriptors.items()):
        err("competencies", index, "descriptors", _l("Descriptors are keyed by level 1 to 5, each with zh and en."))
    targets = comp.get("targets") or {}
    if not isinstance(targets, dict):
        err("competencies", index, "targets", _l("Targets map each grade to a level."))
        return
    for grade, level in targets.items():
        if grade not in GRADES:
            err("competencies", index, "targets",
                _l("Unknown grade %(value)s: use trainee, junior, intermediate or senior.", value=grade))
        elif int_or_none(level) not in LEVELS:
            err("competencies", index, "targets", _l("The target for %(grade)s must be a level from 1 to 5.", grade=grade))


def create_draft(data: dict, position: Position, actor=None, source: str = "") -> ModelVersion:
    """A new draft version of the position built from validated data (inside the caller's unit of work)."""
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
            descriptors=[Descriptor(level=int_or_none(k), text_zh=str(v.get("zh") or ""), text_en=str(v.get("en") or ""))
                         for k, v in sorted(descriptors.items(), key=lambda kv: int_or_none(kv[0]))],
            targets=[Target(grade=Grade(g), level=int_or_none(level)) for g, level in (item.get("targets") or {}).items()],
        ))
    db.session.add(version)
    db.session.flush()
    audit.record("model.import", "model_version", version.id, actor=actor, position=position.code,
                 number=version.number, file=source)
    return version


@unit_of_work()
def import_file(content: bytes, filename: str, actor=None, position_code: str | None = None) -> ModelVersion:
    """Import a .yaml/.yml or .xlsx model file as a new draft; ImportFailed (nothing written) on any error.
    Unit of work."""
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        data, where = read_yaml(safe_files.decode_text(content))
    elif name.endswith(".xlsx"):
        data, where = read_xlsx(content)
    else:
        raise ImportFailed([RowError(0, "", _l("Use a .yaml or .xlsx file."))])
    if position_code:
        data["position"] = position_code
    errors, position = validate(data, where)
    if errors:
        raise ImportFailed(errors)
    return create_draft(data, position, actor=actor, source=filename)
