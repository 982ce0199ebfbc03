"""Account administration: create, roles, password reset, deactivate — all audited."""
from sqlalchemy import select

from competency.extensions import db
from competency.models import AuditEvent, User

from . import factories


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_admin_creates_an_account_linked_to_an_employee(app, client, login_as):
    factories.employee(staff_no="N1")
    db.session.commit()
    login_as("admin")
    response = client.post("/admin/users/new", data={"staff_no": "N1", "password": "long-enough-1", "roles": ["employee", "trainer"]})
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.employee.has(staff_no="N1")))
    assert {r.value for r in created.roles} == {"employee", "trainer"}
    assert "user.create" in _actions() and "user.roles" in _actions()
    client.post("/logout")
    assert client.post("/login", data={"identifier": "N1", "password": "long-enough-1"}).status_code == 302


def test_unknown_staff_number_is_a_clear_error(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data={"staff_no": "NOPE", "password": "long-enough-1"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200 and b"Nobody you may choose here has the staff number or name NOPE." in response.data


def test_roles_change_is_audited(app, client, login_as):
    target = factories.user(roles=["employee"])
    db.session.commit()
    login_as("admin")
    client.post(f"/admin/users/{target.id}", data={"roles-roles": ["employee", "hr"], "roles-submit": "1"})
    assert db.session.get(User, target.id).has_role("hr")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.roles"))
    assert event.details["granted"] == ["hr"] and event.object_id == str(target.id)


def test_password_reset_forces_a_new_password_at_next_sign_in(app, client, login_as):
    target = factories.user(roles=["employee"], staff_no="PW1")
    db.session.commit()
    login_as("admin")
    weak = client.post(f"/admin/users/{target.id}", data={"pw-password": "password", "pw-confirm": "password", "pw-submit": "1"},
                       follow_redirects=True)
    assert b"too common" in weak.data
    client.post(f"/admin/users/{target.id}", data={"pw-password": "Brand-new-pass-9", "pw-confirm": "Brand-new-pass-9", "pw-submit": "1"})
    assert "user.password_reset" in _actions()
    client.post("/logout")
    assert client.post("/login", data={"identifier": "PW1", "password": "Brand-new-pass-9"}).status_code == 302
    assert client.get("/").headers["Location"] == "/account/password"  # every page leads to the change first
    changed = client.post("/account/password", data={"current": "Brand-new-pass-9", "password": "Mine-and-only-mine-7",
                                                      "confirm": "Mine-and-only-mine-7"})
    assert changed.status_code == 302
    assert client.get("/").status_code == 200


def test_deactivation_blocks_login_and_ends_sessions(app, client, login_as):
    target = factories.user(roles=["employee"], staff_no="DE1")
    db.session.commit()
    admin = login_as("admin")
    client.post(f"/admin/users/{target.id}", data={"act-submit": "1"})
    assert db.session.get(User, target.id).active is False
    assert "user.deactivate" in _actions()
    client.post("/logout")
    assert client.post("/login", data={"identifier": "DE1", "password": factories.PASSWORD}).status_code == 200
    login_as(admin)
    client.post(f"/admin/users/{admin.id}", data={"act-submit": "1"})
    assert db.session.get(User, admin.id).active is True


def test_audit_events_cannot_be_edited(app):
    import pytest

    from competency.errors import AppendOnlyViolation
    from competency.services import audit

    event = audit.record("test.action", "thing", 1)
    db.session.commit()
    event.action = "tampered"
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()


def test_cli_creates_the_first_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "--email", "root@bank.example", "--role", "admin", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "root@bank.example")).has_role("admin")
    again = runner.invoke(args=["user", "create", "--email", "root@bank.example", "--role", "admin", "--password", "x" * 10])
    assert again.exit_code != 0
