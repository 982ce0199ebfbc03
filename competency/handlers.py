"""Bilingual error pages and the mapping of domain errors to HTTP statuses."""
from flask import render_template
from flask_wtf.csrf import CSRFError

from .errors import Forbidden, NotFound
from .extensions import db


def _page(status: int):
    def handler(error):
        if status == 500:
            db.session.rollback()
        return render_template("errors/error.html", status=status), status

    return handler


def init_app(app) -> None:
    """Register the error handlers."""
    for status in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(NotFound, _page(404))
    app.register_error_handler(Forbidden, _page(403))
    app.register_error_handler(CSRFError, lambda e: (render_template("errors/error.html", status=400, csrf=True), 400))
