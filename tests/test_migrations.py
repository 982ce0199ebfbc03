"""`flask db upgrade` from empty gives exactly the models' schema, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from competency import create_app
from competency.config import TestingConfig
from competency.extensions import db

from .conftest import vars_of


def _diff_after_upgrade(url: str) -> list:
    app = create_app(dict(vars_of(TestingConfig), SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diff = compare_metadata(context, db.metadata)
        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    return diff, remaining


def test_sqlite_upgrade_matches_models(tmp_path):
    diff, remaining = _diff_after_upgrade(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert diff == []
    assert remaining == set()


@pytest.mark.postgres
def test_postgresql_upgrade_matches_models(pg_url):
    schema = "migration_check"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in pg_url else "?"
    try:
        diff, remaining = _diff_after_upgrade(f"{pg_url}{separator}options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    assert diff == []
    assert remaining == set()
