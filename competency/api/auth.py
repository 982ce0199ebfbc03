"""Who calls the API: a bearer token (`Authorization: Bearer cmpt_…`), acting as its account with the account's roles
and relationships, within the token's scopes. A browser session is not an API credential: a request without a token
is refused (and an unsafe one is first held to CSRF, so that a page can never make a signed-in browser write)."""
from functools import wraps

from flask import g, request
from flask_babel import gettext as _
from werkzeug.exceptions import Unauthorized, UnsupportedMediaType

from ..errors import Forbidden
from ..extensions import csrf
from ..services import access, api_tokens

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def bearer_secret() -> str | None:
    """The token of the request's `Authorization: Bearer …` header, or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def rate_key() -> str:
    """What the API's rate limit counts by: the token (its hash: the limiter's storage holds no secret, and a request
    over the limit is refused without reading the database), else the client's address. Made-up tokens are held by
    a second limit, on the address's refused requests (`api.blueprint`)."""
    secret = bearer_secret()
    return f"token:{api_tokens.token_hash(secret)}" if secret else f"address:{request.remote_addr}"


def authenticate() -> None:
    """Before every API request: the token's account becomes `g.api_user` (401 without a usable token)."""
    secret = bearer_secret()
    if secret is None and request.method not in SAFE_METHODS:
        csrf.protect()  # a browser's session cookie is not an API credential, and never writes without CSRF
    token = api_tokens.authenticate(secret)
    if token is None:
        raise Unauthorized(_("Send a valid API token as `Authorization: Bearer <token>`: it may be missing, mistyped, "
                             "revoked or expired, or its account deactivated."))
    g.api_token, g.api_user = token, token.user
    api_tokens.touch(token)


def current_token():
    return g.api_token


def source() -> str:
    """The "file" an API write names in the audit trail and its import results: the token, by name."""
    return f"api:{current_token().name}"


def current_user():
    """The account the request acts as."""
    return g.api_user


def requires(*scopes: str, permission: str | None = None):
    """View decorator, right under the route (before the request's body is read): 403, saying why, unless the token
    holds one of the scopes and (when given) the account's roles allow the permission (`access.can`); 415 for a
    write whose body is not JSON."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not set(scopes) & set(g.api_token.scope_list):
                raise Forbidden(_("This token does not have the scope %(scope)s: an administrator can give you a token that has it.",
                                  scope=_(" or ").join(scopes)))
            if permission is not None and not access.can(g.api_user, permission):
                raise Forbidden(_("The token's account %(account)s may not do this: its roles do not allow it.",
                                  account=g.api_user.login_name))
            if request.method not in SAFE_METHODS and not request.is_json:
                raise UnsupportedMediaType(_("Send the body as JSON, with the header Content-Type: application/json."))
            return view(*args, **kwargs)

        return wrapped

    return decorator
