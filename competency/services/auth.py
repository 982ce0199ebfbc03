"""Signing in: password (local, or the bank's LDAP / Active Directory), the audit of every attempt with the
client's address, the same answer and the same time for unknown and known identifiers. Throttling of repeated
attempts is done by the view (Flask-Limiter), per client address and per identifier."""
import secrets
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError
from ..extensions import db
from ..models import Employee, Role, User
from ..timeutil import utcnow
from . import audit
from .unit_of_work import unit_of_work

MAX_IDENTIFIER = 254


class LoginFailed(DomainError):
    """Unknown account, wrong password or inactive account: one message for all, so nothing is revealed."""

    def __init__(self, message=None):
        super().__init__(message or _l("Wrong staff number, email or password."))


class DirectoryDown(LoginFailed):
    """LDAP did not answer: only the local break-glass accounts can sign in."""

    def __init__(self):
        super().__init__(_l("The bank's directory does not answer: sign-in with directory accounts is not possible "
                            "right now. Try again later."))


def hash_password(password: str, method: str | None = None) -> str:
    """A salted hash of the password."""
    return generate_password_hash(password, method=method or "scrypt")


@lru_cache(maxsize=4)
def _dummy_hash(method: str | None) -> str:
    return hash_password("no such account", method)


def find_user(identifier: str) -> User | None:
    """The account whose staff number or email matches the identifier (case-insensitive email)."""
    identifier = (identifier or "").strip()
    if not identifier or len(identifier) > MAX_IDENTIFIER:
        return None
    return db.session.scalar(
        select(User)
        .outerjoin(Employee, User.employee_id == Employee.id)
        .where(or_(Employee.staff_no == identifier, func.lower(User.email) == identifier.lower()))
    )


# A password hash starting with this matches no password (accounts created in bulk before anyone set one).
UNUSABLE = "!"


def unusable_password_hash() -> str:
    """A distinct value per account that no password matches, until an administrator resets it."""
    return UNUSABLE + secrets.token_hex(16)


def _local_password_ok(user: User | None, password: str, method: str | None) -> bool:
    """Check the local password; for an unknown account, or one without a usable password, check a dummy hash, so
    all take the same time."""
    if user is None or user.auth_source != "local" or user.password_hash.startswith(UNUSABLE):
        check_password_hash(_dummy_hash(method), password or "")
        return False
    return check_password_hash(user.password_hash, password or "")


def authenticate(identifier: str, password: str, config, client: dict | None = None) -> User:
    """Check the credentials and record the attempt (with the client's address and browser); the attempt is
    committed before a failure is raised, so that failures count. Returns the account on success."""
    identifier = (identifier or "").strip()[:MAX_IDENTIFIER]
    with unit_of_work():
        user, failure = _attempt(identifier, password, config, client or {})
    if failure is not None:
        raise failure
    return user


def _attempt(identifier: str, password: str, config, client: dict) -> tuple[User | None, DomainError | None]:
    user, failure = find_user(identifier), None
    if config.get("LDAP_URL"):
        user, failure = _directory_attempt(identifier, password, user, config)
    elif not _local_password_ok(user, password, config.get("PASSWORD_HASH_METHOD")):
        failure = LoginFailed()
    if failure is None and (user is None or not user.active):
        failure = LoginFailed()
    if failure is not None:
        audit.record("auth.login_failed", "user", user.id if user else None, identifier=identifier[:64], **client)
        return user, failure
    user.last_login_at = utcnow()
    audit.record("auth.login", "user", user.id, actor=user, **client)
    return user, None


def _directory_attempt(identifier: str, password: str, user: User | None, config) -> tuple[User | None, DomainError | None]:
    """LDAP first; a local (break-glass) account keeps its own password, also when the directory is down."""
    from . import directory

    try:
        found = directory.authenticate(identifier, password, config)
    except directory.DirectoryUnavailable:
        if _local_password_ok(user, password, config.get("PASSWORD_HASH_METHOD")):
            return user, None
        return user, DirectoryDown()
    if found is not None:
        return _link_directory_account(found, config), None
    if _local_password_ok(user, password, config.get("PASSWORD_HASH_METHOD")):
        return user, None
    return user, LoginFailed()


def _link_directory_account(found, config) -> User | None:
    """The account of the directory's person: created on first sign-in as a directory account, whose roles follow
    their groups when a mapping is set; an existing local account is used as it is."""
    from . import accounts

    employee = db.session.scalar(select(Employee).where(Employee.staff_no == found.staff_no))
    if employee is None:
        return None  # known to the directory but not to this bank's people: no access
    account = db.session.scalar(select(User).where(User.employee_id == employee.id))
    if account is None:
        account = accounts.create_user(employee=employee, roles=found.roles or {Role.EMPLOYEE},
                                       email=found.email if found.email and not accounts.email_taken(found.email) else None)
        account.auth_source = "ldap"
    elif account.auth_source == "ldap" and found.roles is not None:
        accounts.set_roles(account, found.roles)
    # A local account (break-glass) stays local: its own password and roles, whatever the directory says.
    return account


@unit_of_work()
def record_logout(user: User, client: dict | None = None) -> None:
    """Audit a logout (with the client's address and browser) and end every session of the account (the session
    version moves on). Unit of work."""
    user.session_version += 1
    audit.record("auth.logout", "user", user.id, actor=user, **(client or {}))


@unit_of_work()
def record_throttled(identifier: str, client: dict) -> None:
    """Audit a sign-in attempt refused by the throttle before its password was checked. Unit of work."""
    audit.record("auth.login_throttled", "user", None, identifier=identifier, **client)
