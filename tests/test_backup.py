"""`flask backup create` / `flask backup restore`: round trips on real SQLite and PostgreSQL databases, and the
refusals that keep a backup or the live data from being damaged."""
import os
import sqlite3
import stat
import threading
import time
from contextlib import closing

import psycopg
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from competency import create_app
from competency.config import TestingConfig
from competency.extensions import db
from competency.models import AuditEvent, Employee, User

from . import factories
from .conftest import vars_of


def _app(url: str):
    """An app on the given database (make_app keeps every app on the session's test database)."""
    return create_app(dict(vars_of(TestingConfig), SQLALCHEMY_DATABASE_URI=url))


def _people() -> None:
    """Three employees, one of them (Ada) with a login account; committed."""
    factories.user(name_en="Ada Lovelace", staff_no="B0001")
    factories.employee(name_en="Grace Hopper", staff_no="B0002")
    factories.employee(name_en="Alan Turing", staff_no="B0003")
    db.session.commit()


def _state() -> tuple:
    """What a user would notice: the people (staff number, name) and how many accounts there are."""
    db.session.commit()  # read what is in the database now, not a snapshot of ours
    people = db.session.execute(select(Employee.staff_no, Employee.name_en).order_by(Employee.staff_no)).all()
    return [tuple(row) for row in people], db.session.scalar(select(func.count(User.id)))


ORIGINAL = ([("B0001", "Ada Lovelace"), ("B0002", "Grace Hopper"), ("B0003", "Alan Turing")], 1)


def _change_everything() -> None:
    """Rename Ada, delete Alan's row, add a newcomer; committed."""
    db.session.scalar(select(Employee).filter_by(staff_no="B0001")).name_en = "Ada Byron"
    db.session.execute(text("DELETE FROM employee WHERE staff_no = 'B0003'"))
    factories.employee(name_en="Newcomer", staff_no="B0004")
    db.session.commit()


def _head() -> str:
    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["backup", *args], input=input)


@pytest.fixture
def live(tmp_path):
    """An app on an SQLite file of its own (live.db, WAL, migrated to head) holding _people(), inside its app context."""
    app = _app(f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        upgrade()
        _people()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_sqlite_round_trip_brings_back_the_backed_up_data(live, tmp_path):
    target = tmp_path / "nightly.db"
    created = _cli(live, "create", str(target))
    assert created.exit_code == 0, created.output
    assert f"backup written to {target}" in created.output
    assert f"schema revision {_head()}, 3 employees, 1 account" in created.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data and password hashes: the owner's only
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("nightly")) == ["nightly.db"]  # no .tmp left

    _change_everything()
    assert _state() != ORIGINAL
    restored = _cli(live, "restore", "--yes", str(target))
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output and "flask db upgrade" not in restored.output

    assert _state() == ORIGINAL
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "backup.restore"
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"  # the live database stays in WAL mode


def test_create_refuses_to_overwrite_a_file_without_force(live, tmp_path):
    target = tmp_path / "precious.db"
    target.write_text("an older backup", encoding="utf-8")
    refused = _cli(live, "create", str(target))
    assert refused.exit_code != 0 and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "an older backup"

    forced = _cli(live, "create", "--force", str(target))
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes().startswith(b"SQLite format 3\x00")

    itself = _cli(live, "create", "--force", str(tmp_path / "live.db"))
    assert itself.exit_code != 0 and "is the database itself" in itself.output
    assert _state() == ORIGINAL


def test_sqlite_backup_runs_beside_a_write_in_progress_and_holds_only_committed_data(live, tmp_path):
    target, results = tmp_path / "b.db", []
    with closing(sqlite3.connect(tmp_path / "live.db")) as writer:  # another worker of the running app, mid-write
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE employee SET name_en = 'Committed later' WHERE staff_no = 'B0002'")
        backing_up = threading.Thread(target=lambda: results.append(_cli(live, "create", str(target))))
        backing_up.start()
        deadline = time.monotonic() + 5
        while not target.exists() and time.monotonic() < deadline:  # the copy does not wait for the writer
            time.sleep(0.01)
        writer.commit()  # now the backup's audit event, which does wait for the write lock, can be recorded
        backing_up.join()
    assert results[0].exit_code == 0, results[0].output
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("SELECT name_en FROM employee WHERE staff_no = 'B0002'").fetchone() == ("Grace Hopper",)


def test_create_refuses_an_in_memory_database(tmp_path):
    result = _cli(_app("sqlite://"), "create", str(tmp_path / "b.db"))
    assert result.exit_code != 0 and "in-memory SQLite database (sqlite://)" in result.output
    assert list(tmp_path.iterdir()) == []


def _sqlite_file(path, *statements) -> None:
    """Run statements on an SQLite file (created if missing) outside the app."""
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def test_restore_refuses_files_that_are_not_backups_of_this_app(live, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.db"
    _sqlite_file(other, "CREATE TABLE customer (id INTEGER PRIMARY KEY)")
    future = tmp_path / "future.db"
    assert _cli(live, "create", str(future)).exit_code == 0
    _sqlite_file(future, "UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'")

    for file, reason in ((tmp_path / "live.db", "is the database itself"), (notes, "is not a backup"),
                         (other, "has no table alembic_version, employee, app_user"),
                         (future, "schema revision f0f0f0f0f0f0, which this version of the app does not know")):
        result = _cli(live, "restore", "--yes", str(file))
        assert result.exit_code != 0 and reason in result.output, result.output
    assert _state() == ORIGINAL


def test_restore_asks_first_and_an_answer_other_than_the_name_changes_nothing(live, tmp_path):
    target = tmp_path / "b.db"
    assert _cli(live, "create", str(target)).exit_code == 0
    _change_everything()
    changed = _state()

    declined = _cli(live, "restore", str(target), input="no\n")
    assert declined.exit_code != 0
    assert f"This replaces ALL data in {tmp_path / 'live.db'}" in declined.output and "3 employees" in declined.output
    assert "restore cancelled; nothing was changed" in declined.output
    assert _state() == changed

    confirmed = _cli(live, "restore", str(target), input="live.db\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert _state() == ORIGINAL


def test_restoring_an_older_schema_says_to_upgrade_and_upgrade_finishes_it(live, tmp_path):
    previous = ScriptDirectory(current_app.extensions["migrate"].directory).get_revision(_head()).down_revision
    old_app = _app(f"sqlite:///{tmp_path / 'old.db'}")
    with old_app.app_context():
        upgrade(revision=previous)
        made = _cli(old_app, "create", str(tmp_path / "old-backup.db"))
        db.engine.dispose()
    assert made.exit_code == 0, made.output

    restored = _cli(live, "restore", "--yes", str(tmp_path / "old-backup.db"))
    assert restored.exit_code == 0, restored.output
    assert f"(revision {previous}) is older than this version of the app: run `flask db upgrade` now" in restored.output
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == previous
    db.session.commit()
    upgrade()
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    assert _state() == ([], 0)  # the old backup's (empty) data, now on the current schema


@pytest.fixture
def pg_live(pg_url):
    """An app on a PostgreSQL database of its own (created for this test, migrated to head, holding _people(),
    dropped afterwards), so that restoring never touches the `test` database other tests share."""
    server = make_url(pg_url).set(drivername="postgresql")
    name = f"competency_backup_test_{os.getpid()}"
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    app = _app(server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False))
    try:
        with app.app_context():
            upgrade()
            _people()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgresql_round_trip_brings_back_the_backed_up_data(pg_live, tmp_path):
    target = tmp_path / "nightly.dump"
    created = _cli(pg_live, "create", str(target))
    assert created.exit_code == 0, created.output
    assert f"schema revision {_head()}, 3 employees, 1 account" in created.output
    assert target.read_bytes().startswith(b"PGDMP") and stat.S_IMODE(target.stat().st_mode) == 0o600

    _change_everything()
    restored = _cli(pg_live, "restore", "--yes", str(target))
    assert restored.exit_code == 0, restored.output
    assert _state() == ORIGINAL
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "backup.restore"
    assert factories.employee(staff_no="B0005").id > 3  # the sequences came back too: no id is handed out twice


@pytest.mark.postgres
def test_postgresql_restore_that_cannot_finish_changes_nothing(pg_live, tmp_path):
    target = tmp_path / "b.dump"
    assert _cli(pg_live, "create", str(target)).exit_code == 0
    _change_everything()
    changed = _state()
    db.session.execute(text("CREATE TABLE report_cache (employee_id INTEGER REFERENCES employee (id))"))
    db.session.commit()
    extra = _cli(pg_live, "restore", "--yes", str(target))
    assert extra.exit_code != 0 and "tables the backup does not (report_cache)" in extra.output

    db.session.execute(text("DROP TABLE report_cache"))
    db.session.execute(text("CREATE VIEW staff_names AS SELECT staff_no, name_en FROM employee"))
    db.session.commit()
    failed = _cli(pg_live, "restore", "--yes", str(target))  # pg_restore fails midway: DROP TABLE employee is refused
    assert failed.exit_code != 0 and "pg_restore failed, nothing was changed" in failed.output

    sqlite_backup = tmp_path / "s.db"
    _sqlite_file(sqlite_backup, "CREATE TABLE t (id INTEGER)")
    wrong_kind = _cli(pg_live, "restore", "--yes", str(sqlite_backup))
    assert wrong_kind.exit_code != 0 and "an SQLite backup, but the database is a PostgreSQL one" in wrong_kind.output
    assert _state() == changed


@pytest.mark.postgres
def test_missing_postgresql_client_tools_are_named(pg_live, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without pg_dump
    result = _cli(pg_live, "create", str(tmp_path / "b.dump"))
    assert result.exit_code != 0
    assert "pg_dump was not found on PATH" in result.output and "postgresql-client" in result.output
    assert list(tmp_path.iterdir()) == []  # not even a .tmp
