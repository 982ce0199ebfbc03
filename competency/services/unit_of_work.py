"""The one owner of the transaction: a unit of work commits on success and rolls back on any exception.

Services run inside it (`@unit_of_work()` on the service function, or `with unit_of_work():`); views, models
and forms never commit or roll back. Units nest: only the outermost one commits, so a service that calls
another service still makes one transaction. A dry run marks the unit with `discard()`: it ends with a
rollback instead of a commit.
"""
from contextlib import ContextDecorator

from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict
from ..extensions import db

_DEPTH = "unit_of_work_depth"
_DISCARD = "unit_of_work_discard"


class UnitOfWork(ContextDecorator):
    """Commit on success, roll back on any exception; nested units join the outermost one.

    The state lives on the session (one per app context), so one instance may serve every call of a
    decorated function.
    """

    def __enter__(self) -> "UnitOfWork":
        info = db.session.info
        info[_DEPTH] = info.get(_DEPTH, 0) + 1
        return self

    def discard(self) -> None:
        """End the outermost unit with a rollback (a dry run: everything was checked, nothing is kept)."""
        db.session.info[_DISCARD] = True

    def __exit__(self, exc_type, exc, traceback) -> bool:
        info = db.session.info
        info[_DEPTH] -= 1
        if info[_DEPTH] > 0:
            return False
        discard = info.pop(_DISCARD, False)
        if exc_type is not None or discard:
            db.session.rollback()
            return False
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            raise Conflict() from None
        except BaseException:
            db.session.rollback()
            raise
        return False


def unit_of_work() -> UnitOfWork:
    """A unit of work, usable as `with unit_of_work() as work:` or as the decorator `@unit_of_work()`."""
    return UnitOfWork()


def release_snapshot() -> None:
    """End the current read-only transaction before a contended write, so that the write starts its own.

    SQLite cannot turn a read snapshot that another connection has since overtaken into a write; a
    conditional UPDATE as the first statement of a new transaction waits for the write lock instead.
    Only valid before the unit has written anything.
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("release_snapshot() after changes: it would commit them")
    db.session.commit()
