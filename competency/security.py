"""Login wiring, the permission decorator of views and HTTP security headers."""
import secrets
from functools import wraps

from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .extensions import db, login_manager
from .models import User
from .services import access

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@login_manager.user_loader
def load_user(user_id: str):
    """The active account for a session's user id."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


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


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
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
    """Check the secret key, set up the login manager and add the security headers to every response."""
    check_secret_key(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    access.init_app(app)
    app.after_request(_headers)
