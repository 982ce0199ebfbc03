"""Reading a long SELECT in constant memory: the rows come batch by batch from a server-side cursor; when a stream
ends, its rows are closed and the memory it used goes back to the operating system."""
import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from ..extensions import db


def stream_rows(query, batch: int) -> Iterator:
    """The rows of the SELECT, fetched `batch` at a time (a server-side cursor on PostgreSQL, SQLite steps through
    its result), run when the first row is asked for, in the session's transaction open then. The cursor is closed
    when the rows end or the iterator is closed early (a download the client gave up)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # A cursor makes PostgreSQL plan for the first 10% of the rows (nested loops, index scans): right for a page
        # that stops early, far too slow for an export that reads everything (497 s for 1.6 M result rows).
        db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    result = db.session.execute(query.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):
        return None


_MALLOC_TRIM = _malloc_trim()


def give_memory_back() -> None:
    """Free what only reference cycles still hold, then hand the C heap's free pages back to the operating system:
    glibc keeps freed memory for reuse, so a worker that streamed a long export would otherwise stay at its peak."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@contextmanager
def released(data):
    """Around the writing of a stream of `data`: when the stream ends, fails or is closed early (the client gave up),
    close `data` (its cursor with it) and give the memory back."""
    try:
        yield
    finally:
        close = getattr(data, "close", None)
        if close is not None:
            close()
        give_memory_back()
