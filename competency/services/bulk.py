"""Bulk loading of many rows at once, below the ORM and the Core's per-row parameter handling: the caller prepares
plain value tuples (repeated values converted once with `driver_values`), and they reach the database through
the driver's own bulk path in the current transaction — COPY on PostgreSQL, one executemany on SQLite.

For the writes whose size grows with a bank (a ratings import's millions of ratings and their audit events, a
review's recommendations), where building and processing a parameter dictionary per row cost more than the
database's own work."""
import json
from collections.abc import Callable, Iterable

from sqlalchemy import Table

from ..extensions import db


def converter(column) -> Callable:
    """A function giving a value as the driver receives it for this column (an enum as its code, a datetime as
    SQLite's text); get it once and use it on many rows."""
    dialect = db.session.get_bind().dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process or _same


def _same(value):
    return value


def driver_values(column, values) -> dict:
    """{value: as the driver receives it} of the few values a column takes (an enum's members, one time stamp)."""
    convert = converter(column)
    return {value: convert(value) for value in values}


# Compact, and without the check for circular references (the values are trees built for the purpose): a review's
# explanations and an import's audit details are encoded by the hundred thousand.
_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"))


def json_text(value) -> str:
    """A JSON column's value as the text stored (read back by SQLAlchemy's JSON type like its own)."""
    return _ENCODER.encode(value)


def insert_rows(table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Insert rows of driver values (tuples in `columns` order; JSON columns as `json_text`) in the current
    transaction; returns how many. No ORM events run and no defaults apply: every column given is given in full."""
    connection = db.session.connection()
    names = ", ".join(table.c[name].name for name in columns)
    if connection.dialect.name == "postgresql":
        written = 0
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        return written
    rows = rows if isinstance(rows, list) else list(rows)
    if rows:
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    return len(rows)


def analyze(*tables: Table) -> None:
    """Refresh PostgreSQL's statistics of tables a bulk load just filled (its own rows count, uncommitted as they
    are), so that the set-based statements that follow are planned for their real size, not for the few rows the
    tables held before (nested loops over what are now hundreds of thousands of rows). SQLite plans without them."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table.name}")
