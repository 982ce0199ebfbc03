"""Errors of the API as RFC 9457 problem details (`application/problem+json`), field by field where a field is at
fault: the same answer for an HTTP error, a domain error, a refused import row and the database's refusal of a race."""
import re
import time
from http import HTTPStatus

from flask import g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..errors import FieldError, NotFound, ValidationFailed
from ..extensions import limiter
from .messages import translate

PROBLEM = "application/problem+json"
API_PREFIX = "/api/"
DOCS_PAGE = "/api/v1/docs"  # a page for people, answered as pages are


def is_api_request() -> bool:
    """Whether the request is one of the API's (its errors are problem details, not pages)."""
    return request.path.startswith(API_PREFIX) and request.path.rstrip("/") != DOCS_PAGE


def problem(status: int, detail: str | None = None, errors: list | None = None, headers: dict | None = None, **extra):
    """A problem+json response: type, title (the status's phrase), status, detail, and `errors` — each
    {"pointer": JSON pointer into the request, "detail": what is wrong} plus the import's row and field."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _messages(tree, pointer: str = "") -> list[dict]:
    """marshmallow's nested {field: [message]} as a flat list of {"pointer", "detail"}."""
    if isinstance(tree, dict):
        return [e for key, value in tree.items() for e in _messages(value, f"{pointer}/{key}" if key != "_schema" else pointer)]
    if isinstance(tree, list) and all(isinstance(m, str) for m in tree):
        return [{"pointer": pointer or "/", "detail": translate(m)} for m in tree]
    return [{"pointer": pointer or "/", "detail": translate(str(tree))}]


# A pointer into a bulk request's items: the item (from 0) and the field.
_ITEM = re.compile(r"/items/(\d+)(?:/([^/]+))?")


def _with_item(error: dict) -> dict:
    """A schema error inside a bulk request's items with the item's number (from 1, as the import's row errors count)
    and its field, as the import's row errors give them."""
    found = _ITEM.match(error["pointer"])
    return {**error, "row": int(found[1]) + 1, "field": found[2]} if found else error


def row_errors(failure: ValidationFailed, collection: str = "items") -> list[dict]:
    """An import's row errors as problem errors: the item's number (from 1, as the import counts lines), the field,
    and a JSON pointer to it."""
    errors = []
    for error in failure.errors:
        row, field = getattr(error, "line", None), getattr(error, "column", None)
        if row is None:
            errors.append({"pointer": "/", "detail": str(error)})
            continue
        pointer = f"/{collection}/{row - 1}" + (f"/{field}" if field else "") if collection else (f"/{field}" if field else "/")
        errors.append({"pointer": pointer, "row": row, "field": field or None, "detail": str(error.message)})
    return errors


def http_error(error: HTTPException):
    """An HTTP error (a refused argument's messages field by field; a rate limit with Retry-After)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = {}
    if status == 429:
        reached = limiter.current_limit  # the limit this request went over
        retry = max(int(reached.reset_at - time.time()), 1) if reached is not None else 60
        g.retry_after = retry  # the header says the message's wait (extensions.retry_after_only_on_refusals)
        headers["Retry-After"] = str(retry)
        return problem(429, _("Too many requests with this token: wait %(n)s seconds and try again.", n=retry), headers=headers)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"  # RFC 6750: the scheme the API takes
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    messages = data.get("messages")
    errors = []
    if isinstance(messages, dict):
        for location, tree in messages.items():
            prefix = "" if location == "json" else f"/{location}"
            errors += [_with_item(dict(e, pointer=prefix + e["pointer"] if e["pointer"] != "/" or not prefix else prefix))
                       for e in _messages(tree)]
    detail = _("The request has errors: see each field.") if errors else (error.description if status < 500 else None)
    return problem(status, detail, errors, headers=headers)


def domain_error(error, status: int):
    """A domain error: its message (not for NotFound), at its field when it names one; an import's row errors."""
    if isinstance(error, ValidationFailed):
        return problem(422, _("Nothing was written: correct the items with errors and send them again."), row_errors(error))
    if isinstance(error, FieldError):
        return problem(422, str(error), [{"pointer": f"/{error.field}", "field": error.field, "detail": str(error)}])
    if isinstance(error, NotFound):
        return problem(404)
    return problem(status, str(error) or None)
