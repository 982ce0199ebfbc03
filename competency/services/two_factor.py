"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238, pyotp): enrolment by a QR code drawn
locally (segno, SVG), verification with each code usable once, and ten one-time recovery codes."""
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError
from ..extensions import db
from ..models import RecoveryCode, User
from ..timeutil import utcnow
from . import audit
from .unit_of_work import unit_of_work

ISSUER = "Competency"
RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 10  # hex characters


class WrongCode(DomainError):
    """The code is wrong, expired or already used."""

    def __init__(self):
        super().__init__(_l("That code is wrong or has expired: enter the current code from your authenticator."))


def new_secret() -> str:
    """A fresh base32 secret for an authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.login_name, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of the URI as an inline SVG image (drawn here: no outside service ever sees the secret)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _step(secret: str, code: str) -> int | None:
    """The time step the code belongs to (now, or one step either side for clock drift), or None."""
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return moment // totp.interval
    return None


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum())[:32]


@dataclass
class Enrolment:
    codes: list[str]  # the recovery codes, shown once


class AlreadyOn(DomainError):
    """Two-factor is on: a new authenticator replaces it only after an administrator's reset."""

    def __init__(self):
        super().__init__(_l("Two-factor sign-in is already on for your account."))


@unit_of_work()
def pending_secret(user: User) -> str:
    """The secret being enrolled, made on first use and kept on the account (never in the browser's session
    cookie) until a code confirms it. Unit of work."""
    if user.two_factor_enabled:
        raise AlreadyOn()
    if not user.totp_secret:
        user.totp_secret = new_secret()
    return user.totp_secret


@unit_of_work()
def enable(user: User, code: str) -> Enrolment:
    """Turn on two-factor with the pending secret, which the user's app now holds (the code proves it); make ten
    recovery codes. Every other session of the account ends (one that only knew the password, say). Unit of work."""
    if user.two_factor_enabled:
        raise AlreadyOn()
    step = _step(user.totp_secret, _clean(code)) if user.totp_secret else None
    if step is None:
        raise WrongCode()
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    codes = [secrets.token_hex(RECOVERY_CODE_LENGTH // 2) for _ in range(RECOVERY_CODES)]
    user.recovery_codes = [RecoveryCode(code_hash=generate_password_hash(c)) for c in codes]
    user.session_version += 1
    audit.record("auth.2fa_enabled", "user", user.id, actor=user)
    return Enrolment(codes)


@unit_of_work()
def _attempt(user: User, code: str, client: dict) -> bool:
    """Accept the current TOTP code (each time step once: a seen code cannot be replayed) or an unused recovery
    code. The attempt is audited either way."""
    cleaned = _clean(code)
    step = _step(user.totp_secret, cleaned) if user.totp_secret and cleaned.isdigit() else None
    # Each claim is one conditional UPDATE: of two requests sending the same code at once, one wins.
    if step is not None and _claimed(update(User).where(
            User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step)).values(totp_last_step=step)):
        audit.record("auth.2fa", "user", user.id, actor=user, **client)
        return True
    for recovery in user.recovery_codes if len(cleaned) == RECOVERY_CODE_LENGTH else ():
        if recovery.used_at is None and check_password_hash(recovery.code_hash, cleaned.lower()) and _claimed(
                update(RecoveryCode).where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())):
            audit.record("auth.2fa_recovery_code", "user", user.id, actor=user, **client)
            return True
    audit.record("auth.2fa_failed", "user", user.id, **client)
    return False


def _claimed(statement) -> bool:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount == 1


def check(user: User, code: str, client: dict | None = None) -> None:
    """WrongCode unless the code is the current one (unused) or an unused recovery code."""
    if not _attempt(user, code, client or {}):
        raise WrongCode()


@unit_of_work()
def reset(user: User, actor) -> None:
    """An administrator turns two-factor off for someone who lost their phone: they enrol again at sign-in.
    Unit of work."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.recovery_codes = []
    user.session_version += 1
    audit.record("auth.2fa_reset", "user", user.id, actor=actor)
