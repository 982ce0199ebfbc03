"""Sign-in wiring: the secret key check, sessions that end (versioned, idle timeout, absolute lifetime), the
gates a session passes before any page (two-factor, a forced password change), the permission decorator of views,
and the HTTP security headers."""
import secrets
import time
from functools import wraps

from flask import Request, flash, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items

from .extensions import db, login_manager
from .models import User
from .services import access
from .services.notifications.inbox import keep_unread_count, unread_count_of

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Reachable while a session still owes its second factor or a new password.
GATE_EXEMPT = {"auth.logout", "auth.language", "auth.two_factor", "auth.two_factor_setup", "auth.change_password",
               "static"}


@login_manager.user_loader
def load_user(session_id: str):
    """The active account for a session's user id ("<id>.<session version>"): an older version — after logout,
    a password change or reset, a role change, deactivation — is no session at all."""
    user_id, _, version = (session_id or "").partition(".")
    if not user_id.isdigit() or not version.isdigit() or int(user_id) > 2_147_483_647:
        return None
    row = db.session.execute(_SIGNED_IN, {"id": int(user_id)}).unique().first()
    if row is None or not row.User.active or row.User.session_version != int(version):
        return None
    keep_unread_count(row.User.id, row.unread)  # the bell's count, read with the account
    return row.User


# The account of a session, its roles and its unread notifications (the bell's count) in one query, built once.
_SIGNED_IN = (select(User, unread_count_of(bindparam("id")).label("unread")).where(User.id == bindparam("id"))
              .options(joinedload(User.role_rows)))


class WithoutNul(ImmutableMultiDict):
    """Query and form values with NUL bytes removed: no legitimate input holds one, and PostgreSQL refuses them in
    text (a 500 before, in any field of any form, the anonymous login's included)."""

    def __init__(self, mapping=None):
        super().__init__([(_strip(key), _strip(value)) for key, value in iter_multi_items(mapping or ())])


def _strip(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanRequest(Request):
    """The app's request: its `args` and `form` are WithoutNul."""

    parameter_storage_class = WithoutNul


def permission_required(permission: str):
    """View decorator: log in first, then 403 unless `access.can(current_user, permission)`."""
    if permission not in access.PERMISSIONS:  # a misspelt name fails when the view is defined, not when visited
        raise KeyError(permission)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            access.require(current_user, permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def start_session(two_factor_done: bool) -> None:
    """Mark the new session's start and last activity (for the timeouts) and whether the second factor passed."""
    now = int(time.time())
    session["auth_at"] = session["seen_at"] = now
    session["mfa"] = two_factor_done


def _expired(app) -> bool:
    now = int(time.time())
    idle = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    lifetime = app.config["SESSION_LIFETIME_HOURS"] * 3600
    return now - session.get("seen_at", 0) > idle or now - session.get("auth_at", 0) > lifetime


# The idle timeout is measured from the last page seen, to within this many seconds.
SEEN_EVERY_S = 60


def _session_gate(app):
    """Before every request of a signed-in user: end a session idle or too old; until the second factor passed
    (hr, admin, or everyone when required) or the forced new password is chosen, only those pages are reachable."""
    if request.path.startswith("/api/v1/") and request.blueprint != "api_docs":
        return None  # the API authenticates by token; a session cookie sent along is not looked at
    if request.endpoint == "static" or not current_user.is_authenticated:  # static files load no account
        return None
    if _expired(app):
        logout_user()
        session.clear()
        flash(_l("Your session ended after a period of inactivity: log in again."), "info")
        return redirect(url_for("auth.login", next=request.path if request.method == "GET" else None))
    now = int(time.time())
    if now - session.get("seen_at", 0) >= SEEN_EVERY_S:  # a session rewritten (and signed) once a minute, not per page
        session["seen_at"] = now
    get_locale()  # chosen now, from the account just loaded: after a save's commit, reading it again is a query
    if request.endpoint in GATE_EXEMPT:
        return None
    if not session.get("mfa") and access.needs_two_factor(current_user, app.config["TWO_FACTOR_ALL"]):
        if current_user.two_factor_enabled:  # signed in without the code it now needs: sign in again, with it
            logout_user()
            session.clear()
            return redirect(url_for("auth.login"))
        return redirect(url_for("auth.two_factor_setup"))
    if current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint not in ("static", "analytics.plotly_js", "analytics.plotly_template"):
        # Personal pages and exports must not stay in a shared browser's or a proxy's cache.
        response.headers["Cache-Control"] = "no-store"
    return response


WEAK_KEYS = {"dev-only-change-me", "change-me", "changeme", "secret", "dev", "development", "..."}
MIN_KEY_LENGTH = 32


class InsecureSecretKey(RuntimeError):
    """The app would sign sessions with a missing, short or well-known key."""


def check_secret_key(app) -> None:
    """Refuse to run outside debug and testing without a strong SECRET_KEY (anyone knowing the key can forge a
    session); in debug or testing without one, use a random key for this process."""
    key = app.config.get("SECRET_KEY")
    strong = isinstance(key, str) and len(key) >= MIN_KEY_LENGTH and key not in WEAK_KEYS
    if strong:
        return
    if app.debug or app.testing:
        if not key:
            app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise InsecureSecretKey(
        "SECRET_KEY is missing or weak: set it to a long random value (at least 32 characters), e.g. "
        "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`, or run `make run` once "
        "to generate instance/secret_key.")


def init_app(app) -> None:
    """Check the secret key, set up the login manager, the session gate and the security headers."""
    check_secret_key(app)
    app.request_class = CleanRequest
    if app.config.get("LDAP_URL"):  # a mistyped group mapping stops the start, not a sign-in later
        from .services import directory

        directory.group_roles(app.config)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    access.init_app(app)
    app.before_request(lambda: _session_gate(app))
    app.after_request(_headers)
