"""Assessment cycles, one assessment per participant, and the raters' ratings."""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import AssessmentStatus, CycleStatus, Grade, Rater, enum_column

SELF_EDITABLE = (AssessmentStatus.NOT_STARTED, AssessmentStatus.SELF_IN_PROGRESS)
SUPERVISOR_EDITABLE = (AssessmentStatus.SELF_SUBMITTED, AssessmentStatus.SUPERVISOR_IN_PROGRESS)


class Cycle(db.Model):
    __tablename__ = "cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    self_deadline: Mapped[date] = mapped_column(Date)
    supervisor_deadline: Mapped[date] = mapped_column(Date)
    self_weight: Mapped[int] = mapped_column(Integer, default=30)
    supervisor_weight: Mapped[int] = mapped_column(Integer, default=70)
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[CycleStatus] = mapped_column(enum_column(CycleStatus, "cycle_status"), default=CycleStatus.DRAFT)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    filter_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    filter_grades: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    version: Mapped["ModelVersion | None"] = relationship()  # noqa: F821
    filter_org_unit: Mapped["OrgUnit | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint("self_weight >= 0 AND supervisor_weight >= 0 AND self_weight + supervisor_weight = 100",
                        name="weights_sum_100"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )

    @property
    def rater_weights(self) -> dict[str, int]:
        return {Rater.SELF.value: self.self_weight, Rater.SUPERVISOR.value: self.supervisor_weight}

    @property
    def has_self_phase(self) -> bool:
        return self.self_weight > 0

    @property
    def is_draft(self) -> bool:
        return self.status == CycleStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status == CycleStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == CycleStatus.CLOSED


class Assessment(db.Model):
    """One participant in one cycle, with grade, supervisor and model snapshotted at opening."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus, "assessment_status"), default=AssessmentStatus.NOT_STARTED, index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    self_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    supervisor_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Snapshot of the 100-point score taken when the assessment completes (cleared on reopen).
    overall_score: Mapped[float | None] = mapped_column(db.Float)
    # Each rater's overall comment: strengths and what to develop.
    self_strengths: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    self_to_develop: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    supervisor_strengths: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    supervisor_to_develop: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    # The last day the person may acknowledge or appeal the result (set when it completes).
    respond_by: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    cycle: Mapped[Cycle] = relationship()
    employee: Mapped["Employee"] = relationship(foreign_keys=[employee_id])  # noqa: F821
    supervisor: Mapped["Employee | None"] = relationship(foreign_keys=[supervisor_id])  # noqa: F821
    version: Mapped["ModelVersion"] = relationship()  # noqa: F821
    ratings: Mapped[list["Rating"]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    reopenings: Mapped[list["Reopening"]] = relationship(back_populates="assessment", cascade="all, delete-orphan",
                                                         order_by="Reopening.id.desc()")

    # A person's completed assessments are found by (person, status): with status alone as the choice, a planner without
    # statistics (SQLite's, until ANALYZE) walked every completed assessment of the bank to find one person's latest.
    __table_args__ = (UniqueConstraint("cycle_id", "employee_id"), Index("ix_assessment_employee_status", "employee_id", "status"))
    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def self_editable(self) -> bool:
        """The employee may still rate themself (the self phase has not been submitted)."""
        return self.status in SELF_EDITABLE

    @property
    def supervisor_editable(self) -> bool:
        """The assessing supervisor's turn: the self phase is submitted and the supervisor has not submitted."""
        return self.status in SUPERVISOR_EDITABLE

    @property
    def self_submitted(self) -> bool:
        """The self phase is over (submitted, or a cycle without one)."""
        return self.status not in SELF_EDITABLE

    @property
    def is_completed(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED

    @property
    def last_reopening(self) -> "Reopening | None":
        return self.reopenings[0] if self.reopenings else None

    def overall_comment(self, rater: Rater) -> tuple[str, str]:
        """(strengths, what to develop) written by the rater."""
        if rater == Rater.SELF:
            return self.self_strengths or "", self.self_to_develop or ""
        return self.supervisor_strengths or "", self.supervisor_to_develop or ""

    @property
    def is_started(self) -> bool:
        """Someone has saved a rating (the state moved past not_started)."""
        return self.status != AssessmentStatus.NOT_STARTED

    @property
    def accepts_ratings(self) -> bool:
        """The cycle is open, or this assessment was reopened (it may be finished after its cycle closed)."""
        return self.cycle.is_open or bool(self.reopenings)

    @property
    def self_rating_open(self) -> bool:
        """The self form accepts ratings now: the self phase, and the cycle open (or the assessment reopened)."""
        return self.self_editable and self.accepts_ratings

    @property
    def supervisor_rating_open(self) -> bool:
        """The supervisor form accepts ratings now: the supervisor phase, and the cycle open (or reopened)."""
        return self.supervisor_editable and self.accepts_ratings


class Rating(db.Model):
    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), index=True)
    rater: Mapped[Rater] = mapped_column(enum_column(Rater, "rater"))
    level: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="ratings")
    competency: Mapped["Competency"] = relationship()  # noqa: F821

    __table_args__ = (
        UniqueConstraint("assessment_id", "competency_id", "rater"),
        CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="level_range"),
    )


class Reopening(db.Model):
    """hr sent an assessment back to a phase, with a reason; the ratings as they were are kept to show what
    changed since."""

    __tablename__ = "reopening"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    phase: Mapped[Rater] = mapped_column(enum_column(Rater, "phase"))
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict] = mapped_column(JSON, default=dict)  # {rater: {competency code: [level, comment]}}
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="reopenings")

    @property
    def to_self_phase(self) -> bool:
        return self.phase == Rater.SELF

