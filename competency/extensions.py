"""Flask extensions, created unbound and initialised in create_app."""
import os

from flask import current_app, g, has_app_context
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
mail = Mail()  # connections are made from the app's MAIL_* settings when sending (services/notifications/mail.py)


class AppLimiter(Limiter):
    """Flask-Limiter, on or off per app (RATELIMIT_ENABLED of the app serving the request), so that apps with
    different settings can share the process (the tests build several)."""

    @property
    def enabled(self) -> bool:
        return has_app_context() and bool(current_app.config.get("RATELIMIT_ENABLED", True))

    @enabled.setter
    def enabled(self, _value) -> None:
        """Set by Flask-Limiter at start-up; the app's setting decides instead."""


# Limits are declared on the views that need them (sign-in); storage: RATELIMIT_STORAGE_URI (Redis or memory).
limiter = AppLimiter(key_func=get_remote_address, default_limits=[])


def retry_after_only_on_refusals(response):
    """After Flask-Limiter's headers: it writes `Retry-After` on every response it counts, but the header means "try
    again later" (RFC 9110) and belongs to a refusal, 429 or 503, only (the X-RateLimit headers say what is left).
    On a refusal whose answer named its wait (`g.retry_after`), the header says that wait: the limiter works out its
    own again, rounded down a moment later, and would say a second less than the message."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


# How long an SQLite statement waits for another's write lock (within gunicorn's 120 s timeout).
SQLITE_BUSY_MS = 60_000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: write-ahead log, wait on locks instead of failing, enforce foreign keys. PostgreSQL: no JIT
    compilation (it costs tens of milliseconds per query a planner overestimates, and a page runs short queries)."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.commit()
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite has one writer at a time: an import of 100,000 people holds the write lock for about half a minute,
        # and a sign-in meanwhile must wait for it rather than fail (10 s failed 3 sign-ins of 27, bench/jobs.py).
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
        cursor.close()


SQLITE_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def sqlite_synchronous() -> str:
    """SQLITE_SYNCHRONOUS: NORMAL by default. With the write-ahead log, NORMAL keeps every transaction whole and the
    file uncorrupted whatever happens, and loses nothing when the app or its server stops or crashes; only a power
    failure or an operating system crash may undo the last commits before it. It spares each commit a flush to disk
    (SQLite writes one transaction at a time: with FULL the flush, several milliseconds, bounds every write). FULL
    flushes at every commit: no commit is ever undone."""
    value = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}, not {value!r}")
    return value


def end_unwritten_transactions_with_commit(engine) -> None:
    """PostgreSQL: end a transaction that wrote nothing with COMMIT instead of ROLLBACK.

    psycopg forgets every statement it prepared on a connection when that connection rolls back (so that none
    refers to an object the rollback removed), and every page's transaction ends with a rollback: each request's
    statements were parsed and planned afresh, the database's largest cost on a page (a dashboard: 2.4 ms of its
    CPU, 1.0 ms with its statements kept prepared). Whether the transaction wrote is asked of the server, which
    gives a transaction an id at its first write or row lock: without one, COMMIT and ROLLBACK end it alike.
    """
    if engine.dialect.name != "postgresql":
        return
    from psycopg.pq import TransactionStatus

    rollback = engine.dialect.do_rollback

    def do_rollback(connection):
        raw = getattr(connection, "dbapi_connection", connection)
        if raw.info.transaction_status == TransactionStatus.INTRANS and _wrote_nothing(raw):
            raw.commit()
        else:
            rollback(connection)

    engine.dialect.do_rollback = do_rollback


def _wrote_nothing(raw) -> bool:
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        return bool(cursor.fetchone()[0])

