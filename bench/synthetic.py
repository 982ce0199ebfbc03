"""Build a synthetic bank for benchmarks: org units, positions, employees with supervisors, a published model."""
import random
import resource
import time
from datetime import date

import yaml
from sqlalchemy import insert, select, text

from competency.extensions import db
from competency.models import Employee, EmployeeStatus, Grade, OrgUnit, OrgUnitKind, Position
from competency.services.ksa import importer, versions

SEEDS = "seeds/ksa_model.yaml"


def build_bank(employees: int, seed: int = 7) -> dict:
    """Insert `employees` customer managers in sub-branches of 20 branches, in bulk; returns what was made."""
    rng = random.Random(seed)
    session = db.session
    session.add_all([Position(code="CM_CORP", name_zh="公司客户经理", name_en="Corporate customer manager")])
    head = OrgUnit(code="HO", kind=OrgUnitKind.HEAD_OFFICE, name_zh="总行", name_en="Head office")
    session.add(head)
    session.flush()
    branches = max(1, min(20, employees // 5000 or 1))
    subs_per_branch = 10
    units = []
    for b in range(branches):
        branch = OrgUnit(code=f"B{b}", kind=OrgUnitKind.TIER1_BRANCH, parent=head, name_zh=f"分行{b}", name_en=f"Branch {b}")
        session.add(branch)
        for s in range(subs_per_branch):
            units.append(OrgUnit(code=f"B{b}S{s}", kind=OrgUnitKind.SUB_BRANCH, parent=branch,
                                 name_zh=f"支行{b}-{s}", name_en=f"Sub-branch {b}-{s}"))
    session.add_all(units)
    session.flush()
    position_id = session.scalar(select(Position.id).where(Position.code == "CM_CORP"))
    grades = [Grade.TRAINEE, Grade.JUNIOR, Grade.JUNIOR, Grade.INTERMEDIATE, Grade.INTERMEDIATE, Grade.SENIOR]
    rows, next_id = [], 1
    per_unit = max(1, employees // len(units))
    for unit in units:
        lead_id = None
        for i in range(per_unit):
            if len(rows) >= employees:
                break
            is_lead = i % 8 == 0
            rows.append(dict(id=next_id, staff_no=f"X{next_id:07d}", name_zh=f"员工{next_id}", name_en=f"Person {next_id}",
                             org_unit_id=unit.id, position_id=position_id,
                             grade=Grade.SENIOR if is_lead else rng.choice(grades),
                             hire_date=date(2018, 1, 1), probation_end=date(2018, 4, 1),
                             supervisor_id=None if is_lead else lead_id, status=EmployeeStatus.ACTIVE))
            if is_lead:
                lead_id = next_id
            next_id += 1
    for start in range(0, len(rows), 10000):
        session.execute(insert(Employee), rows[start:start + 10000])
    with open(SEEDS, "rb") as f:
        data = yaml.safe_load(f)
    data["position"] = "CM_CORP"
    version = importer.import_file(yaml.safe_dump(data, allow_unicode=True).encode(), "model.yaml")
    versions.publish(version)
    session.commit()
    return {"employees": len(rows), "org_units": len(units) + branches + 1, "version": version}


def vacuum_analyze() -> None:
    """On PostgreSQL, VACUUM ANALYZE the bulk-loaded bank, as autovacuum soon would: fresh statistics, no dead rows
    left by the build's updates, and the visibility map that lets rows be read from an index alone (this server runs
    without autovacuum). Nothing on SQLite."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def fresh_app(url: str | None):
    """An app on an empty database (a new SQLite file by default), migrated to the current schema."""
    import secrets
    import tempfile

    from flask_migrate import upgrade
    from sqlalchemy import text

    from competency import create_app

    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    return app


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def signed_in_client(app, user_id: str):
    """A test client whose session is that of the account after a full sign-in (`user_id`: User.get_id())."""
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session.update(_user_id=user_id, _fresh=True, auth_at=now, seen_at=now, mfa=True)
    return client
