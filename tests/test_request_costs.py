"""What every signed-in page reads once per request, and must still read right: the bell's count with the account
(and again after a commit), the translations of the request's language (and of a language forced for a while), and
the session cookie rewritten once a minute rather than on every page (the idle timeout still measured)."""
import time
from datetime import date

import pytest
from flask import g
from flask_babel import force_locale, get_locale, gettext
from sqlalchemy import text

from competency.extensions import db, sqlite_synchronous
from competency.models import Role, User
from competency.notifications.views import unread_notifications
from competency.security import SEEN_EVERY_S, load_user
from competency.services.notifications import notify

from . import factories

EN = {"Accept-Language": "en"}


def test_the_bells_count_is_read_with_the_account_and_again_after_a_commit(app):
    account = factories.user(roles=(Role.EMPLOYEE.value,))
    notify([account], "cycle_opened", params={"cycle": "C1"}, on=date(2026, 1, 1))
    db.session.commit()
    with app.test_request_context("/"):
        from flask_login import login_user

        user = load_user(account.get_id())
        login_user(user)
        with factories.statements() as seen:
            assert unread_notifications() == 1
        assert seen == [] and g.unread_notifications == (account.id, 1)
        notify([account], "cycle_opened", params={"cycle": "C2"}, on=date(2026, 1, 2))
        db.session.commit()  # told about something new in this very request: the bell counts again
        with factories.statements() as seen:
            assert unread_notifications() == 2
        assert sum("FROM notification" in statement for statement in seen) == 1


def test_a_stale_session_version_loads_nobody(app):
    account = factories.user()
    db.session.commit()
    with app.test_request_context("/"):
        assert load_user(f"{account.id}.{account.session_version + 1}") is None
        assert load_user(f"{account.id}.{account.session_version}").id == account.id


def test_strings_follow_the_request_language_and_a_language_forced_for_a_while(app):
    for language, submit in (("zh", "提交"), ("en", "Submit"), ("zh", "提交")):
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):  # a request each
            assert gettext("Submit") == submit
            with force_locale("en"):
                assert gettext("Submit") == "Submit" and get_locale().language == "en"
            with force_locale("zh"):
                assert gettext("Submit") == "提交"
            assert gettext("Submit") == submit


def test_the_session_cookie_is_rewritten_once_a_minute_and_idleness_still_counts(app, client):
    account = factories.user()
    db.session.commit()
    with client.session_transaction() as session:
        factories.sign_in(session, db.session.get(User, account.id))
    assert client.get("/training/credits").status_code == 200  # the first page keeps its form's CSRF secret
    with client.session_transaction() as session:
        session["seen_at"] -= SEEN_EVERY_S - 20
    first = client.get("/training/credits", headers=EN)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers  # seen 40 s ago: nothing to write
    with client.session_transaction() as session:
        session["seen_at"] -= 30
    second = client.get("/training/credits", headers=EN)
    assert second.status_code == 200 and "session=" in second.headers["Set-Cookie"]
    with client.session_transaction() as session:
        assert abs(session["seen_at"] - time.time()) < 5  # the idle clock starts again from this page


def test_sqlite_commits_without_a_flush_to_disk_unless_asked(app, make_app, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("an SQLite setting")
    assert db.session.scalar(text("PRAGMA synchronous")) == 1  # NORMAL (with the write-ahead log)
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "full")
    assert sqlite_synchronous() == "FULL"
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "OFF")  # never: a crash could corrupt the file
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS must be one of NORMAL, FULL, EXTRA"):
        make_app()


def test_a_draft_save_updates_only_the_changed_ratings_in_one_statement(app):
    from sqlalchemy import select

    from competency.models import Rater, Rating
    from competency.services.assessments import workflow

    from .test_assessments import _assessment, _levels, _open, build_org

    org = build_org()
    assessment = _assessment(_open(org), org["e1"])
    workflow.save_ratings(assessment, Rater.SELF, _levels(assessment, 3, 4), submit=False, lock_version=assessment.lock_version)
    db.session.commit()
    before = {r.competency.code: (r.level, r.comment, r.updated_at) for r in assessment.ratings}
    time.sleep(0.01)
    with factories.statements() as seen:
        workflow.save_ratings(assessment, Rater.SELF, _levels(assessment, 5, 4, c1=" Led the branch's biggest deal "),
                              submit=False, lock_version=assessment.lock_version)
    assert sum(s.startswith("UPDATE rating") for s in seen) == 1
    db.session.expire_all()
    after = {r.competency.code: (r.level, r.comment, r.updated_at)
             for r in db.session.scalars(select(Rating).where(Rating.assessment_id == assessment.id))}
    assert after["K1"][:2] == (5, "Led the branch's biggest deal") and after["K1"][2] > before["K1"][2]
    assert after["S1"] == before["S1"]  # unchanged: not written


def test_the_language_is_chosen_again_after_a_language_forced_before_any_was_chosen(app):
    from competency.i18n import lang

    with app.app_context(), app.test_request_context("/", headers=EN):
        with force_locale("zh"):  # before the request's own language was chosen
            assert lang() == "zh"
        assert lang() == "en" and gettext("Submit") == "Submit"
