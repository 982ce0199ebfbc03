"""Bilingual error pages: HTTP errors, and domain errors that no view handled (never a 500 for those)."""
from flask import render_template
from flask_wtf.csrf import CSRFError

from .errors import Conflict, DomainError, Forbidden, NotFound
from .extensions import db

DOMAIN_STATUS = ((NotFound, 404), (Forbidden, 403), (Conflict, 409))


def _page(status: int):
    def handler(error):
        if status == 500:
            db.session.rollback()
        return render_template("errors/error.html", status=status), status

    return handler


def domain_status(error: DomainError) -> int:
    """The HTTP status of a domain error: 404, 403, 409, else 400."""
    return next((status for kind, status in DOMAIN_STATUS if isinstance(error, kind)), 400)


def _domain_error(error: DomainError):
    """A translated 4xx page that says what rule was broken (the unit of work has already rolled back)."""
    db.session.rollback()
    status = domain_status(error)
    message = None if isinstance(error, (NotFound, Forbidden)) else str(error)
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app) -> None:
    """Register the error handlers."""
    for status in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, lambda e: (render_template("errors/error.html", status=400, csrf=True), 400))
