"""Sign-in that resists abuse: throttling per address and identifier with growing waits (never a lock a stranger
can set off), the same answer and work for unknown and known identifiers, sessions that end (logout, password
change, reset, roles, deactivation, idle, lifetime), the password policy, and two-factor for hr and admin."""
import re
import time

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from competency.cli import user_group
from competency.extensions import db, limiter
from competency.models import AuditEvent, User
from competency.services import auth, passwords

from . import factories

EN = {"Accept-Language": "en"}


def _login(client, identifier, password=factories.PASSWORD, address="10.0.0.1", **headers):
    return client.post("/login", data={"identifier": identifier, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers={**EN, **headers})


def _actions(prefix=""):
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith(prefix)]


def _same_page(response, identifier: str) -> str:
    """The page without what differs by nature (the CSRF token, the identifier typed in)."""
    return re.sub(r'value="[^"]*"', "", response.data.decode().replace(identifier, "X"))


@pytest.fixture
def throttled(make_app, app):
    """An app with sign-in throttling on (in memory), its counters empty."""
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with limited.app_context():
        limiter.reset()
        yield limited
        limiter.reset()


# --- throttling -----------------------------------------------------------------------------------

def test_failures_slow_down_one_address_and_identifier_without_locking_the_account(throttled, app):
    factories.user(staff_no="T0001")
    db.session.commit()
    attacker, owner = throttled.test_client(), throttled.test_client()
    for _ in range(5):
        assert _login(attacker, "T0001", "wrong-guess", address="203.0.113.9").status_code == 200
    blocked = _login(attacker, "T0001", factories.PASSWORD, address="203.0.113.9")
    assert blocked.status_code == 429  # even the right password waits: guessing gains nothing
    assert b"Too many sign-in attempts. Wait 1 minute, then try again." in blocked.data
    assert int(blocked.headers["Retry-After"]) <= 60
    # The owner, from their own address, still signs in: strangers cannot lock anyone out.
    assert _login(owner, "T0001", address="198.51.100.7").status_code == 302


def test_waits_grow_with_repeated_failures(throttled, app, monkeypatch):
    factories.user(staff_no="T0002")
    db.session.commit()
    client = throttled.test_client()
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    for _ in range(5):
        _login(client, "T0002", "wrong", address="203.0.113.10")
    assert _login(client, "T0002", "wrong", address="203.0.113.10").status_code == 429
    clock[0] += 61  # the first wait (a minute) is over: five more tries, a minute's wait again
    assert [_login(client, "T0002", "wrong", address="203.0.113.10").status_code for _ in range(6)] == [200] * 5 + [429]
    clock[0] += 61
    late = _login(client, "T0002", "wrong", address="203.0.113.10")
    assert late.status_code == 429 and int(late.headers["Retry-After"]) > 60  # ten in ten minutes: a longer wait


def test_password_spraying_from_one_address_is_stopped(throttled, app):
    for i in range(35):
        factories.user(staff_no=f"SP{i:03d}")
    db.session.commit()
    client = throttled.test_client()
    statuses = [_login(client, f"SP{i:03d}", "Spring2026!", address="203.0.113.11").status_code for i in range(35)]
    assert statuses[:30] == [200] * 30 and set(statuses[30:]) == {429}


def test_throttled_answer_is_the_same_for_unknown_and_known_identifiers(throttled, app):
    factories.user(staff_no="T0003")
    db.session.commit()
    answers = []
    for identifier in ("T0003", "NOBODY9"):
        client = throttled.test_client()
        for _ in range(5):
            first = _login(client, identifier, "wrong", address=f"203.0.113.{len(answers) + 20}")
        answers.append((first.status_code, _login(client, identifier, "wrong", address=f"203.0.113.{len(answers) + 20}")))
    (known_first, known), (unknown_first, unknown) = answers
    assert known_first == unknown_first == 200
    assert known.status_code == unknown.status_code == 429
    assert _same_page(known, "T0003") == _same_page(unknown, "NOBODY9")


def test_a_known_browser_is_not_held_by_the_per_identifier_limit(make_app, app):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                       LOGIN_LIMIT_PER_IDENTIFIER="3 per hour")
    factories.user(staff_no="T0004")
    db.session.commit()
    with limited.app_context():
        limiter.reset()
        owner = limited.test_client()
        assert _login(owner, "T0004", address="198.51.100.8").status_code == 302
        owner.post("/logout")
        for n in range(4):  # strangers from many addresses use up the identifier's allowance
            _login(limited.test_client(), "T0004", "wrong", address=f"203.0.113.{50 + n}")
        assert _login(limited.test_client(), "T0004", address="198.51.100.9").status_code == 429
        assert _login(owner, "T0004", address="198.51.100.8").status_code == 302  # signed in here before
        limiter.reset()


def test_staff_number_and_email_of_one_account_share_its_count(make_app, app):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", LOGIN_LIMIT_PER_IDENTIFIER="4 per hour")
    factories.user(staff_no="T0007", email="t7@bank.cn")
    db.session.commit()
    with limited.app_context():
        limiter.reset()
        statuses = [_login(limited.test_client(), name, "wrong", address=f"203.0.113.{60 + n}").status_code
                    for n, name in enumerate(["T0007", "t7@bank.cn", "T0007", "T7@BANK.CN", "t7@bank.cn"])]
        assert statuses == [200, 200, 200, 200, 429]
        limiter.reset()


def test_parallel_guesses_cannot_slip_past_the_limit(throttled, app):
    import threading

    factories.user(staff_no="T0008")
    db.session.commit()
    barrier = threading.Barrier(20)

    def guess(n):
        with throttled.app_context():
            barrier.wait()
            _login(throttled.test_client(), "T0008", f"guess-{n}", address="203.0.113.99")
            db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_actions("auth.login_failed")) == 5  # every attempt counted on arrival: five passwords were tried
    assert len(_actions("auth.login_throttled")) == 15  # and the refused ones are in the audit trail too


def test_a_known_browser_is_not_held_by_its_busy_address(throttled, app):
    factories.user(staff_no="T0009")
    for i in range(40):
        factories.user(staff_no=f"NAT{i:02d}")
    db.session.commit()
    owner = throttled.test_client()
    assert _login(owner, "T0009", address="10.1.1.1").status_code == 302
    owner.post("/logout")
    for i in range(40):  # a busy office behind one address, or a sprayer on it
        _login(throttled.test_client(), f"NAT{i:02d}", "wrong", address="10.1.1.1")
    assert _login(throttled.test_client(), "NAT00", "wrong", address="10.1.1.1").status_code == 429
    assert _login(owner, "T0009", address="10.1.1.1").status_code == 302


def test_unknown_and_known_identifiers_cost_the_same_password_check(app, client, monkeypatch):
    factories.user(staff_no="T0005")
    db.session.commit()
    checks = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checks.append(h.split("$")[0]) or real(h, p))
    known = _login(client, "T0005", "wrong")
    unknown = _login(client, "NOBODY", "wrong")
    assert checks == ["pbkdf2:sha256:1000", "pbkdf2:sha256:1000"]  # one hash of the same cost each
    assert _same_page(known, "T0005") == _same_page(unknown, "NOBODY")


def test_a_huge_identifier_is_refused_without_a_huge_audit_row(app, client):
    response = _login(client, "E" * 1_000_000, "x")
    assert response.status_code == 200
    rows = db.session.scalars(select(AuditEvent)).all()
    assert all(len(str(e.details)) < 1000 for e in rows)


def test_failed_and_successful_sign_ins_record_address_and_browser(app, client):
    factories.user(staff_no="T0006")
    db.session.commit()
    _login(client, "T0006", "wrong", address="203.0.113.77", **{"User-Agent": "Bank-Browser/1.0"})
    _login(client, "T0006", address="203.0.113.78", **{"User-Agent": "Bank-Browser/1.0"})
    failed, ok = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("auth.login"))
                                    .order_by(AuditEvent.id)).all()
    assert (failed.action, failed.details["ip"], failed.details["user_agent"]) == ("auth.login_failed", "203.0.113.77", "Bank-Browser/1.0")
    assert (ok.action, ok.details["ip"]) == ("auth.login", "203.0.113.78")


# --- sessions that end ----------------------------------------------------------------------------

def _saved_cookie_reads(app, client, path="/training/credits"):
    """What a copy of the client's session cookie, replayed from another browser, gets."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief.get(path).status_code


def _signed_in(client, staff_no="S9001", roles=("employee",)):
    account = factories.user(roles=list(roles), staff_no=staff_no)
    db.session.commit()
    assert _login(client, staff_no).status_code == 302
    return account


def test_a_saved_cookie_is_dead_after_logout(app, client):
    _signed_in(client)
    assert _saved_cookie_reads(app, client) == 200
    cookie = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/training/credits").status_code == 302


@pytest.mark.parametrize("change", ["reset", "roles", "deactivate"])
def test_an_administrators_change_ends_the_persons_sessions(app, client, login_as, change):
    person = _signed_in(client, "S9002")
    assert client.get("/training/credits").status_code == 200
    admin = app.test_client()
    with admin.session_transaction() as session:
        account = factories.user(roles=["admin"], with_employee=False, email="boss@bank.cn")
        db.session.commit()
        session.update(_user_id=account.get_id(), _fresh=True, auth_at=int(time.time()), seen_at=int(time.time()), mfa=True)
    data = {"reset": {"pw-password": "Fresh-start-2026", "pw-confirm": "Fresh-start-2026", "pw-submit": "1"},
            "roles": {"roles-roles": ["employee", "trainer"], "roles-submit": "1"},
            "deactivate": {"act-submit": "1"}}[change]
    assert admin.post(f"/admin/users/{person.id}", data=data).status_code == 302
    assert client.get("/training/credits").status_code == 302


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, client):
    _signed_in(client, "S9003")
    other = app.test_client()
    assert _login(other, "S9003").status_code == 302
    response = client.post("/account/password", data={"current": factories.PASSWORD, "password": "Quiet-river-8841",
                                                      "confirm": "Quiet-river-8841"})
    assert response.status_code == 302
    assert client.get("/training/credits").status_code == 200
    assert other.get("/training/credits").status_code == 302
    assert "user.password_change" in _actions()


def test_an_idle_session_ends(app, client):
    _signed_in(client, "S9004")
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/training/credits", headers=EN)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert b"inactivity" in client.get("/login", headers=EN).data


def test_activity_keeps_a_session_alive_but_not_beyond_its_lifetime(app, client):
    _signed_in(client, "S9005")
    with client.session_transaction() as session:
        session["seen_at"] -= 25 * 60
    assert client.get("/training/credits").status_code == 200  # active again
    with client.session_transaction() as session:
        session["auth_at"] -= 13 * 3600
    assert client.get("/training/credits").status_code == 302


# --- passwords ------------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["12345678", "password", "aaaaaaaa", "aaaaaaaaaaaa", "password1234", "qwertyuiop",
                                  "Short1!"])
def test_weak_passwords_are_refused(weak):
    assert passwords.problems(weak)


def test_a_password_must_not_contain_the_staff_number_or_name(app):
    person = factories.user(staff_no="C0042", name_en="Wang Fang")
    assert passwords.problems("my-C0042-pass!", person)
    assert passwords.problems("Fang-is-great-2026", person)
    assert not passwords.problems("Quiet-river-8841", person)


def test_change_password_page_explains_each_refusal(app, client):
    _signed_in(client, "S9006")
    wrong = client.post("/account/password", headers=EN, data={"current": "nope", "password": "Quiet-river-8841",
                                                                "confirm": "Quiet-river-8841"})
    assert b"The current password is wrong." in wrong.data
    weak = client.post("/account/password", headers=EN, data={"current": factories.PASSWORD, "password": "12345678",
                                                               "confirm": "12345678"})
    assert b"at least 10 characters" in weak.data and b"too common" in weak.data
    assert _login(app.test_client(), "S9006").status_code == 302  # the old password still works


def test_flask_user_create_holds_the_policy(app):
    runner = CliRunner()
    with app.test_request_context():
        weak = runner.invoke(user_group, ["create", "--email", "new@bank.cn", "--role", "admin"],
                             input="password\npassword\n")
        assert weak.exit_code != 0 and "too common" in weak.output
        ok = runner.invoke(user_group, ["create", "--email", "new@bank.cn", "--role", "admin"],
                           input="Harbour-lights-204\nHarbour-lights-204\n")
        assert ok.exit_code == 0, ok.output
    assert db.session.scalar(select(User).where(User.email == "new@bank.cn")) is not None


def test_the_last_active_admin_keeps_the_role(app, client, login_as):
    admin = login_as("admin")
    response = client.post(f"/admin/users/{admin.id}", data={"roles-roles": ["employee"], "roles-submit": "1"}, headers=EN)
    assert b"last active administrator" in response.data
    assert db.session.get(User, admin.id).has_role("admin")


# --- two-factor -----------------------------------------------------------------------------------

def _code(secret, offset_steps=0):
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + offset_steps * totp.interval)


def _enrol(client):
    """Enrol the signed-in account from the setup page; return the secret and the recovery codes."""
    client.get("/account/two-factor")
    with client.session_transaction() as session:
        assert "totp_setup" not in session  # the secret is kept on the account, not in the cookie
        account = db.session.get(User, int(session["_user_id"].split(".")[0]))
    secret = account.totp_secret
    page = client.post("/account/two-factor", data={"code": _code(secret)}, headers=EN)
    assert b"Two-factor sign-in is on" in page.data
    codes = re.findall(r"<li><code>(\w+)</code></li>", page.data.decode())
    return secret, codes


def test_hr_must_enrol_two_factor_before_anything_else(app, client):
    _signed_in(client, "H9001", roles=["hr"])
    assert client.get("/analytics").headers["Location"] == "/account/two-factor"
    setup = client.get("/account/two-factor", headers=EN)
    assert b'src="data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns' in setup.data  # the QR code, drawn by the app
    secret, codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/analytics").status_code == 200
    assert "auth.2fa_enabled" in _actions()


def test_sign_in_with_two_factor_and_a_code_works_only_once(app, client):
    _signed_in(client, "H9002", roles=["hr"])
    secret, _codes = _enrol(client)
    client.post("/logout")
    step_one = _login(client, "H9002")
    assert step_one.headers["Location"] == "/login/code"
    assert client.get("/analytics").status_code == 302  # not signed in until the code
    assert b"wrong or has expired" in client.post("/login/code", data={"code": "000000"}, headers=EN).data
    code = _code(secret, 1)  # the next step's code (drift allowed); the setup used the current one
    assert client.post("/login/code", data={"code": code}).status_code == 302
    assert client.get("/analytics").status_code == 200
    client.post("/logout")
    _login(client, "H9002")
    replay = client.post("/login/code", data={"code": code}, headers=EN)
    assert b"wrong or has expired" in replay.data  # a code seen once is spent
    assert "auth.2fa_failed" in _actions()


def test_a_recovery_code_replaces_the_phone_once(app, client):
    _signed_in(client, "A9001", roles=["admin"])
    _secret, codes = _enrol(client)
    client.post("/logout")
    _login(client, "A9001")
    assert client.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    client.post("/logout")
    _login(client, "A9001")
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 200
    assert "auth.2fa_recovery_code" in _actions()


def test_a_session_that_only_knew_the_password_cannot_replace_the_authenticator(app, client):
    owner = _signed_in(client, "H9005", roles=["hr"])
    intruder = app.test_client()
    assert _login(intruder, "H9005").headers["Location"] == "/"  # the password alone, before the owner enrolled
    secret, _codes = _enrol(client)
    assert intruder.get("/account/two-factor").status_code == 302  # its session ended with the enrolment
    stolen = pyotp.random_base32()
    with intruder.session_transaction() as session:  # even with a session of the current version
        factories.sign_in(session, db.session.get(User, owner.id))
        session["mfa"] = False
    assert intruder.post("/account/two-factor", data={"code": _code(stolen)}).status_code == 302
    assert db.session.get(User, owner.id).totp_secret == secret


def test_one_code_sent_twice_at_once_signs_in_once(app):
    import threading

    account = factories.user(roles=["hr"], staff_no="H9006")
    account.totp_secret, account.totp_enabled_at = pyotp.random_base32(), account.created_at
    db.session.commit()
    clients = [app.test_client() for _ in range(6)]
    for each in clients:
        assert _login(each, "H9006").headers["Location"] == "/login/code"
    code, barrier, statuses = _code(account.totp_secret), threading.Barrier(len(clients)), []

    def send(each):
        with app.app_context():
            barrier.wait()
            statuses.append(each.post("/login/code", data={"code": code}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=send, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [302]


def test_an_administrator_resets_a_lost_second_factor(app, client, login_as):
    person = _signed_in(client, "H9003", roles=["hr"])
    _enrol(client)
    login_as_admin = app.test_client()
    admin = factories.user(roles=["admin"], with_employee=False, email="root@bank.cn")
    db.session.commit()
    with login_as_admin.session_transaction() as session:
        session.update(_user_id=admin.get_id(), _fresh=True, auth_at=int(time.time()), seen_at=int(time.time()), mfa=True)
    assert login_as_admin.post(f"/admin/users/{person.id}", data={"mfa-submit": "1"}).status_code == 302
    assert client.get("/").status_code == 302  # their sessions ended
    assert _login(client, "H9003").headers["Location"] == "/"
    assert client.get("/analytics").headers["Location"] == "/account/two-factor"  # enrol again


def test_two_factor_for_everyone_when_the_bank_says_so(make_app, app):
    strict = make_app(TWO_FACTOR_ALL=True)
    factories.user(staff_no="E9001")
    db.session.commit()
    with strict.app_context():
        client = strict.test_client()
        _login(client, "E9001")
        assert client.get("/training/credits").headers["Location"] == "/account/two-factor"


def test_employees_need_no_second_factor_by_default(app, client):
    _signed_in(client, "E9002")
    assert client.get("/training/credits").status_code == 200


def test_the_code_step_is_throttled(throttled, app):
    factories.user(roles=["hr"], staff_no="H9004")
    account = db.session.scalar(select(User).join(User.employee).where(User.employee.has(staff_no="H9004")))
    account.totp_secret, account.totp_enabled_at = pyotp.random_base32(), account.created_at
    db.session.commit()
    client = throttled.test_client()
    _login(client, "H9004")
    statuses = [client.post("/login/code", data={"code": "123456"}, headers=EN).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


# --- caching --------------------------------------------------------------------------------------

def test_private_pages_and_exports_are_not_cached(app, client, login_as):
    login_as("hr")
    for path in ("/training/credits", "/exports/results.csv"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path


# --- the shared store (Redis) ---------------------------------------------------------------------

def test_throttle_counts_live_in_redis_for_every_worker(make_app, app, redis_url):
    url = redis_url
    import redis

    n = time.time_ns()
    address = f"198.18.{n // 256 % 256}.{n % 256}"  # unique: the counts of earlier runs may still be in Redis
    account = factories.user(staff_no="R0001")
    db.session.commit()
    stored = redis.Redis.from_url(url)
    stale = stored.keys(f"*acct:{account.id}*")  # an earlier run's count on this account id
    if stale:
        stored.delete(*stale)
    worker_one = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url)
    with worker_one.app_context():
        for _ in range(5):
            _login(worker_one.test_client(), "R0001", "wrong", address=address)
    keys = stored.keys(f"*{address}*")
    assert keys  # the counts are in Redis, not in this process
    worker_two = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url)
    with worker_two.app_context():
        assert _login(worker_two.test_client(), "R0001", address=address).status_code == 429
    stored.delete(*stored.keys(f"*{address}*"), *stored.keys(f"*acct:{account.id}*"))


def test_a_nul_byte_in_the_login_is_an_ordinary_failure(app, client):
    """On PostgreSQL a NUL byte in any text reached the database and gave a 500, the anonymous login included."""
    factories.user(staff_no="N0001")
    db.session.commit()
    response = _login(client, "N0\x00001", "pass\x00word")
    assert response.status_code == 200 and b"Wrong staff number, email or password." in response.data
    assert _login(client, "N0001\x00").status_code == 302  # stripped, the identifier is the account's
