"""Fixtures: an app on a clean database (SQLite, or PostgreSQL with TEST_DATABASE_URL), clients, logins."""
import email
import gc
import os
import socket
import time
from email.policy import default as email_policy

import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import text

from competency import create_app
from competency.config import TestingConfig
from competency.extensions import db

from . import factories

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The app's "today" is the bank's (timeutil.bank_today); the tests write theirs as date.today() and datetime.now():
# the process's clock is put in the bank's zone, so that both name the same day on a machine kept on UTC too.
os.environ["TZ"] = TestingConfig.TIMEZONE
time.tzset()


def postgres_url() -> str | None:
    """The PostgreSQL URL the tests may use, or None when no server answers."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    if not url.startswith("postgresql"):
        return None
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.OperationalError:
        return None
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """TEST_DATABASE_URL when set, else an SQLite file private to this test run."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context (own `g` and db session), as a real server does,
    even though the test itself holds an app context open. The test's session commits before the
    request (so the request sees the test's data) and after it (so the test sees the request's)."""

    def open(self, *args, **kwargs):
        db.session.commit()
        kwargs.setdefault("buffered", True)  # a streamed body is read inside the request's app context
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()
        return response


@pytest.fixture(scope="session")
def make_app(database_url):
    """Build an app on the test database with config overrides (shares the schema of the session)."""

    def build(**overrides):
        app = create_app(dict(vars_of(TestingConfig), SQLALCHEMY_DATABASE_URI=database_url, **overrides))
        app.test_client_class = FreshContextClient
        return app

    return build


def vars_of(config_class) -> dict:
    return {k: getattr(config_class, k) for k in dir(config_class) if k.isupper()}


@pytest.fixture(scope="session")
def _session_app(make_app, tmp_path_factory):
    """One app for the session, with the schema created fresh from the models."""
    app = make_app(SEEDS_DIR=os.path.join(os.path.dirname(__file__), "..", "seeds"))
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.drop_all()
        db.create_all()
    # Everything loaded so far (the app, SQLAlchemy, Plotly, Babel …) lives for the whole run: keep it out of the
    # garbage collector's scans, so that the collection after each test only looks at what that test made.
    gc.freeze()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _wipe() -> None:
    """Empty every table (children first), so the next test starts clean."""
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(_session_app):
    """The app inside an app context, on an empty database (the next test empties it again)."""
    with _session_app.app_context():
        _wipe()
        yield _session_app
        db.session.remove()
    gc.collect()  # surface a leaked connection in the test that leaked it, not in a later one
    gc.freeze()  # what survives (template and query caches) stays: the next collection skips it


@pytest.fixture(scope="session")
def _demo_snapshot(_session_app) -> list[tuple]:
    """Seed the demo organisation once per run and keep every table's rows: (table, rows), parents first."""
    from competency.services.seed import seed_all

    with _session_app.app_context():
        _wipe()
        seed_all(_session_app.config["SEEDS_DIR"], probation_months=3, hash_method="pbkdf2:sha256:1000")
        with db.engine.connect() as conn:
            snapshot = [(table, [dict(row._mapping) for row in conn.execute(table.select())])
                        for table in db.metadata.sorted_tables]
        _wipe()
    return [(table, rows) for table, rows in snapshot if rows]


@pytest.fixture
def seeded(app, _demo_snapshot):
    """The app on the seeded demo organisation, restored from the run's snapshot (as `flask seed` leaves it)."""
    with db.engine.begin() as conn:
        for table, rows in _demo_snapshot:
            conn.execute(table.insert(), rows)
        if conn.dialect.name == "postgresql":
            for table, _rows in _demo_snapshot:
                if "id" in table.c and table.c.id.autoincrement is not False and table.c.id.type.python_type is int:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                      f"(SELECT max(id) FROM \"{table.name}\"))"))
    return app


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def login_as(app, client):
    """Log the client in as a user: pass a User, or role names to create one with those roles."""

    def login(user_or_role=None, *roles, **employee_fields):
        user = user_or_role
        if user is None or isinstance(user_or_role, str):
            wanted = [user_or_role, *roles] if user_or_role else ["employee"]
            user = factories.user(roles=wanted, **employee_fields)
            db.session.commit()
        with client.session_transaction() as session:
            factories.sign_in(session, user)
        return user

    return login


@pytest.fixture
def pg_url():
    """A PostgreSQL URL, or skip the test with the reason."""
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server answers at TEST_DATABASE_URL or 127.0.0.1:5432")
    return url


@pytest.fixture
def redis_url():
    """Redis on 127.0.0.1:6379 (database 15, kept for tests) or TEST_REDIS_URL; the test is skipped without one, or
    fails where COMPETENCY_REQUIRE_REDIS=1 (CI, where Redis runs)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("COMPETENCY_REQUIRE_REDIS") == "1":
            pytest.fail("Redis does not answer at TEST_REDIS_URL or 127.0.0.1:6379 (COMPETENCY_REQUIRE_REDIS=1)")
        pytest.skip("no Redis server answers at TEST_REDIS_URL or 127.0.0.1:6379")
    return url


# --- a real SMTP server (aiosmtpd) for the e-mail tests ---------------------------------------------------------


class _Inbox:
    """The aiosmtpd handler: keeps every message received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email_policy)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free port; its received messages as [(recipients, email.message.EmailMessage)]."""
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler.messages
    controller.stop()


@pytest.fixture
def mail_on(app, smtp):
    """The app with e-mail on, sending to the test's SMTP server (settings restored afterwards)."""
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "APP_BASE_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp[0], APP_BASE_URL="https://competency.bank.example")
    yield smtp[1]
    app.config.update(saved)
