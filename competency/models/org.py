"""The organisation: org units, positions, employees and their grade history."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import EmployeeStatus, Grade, OrgUnitKind, enum_column


class OrgUnit(db.Model):
    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[OrgUnitKind] = mapped_column(enum_column(OrgUnitKind, "org_unit_kind"))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["OrgUnit"]] = relationship(back_populates="parent", order_by="OrgUnit.code")

    __table_args__ = (CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),)


class Position(db.Model):
    __tablename__ = "position"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    sales_unit: Mapped[str] = mapped_column(String(20), default="万元", server_default="万元")


class Employee(db.Model):
    __tablename__ = "employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"), index=True)
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    hire_date: Mapped[date] = mapped_column(Date)
    probation_end: Mapped[date] = mapped_column(Date)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    status: Mapped[EmployeeStatus] = mapped_column(enum_column(EmployeeStatus, "employee_status"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    org_unit: Mapped[OrgUnit] = relationship()
    position: Mapped[Position] = relationship()
    supervisor: Mapped["Employee | None"] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list["Employee"]] = relationship(back_populates="supervisor", order_by="Employee.staff_no")
    grade_history: Mapped[list["GradeHistory"]] = relationship(
        back_populates="employee", order_by="GradeHistory.effective_date.desc(), GradeHistory.id.desc()"
    )

    __table_args__ = (
        CheckConstraint("supervisor_id IS NULL OR supervisor_id <> id", name="not_own_supervisor"),
        CheckConstraint("probation_end >= hire_date", name="probation_after_hire"),
        # The person pickers find people by their name's first characters, and by part of it reading these alone
        # (services/people.py): with the status, which a picker's search also asks for.
        Index("ix_employee_name_zh", "name_zh", "status"),
        Index("ix_employee_name_en", "name_en", "status"),
    )

    @property
    def is_trainee(self) -> bool:
        return self.grade == Grade.TRAINEE


class GradeHistory(db.Model):
    """A change of grade (and, for a transfer, of status) taking effect on its effective date.

    A change dated in the future is scheduled: `applied_at` stays empty and the employee keeps the old grade until
    it is applied on its date; a later decision supersedes it. `reason_code` says where the change came from
    (rendered translated); `reason` is the free text a person gave."""

    __tablename__ = "grade_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    from_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, "from_grade"))
    to_grade: Mapped[Grade] = mapped_column(enum_column(Grade, "to_grade"))
    from_status: Mapped[EmployeeStatus | None] = mapped_column(enum_column(EmployeeStatus, "from_status"))
    to_status: Mapped[EmployeeStatus | None] = mapped_column(enum_column(EmployeeStatus, "to_status"))
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A scheduled change that a later decision replaced before it took effect: never applied.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_data: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def is_scheduled(self) -> bool:
        """Decided, not yet in effect, and not replaced by a later decision."""
        return self.applied_at is None and self.superseded_at is None

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None

    employee: Mapped[Employee] = relationship(back_populates="grade_history")
    approved_by: Mapped["User | None"] = relationship()  # noqa: F821
