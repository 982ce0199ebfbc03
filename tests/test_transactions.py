"""PostgreSQL: a transaction that wrote nothing ends with COMMIT so that psycopg keeps its prepared statements; one
that wrote, locked a row or failed still rolls back."""
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from competency.extensions import end_unwritten_transactions_with_commit

from .conftest import postgres_url

URL = postgres_url()
pytestmark = pytest.mark.skipif(URL is None, reason="needs PostgreSQL (TEST_DATABASE_URL or 127.0.0.1:5432)")


@pytest.fixture
def engine():
    engine = create_engine(URL)
    end_unwritten_transactions_with_commit(engine)
    table = f"probe_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {table} (id integer PRIMARY KEY, note text)"))
        connection.execute(text(f"INSERT INTO {table} VALUES (1, 'kept')"))
    engine.table = table
    yield engine
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))
    engine.dispose()


def _prepared(connection) -> list[str]:
    return connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()


def test_statements_stay_prepared_across_read_only_transactions(engine):
    query = text(f"SELECT note FROM {engine.table} WHERE id = :id")
    with engine.connect() as connection:
        for _ in range(7):  # psycopg prepares a statement at its fifth run
            assert connection.execute(query, {"id": 1}).scalar() == "kept"
            connection.rollback()
        assert any(engine.table in statement for statement in _prepared(connection))


def test_a_transaction_that_wrote_is_rolled_back(engine):
    with engine.connect() as connection:
        connection.execute(text(f"SELECT note FROM {engine.table}")).all()
        connection.execute(text(f"UPDATE {engine.table} SET note = 'changed'"))
        connection.execute(text(f"INSERT INTO {engine.table} VALUES (2, 'new')"))
        connection.rollback()
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT id, note FROM {engine.table}")).all() == [(1, "kept")]


def test_a_write_through_the_driver_alone_is_rolled_back(engine):
    """A write the engine never saw as a statement (a COPY on the raw connection) is still found and undone."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {engine.table} (id, note) FROM STDIN") as copy:
            copy.write_row((3, "copied"))
        connection.rollback()
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {engine.table}")).scalar() == 1


def test_a_locked_row_and_a_failed_transaction_roll_back(engine):
    with engine.connect() as connection:
        connection.execute(text(f"SELECT note FROM {engine.table} WHERE id = 1 FOR UPDATE")).all()
        connection.rollback()
        with pytest.raises(DBAPIError):
            connection.execute(text("SELECT 1 / 0"))
        connection.rollback()
        assert connection.execute(text(f"SELECT note FROM {engine.table}")).scalar() == "kept"
