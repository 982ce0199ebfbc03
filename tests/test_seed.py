"""`flask seed`: the demo organisation, its logins, and idempotency."""
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import AuditEvent, Employee, OrgUnit, Position, User, UserRole
from competency.services.seed import seed_all

from . import factories


def _state():
    counts = tuple(db.session.scalar(select(func.count()).select_from(m))
                   for m in (Position, OrgUnit, Employee, User, UserRole, AuditEvent))
    people = sorted(
        (e.staff_no, e.name_en, e.grade, e.supervisor_id, e.org_unit_id, e.updated_at) for e in db.session.scalars(select(Employee))
    )
    hashes = sorted(u.password_hash for u in db.session.scalars(select(User)))
    return counts, people, hashes


def test_seed_builds_the_demo_organisation(seeded):
    assert {"CM_CORP", "CM_RETAIL"} <= set(db.session.scalars(select(Position.code)))
    assert db.session.scalar(select(func.count(Employee.id))) >= 50
    kinds = set(db.session.scalars(select(OrgUnit.kind)))
    assert {k.value for k in kinds} >= {"head_office", "tier1_branch", "sub_branch"}
    roles = {r.value for r in db.session.scalars(select(UserRole.role))}
    assert roles == {"employee", "supervisor", "trainer", "hr", "admin"}


def test_seed_twice_changes_nothing(seeded):
    first = _state()  # the demo organisation as `flask seed` left it (the run's seeded snapshot)
    report = seed_all(seeded.config["SEEDS_DIR"], probation_months=3, hash_method="pbkdf2:sha256:1000")
    assert all(v == 0 for v in report.values())
    assert _state() == first


def test_demo_logins_work(seeded, client):
    for login in ("A0001", "H0001", "T0001", "S0001", "E0001", "E0002", "admin@demo.bank"):
        client.post("/logout")
        response = client.post("/login", data={"identifier": login, "password": "Demo@2026"})
        assert response.status_code == 302, login
        if response.headers["Location"] == "/login/code":  # hr and admin: the demo's second factor
            code = factories.totp_code({"admin@demo.bank": "A0001"}.get(login, login))  # one account, two names
            assert client.post("/login/code", data={"code": code}).status_code == 302, login
        assert client.get("/").status_code == 200


def test_seed_cli(app):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and "employees" in result.output
