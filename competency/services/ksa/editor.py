"""The draft editor: competencies with their descriptors and targets, duty areas, the targets table, the name.
Only drafts change (`versions.editable`); each change is a unit of work and is audited."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from ...errors import DomainError
from ...extensions import db
from ...models import LEVELS, Competency, Descriptor, DutyArea, Grade, ModelVersion, Target
from .. import audit
from ..unit_of_work import unit_of_work
from .versions import editable


def parse_weight(value) -> Decimal:
    """A positive weight; DomainError otherwise."""
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("The weight must be a number.")) from None
    if not weight.is_finite() or weight < Decimal("0.005"):  # stored with two decimals: it must not round to 0.00
        raise DomainError(_l("The weight must be positive."))
    return weight


@unit_of_work()
def save_competency(version: ModelVersion, values: dict, competency: Competency | None = None, actor=None) -> Competency:
    """Create or update a competency with its descriptors, targets and duty areas. Unit of work.

    values: code, cluster_id, name_zh/en, description_zh/en, weight, duty_area_ids,
    descriptors {level: (zh, en)}, targets {grade: level or None}.
    """
    editable(version)
    code = values["code"].strip()
    clash = next((c for c in version.competencies if c.code == code and c is not competency), None)
    if clash is not None:
        raise DomainError(_l("Another competency in this version already has the code %(code)s.", code=code))
    cluster = next((c for c in version.clusters if c.id == values["cluster_id"]), None)
    if cluster is None:
        raise DomainError(_l("Choose a cluster of this version."))
    weight = parse_weight(values["weight"])
    creating = competency is None
    if creating:
        competency = Competency(version=version, order=max((c.order for c in version.competencies), default=0) + 1)
        db.session.add(competency)
    competency.code, competency.cluster, competency.category = code, cluster, cluster.category
    for field in ("name_zh", "name_en", "description_zh", "description_en"):
        setattr(competency, field, (values.get(field) or "").strip())
    competency.weight = weight
    competency.duty_areas = [a for a in version.duty_areas if a.id in set(values.get("duty_area_ids") or [])]
    _set_descriptors(competency, values.get("descriptors") or {})
    _set_targets(competency, values.get("targets") or {})
    db.session.flush()
    audit.record("model.competency_create" if creating else "model.competency_update", "competency", competency.id,
                 actor=actor, version=version.id, code=code)
    return competency


def _set_descriptors(competency: Competency, texts: dict) -> None:
    existing = {d.level: d for d in competency.descriptors}
    for level in LEVELS:
        zh, en = texts.get(level, ("", ""))
        if level in existing:
            existing[level].text_zh, existing[level].text_en = zh.strip(), en.strip()
        else:
            competency.descriptors.append(Descriptor(level=level, text_zh=zh.strip(), text_en=en.strip()))


def _set_targets(competency: Competency, levels: dict) -> None:
    existing = {t.grade: t for t in competency.targets}
    for grade in Grade:
        level = levels.get(grade)
        if level is None:
            if grade in existing:
                competency.targets.remove(existing[grade])
            continue
        if int(level) not in LEVELS:
            raise DomainError(_l("Target levels run from 1 to 5."))
        if grade in existing:
            existing[grade].level = int(level)
        else:
            competency.targets.append(Target(grade=grade, level=int(level)))


@unit_of_work()
def remove_competency(competency: Competency, actor=None) -> None:
    """Delete a competency from a draft. Unit of work."""
    version = editable(competency.version)
    audit.record("model.competency_remove", "competency", competency.id, actor=actor, version=version.id, code=competency.code)
    version.competencies.remove(competency)


@unit_of_work()
def move_competency(competency: Competency, step: int, actor=None) -> None:
    """Move a competency up (-1) or down (+1) within its cluster. Unit of work."""
    version = editable(competency.version)
    siblings = [c for c in version.competencies if c.cluster_id == competency.cluster_id]
    index = siblings.index(competency)
    other = index + step
    if 0 <= other < len(siblings):
        ordered = sorted(version.competencies, key=lambda c: (c.order, c.code))
        for position, comp in enumerate(ordered, start=1):
            comp.order = position
        competency.order, siblings[other].order = siblings[other].order, competency.order
        audit.record("model.competency_move", "competency", competency.id, actor=actor, version=version.id, step=step)


@unit_of_work()
def save_duty_area(version: ModelVersion, values: dict, area: DutyArea | None = None, actor=None) -> DutyArea:
    """Create or update a duty area (code, names, tasks as lists). Unit of work."""
    editable(version)
    code = values["code"].strip()
    if any(a.code == code and a is not area for a in version.duty_areas):
        raise DomainError(_l("Another duty area in this version already has the code %(code)s.", code=code))
    creating = area is None
    if creating:
        area = DutyArea(version=version, order=max((a.order for a in version.duty_areas), default=0) + 1)
        db.session.add(area)
    area.code, area.name_zh, area.name_en = code, values["name_zh"].strip(), values["name_en"].strip()
    area.tasks_zh, area.tasks_en = list(values.get("tasks_zh") or []), list(values.get("tasks_en") or [])
    db.session.flush()
    audit.record("model.duty_area_create" if creating else "model.duty_area_update", "duty_area", area.id,
                 actor=actor, version=version.id, code=code)
    return area


@unit_of_work()
def remove_duty_area(area: DutyArea, actor=None) -> None:
    """Delete a duty area from a draft (competencies stop referring to it). Unit of work."""
    version = editable(area.version)
    for comp in version.competencies:
        if area in comp.duty_areas:
            comp.duty_areas.remove(area)
    audit.record("model.duty_area_remove", "duty_area", area.id, actor=actor, version=version.id, code=area.code)
    version.duty_areas.remove(area)


@unit_of_work()
def save_targets(version: ModelVersion, table: dict, actor=None) -> None:
    """Set the whole targets table {competency_id: {grade: level}} of a draft. Unit of work."""
    editable(version)
    for comp in version.competencies:
        if comp.id in table:
            _set_targets(comp, table[comp.id])
    audit.record("model.targets_update", "model_version", version.id, actor=actor)


@unit_of_work()
def rename_version(version: ModelVersion, name_zh: str, name_en: str, actor=None) -> None:
    """Rename a draft. Unit of work."""
    editable(version)
    version.name_zh, version.name_en = name_zh.strip(), name_en.strip()
    audit.record("model.rename", "model_version", version.id, actor=actor)
