"""Login accounts and their roles."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .enums import Role, enum_column


class User(UserMixin, db.Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    employee: Mapped["Employee | None"] = relationship()  # noqa: F821
    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> set[Role]:
        """The roles this account holds."""
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the account holds any of the given roles."""
        mine = self.roles
        return any(Role(r) in mine for r in roles)

    @property
    def login_name(self) -> str:
        """What the person types to log in: the staff number, else the email."""
        return self.employee.staff_no if self.employee else (self.email or "")

    @property
    def display_name_zh(self) -> str:
        return self.employee.name_zh if self.employee else (self.email or "")

    @property
    def display_name_en(self) -> str:
        return self.employee.name_en if self.employee else (self.email or "")


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")
