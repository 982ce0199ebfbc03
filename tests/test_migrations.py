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


def test_old_grade_history_reasons_become_codes(tmp_path):
    app = create_app(dict(vars_of(TestingConfig), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context():
        upgrade(revision="ffbd37409dfd")  # before reasons had codes
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO position (id, code, name_zh, name_en, sales_unit) VALUES (1, 'P', 'p', 'p', 'x')"))
            conn.execute(text("INSERT INTO org_unit (id, code, kind, name_zh, name_en) VALUES (1, 'U', 'head_office', 'u', 'u')"))
            conn.execute(text("INSERT INTO employee (id, staff_no, name_zh, name_en, org_unit_id, position_id, grade, hire_date, "
                              "probation_end, status, created_at, updated_at) VALUES (1, 'E1', 'e', 'e', 1, 1, 'junior', "
                              "'2020-01-01', '2020-04-01', 'active', '2020-01-01', '2020-01-01')"))
            for n, reason in enumerate(("2025 review: promote", "import employees.csv", "Changed on the employee page",
                                        "Mentoring two trainees"), start=1):
                conn.execute(text("INSERT INTO grade_history (id, employee_id, from_grade, to_grade, effective_date, reason, "
                                  "created_at) VALUES (:id, 1, 'junior', 'intermediate', '2026-01-01', :reason, "
                                  "'2026-01-02')"), {"id": n, "reason": reason})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT reason_code, reason_data, reason, applied_at IS NOT NULL "
                                     "FROM grade_history ORDER BY id")).all()
        db.engine.dispose()
    import json
    assert [(code, json.loads(data) if data else None, reason, applied) for code, data, reason, applied in rows] == [
        ("review", {"year": 2025, "action": "promote"}, "", 1), ("import", {"file": "employees.csv"}, "", 1),
        ("employee_page", {}, "", 1), (None, None, "Mentoring two trainees", 1)]
