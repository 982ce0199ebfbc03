"""Competency model versions: reading them, the publish rules, publishing, retiring, copying and deleting.

Published and retired versions are read-only: every change goes through `editable`, which refuses them.
Each change is a unit of work and is audited.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...errors import DomainError
from ...extensions import db
from ...models import (
    LEVELS,
    Category,
    Cluster,
    Competency,
    Descriptor,
    DutyArea,
    Grade,
    ModelVersion,
    Position,
    Target,
    VersionStatus,
)
from ...timeutil import utcnow
from .. import audit
from ..unit_of_work import unit_of_work

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


def published_codes() -> set[str]:
    """The competency codes of the published model versions, of every position: the codes a course may develop."""
    return set(db.session.scalars(select(Competency.code).join(ModelVersion, Competency.version_id == ModelVersion.id)
                                  .where(ModelVersion.status == VersionStatus.PUBLISHED).distinct()))


def published_competencies() -> list:
    """The competencies of the published model versions, once per code (named as in the first position's version,
    by position code), K, then S, then A, each in the model's order: rows of (code, category, name_zh, name_en). What
    the competency pickers offer; their codes are `published_codes()`."""
    rows = db.session.execute(
        select(Competency.code, Competency.category, Competency.name_zh, Competency.name_en)
        .join(ModelVersion, Competency.version_id == ModelVersion.id).join(Position, ModelVersion.position_id == Position.id)
        .where(ModelVersion.status == VersionStatus.PUBLISHED).order_by(Position.code, Competency.order, Competency.code)).all()
    first: dict = {}
    for row in rows:
        first.setdefault(row.code, row)
    order = list(Category)
    return sorted(first.values(), key=lambda row: order.index(row.category))


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
                problems.append(str(_l(
                    "%(code)s: the target for %(grade)s (%(level)s) is below the target for %(lower)s (%(lower_level)s).",
                                       code=comp.code, grade=grade.value, level=level, lower=previous[0].value, lower_level=previous[1])))
            previous = (grade, level)
        if comp.weight is None or comp.weight <= 0:
            problems.append(str(_l("%(code)s: the weight must be positive.", code=comp.code)))
    return problems


def editable(version: ModelVersion) -> ModelVersion:
    if not version.is_draft:
        raise ReadOnlyVersion(_l("Version %(number)s is %(status)s and cannot be changed; make a new version instead.",
                                 number=version.number, status=version.status.value))
    return version


@unit_of_work()
def publish(version: ModelVersion, actor=None) -> ModelVersion:
    """Publish a draft (retiring the position's published version); DomainError lists the problems. Unit of work."""
    editable(version)
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
    return version


class PublishRefused(DomainError):
    """Publishing was refused; `problems` names each failed rule."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(_l("The version cannot be published yet: %(n)s problem(s).", n=len(problems)))


@unit_of_work()
def retire(version: ModelVersion, actor=None) -> None:
    """Retire a published version (the position then has none published). Unit of work."""
    if not version.is_published:
        raise DomainError(_l("Only a published version can be retired."))
    version.status, version.retired_at = VersionStatus.RETIRED, utcnow()
    audit.record("model.retire", "model_version", version.id, actor=actor)


# --- versions ------------------------------------------------------------------------------------


def next_number(position_id: int) -> int:
    return (db.session.scalar(select(func.max(ModelVersion.number)).where(ModelVersion.position_id == position_id)) or 0) + 1


@unit_of_work()
def new_version(source: ModelVersion, actor=None) -> ModelVersion:
    """Copy a version (every part) into a new draft of the same position. Unit of work."""
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
    return draft


@unit_of_work()
def delete_draft(version: ModelVersion, actor=None) -> None:
    """Throw away a draft. Unit of work."""
    editable(version)
    audit.record("model.delete_draft", "model_version", version.id, actor=actor, number=version.number)
    db.session.delete(version)
