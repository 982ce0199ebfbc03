"""The REST API under /api/v1/ (flask-smorest: the marshmallow schemas that validate requests are also the OpenAPI 3.1
document, /api/v1/openapi.json), its documentation page, token authentication, a per-token rate limit and
problem+json errors. Every rule is the pages' and the imports': the views call the same services."""
import json
from http import HTTPStatus

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser

from ..extensions import csrf, limiter
from . import auth
from .problems import PROBLEM


class ApiDocument(Api):
    """flask-smorest's Api, with error responses documented as problem+json and its error handlers left out: the
    app's handlers answer API requests with problem details (handlers.py), pages with pages."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # every operation lists the statuses it answers, nothing more

    def _register_error_handlers(self):
        """None: the app's handlers already answer the API's paths with problem details."""

    def _register_responses(self):
        from .schemas import Problem

        for status in HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, {"description": status.phrase,
                                                             "content": {PROBLEM: {"schema": Problem}}}, lazy=True)


class JsonParser(FlaskParser):
    """webargs' parser, with a body Python's JSON reader cannot take answered as any unreadable body is (400, "Invalid
    JSON body."): nested deeper than it goes (RecursionError), or a number of more digits than it converts (ValueError,
    4,300 digits); the error is the body's fault only there."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own case (an empty body is no body: each required field is named)
        except (RecursionError, ValueError) as error:
            self._handle_invalid_json_error(error, req)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonParser()


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def blueprint(name: str, description: str) -> Blueprint:
    """A blueprint of the API: CSRF-exempt (a token is not a cookie: `auth.authenticate` holds tokenless requests to
    CSRF), every request authenticated, counted against its token's rate limit — and, when refused for want of a
    usable token (401), against its address's, so that made-up tokens cannot each have a limit of their own."""
    bp = ApiBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    csrf.exempt(bp)
    bp.before_request(auth.authenticate)
    limiter.shared_limit(_api_limit, scope="api", key_func=auth.rate_key)(bp)
    limiter.shared_limit(_api_limit, scope="api-refused", key_func=get_remote_address,
                         deduct_when=lambda response: response.status_code == 401)(bp)
    return bp


def init_app(app) -> None:
    """Register the API's blueprints and document them; the docs page. JSON answers are UTF-8 with Chinese as itself
    (not \\u escapes), as a bank's staff read them in a terminal."""
    app.json.ensure_ascii = False
    app.config.setdefault("API_TITLE", "Competency API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The platform's REST API: organisation, sales, training completions in; catalogue, models, "
                                "results, recommendations and credits out. Authenticate with a token as "
                                "`Authorization: Bearer cmpt_…`; errors are RFC 9457 problem details.",
                 "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "An API token made by an administrator."}}},
    })
    api = ApiDocument(app)  # one per app: the tests build several
    from . import docs, feeds, org, reads

    for bp in (org.bp, feeds.bp, reads.bp):
        api.register_blueprint(bp)
    app.register_blueprint(docs.bp)
