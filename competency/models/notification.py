"""Notifications: the in-app inbox (one row per recipient and event), the e-mail outbox drained by `flask notify
run`, each person's e-mail choices for the optional kinds, and the single-use password reset links."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

QUEUED, SENT, FAILED = "queued", "sent", "failed"
UNREAD = "read_at IS NULL"


class Notification(db.Model):
    """One event told to one person. The text is not stored: it is written at display time from the kind and the
    params, in the reader's language (services/notifications/kinds.py)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")  # a path of the app, e.g. /assessments/12/review
    # What it is about ("" and 0 when about nothing in particular: the unique key below needs values, not NULLs).
    object_type: Mapped[str] = mapped_column(String(30), default="", server_default=text("''"))
    object_id: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The day it was made for: each kind is told at most once per recipient, object and day (reminders rely on it).
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User"] = relationship()  # noqa: F821

    __table_args__ = (
        Index("uq_notification_once_a_day", "user_id", "kind", "object_type", "object_id", "day", unique=True),
        Index("ix_notification_inbox", "user_id", "id"),  # my inbox, newest first (keyset on id)
        # my unread ones (the bell's count), a small partial index
        Index("ix_notification_unread", "user_id", "id", sqlite_where=text(UNREAD), postgresql_where=text(UNREAD)),
        Index("ix_notification_created_at", "created_at"),  # pruning after 12 months
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxMessage(db.Model):
    """One e-mail to send, written in the recipient's language when it was queued; `flask notify run` claims,
    sends and marks it (retrying a failure with growing waits, then leaving it failed for an administrator)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default=QUEUED, server_default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        CheckConstraint(f"status IN ('{QUEUED}', '{SENT}', '{FAILED}')", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )


class NotificationPreference(db.Model):
    """A person's choice for an optional kind: e-mail on or off (no row: on). Mandatory kinds ignore it."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)


class PasswordReset(db.Model):
    """A "forgot password" link: only the SHA-256 of its token is kept; it works once, for 30 minutes."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User"] = relationship()  # noqa: F821
