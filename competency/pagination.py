"""Pagination of multi-column SELECTs (Flask-SQLAlchemy's paginate returns only the first column)."""
from flask import current_app
from flask_sqlalchemy.pagination import SelectPagination

from .extensions import db


class RowPagination(SelectPagination):
    """Pages whose items are whole result rows."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate_rows(select, per_page: int | None = None) -> RowPagination:
    """A page of rows of the SELECT, from the request's ?page= argument."""
    return RowPagination(select=select, session=db.session(), per_page=per_page or current_app.config["PAGE_SIZE"],
                         error_out=False)
