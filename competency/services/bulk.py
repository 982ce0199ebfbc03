"""Bulk loading of many rows at once, below the ORM and the Core's per-row parameter handling: the caller prepares
plain value tuples (repeated values converted once with `driver_values`), and they reach the database through
the driver's own bulk path in the current transaction — COPY on PostgreSQL, one executemany on SQLite.

For the writes whose size grows with a bank (a ratings import's millions of ratings and their audit events, a
review's recommendations), where building and processing a parameter dictionary per row cost more than the
database's own work."""
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sqlalchemy import Table, func, insert, select

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


# Rows written per statement by `execute_many` and `insert_returning_ids`: an API batch (at most 5,000 items) in one,
# so that a batch runs the same statements whatever its size; a large file's in slices that bound the memory held.
ROWS_PER_STATEMENT = 10_000


def _slices(rows: Iterable) -> Iterator[list]:
    """The rows in lists of at most ROWS_PER_STATEMENT, taken from the iterable as they are needed (a generator's rows
    are made one slice at a time)."""
    rows = iter(rows)
    while part := list(islice(rows, ROWS_PER_STATEMENT)):
        yield part


def execute_many(statement, rows: Iterable[dict]) -> None:
    """Run an INSERT or UPDATE with many parameter sets in the current transaction: one executemany per
    ROWS_PER_STATEMENT rows, none without rows."""
    for part in _slices(rows):
        db.session.execute(statement, part)


def insert_returning_ids(table: Table, rows: Iterable[dict]) -> list[int]:
    """Insert rows (dicts of the same columns; the columns' defaults apply) in the current transaction and return their
    ids in the rows' order, in two statements per ROWS_PER_STATEMENT rows — an INSERT … RETURNING of many rows is sent
    in pages of 1,000, so a batch's statements would grow with it. On PostgreSQL the ids are drawn from the table's
    sequence first; on SQLite the rows are inserted and are then the table's last ids, since the transaction holds
    the database's one write lock from its first write (and SQLite gives a new row the largest id plus one)."""
    ids: list[int] = []
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    for part in _slices(rows):
        if postgresql:
            drawn = sorted(db.session.scalars(select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                                              .select_from(func.generate_series(1, len(part)))))
            db.session.execute(insert(table), [{"id": row_id, **row} for row_id, row in zip(drawn, part, strict=True)])
        else:
            db.session.execute(insert(table), part)
            drawn = db.session.scalars(select(table.c.id).order_by(table.c.id.desc()).limit(len(part))).all()[::-1]
        ids += drawn
    return ids
