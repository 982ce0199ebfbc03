"""The KSA competency model: versions per position, duty areas, clusters, competencies, descriptors, targets."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import Category, Grade, VersionStatus, enum_column

competency_duty_area = Table(
    "competency_duty_area",
    db.metadata,
    Column("competency_id", Integer, ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True),
    Column("duty_area_id", Integer, ForeignKey("duty_area.id", ondelete="CASCADE"), primary_key=True),
)


class ModelVersion(db.Model):
    """One version of a position's competency model: draft → published → retired."""

    __tablename__ = "model_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(enum_column(VersionStatus, "version_status"), default=VersionStatus.DRAFT)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)

    position: Mapped["Position"] = relationship()  # noqa: F821
    duty_areas: Mapped[list["DutyArea"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="DutyArea.order, DutyArea.code"
    )
    clusters: Mapped[list["Cluster"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Cluster.order, Cluster.code"
    )
    competencies: Mapped[list["Competency"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Competency.order, Competency.code"
    )

    __table_args__ = (
        UniqueConstraint("position_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        Index(
            "uq_model_version_one_published", "position_id", unique=True,
            sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'"),
        ),
    )

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class DutyArea(db.Model):
    __tablename__ = "duty_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    tasks_zh: Mapped[list] = mapped_column(db.JSON, default=list)
    tasks_en: Mapped[list] = mapped_column(db.JSON, default=list)
    order: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[ModelVersion] = relationship(back_populates="duty_areas")

    __table_args__ = (UniqueConstraint("version_id", "code"),)


class Cluster(db.Model):
    """A group of competencies inside a category (A has general and position-specific abilities)."""

    __tablename__ = "competency_cluster"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    order: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[ModelVersion] = relationship(back_populates="clusters")

    __table_args__ = (UniqueConstraint("version_id", "code"),)


class Competency(db.Model):
    __tablename__ = "competency"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    category: Mapped[Category] = mapped_column(enum_column(Category, "category"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("competency_cluster.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    order: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[ModelVersion] = relationship(back_populates="competencies")
    cluster: Mapped[Cluster] = relationship()
    duty_areas: Mapped[list[DutyArea]] = relationship(secondary=competency_duty_area, order_by="DutyArea.order, DutyArea.code")
    descriptors: Mapped[list["Descriptor"]] = relationship(
        back_populates="competency", cascade="all, delete-orphan", order_by="Descriptor.level"
    )
    targets: Mapped[list["Target"]] = relationship(back_populates="competency", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    def descriptor(self, level: int) -> "Descriptor | None":
        """The descriptor of that level, if written."""
        return next((d for d in self.descriptors if d.level == level), None)

    def target(self, grade: Grade | str | None) -> int | None:
        """The required level for that grade, if set."""
        if grade is None:
            return None
        return next((t.level for t in self.targets if t.grade == Grade(grade)), None)


class Descriptor(db.Model):
    """What a person at one proficiency level of a competency observably does."""

    __tablename__ = "descriptor"

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    text_zh: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")

    competency: Mapped[Competency] = relationship(back_populates="descriptors")

    __table_args__ = (
        UniqueConstraint("competency_id", "level"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )


class Target(db.Model):
    """The level a grade requires on a competency."""

    __tablename__ = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id", ondelete="CASCADE"))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    level: Mapped[int] = mapped_column(Integer)

    competency: Mapped[Competency] = relationship(back_populates="targets")

    __table_args__ = (
        UniqueConstraint("competency_id", "grade"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )


_MODEL_PARTS = (DutyArea, Cluster, Competency, Descriptor, Target)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_frozen_versions(session, flush_context, instances):
    """Second line of defence behind the service layer: parts of a published or retired version never change.

    Runs before every flush, so it stays linear in the session's size: each pending object is tested for being a
    model part before anything else, and `session.dirty` (rebuilt on each access) is read once."""
    new = session.new
    changed = [obj for obj in session.dirty if isinstance(obj, _MODEL_PARTS) and session.is_modified(obj)]
    changed += [obj for obj in (*new, *session.deleted) if isinstance(obj, _MODEL_PARTS)]
    for obj in changed:
        version = _version_of(obj)
        # a version inserted in this same flush (an import publishing at once) may still be filled in
        if version is not None and version.status != VersionStatus.DRAFT and version not in new:
            from ..errors import DomainError

            raise DomainError(f"version {version.number} is {version.status.value}: its model cannot change")


def _version_of(obj):
    if isinstance(obj, (DutyArea, Cluster, Competency)):
        return obj.version
    if isinstance(obj, (Descriptor, Target)):
        return obj.competency.version if obj.competency is not None else None
    return None

