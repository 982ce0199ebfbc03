"""Forgot password: a single-use link, valid RESET_MINUTES, e-mailed through the outbox (sent by the job consumer at
once, or by the next `flask notify run`). Only the SHA-256 of the token is stored. Asking answers the same whether
or not the account exists (and costs about the same); only local accounts with an address get a link — a directory
(LDAP) account's password is the directory's to reset. Using the link ends every session of the account. Asking and
using are audited."""
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..errors import DomainError
from ..extensions import db
from ..models import PasswordReset, User
from ..timeutil import utcnow
from . import accounts, audit
from .auth import UNUSABLE, find_user
from .notifications import mail
from .unit_of_work import unit_of_work

RESET_MINUTES = 30


class LinkInvalid(DomainError):
    def __init__(self):
        super().__init__(_l("This link has expired or has been used already. Ask for a new one."))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _may_reset(user: User | None) -> bool:
    """A local, active account with an address and a password (an imported account without one waits for an
    administrator, as before)."""
    return (user is not None and user.active and user.auth_source == "local" and bool(user.email)
            and not user.password_hash.startswith(UNUSABLE))


@unit_of_work()
def request_link(identifier: str, client: dict, now: datetime | None = None) -> bool:
    """Queue a reset link to the account's address when the account may reset its password here; audited either
    way. Unit of work; whether a link was queued (the page never says)."""
    identifier = (identifier or "").strip()[:254]
    user = find_user(identifier)
    audit.record("auth.password_reset_requested", "user", user.id if user else None, identifier=identifier[:64], **client)
    if not _may_reset(user) or not mail.configured():
        return False
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(user_id=user.id, token_hash=_hash(token), created_at=now,
                                 expires_at=now + timedelta(minutes=RESET_MINUTES)))
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    values = {"link": mail.absolute(f"/password/reset/{token}"), "login": user.login_name, "lang": locale}
    with force_locale(locale):
        subject = current_app.config["MAIL_SUBJECT_PREFIX"] + _("Reset your Competency password")
        mail.queue_message(user, "password_reset", subject, render_template("mail/password_reset.txt", **values),
                           render_template("mail/password_reset.html", **values))
    return True


def _usable(now: datetime):
    return (PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)


def valid_link(token: str, now: datetime | None = None) -> PasswordReset | None:
    """The unused, unexpired reset of this token, for an account that may still reset its password; else None."""
    if not token or len(token) > 100:
        return None
    found = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token), *_usable(now or utcnow())))
    return found if found is not None and _may_reset(found.user) else None


@unit_of_work()
def use_link(token: str, password: str, client: dict, now: datetime | None = None) -> User:
    """Set the new password through the link: checked against the policy first (a refused password leaves the link
    usable), then the link is claimed by one conditional UPDATE (two submits at once: one wins), every session of
    the account ends, and it is audited. Unit of work; LinkInvalid when the link no longer works."""
    now = now or utcnow()
    reset = valid_link(token, now)
    if reset is None:
        raise LinkInvalid()
    user = reset.user
    accounts.set_password_from_link(user, password, current_app.config.get("PASSWORD_HASH_METHOD"))
    claimed = db.session.execute(update(PasswordReset).where(PasswordReset.id == reset.id, *_usable(now))
                                 .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise LinkInvalid()
    # Every other link of the account ends too: one new password, one way in.
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    audit.record("user.password_reset_by_link", "user", user.id, actor=user, **client)
    return user
