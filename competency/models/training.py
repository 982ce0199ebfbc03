"""Training: courses, sessions, enrolments, the append-only credit ledger, requirements, mentoring, certifications."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..errors import AppendOnlyViolation
from ..extensions import db
from ..timeutil import utcnow
from .enums import (
    CourseType,
    CreditSource,
    Delivery,
    EnrolmentStatus,
    Grade,
    MentoringStatus,
    TrainingResult,
    enum_column,
)

ACTIVE_ENROLMENT = "status IN ('assigned', 'in_progress')"
ACTIVE_STATUSES = (EnrolmentStatus.ASSIGNED, EnrolmentStatus.IN_PROGRESS)
ACTIVE_PAIRING = "status = 'active'"


class Course(db.Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[CourseType] = mapped_column(enum_column(CourseType, "course_type"))
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery, "delivery"))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    competencies: Mapped[list["CourseCompetency"]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseCompetency.competency_code")
    sessions: Mapped[list["TrainingSession"]] = relationship(back_populates="course", order_by="TrainingSession.starts_at")

    __table_args__ = (
        CheckConstraint("credits >= 0", name="credits_not_negative"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    @property
    def competency_text(self) -> str:
        """The developed competencies as in import files: `S1:3;S2:3`."""
        return ";".join(f"{c.competency_code}:{c.up_to_level}" for c in self.competencies)


class CourseCompetency(db.Model):
    """A competency (by code, across model versions) a course develops, and up to which level."""

    __tablename__ = "course_competency"

    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    competency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    up_to_level: Mapped[int] = mapped_column(Integer)

    course: Mapped[Course] = relationship(back_populates="competencies")

    __table_args__ = (CheckConstraint("up_to_level BETWEEN 1 AND 5", name="level_range"),)


class TrainingSession(db.Model):
    """A dated run of a course; `seats_taken` is kept by the enrolment service under an atomic update."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[bool] = mapped_column(Boolean, default=True)

    course: Mapped[Course] = relationship(back_populates="sessions")
    trainer: Mapped["Employee | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
    )

    @property
    def seats_left(self) -> int:
        """Seats still free."""
        return max(0, self.capacity - self.seats_taken)


class Enrolment(db.Model):
    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_session.id"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus, "enrolment_status"),
                                                    default=EnrolmentStatus.ASSIGNED)
    due_date: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result: Mapped[TrainingResult | None] = mapped_column(enum_column(TrainingResult, "training_result"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    completed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # The completion's id in the e-learning platform that reported it (the API's completions feed): sent again, it
    # records nothing twice.
    external_id: Mapped[str | None] = mapped_column(String(64))

    course: Mapped[Course] = relationship()
    employee: Mapped["Employee"] = relationship()  # noqa: F821
    session: Mapped[TrainingSession | None] = relationship()
    assigned_by: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        Index("uq_enrolment_one_active", "employee_id", "course_id", unique=True,
              sqlite_where=text(ACTIVE_ENROLMENT), postgresql_where=text(ACTIVE_ENROLMENT)),
        Index("uq_enrolment_external_id", "external_id", unique=True),
    )

    @property
    def is_active(self) -> bool:
        """Assigned or in progress: it can still be attended, completed or cancelled."""
        return self.status in ACTIVE_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.status == EnrolmentStatus.COMPLETED

    @property
    def is_self_enrolled(self) -> bool:
        """Taken by the person themself in an open session, not assigned by someone else."""
        return self.assigned_by is not None and self.assigned_by.employee_id == self.employee_id

    @property
    def shows_as_self_enrolled(self) -> bool:
        """Self-enrolled and not started: lists say "self-enrolled" where the status code says `assigned`."""
        return self.status == EnrolmentStatus.ASSIGNED and self.is_self_enrolled

    def is_overdue(self, today: date) -> bool:
        """Active and past its due date."""
        return self.is_active and self.due_date is not None and self.due_date < today


class CreditEntry(db.Model):
    """One line of the append-only credit ledger; a correction is a reversing entry, never an edit."""

    __tablename__ = "credit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    earned_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[CreditSource] = mapped_column(enum_column(CreditSource, "credit_source"))
    reason: Mapped[str] = mapped_column(Text, default="")
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"), index=True)
    mentoring_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("credit_entry.id"), unique=True)
    # the key of the form that added a manual adjustment: the same form sent twice (a double click) adds one line
    request_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    employee: Mapped["Employee"] = relationship()  # noqa: F821
    enrolment: Mapped[Enrolment | None] = relationship()
    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    reverses: Mapped["CreditEntry | None"] = relationship(remote_side=[id])


@event.listens_for(Session, "before_flush")
def _ledger_is_append_only(session, flush_context, instances):
    """Ledger lines are never edited or deleted: a programming error if attempted."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, CreditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation("credit ledger entries cannot be changed or deleted; add a reversing entry")


class CreditRequirement(db.Model):
    """Credits a grade must earn in a year."""

    __tablename__ = "credit_requirement"

    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"), primary_key=True)
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))

    __table_args__ = (CheckConstraint("credits >= 0", name="credits_not_negative"),)


class Mentoring(db.Model):
    """老带新: an experienced manager paired with a new one for a mentoring course."""

    __tablename__ = "mentoring"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    status: Mapped[MentoringStatus] = mapped_column(enum_column(MentoringStatus, "mentoring_status"),
                                                    default=MentoringStatus.ACTIVE)
    started_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    course: Mapped[Course] = relationship()
    mentor: Mapped["Employee"] = relationship(foreign_keys=[mentor_id])  # noqa: F821
    mentee: Mapped["Employee"] = relationship(foreign_keys=[mentee_id])  # noqa: F821

    __table_args__ = (
        CheckConstraint("mentor_id <> mentee_id", name="two_people"),
        # one active pairing of the same two people for the same course: a second would credit them twice
        Index("uq_mentoring_one_active", "mentor_id", "mentee_id", "course_id", unique=True,
              sqlite_where=text(ACTIVE_PAIRING), postgresql_where=text(ACTIVE_PAIRING)),
    )

    @property
    def is_active(self) -> bool:
        return self.status == MentoringStatus.ACTIVE


class Certification(db.Model):
    """资格认证 held by an employee."""

    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str] = mapped_column(String(80), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)

    employee: Mapped["Employee"] = relationship()  # noqa: F821

    __table_args__ = (CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expires_after_issue"),)
