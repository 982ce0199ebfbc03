"""The parts of a published model version, read once per process.

A published (or retired) version never changes: editing one makes a new draft version, and the models refuse any
change to its parts (`models.ksa`). So the forms, results and charts of its assessments read its competencies,
clusters, descriptors and targets from plain, frozen copies kept per process, instead of loading about 200 rows on
every request. A draft is never kept: it is copied afresh each time. The key is the version's id with its creation
and publication times, so that a database rebuilt under the same ids (a restore, the test suite) is not served the
copy of another version.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Category, Competency, Grade, ModelVersion, VersionStatus

KEPT = 32  # versions kept per process: a bank has a few positions, each with one published version at a time


@dataclass(frozen=True)
class DescriptorPart:
    level: int
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class ClusterPart:
    id: int
    code: str
    category: Category
    name_zh: str
    name_en: str


@dataclass(frozen=True, eq=False)
class CompetencyPart:
    """A competency of a version as the forms, results and charts read it (same names as the model's)."""

    id: int
    code: str
    category: Category
    cluster_id: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    weight: Decimal
    descriptors: dict[int, DescriptorPart] = field(repr=False)
    targets: dict[Grade, int] = field(repr=False)

    def descriptor(self, level: int) -> DescriptorPart | None:
        """The descriptor of that level, if written."""
        return self.descriptors.get(level)

    def target(self, grade: Grade | str | None) -> int | None:
        """The required level for that grade, if set."""
        return None if grade is None else self.targets.get(Grade(grade))


@dataclass(frozen=True, eq=False)
class ModelParts:
    """A version's competencies in order, its clusters, and the competencies grouped by category and cluster."""

    id: int
    key: tuple
    competencies: tuple[CompetencyPart, ...]
    groups: tuple
    by_id: dict[int, CompetencyPart] = field(repr=False)


_kept: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _key(version: ModelVersion) -> tuple:
    return version.id, version.created_at, version.published_at


def parts_of(version: ModelVersion) -> ModelParts:
    """The version's parts: the copy kept for a published or retired version, a fresh copy of a draft."""
    if version.status == VersionStatus.DRAFT or version.published_at is None:
        return _read(version, _key(version))
    key = _key(version)
    parts = _kept.get(key)
    if parts is None:
        parts = _read(version, key)
        with _lock:
            _kept[key] = parts
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
    return parts


def _read(version: ModelVersion, key: tuple) -> ModelParts:
    """Copy the version's parts out of the database, in three queries (a draft's unsaved changes included)."""
    if version.status == VersionStatus.DRAFT:
        competencies, clusters = version.competencies, version.clusters
    else:
        competencies = db.session.scalars(
            select(Competency).where(Competency.version_id == version.id)
            .options(selectinload(Competency.descriptors), selectinload(Competency.targets))
            .order_by(Competency.order, Competency.code)).all()
        clusters = version.clusters
    comps = tuple(CompetencyPart(
        c.id, c.code, c.category, c.cluster_id, c.name_zh, c.name_en, c.description_zh or "", c.description_en or "",
        c.weight, {d.level: DescriptorPart(d.level, d.text_zh, d.text_en) for d in c.descriptors},
        {t.grade: t.level for t in c.targets}) for c in competencies)
    cluster_parts = [ClusterPart(c.id, c.code, c.category, c.name_zh, c.name_en) for c in clusters]
    groups = []
    for category in Category:
        found = [(cl, [k for k in comps if k.cluster_id == cl.id]) for cl in cluster_parts if cl.category == category]
        found = [(cl, members) for cl, members in found if members]
        if found:
            groups.append((category, found))
    return ModelParts(version.id, key, comps, tuple(groups), {c.id: c for c in comps})
