"""Forgot password: the e-mailed single-use link (to a real SMTP server), the same answer for unknown accounts,
expiry, sessions ended, throttling, directory accounts, and the pages' absence without e-mail."""
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from competency.auth import views as auth_views
from competency.extensions import db, limiter
from competency.models import AuditEvent, PasswordReset, User
from competency.services import password_reset
from competency.services.notifications import mail
from competency.timeutil import utcnow

from . import factories
from .test_notifications import _body

EN = {"Accept-Language": "en"}
NEW = "Quiet-Harbour-7431"


@pytest.fixture
def account(app):
    user = factories.user(staff_no="E5001", email="e5001@bank.example")
    db.session.commit()
    return user


def _ask(client, identifier):
    return client.post("/password/forgot", data={"identifier": identifier}, headers=EN)


def _link(messages) -> str:
    assert len(messages) == 1
    text, _html = _body(messages[0][1])
    return re.search(r"https://competency\.bank\.example(/password/reset/\S+)", text).group(1)


def test_the_link_arrives_works_once_and_ends_every_session(account, mail_on, client, app):
    other = app.test_client()
    other.post("/login", data={"identifier": "E5001", "password": factories.PASSWORD})
    assert other.get("/", headers=EN).status_code == 200
    response = _ask(client, "E5001")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert db.session.scalar(select(PasswordReset.token_hash)) is not None
    mail.drain()
    assert mail_on[0][0] == ["e5001@bank.example"] and mail_on[0][1]["Subject"] == "Reset your Competency password"
    link = _link(mail_on)
    assert link.split("/")[-1] not in db.session.scalar(select(PasswordReset.token_hash))  # only a hash is kept
    page = client.get(link, headers=EN).data.decode()
    assert "Choose a new password" in page
    response = client.post(link, data={"password": NEW, "confirm": NEW}, headers=EN)
    assert response.headers["Location"] == "/login"
    assert other.get("/", headers=EN).status_code == 302  # the other session ended
    assert client.post("/login", data={"identifier": "E5001", "password": NEW}).status_code == 302
    again = app.test_client().get(link, headers=EN)
    assert again.status_code == 302 and again.headers["Location"] == "/password/forgot"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_reset_by_link")) is not None


def test_an_unknown_account_gets_the_same_answer_and_no_email(account, mail_on, client):
    known = _ask(client, "E5001")
    known_flash = client.get("/login", headers=EN).data.decode()
    unknown = _ask(client, "NOBODY")
    unknown_flash = client.get("/login", headers=EN).data.decode()
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    message = "If an account with an e-mail address matches"
    assert message in known_flash and message in unknown_flash
    mail.drain()
    assert len(mail_on) == 1
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "auth.password_reset_requested",
                                                           AuditEvent.object_id.is_(None)))["identifier"] == "NOBODY"


def test_the_link_expires_after_30_minutes_and_a_weak_password_leaves_it_usable(account, mail_on, client):
    _ask(client, "E5001")
    mail.drain()
    token = _link(mail_on).split("/")[-1]
    response = client.post(f"/password/reset/{token}", data={"password": "password", "confirm": "password"}, headers=EN)
    assert response.status_code == 200 and password_reset.valid_link(token) is not None
    assert password_reset.valid_link(token, now=utcnow() + timedelta(minutes=31)) is None
    db.session.execute(PasswordReset.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(f"/password/reset/{token}").headers["Location"] == "/password/forgot"


def test_directory_accounts_and_accounts_without_an_address_get_no_link(app, mail_on, client):
    directory = factories.user(staff_no="L1", email="l1@bank.example")
    directory.auth_source = "ldap"
    factories.user(staff_no="N1")
    db.session.commit()
    _ask(client, "L1")
    _ask(client, "N1")
    mail.drain()
    assert mail_on == [] and db.session.scalar(select(PasswordReset.id)) is None


def test_without_email_there_is_no_forgot_password(account, client):
    assert "Forgot your password?" not in client.get("/login", headers=EN).data.decode()
    assert client.get("/password/forgot").status_code == 404


def test_asking_is_throttled_per_account(make_app, mail_on, app, account, monkeypatch):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", MAIL_SERVER="127.0.0.1",
                       MAIL_PORT=app.config["MAIL_PORT"])
    with limited.app_context():
        limiter.reset()
        client = limited.test_client()
        codes = [client.post("/password/forgot", data={"identifier": "E5001"}, headers=EN).status_code for _ in range(4)]
        assert codes == [302, 302, 302, 429]
        refused = client.post("/password/forgot", data={"identifier": "e5001@bank.example"}, headers=EN)
        # 3 per 15 minutes: the wait in whole minutes, rounded up, so that who waits as long as it says is let in
        wait = int(refused.headers["Retry-After"])
        assert 840 < wait <= 900 and "Too many requests. Wait 15 minutes, then try again." in refused.data.decode()
        later = time.time() + 331  # 569 s left: 9.5 minutes is told as 10, never 9
        monkeypatch.setattr(auth_views, "time", SimpleNamespace(time=lambda: later))
        refused = client.post("/password/forgot", data={"identifier": "E5001"}, headers=EN)
        assert "Too many requests. Wait 10 minutes, then try again." in refused.data.decode()
        assert len(db.session.scalars(select(PasswordReset)).all()) == 3
        limiter.reset()
    assert db.session.get(User, account.id).session_version == 1
