"""Annual grade review: standards, sales, probation confirmations, settings, review runs and recommendations."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import Decision, Grade, ReviewAction, RunStatus, enum_column


class Setting(db.Model):
    """A setting hr or admin can change at run time (e.g. the probation length)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class GradeStandard(db.Model):
    """What a grade requires in a position: sales, overall score, credits (for promotion), a certification."""

    __tablename__ = "grade_standard"

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    min_sales: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    min_score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    min_credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    certification: Mapped[str | None] = mapped_column(String(120))

    position: Mapped["Position"] = relationship()  # noqa: F821

    __table_args__ = (
        UniqueConstraint("position_id", "grade"),
        CheckConstraint("grade <> 'trainee'", name="not_trainee"),
        CheckConstraint("min_sales >= 0 AND min_score >= 0 AND min_score <= 100 AND min_credits >= 0", name="ranges"),
    )


class AnnualSales(db.Model):
    __tablename__ = "annual_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    employee: Mapped["Employee"] = relationship()  # noqa: F821

    __table_args__ = (UniqueConstraint("employee_id", "year"), CheckConstraint("amount >= 0", name="amount_not_negative"))


class ProbationConfirmation(db.Model):
    """The supervisor's word on a trainee at the end of probation: qualified (合格) or not."""

    __tablename__ = "probation_confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), unique=True)
    qualified: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    confirmed_on: Mapped[date] = mapped_column(Date)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    employee: Mapped["Employee"] = relationship()  # noqa: F821
    confirmed_by: Mapped["User | None"] = relationship()  # noqa: F821


class ReviewRun(db.Model):
    """The annual review of one performance year: a draft until hr finalises it."""

    __tablename__ = "review_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "run_status"), default=RunStatus.DRAFT)
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    effective_date: Mapped[date | None] = mapped_column(Date)
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # What the last re-run of the draft changed: [{staff_no, before: {...}, after: {...}}], shown to hr.
    rerun_changes: Mapped[list | None] = mapped_column(JSON)
    # The last day the people reviewed may acknowledge or appeal their grade decision (set when finalised).
    respond_by: Mapped[date | None] = mapped_column(Date)

    @property
    def is_draft(self) -> bool:
        return self.status == RunStatus.DRAFT

    @property
    def is_finalised(self) -> bool:
        return self.status == RunStatus.FINALISED


class Recommendation(db.Model):
    """One person's recommended grade and action, with the explanation of every criterion."""

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("review_run.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    current_grade: Mapped[Grade] = mapped_column(enum_column(Grade, "current_grade"))
    recommended_grade: Mapped[Grade] = mapped_column(enum_column(Grade, "recommended_grade"))
    action: Mapped[ReviewAction] = mapped_column(enum_column(ReviewAction, "review_action"), index=True)
    below_junior: Mapped[bool] = mapped_column(Boolean, default=False)
    # The year's sales or completed assessment is missing: referred to hr, never demoted or transferred.
    data_missing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    explanation: Mapped[dict] = mapped_column(JSON)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "decision"), default=Decision.PENDING)
    final_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, "final_grade"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    run: Mapped[ReviewRun] = relationship()
    employee: Mapped["Employee"] = relationship()  # noqa: F821

    __table_args__ = (UniqueConstraint("run_id", "employee_id"),)

    @property
    def is_overridden(self) -> bool:
        return self.decision == Decision.OVERRIDDEN

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING

    @property
    def final(self) -> Grade:
        """The grade the decision gives: hr's override, else the recommended grade."""
        return self.final_grade if self.is_overridden and self.final_grade else self.recommended_grade
