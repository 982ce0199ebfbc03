"""Logging in and out, CSRF and security headers (throttling, sessions, passwords, two-factor: test_sign_in)."""
from sqlalchemy import select

from competency.extensions import db
from competency.models import AuditEvent

from . import factories


def _login(client, identifier, password=factories.PASSWORD):
    return client.post("/login", data={"identifier": identifier, "password": password})


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_by_staff_number_lands_on_dashboard(app, client):
    account = factories.user(roles=["employee"], staff_no="E7001")
    db.session.commit()
    response = _login(client, "E7001")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/", headers={"Accept-Language": "en"})
    assert b"My profile" in page.data and b"E7001" in page.data
    assert "auth.login" in _actions()
    assert db.session.get(type(account), account.id).last_login_at is not None


def test_login_by_email_case_insensitive(app, client):
    factories.user(roles=["admin"], email="Admin@Demo.Bank", with_employee=False)
    db.session.commit()
    assert _login(client, "admin@demo.bank").status_code == 302


def test_wrong_password_is_refused_and_audited(app, client):
    factories.user(staff_no="E7002")
    db.session.commit()
    response = client.post("/login", data={"identifier": "E7002", "password": "nope"}, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert b"Wrong staff number, email or password." in response.data
    assert client.get("/").status_code == 302  # still anonymous
    assert _actions() == ["auth.login_failed"]


def test_deactivated_account_cannot_log_in(app, client):
    account = factories.user(staff_no="E7003")
    account.active = False
    db.session.commit()
    assert _login(client, "E7003").status_code == 200
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(app, client, login_as):
    login_as("employee")
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert _actions()[-1] == "auth.logout"


def test_logout_by_get_is_not_allowed(app, client, login_as):
    login_as("employee")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_csrf_token_is_required_when_enabled(make_app, app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    factories.user(staff_no="E7006")
    db.session.commit()
    with csrf_app.app_context():
        client = csrf_app.test_client()
        response = client.post("/login", data={"identifier": "E7006", "password": factories.PASSWORD})
        assert response.status_code == 400
        assert client.get("/").status_code == 302
        page = client.get("/login").data.decode()
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        ok = client.post("/login", data={"identifier": "E7006", "password": factories.PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
        db.engine.dispose()


def test_security_headers_and_cookie_flags(app, client):
    factories.user(staff_no="E7007")
    db.session.commit()
    response = _login(client, "E7007")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_after_login_is_ignored(app, client):
    factories.user(staff_no="E7008")
    db.session.commit()
    response = client.post("/login?next=//evil.example/x", data={"identifier": "E7008", "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"
