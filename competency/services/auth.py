"""Logging in: password checks, throttling and the audit of every attempt."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError
from ..extensions import db
from ..models import AuditEvent, Employee, User
from ..timeutil import utcnow
from . import audit
from .unit_of_work import unit_of_work


class LoginFailed(DomainError):
    """Unknown account, wrong password or inactive account."""


class AccountLocked(DomainError):
    """Too many recent failures: the account is locked for a while."""

    def __init__(self, until):
        self.until = until
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        super().__init__(
            _l(
                "Too many failed attempts: this account is locked for %(minutes)s more minutes.",
                minutes=minutes,
            )
        )


def hash_password(password: str, method: str | None = None) -> str:
    """A salted hash of the password."""
    return generate_password_hash(password, method=method or "scrypt")


def find_user(identifier: str) -> User | None:
    """The account whose staff number or email matches the identifier (case-insensitive email)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    return db.session.scalar(
        select(User)
        .outerjoin(Employee, User.employee_id == Employee.id)
        .where(or_(Employee.staff_no == identifier, func.lower(User.email) == identifier.lower()))
    )


def authenticate(identifier: str, password: str, settings: dict) -> User:
    """Check the credentials; record the attempt; lock after repeated failures. The attempt is committed
    (one unit of work) before a failure is raised, so that failures count."""
    with unit_of_work():
        user, failure = _attempt(identifier, password, settings, utcnow())
    if failure is not None:
        raise failure
    return user


def _attempt(identifier: str, password: str, settings: dict, now) -> tuple[User | None, DomainError | None]:
    user = find_user(identifier)
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record("auth.login_locked", "user", user.id, identifier=identifier)
        return user, AccountLocked(user.locked_until)
    if user is None or not user.active or not check_password_hash(user.password_hash, password or ""):
        audit.record("auth.login_failed", "user", user.id if user else None, identifier=identifier)
        if user is not None and _lock_if_too_many(user, now, settings):
            return user, AccountLocked(user.locked_until)
        return user, LoginFailed(_l("Wrong staff number, email or password."))
    user.last_login_at = now
    user.locked_until = None
    audit.record("auth.login", "user", user.id, actor=user)
    return user, None


def _lock_if_too_many(user: User, now, settings: dict) -> bool:
    """Lock the account when it has failed often enough inside the window since its last login; say whether."""
    since = now - timedelta(minutes=settings["LOGIN_WINDOW_MINUTES"])
    if user.last_login_at and user.last_login_at > since:
        since = user.last_login_at
    db.session.flush()
    failures = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.login_failed",
            AuditEvent.object_type == "user",
            AuditEvent.object_id == str(user.id),
            AuditEvent.at > since,
        )
    )
    if failures < settings["LOGIN_MAX_FAILURES"]:
        return False
    user.locked_until = now + timedelta(minutes=settings["LOGIN_LOCK_MINUTES"])
    audit.record("auth.account_locked", "user", user.id, until=user.locked_until)
    return True


@unit_of_work()
def record_logout(user: User) -> None:
    """Audit a logout. Unit of work."""
    audit.record("auth.logout", "user", user.id, actor=user)
