"""Login wiring, the permission decorator of views and HTTP security headers."""
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


def init_app(app) -> None:
    """Set up the login manager and add the security headers to every response."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    access.init_app(app)
    app.after_request(_headers)
