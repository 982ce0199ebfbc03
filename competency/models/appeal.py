"""What an employee says about a result: acknowledgement (确认) or appeal (申诉), for an assessment result or a
grade decision, and hr's resolution of an appeal."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import AppealStatus, Grade, enum_column

ONE_SUBJECT = "(assessment_id IS NULL) <> (recommendation_id IS NULL)"
OPEN = "status = 'open'"


class Acknowledgement(db.Model):
    """The employee has read the result (or grade decision) and accepts it, optionally with a comment."""

    __tablename__ = "acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id", ondelete="CASCADE"), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (CheckConstraint(ONE_SUBJECT, name="one_subject"),)


class Appeal(db.Model):
    """The employee contests a result or a grade decision, with a reason; hr upholds it (with a response), reopens
    the assessment, or changes the grade."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[AppealStatus] = mapped_column(enum_column(AppealStatus, "appeal_status"), default=AppealStatus.OPEN,
                                                 index=True)
    response: Mapped[str] = mapped_column(Text, default="")
    new_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, "new_grade"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    employee: Mapped["Employee"] = relationship()  # noqa: F821
    assessment: Mapped["Assessment | None"] = relationship()  # noqa: F821
    recommendation: Mapped["Recommendation | None"] = relationship()  # noqa: F821
    resolved_by: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        # At most one open appeal per subject, whatever two requests do at once.
        Index("uq_appeal_open_assessment", "assessment_id", unique=True,
              sqlite_where=text(OPEN), postgresql_where=text(OPEN)),
        Index("uq_appeal_open_recommendation", "recommendation_id", unique=True,
              sqlite_where=text(OPEN), postgresql_where=text(OPEN)),
    )

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN

    @property
    def about_grade(self) -> bool:
        """An appeal against a grade decision (else against an assessment result)."""
        return self.recommendation_id is not None
