"""API tokens: creation (the secret is shown once, only its hash is kept), authentication of a request's bearer
token, revocation, and the time of last use (written at most once a minute per token, not on every request)."""
import hashlib
import secrets
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from ..errors import DomainError, FieldError, NotFound
from ..extensions import db
from ..models import SCOPES, ApiToken, Employee, User
from ..models.limits import max_length
from ..timeutil import bank_today, utcnow
from . import audit
from .unit_of_work import unit_of_work

# Every token starts with this, so that a secret scanner (and a person) recognises one in a log or a repository.
TOKEN_PREFIX = "cmpt_"
# A token's last use is written when the stored one is older than this: at most one write a minute per token.
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """The SHA-256 of a token (tokens are 256 random bits: a fast hash is enough, nothing to guess)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes) -> list[str]:
    """The scopes, each known and once, in the order of SCOPES; FieldError when one is unknown or none is given."""
    scopes = [s.strip() for s in scopes if s and s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise FieldError("scopes", _l("Unknown scope %(scope)s: use %(scopes)s.", scope=unknown[0], scopes=", ".join(SCOPES)))
    if not scopes:
        raise FieldError("scopes", _l("Choose at least one scope."))
    return [s for s in SCOPES if s in scopes]


@unit_of_work()
def create_token(user: User, name: str, scopes, expires_on: date | None = None, actor=None,
                 today: date | None = None) -> tuple[ApiToken, str]:
    """Create a token for the account: (the token, its secret — shown once, never stored). Unit of work, audited."""
    name = (name or "").strip()
    if not name:
        raise FieldError("name", _l("Give the token a name that says who uses it (e.g. HR nightly sync)."))
    if len(name) > max_length(ApiToken.name):
        raise FieldError("name", _l("At most %(n)s characters.", n=max_length(ApiToken.name)))
    if expires_on is not None and expires_on < (today or bank_today()):
        raise FieldError("expires_on", _l("The expiry date has passed."))
    if not user.active:
        raise DomainError(_l("This account is deactivated: activate it before giving it a token."))
    scopes = check_scopes(scopes)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=secret[:len(TOKEN_PREFIX) + 6], token_hash=token_hash(secret),
                     scopes=" ".join(scopes), expires_on=expires_on, created_by_id=getattr(actor, "id", None))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", "user", user.id, actor=actor, token=token.id, name=name, scopes=scopes,
                 expires_on=expires_on.isoformat() if expires_on else None)
    return token, secret


def authenticate(secret: str | None, today: date | None = None) -> ApiToken | None:
    """The usable token with this secret (its account and roles loaded in the same query), or None: unknown,
    revoked, expired, or its account deactivated."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))
                              .options(joinedload(ApiToken.user).joinedload(User.role_rows)))
    if token is None or not token.is_usable(today or bank_today()):
        return None
    return token


def touch(token: ApiToken) -> None:
    """Note the token's use, if the last one noted is more than a minute old (one UPDATE a minute per token, so that
    a busy integration does not write on every request). Commits its own short transaction."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    with unit_of_work():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                           .execution_options(synchronize_session=False))
    token.last_used_at = now


@unit_of_work()
def revoke(token: ApiToken, actor=None) -> bool:
    """Revoke the token (at once: its next request is refused); whether it was still active. Unit of work, audited."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record("api_token.revoke", "user", token.user_id, actor=actor, token=token.id, name=token.name)
    return True


def account_by_login(login: str) -> User | None:
    """The account a token is made for, by staff number or (a service account without a person) by email."""
    login = (login or "").strip()
    if not login:
        return None
    return db.session.scalar(select(User).outerjoin(Employee, Employee.id == User.employee_id)
                             .where((Employee.staff_no == login) | (func.lower(User.email) == login.lower())))


def tokens_query():
    """SELECT of every token with its account, newest first."""
    return (select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.employee))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def token_or_404(token_id: int) -> ApiToken:
    """The token, or NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound()
    return token
