"""Login accounts and their roles."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, false, text
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
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped on logout, password change or reset, role change and deactivation: every older session ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # Set by an administrator's reset: the person chooses a new password at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "local" (password kept here, also the break-glass accounts) or "ldap" (the directory checks the password).
    auth_source: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last time step used: a code works once

    employee: Mapped["Employee | None"] = relationship()  # noqa: F821
    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """The session's user id carries the session version, so that bumping it ends every older session."""
        return f"{self.id}.{self.session_version}"

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

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


class RecoveryCode(db.Model):
    """A one-time code that replaces the authenticator once (lost phone); stored hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")

