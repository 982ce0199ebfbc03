"""Assessment results stored when they are final, for reading: one row per completed assessment and competency,
and their sums per (cycle, org unit, position, grade, competency) — what every chart and export reads, so that no
request aggregates raw ratings. Written by `services.assessments.stored`, which keeps both current."""
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .enums import Grade, enum_column

# The cycle key of the "latest completed assessment per person" sums (cycle ids start at 1).
LATEST = 0
# The result row columns a chart reads, besides the person and the cycle.
CHART_COLUMNS = ("competency_code", "combined", "target", "gap")


class ResultRow(db.Model):
    """A completed assessment's result on one competency: the raters' levels, the combined level, the target of the
    assessed grade and the gap. The unit, position and grade are the person's when assessed. `is_latest` marks the
    rows of each person's most recent completed assessment (by cycle end) while they have not left."""

    __tablename__ = "result_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(Integer)
    cycle_id: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(Integer)
    position_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    competency_id: Mapped[int] = mapped_column(Integer)
    competency_code: Mapped[str] = mapped_column(String(32))
    self_level: Mapped[int | None] = mapped_column(Integer)
    supervisor_level: Mapped[int] = mapped_column(Integer)
    combined: Mapped[float] = mapped_column(Float)
    target: Mapped[int | None] = mapped_column(Integer)
    gap: Mapped[float | None] = mapped_column(Float)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=False)

    # Charts read a team's rows by person, with their latest or one cycle's: the indexes also hold the columns the
    # charts read, so that thousands of people's rows come from the index alone, not from the table (on PostgreSQL a
    # parallel scan of all of it). Key columns rather than INCLUDE, which SQLite does not have.
    __table_args__ = (
        UniqueConstraint("assessment_id", "competency_id"),
        Index("ix_result_row_cycle_employee", "cycle_id", "employee_id", *CHART_COLUMNS),
        Index("ix_result_row_employee_latest", "employee_id", "is_latest", *CHART_COLUMNS),
    )


class ResultAggregate(db.Model):
    """Sums of the result rows of one cycle (or, with cycle_key LATEST, of everyone's latest) per org unit,
    position, grade and competency: people, the sum of combined levels, and over those with a target, their number,
    the sum of targets and the sum of gaps. Units are leaves here; charts roll them up the tree."""

    __tablename__ = "result_aggregate"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_key: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(Integer)
    position_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    competency_code: Mapped[str] = mapped_column(String(32))
    people: Mapped[int] = mapped_column(Integer, default=0)
    combined_sum: Mapped[float] = mapped_column(Float, default=0.0)
    target_people: Mapped[int] = mapped_column(Integer, default=0)
    target_sum: Mapped[float] = mapped_column(Float, default=0.0)
    gap_sum: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (UniqueConstraint("cycle_key", "org_unit_id", "position_id", "grade", "competency_code",
                                       name="uq_result_aggregate_key"),)


class RaterSum(db.Model):
    """Per cycle and assessing supervisor, over their completed assessments' result rows: the sum and number of
    the supervisor levels given, and the assessments — what the leniency page compares with the organisation's mean.
    Kept current with the result rows (`services.assessments.raters`)."""

    __tablename__ = "rater_sum"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer)
    supervisor_id: Mapped[int] = mapped_column(Integer)
    level_sum: Mapped[int] = mapped_column(Integer, default=0)
    levels: Mapped[int] = mapped_column(Integer, default=0)
    assessments: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("cycle_id", "supervisor_id", name="uq_rater_sum_key"),)
