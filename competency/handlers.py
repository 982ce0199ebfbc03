"""Bilingual error pages: HTTP errors, domain errors that no view handled, and the database's refusals of a race
(two people saving at once) or of a value it cannot hold — never a 500 for those."""
from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .api import problems
from .errors import Conflict, DomainError, Forbidden, NotFound
from .extensions import db
from .models.limits import digits_within

DOMAIN_STATUS = ((NotFound, 404), (Forbidden, 403), (Conflict, 409))


def _page(status: int):
    def handler(error):
        if status == 500:
            db.session.rollback()
        if problems.is_api_request():
            return problems.http_error(error) if isinstance(error, HTTPException) else problems.problem(status)
        return render_template("errors/error.html", status=status), status

    return handler


def domain_status(error: DomainError) -> int:
    """The HTTP status of a domain error: 404, 403, 409, else 400."""
    return next((status for kind, status in DOMAIN_STATUS if isinstance(error, kind)), 400)


def _domain_error(error: DomainError):
    """A translated 4xx page that says what rule was broken (the unit of work has already rolled back)."""
    db.session.rollback()
    status = domain_status(error)
    if problems.is_api_request():
        return problems.domain_error(error, status)
    message = None if isinstance(error, (NotFound, Forbidden)) else str(error)
    return render_template("errors/error.html", status=status, message=message), status


def _race(error):
    """Someone else changed or created the same thing first: a 409 page, the transaction rolled back."""
    db.session.rollback()
    if problems.is_api_request():
        return problems.problem(409, _("Someone else changed the same data at the same time: nothing was written, send it again."))
    return render_template("errors/error.html", status=409), 409


def _bad_value(error):
    """A value the database cannot hold (it got past the forms' bounds): a 400 page, nothing written."""
    db.session.rollback()
    if problems.is_api_request():
        return problems.problem(422, _("A value is beyond what can be stored: nothing was written."))
    return render_template("errors/error.html", status=400), 400


def _csrf(error):
    """A form sent without its CSRF token (or an API write from a browser, without a token): a 400."""
    if problems.is_api_request():
        return problems.problem(400, _("No API token was sent, and this browser request has no CSRF token."))
    return render_template("errors/error.html", status=400, csrf=True), 400


def _http_error(error: HTTPException):
    """Any other HTTP error: a problem for the API (401, 412, 422 …), else werkzeug's own answer."""
    return problems.http_error(error) if problems.is_api_request() else error


MAX_ID = 2_147_483_647  # the largest id an INTEGER column holds (on PostgreSQL, 32 bits)
MAX_PAGE = 1_000_000


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in a URL that no row can have (beyond the column's range) is a 404, not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def id_arg(name: str) -> int | None:
    """A query parameter naming a row by id: None when absent, a 404 when no row can have it."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    found = digits_within(value, 1, MAX_ID)
    if found is None:
        abort(404)
    return found


def _page_in_range() -> None:
    """A `?page=` beyond any real list is a 404 (it would overflow the database's OFFSET)."""
    page = request.args.get("page")
    if page is not None and digits_within(page, 1, MAX_PAGE) is None:
        abort(404)


def init_app(app) -> None:
    """Register the error handlers and the bounds on ids and page numbers in URLs."""
    for status in (400, 403, 404, 405, 409, 413, 429, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _race)
    app.register_error_handler(StaleDataError, _race)
    app.register_error_handler(DataError, _bad_value)
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_page_in_range)
    app.register_error_handler(CSRFError, _csrf)
