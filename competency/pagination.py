"""Pagination of multi-column SELECTs (Flask-SQLAlchemy's paginate returns only the first column)."""
from flask import current_app
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func

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


class KeysetPage:
    """A page of a SELECT of model objects in the order of one unique key column, found by that key (?after=K for
    the page after the row K, ?before=K for the page before it) instead of by an OFFSET, so that page 4,000 costs
    what page 1 does. Knows its number and the total, for "page 12 of 4,000"."""

    def __init__(self, query, key, per_page: int, after: str | None = None, before: str | None = None):
        base = query.order_by(None)
        self.per_page = per_page
        if before:
            rows = db.session.execute(base.add_columns(key).where(key < before).order_by(key.desc()).limit(per_page + 1)).all()
            rows.reverse()
            extra = len(rows) > per_page
            rows = rows[1:] if extra else rows
            self.has_prev, self.has_next = extra, True
        else:
            where = base.add_columns(key).where(key > after) if after else base.add_columns(key)
            rows = db.session.execute(where.order_by(key).limit(per_page + 1)).all()
            self.has_next = len(rows) > per_page
            rows = rows[:per_page]
            self.has_prev = bool(after)
        self.items = [row[0] for row in rows]
        self.first_key, self.last_key = (rows[0][-1], rows[-1][-1]) if rows else (None, None)
        counted = base.with_only_columns(func.count()).order_by(None)
        self.total = db.session.scalar(counted)
        earlier = db.session.scalar(counted.where(key < self.first_key)) if self.first_key is not None else 0
        self.page = earlier // per_page + 1
        self.pages = max(1, -(-self.total // per_page))
        if not rows and (after or before):
            self.has_prev = True  # past the end: offer the way back

    def next_args(self) -> dict:
        return {"after": self.last_key}

    def prev_args(self) -> dict:
        return {"before": self.first_key} if self.first_key is not None else {}
