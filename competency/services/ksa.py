"""The competency model: versions, the draft editor's operations, publish rules. Each change is audited.

Published and retired versions are read-only: every change goes through `_editable`, which refuses them.
"""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..errors import DomainError
from ..extensions import db
from ..models import (
    LEVELS, Category, Cluster, Competency, Descriptor, DutyArea, Grade, ModelVersion, Position, Target,
    VersionStatus,
)
from ..timeutil import utcnow
from . import audit

SCALE = {
    1: (_l("Aware"), "了解"),
    2: (_l("Basic"), "基础"),
    3: (_l("Proficient"), "熟练"),
    4: (_l("Advanced"), "精通"),
    5: (_l("Expert"), "专家"),
}


class ReadOnlyVersion(DomainError):
    """A published or retired version cannot change."""


# --- reading -------------------------------------------------------------------------------------


def versions_by_position() -> list[tuple[Position, list[ModelVersion]]]:
    """Every position with its model versions, newest first."""
    positions = db.session.scalars(select(Position).order_by(Position.code)).all()
    versions = db.session.scalars(select(ModelVersion).order_by(ModelVersion.number.desc())).all()
    by_position: dict[int, list[ModelVersion]] = {}
    for version in versions:
        by_position.setdefault(version.position_id, []).append(version)
    return [(p, by_position.get(p.id, [])) for p in positions]


def published_version(position_id: int) -> ModelVersion | None:
    """The position's published version, if any."""
    return db.session.scalar(
        select(ModelVersion).where(ModelVersion.position_id == position_id, ModelVersion.status == VersionStatus.PUBLISHED)
    )


def version_for_export(position_code: str, number: int | None = None) -> ModelVersion:
    """The version to export: the numbered one, else the published one, else the latest."""
    position = db.session.scalar(select(Position).where(Position.code == position_code))
    if position is None:
        raise DomainError(_l("Unknown position %(code)s.", code=position_code))
    query = select(ModelVersion).where(ModelVersion.position_id == position.id)
    if number is not None:
        version = db.session.scalar(query.where(ModelVersion.number == number))
    else:
        version = published_version(position.id) or db.session.scalar(query.order_by(ModelVersion.number.desc()).limit(1))
    if version is None:
        raise DomainError(_l("Position %(code)s has no such model version.", code=position_code))
    return version


def grouped(version: ModelVersion) -> list[tuple[Category, list[tuple[Cluster, list[Competency]]]]]:
    """Competencies grouped by category (K, S, A) and cluster, in order."""
    result = []
    for category in Category:
        clusters = [c for c in version.clusters if c.category == category]
        groups = [(c, [k for k in version.competencies if k.cluster_id == c.id]) for c in clusters]
        groups = [g for g in groups if g[1]]
        if groups:
            result.append((category, groups))
    return result


# --- publish rules -------------------------------------------------------------------------------


def publish_problems(version: ModelVersion) -> list[str]:
    """Everything that keeps a version from being published, each named (empty when it may be)."""
    with db.session.no_autoflush:
        return _problems(version)


def _problems(version: ModelVersion) -> list[str]:
    problems: list[str] = []
    if not version.competencies:
        problems.append(str(_l("The model has no competencies.")))
    for comp in version.competencies:
        for level in LEVELS:
            descriptor = comp.descriptor(level)
            for lang, text in (("zh", descriptor.text_zh if descriptor else ""), ("en", descriptor.text_en if descriptor else "")):
                if not (text or "").strip():
                    problems.append(str(_l("%(code)s: the level %(level)s descriptor in %(lang)s is missing.",
                                           code=comp.code, level=level, lang=lang)))
        previous = None
        for grade in Grade:
            level = comp.target(grade)
            if level is None:
                problems.append(str(_l("%(code)s: no target for grade %(grade)s.", code=comp.code, grade=grade.value)))
                continue
            if previous is not None and level < previous[1]:
                problems.append(str(_l("%(code)s: the target for %(grade)s (%(level)s) is below the target for %(lower)s (%(lower_level)s).",
                                       code=comp.code, grade=grade.value, level=level, lower=previous[0].value, lower_level=previous[1])))
            previous = (grade, level)
        if comp.weight is None or comp.weight <= 0:
            problems.append(str(_l("%(code)s: the weight must be positive.", code=comp.code)))
    return problems


def _editable(version: ModelVersion) -> ModelVersion:
    if version.status != VersionStatus.DRAFT:
        raise ReadOnlyVersion(_l("Version %(number)s is %(status)s and cannot be changed; make a new version instead.",
                                 number=version.number, status=version.status.value))
    return version


def publish(version: ModelVersion, actor=None) -> ModelVersion:
    """Publish a draft (retiring the position's published version); DomainError lists the problems. Commits."""
    _editable(version)
    problems = publish_problems(version)
    if problems:
        raise PublishRefused(problems)
    current = published_version(version.position_id)
    now = utcnow()
    if current is not None:
        current.status, current.retired_at = VersionStatus.RETIRED, now
        audit.record("model.retire", "model_version", current.id, actor=actor, reason="superseded", by=version.id)
        db.session.flush()
    version.status, version.published_at = VersionStatus.PUBLISHED, now
    audit.record("model.publish", "model_version", version.id, actor=actor, position=version.position.code, number=version.number)
    db.session.commit()
    return version


class PublishRefused(DomainError):
    """Publishing was refused; `problems` names each failed rule."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(_l("The version cannot be published yet: %(n)s problem(s).", n=len(problems)))


def retire(version: ModelVersion, actor=None) -> None:
    """Retire a published version (the position then has none published). Commits."""
    if version.status != VersionStatus.PUBLISHED:
        raise DomainError(_l("Only a published version can be retired."))
    version.status, version.retired_at = VersionStatus.RETIRED, utcnow()
    audit.record("model.retire", "model_version", version.id, actor=actor)
    db.session.commit()


# --- versions ------------------------------------------------------------------------------------


def next_number(position_id: int) -> int:
    return (db.session.scalar(select(func.max(ModelVersion.number)).where(ModelVersion.position_id == position_id)) or 0) + 1


def new_version(source: ModelVersion, actor=None) -> ModelVersion:
    """Copy a version (every part) into a new draft of the same position. Commits."""
    draft = ModelVersion(position=source.position, number=next_number(source.position_id), name_zh=source.name_zh,
                         name_en=source.name_en, based_on_id=source.id)
    areas = {}
    for area in source.duty_areas:
        areas[area.id] = DutyArea(code=area.code, name_zh=area.name_zh, name_en=area.name_en,
                                  tasks_zh=list(area.tasks_zh), tasks_en=list(area.tasks_en), order=area.order)
        draft.duty_areas.append(areas[area.id])
    clusters = {}
    for cluster in source.clusters:
        clusters[cluster.id] = Cluster(code=cluster.code, category=cluster.category, name_zh=cluster.name_zh,
                                       name_en=cluster.name_en, order=cluster.order)
        draft.clusters.append(clusters[cluster.id])
    for comp in source.competencies:
        draft.competencies.append(Competency(
            code=comp.code, category=comp.category, cluster=clusters[comp.cluster_id], name_zh=comp.name_zh,
            name_en=comp.name_en, description_zh=comp.description_zh, description_en=comp.description_en,
            weight=comp.weight, order=comp.order, duty_areas=[areas[a.id] for a in comp.duty_areas],
            descriptors=[Descriptor(level=d.level, text_zh=d.text_zh, text_en=d.text_en) for d in comp.descriptors],
            targets=[Target(grade=t.grade, level=t.level) for t in comp.targets],
        ))
    db.session.add(draft)
    db.session.flush()
    audit.record("model.new_version", "model_version", draft.id, actor=actor, based_on=source.id, number=draft.number)
    db.session.commit()
    return draft


def delete_draft(version: ModelVersion, actor=None) -> None:
    """Throw away a draft. Commits."""
    _editable(version)
    audit.record("model.delete_draft", "model_version", version.id, actor=actor, number=version.number)
    db.session.delete(version)
    db.session.commit()


# --- editing a draft -----------------------------------------------------------------------------


def parse_weight(value) -> Decimal:
    """A positive weight; DomainError otherwise."""
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("The weight must be a number.")) from None
    if not weight.is_finite() or weight <= 0:
        raise DomainError(_l("The weight must be positive."))
    return weight


def save_competency(version: ModelVersion, values: dict, competency: Competency | None = None, actor=None) -> Competency:
    """Create or update a competency with its descriptors, targets and duty areas. Commits.

    values: code, cluster_id, name_zh/en, description_zh/en, weight, duty_area_ids,
    descriptors {level: (zh, en)}, targets {grade: level or None}.
    """
    _editable(version)
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
    db.session.commit()
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


def remove_competency(competency: Competency, actor=None) -> None:
    """Delete a competency from a draft. Commits."""
    version = _editable(competency.version)
    audit.record("model.competency_remove", "competency", competency.id, actor=actor, version=version.id, code=competency.code)
    version.competencies.remove(competency)
    db.session.commit()


def move_competency(competency: Competency, step: int, actor=None) -> None:
    """Move a competency up (-1) or down (+1) within its cluster. Commits."""
    version = _editable(competency.version)
    siblings = [c for c in version.competencies if c.cluster_id == competency.cluster_id]
    index = siblings.index(competency)
    other = index + step
    if 0 <= other < len(siblings):
        ordered = sorted(version.competencies, key=lambda c: (c.order, c.code))
        for position, comp in enumerate(ordered, start=1):
            comp.order = position
        competency.order, siblings[other].order = siblings[other].order, competency.order
        audit.record("model.competency_move", "competency", competency.id, actor=actor, version=version.id, step=step)
        db.session.commit()


def save_duty_area(version: ModelVersion, values: dict, area: DutyArea | None = None, actor=None) -> DutyArea:
    """Create or update a duty area (code, names, tasks as lists). Commits."""
    _editable(version)
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
    db.session.commit()
    return area


def remove_duty_area(area: DutyArea, actor=None) -> None:
    """Delete a duty area from a draft (competencies stop referring to it). Commits."""
    version = _editable(area.version)
    for comp in version.competencies:
        if area in comp.duty_areas:
            comp.duty_areas.remove(area)
    audit.record("model.duty_area_remove", "duty_area", area.id, actor=actor, version=version.id, code=area.code)
    version.duty_areas.remove(area)
    db.session.commit()


def save_targets(version: ModelVersion, table: dict, actor=None) -> None:
    """Set the whole targets table {competency_id: {grade: level}} of a draft. Commits."""
    _editable(version)
    for comp in version.competencies:
        if comp.id in table:
            _set_targets(comp, table[comp.id])
    audit.record("model.targets_update", "model_version", version.id, actor=actor)
    db.session.commit()


def rename_version(version: ModelVersion, name_zh: str, name_en: str, actor=None) -> None:
    """Rename a draft. Commits."""
    _editable(version)
    version.name_zh, version.name_en = name_zh.strip(), name_en.strip()
    audit.record("model.rename", "model_version", version.id, actor=actor)
    db.session.commit()
