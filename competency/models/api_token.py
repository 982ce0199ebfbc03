"""Personal access tokens of the API: stored hashed, with scopes, an expiry and revocation."""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# What a token may be used for; the account's roles and relationships decide, within these, what it reaches.
SCOPES = ("org:read", "org:write", "sales:write", "training:write", "results:read", "reviews:read", "models:read")


class ApiToken(db.Model):
    """A token acting as its account (a person's, or a service account: an account without a person, roles set by an
    administrator). Only the SHA-256 of the secret is kept; `prefix` is shown to tell tokens apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated, as in OAuth
    expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def is_expired(self, today: date) -> bool:
        """Past its last day (a token expiring today still works today)."""
        return self.expires_on is not None and self.expires_on < today

    def is_usable(self, today: date) -> bool:
        """Not revoked, not expired, and its account active."""
        return self.revoked_at is None and not self.is_expired(today) and self.user.active
