"""Backing up the whole database to a file and restoring it (`flask backup create|restore`).

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live file in one read transaction, a
consistent snapshot taken while the app goes on serving (WAL lets it keep writing); restoring runs the same API
the other way. PostgreSQL: `pg_dump --format=custom` and `pg_restore --single-transaction` from the
postgresql-client package. A backup is written to FILE.tmp, checked, and only then renamed to FILE; it is
readable by its owner only (it holds personal data, password hashes and second-factor secrets). Before a
restore the file is checked: a backup of this app (tables alembic_version, employee, app_user) made on the same
kind of database, at a schema revision this code knows. A backup older than the code is restored as it is; the
caller tells the user to run `flask db upgrade`.
"""
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from ..errors import DomainError
from ..extensions import db
from . import audit
from .unit_of_work import unit_of_work

REQUIRED_TABLES = ("alembic_version", "employee", "app_user")
_MAGIC = {b"SQLite format 3\x00": "sqlite", b"PGDMP": "postgresql"}
_KIND = {"sqlite": "an SQLite", "postgresql": "a PostgreSQL"}
_CLIENT_HINT = "install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client, the server's major version or newer)"


class BackupFailed(DomainError):
    """A backup or restore was refused or failed; the message says why, and what was left unchanged."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, read from the file itself."""

    path: Path
    size: int
    created: str  # when the backup was made: the archive's own timestamp (PostgreSQL) or the file's (SQLite)
    revision: str  # the Alembic schema revision
    employees: int
    accounts: int
    tables: frozenset[str]
    needs_upgrade: bool = False  # the revision is older than this code's: `flask db upgrade` after restoring


def database_name() -> str:
    """The live database's short name, which the user types to confirm a restore: the PostgreSQL database name or
    the SQLite file name."""
    return _sqlite_file().name if _backend() == "sqlite" else db.engine.url.database


def database_label() -> str:
    """The live database as the user knows it: the SQLite file's path, or PostgreSQL's database, host and port."""
    if _backend() == "sqlite":
        return str(_sqlite_file())
    url = db.engine.url
    return f"PostgreSQL database {url.database} on {url.host or 'localhost'}:{url.port or 5432}"


def create_backup(file: Path, *, force: bool = False, actor=None) -> BackupInfo:
    """Write a consistent backup of the live database to `file` (mode 600, via `file`.tmp, renamed once complete
    and checked) and record a backup.create audit event. Refuses an existing file unless `force`."""
    backend, file = _backend(), Path(file).absolute()
    live = _sqlite_file() if backend == "sqlite" else None
    if live and file.resolve() == live.resolve():
        raise BackupFailed(f"{file} is the database itself: write the backup to another file")
    _require_schema()
    if file.exists() and not force:
        raise BackupFailed(f"{file} exists: choose another name, or pass --force to overwrite it")
    if not file.parent.is_dir():
        raise BackupFailed(f"directory {file.parent} does not exist")
    tmp = file.with_name(file.name + ".tmp")
    try:
        info = replace(_write(tmp, file, live), path=file)
    except OSError as error:
        raise BackupFailed(f"the backup failed, nothing was written to {file}: {error}") from None
    finally:
        tmp.unlink(missing_ok=True)  # what is left of a failed or interrupted backup; once published it is gone
    _audit("backup.create", f"the backup was written to {file}", actor, file=str(file), size=info.size,
           revision=info.revision)
    return info


def inspect_backup(file: Path) -> BackupInfo:
    """Check that `file` can be restored into the live database (a backup of this app, from the same kind of
    database, at a schema revision this code knows); what it holds. Raises BackupFailed saying what is wrong."""
    backend, file = _backend(), Path(file).absolute()
    if backend == "sqlite" and file.resolve() == _sqlite_file().resolve():
        raise BackupFailed(f"{file} is the database itself, not a backup of it")
    found = _format_of(file)
    if found != backend:
        raise BackupFailed(f"{file} is {_KIND[found]} backup, but the database is {_KIND[backend]} one: "
                           "a backup restores into the same kind of database")
    info = _read(file, backend)
    if backend == "postgresql":
        _refuse_unknown_tables(info)
    return replace(info, needs_upgrade=_needs_upgrade(file, info.revision))


def restore_backup(file: Path, *, actor=None) -> BackupInfo:
    """Replace every table of the live database with the backup in `file` after inspect_backup's checks, in one
    transaction; then drop the engine's pooled connections and record a backup.restore audit event (after the
    restore, so that it survives it). Returns what was restored."""
    info = inspect_backup(file)
    db.session.remove()  # no open transaction of ours may hold a lock the restore waits for
    if _backend() == "sqlite":
        _sqlite_restore(info.path, _sqlite_file())
    else:
        _run_pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                f"--dbname={_libpq_url()}", str(info.path))
    db.engine.dispose()
    _audit("backup.restore", "the database was restored", actor, file=str(info.path), size=info.size,
           revision=info.revision, created=info.created)
    return info


def _backend() -> str:
    name = db.engine.url.get_backend_name()
    if name not in _KIND:
        raise BackupFailed(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_file() -> Path:
    """The live SQLite file (Flask-SQLAlchemy has made a relative path absolute, under instance/)."""
    url = db.engine.url
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        raise BackupFailed("the database is an in-memory SQLite database (sqlite://): there is no file to back up or "
                           "restore; set DATABASE_URL to an SQLite file or a PostgreSQL database")
    return Path(url.database)


def _live_tables() -> set[str]:
    try:
        return set(inspect(db.engine).get_table_names())
    except SQLAlchemyError as error:
        raise BackupFailed(f"cannot read the database: {getattr(error, 'orig', None) or error}") from None


def _audit(action: str, done: str, actor, **details) -> None:
    """Record the audit event of what was done, in its own unit of work; if the database refuses it (a lock held
    too long), say that the work itself is done."""
    try:
        with unit_of_work():
            audit.record(action, "database", database_name(), actor=actor, **details)
    except SQLAlchemyError as error:
        raise BackupFailed(f"{done}, but its audit event could not be recorded: {getattr(error, 'orig', None) or error}") from None


def _require_schema() -> None:
    tables = _live_tables()
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupFailed(f"the database has no table {', '.join(missing)}: create its schema with `flask db upgrade` first")


def _write(tmp: Path, file: Path, live: Path | None) -> BackupInfo:
    """Back the live database up into `tmp` (created for its owner only), check it, and rename it to `file`."""
    tmp.unlink(missing_ok=True)  # a leftover of a backup killed before it could clean up
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    if live:
        _sqlite_backup(live, tmp)
    else:
        _run_pg("pg_dump", "--format=custom", "--no-owner", f"--file={tmp}", _libpq_url())
    try:
        info = _read(tmp, "sqlite" if live else "postgresql")
    except BackupFailed as error:
        raise BackupFailed(f"the backup could not be checked, so nothing was written: {error}") from None
    _publish(tmp, file)
    return info


def _publish(tmp: Path, file: Path) -> None:
    """Make the finished backup durable, then give it its name in one atomic rename."""
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, file)
    directory = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _format_of(file: Path) -> str:
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise BackupFailed(f"cannot read {file}: {error.strerror}") from None
    for magic, backend in _MAGIC.items():
        if head.startswith(magic):
            return backend
    raise BackupFailed(f"{file} is not a backup: neither an SQLite database nor a pg_dump custom-format archive")


def _read(file: Path, backend: str) -> BackupInfo:
    """What the backup file holds; BackupFailed unless it is readable and has this app's tables."""
    read = _sqlite_read if backend == "sqlite" else _pg_read
    created, tables, revisions, employees, accounts = read(file)
    if len(revisions) != 1:
        raise BackupFailed(f"{file} has {len(revisions)} schema revisions in alembic_version instead of one")
    return BackupInfo(path=file, size=file.stat().st_size, created=created, revision=revisions[0],
                      employees=employees, accounts=accounts, tables=frozenset(tables))


def _require_tables(file: Path, tables) -> None:
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupFailed(f"{file} is not a backup of this app: it has no table {', '.join(missing)}")


def _needs_upgrade(file: Path, revision: str) -> bool:
    """Whether the backup's schema is older than this code's; BackupFailed when this code does not know it."""
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    if revision not in {s.revision for s in script.walk_revisions()}:
        raise BackupFailed(f"{file} has schema revision {revision}, which this version of the app does not know "
                           "(a newer version made it): restore it with that version")
    return revision not in script.get_heads()


# SQLite

def _connect(file: Path, mode: str) -> sqlite3.Connection:
    """A plain sqlite3 connection: mode "ro" or "rw" (never creates the file); waits for locks like the app does."""
    return sqlite3.connect(f"{file.as_uri()}?mode={mode}", uri=True, timeout=10)


def _sqlite_backup(live: Path, tmp: Path) -> None:
    try:
        with closing(_connect(live, "rw")) as source, closing(sqlite3.connect(tmp)) as target:
            # In one step (pages=-1): every page is read in one read transaction, a consistent snapshot; the app's
            # writers carry on in the WAL meanwhile.
            source.backup(target)
            # The copy carries the live file's WAL flag: make it one self-contained file, no -wal or -shm beside it.
            target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupFailed(f"the backup failed, nothing was written: {error}") from None


def _sqlite_read(file: Path):
    try:
        with closing(_connect(file, "ro")) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupFailed(f"{file} is damaged: {'; '.join(problems[:3])}")
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            _require_tables(file, tables)
            revisions = [r for (r,) in conn.execute("SELECT version_num FROM alembic_version")]
            employees, accounts = (conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("employee", "app_user"))
    except sqlite3.DatabaseError as error:
        raise BackupFailed(f"{file} is not a readable SQLite database: {error}") from None
    created = datetime.fromtimestamp(file.stat().st_mtime).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    return created, tables, revisions, employees, accounts


def _sqlite_restore(backup: Path, live: Path) -> None:
    # The backup API writes the live file in one write transaction (through the WAL) that commits only once every
    # page is copied, so a failure or a crash midway leaves the database as it was, and the app's connections see
    # either the old database or the restored one, never a mix. What is copied was checked first (quick_check,
    # tables, revision), so there is no need to restore into a temporary copy first.
    try:
        with closing(_connect(backup, "ro")) as source, closing(_connect(live, "rw")) as target:
            source.backup(target)
    except sqlite3.Error as error:
        raise BackupFailed(f"the restore failed, the database is unchanged: {error}") from None


# PostgreSQL

def _libpq_url() -> str:
    """The live database as a libpq URL (no +psycopg, no password: _run_pg passes it in PGPASSWORD, so that it
    never shows on a command line)."""
    url = db.engine.url
    return URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                      query=url.query).render_as_string(hide_password=False)


def _run_pg(tool: str, *args: str, failed: str = "") -> str:
    """Run a PostgreSQL client tool; its standard output, or BackupFailed with its error message after `failed`."""
    program = shutil.which(tool)
    if program is None:
        raise BackupFailed(f"{tool} was not found on PATH: {_CLIENT_HINT}")
    env = dict(os.environ)
    if db.engine.url.password:
        env["PGPASSWORD"] = db.engine.url.password
    result = subprocess.run([program, *args], env=env, capture_output=True, encoding="utf-8", errors="replace", check=False)
    if result.returncode != 0:
        failed = failed or f"{tool} failed, nothing was changed"
        raise BackupFailed(f"{failed}: {result.stderr.strip() or f'exit status {result.returncode}'}")
    return result.stdout


def _pg_read(file: Path):
    listing = _run_pg("pg_restore", "--list", str(file), failed=f"{file} is not a readable pg_dump archive")
    tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))
    _require_tables(file, tables)
    stamp = re.search(r"^; Archive created at (.+)$", listing, re.MULTILINE)
    rows = _copy_rows(_run_pg("pg_restore", "--data-only", *(f"--table={t}" for t in REQUIRED_TABLES), "--file=-", str(file)))
    revisions = [line.split("\t")[0] for line in rows.get("alembic_version", [])]
    created = stamp.group(1).strip() if stamp else "(unknown)"
    return created, tables, revisions, len(rows.get("employee", [])), len(rows.get("app_user", []))


def _copy_rows(script: str) -> dict[str, list[str]]:
    """The data lines of each COPY block of a pg_restore script, by table (a row is one line in COPY text)."""
    rows: dict[str, list[str]] = {}
    current = None
    for line in script.splitlines():
        if current is None:
            match = re.match(r"COPY (?:\S+\.)?(\S+) \(.*\) FROM stdin;$", line)
            if match:
                current = rows.setdefault(match.group(1).strip('"'), [])
        elif line == "\\.":
            current = None
        else:
            current.append(line)
    return rows


def _refuse_unknown_tables(info: BackupInfo) -> None:
    """pg_restore --clean replaces the tables in the archive and leaves any other: refuse rather than leave tables of
    a newer schema beside the backup's (they would also make pg_restore's DROP TABLE fail on their foreign keys)."""
    extra = sorted(_live_tables() - info.tables)
    if extra:
        raise BackupFailed(f"the database has tables the backup does not ({', '.join(extra)}), perhaps from a newer "
                           "version of the app, and a restore would leave them: restore into an empty database "
                           "(createdb, then DATABASE_URL pointing to it), or drop those tables first")
