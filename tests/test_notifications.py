"""Notifications: each event tells exactly the right people, the inbox and the bell, e-mail through the outbox to a
real SMTP server (aiosmtpd, started here), retries, e-mail choices, and `flask notify run`."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import Decision, Enrolment, Grade, Notification, OutboxMessage, Rater, User
from competency.services import appeals, imports
from competency.services.assessments import workflow
from competency.services.notifications import inbox, mail, notify, notify_many, notify_select
from competency.services.review import decisions, runs, standards
from competency.services.training import enrolment as enrolments
from competency.timeutil import utcnow

from . import factories
from .conftest import free_port
from .test_assessments import _assessment, _levels, _open, build_org
from .test_review import STANDARDS_YAML, _person, _scored

EN = {"Accept-Language": "en"}


@pytest.fixture
def org(app):
    org = build_org()
    for key in ("boss", "lead", "e1", "e2", "outsider", "hr"):
        org[key].email = f"{key}@bank.example"
    org["e1"].locale = "zh"
    org["lead"].locale = "en"
    db.session.commit()
    return org


def told(kind: str) -> set[int]:
    """The accounts told of that kind."""
    return set(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def ids(org, *keys) -> set[int]:
    return {org[k].id for k in keys}


def _body(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


# --- each event tells exactly the right people -------------------------------------------------------------------


def test_opening_a_cycle_tells_each_participant_and_each_assessing_supervisor(org):
    cycle = _open(org)
    # the cycle's model is the customer managers': hr (another position) takes no part
    assert told("cycle_opened") == ids(org, "e1", "e2", "lead", "boss", "outsider")
    # the assessing supervisors: lead (of e1, e2), boss (of lead); nobody else leads anyone in the cycle
    assert told("cycle_opened_team") == ids(org, "lead", "boss")
    mine = db.session.scalar(select(Notification).where(Notification.kind == "cycle_opened", Notification.user_id == org["e1"].id))
    assert mine.link == f"/assessments/{_assessment(cycle, org['e1']).id}/self"


def test_a_submitted_self_assessment_tells_only_the_assessing_supervisor(org):
    a = _assessment(_open(org), org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=False, lock_version=a.lock_version)
    assert told("self_submitted") == set()  # a draft tells nobody
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=True, lock_version=a.lock_version)
    assert told("self_submitted") == ids(org, "lead")
    item = db.session.scalar(select(Notification).where(Notification.kind == "self_submitted"))
    assert item.link == f"/assessments/{a.id}/review"


def test_a_completed_assessment_tells_the_person_and_a_reopening_tells_the_rater_with_the_reason(org):
    a = _assessment(_open(org), org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=True, lock_version=a.lock_version)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4), submit=True, lock_version=a.lock_version)
    assert told("assessment_completed") == ids(org, "e1")
    workflow.reopen(a, "supervisor", "Check S1 again", actor=org["hr"])
    assert told("assessment_reopened_supervisor") == ids(org, "lead")
    assert db.session.scalar(select(Notification.params).where(Notification.kind == "assessment_reopened_supervisor"))["reason"] \
        == "Check S1 again"
    workflow.reopen(a, "self", "Add comments", actor=org["hr"])
    assert told("assessment_reopened_self") == ids(org, "e1")


def test_an_appeal_tells_hr_and_its_resolution_tells_the_appellant(org):
    a = _assessment(_open(org), org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=True, lock_version=a.lock_version)
    workflow.save_ratings(a, Rater.SUPERVISOR, _levels(a, 4, 4), submit=True, lock_version=a.lock_version)
    appeal = appeals.file_appeal(org["e1"].employee, assessment=a, reason="S1 is better")
    assert told("appeal_filed") == ids(org, "hr")
    appeals.uphold(appeal, "The ratings stand", actor=org["hr"])
    assert told("appeal_resolved") == ids(org, "e1")
    item = db.session.scalar(select(Notification).where(Notification.kind == "appeal_resolved"))
    assert item.link == f"/assessments/{a.id}" and item.params["response"] == "The ratings stand"


def test_an_assigned_course_and_its_result_tell_the_person_only(org):
    course = factories.course()
    db.session.commit()
    result = enrolments.assign(course, [org["e1"].employee_id, org["e2"].employee_id], date.today() + timedelta(days=30))
    assert told("course_assigned") == ids(org, "e1", "e2")
    item = db.session.scalar(select(Notification).where(Notification.kind == "course_assigned", Notification.user_id == org["e1"].id))
    assert item.params["due"] == (date.today() + timedelta(days=30)).isoformat() and item.link == "/training"
    assert len(result.assigned) == 2
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == org["e1"].employee_id))
    enrolments.record_result(enrolment, "pass")
    assert told("enrolment_result") == ids(org, "e1")


def test_an_import_of_past_training_tells_nobody(org):
    factories.course("S5-101", credits="2")
    db.session.commit()
    data = b"staff_no,course_code,completed_on,result,score\nE1,S5-101,2025-06-01,pass,90\n"
    assert imports.import_training(data, "t.csv").counts["passed"] == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_a_finalised_review_tells_each_person_whose_grade_changes(app):
    factories.position("CM_CORP")
    standards.import_standards(STANDARDS_YAML)
    kept = _person("KEPT", sales=400)
    promoted = _person("DOWN", grade=Grade.INTERMEDIATE, sales=400)  # meets only junior's standard: demoted
    _scored(kept, 65.0)
    _scored(promoted, 65.0)
    kept_account, promoted_account = factories.user(employee_=kept), factories.user(employee_=promoted)
    db.session.commit()
    run = runs.run_review(2025)
    decisions.decide(run, None, Decision.APPROVED)
    decisions.finalise(run, date(2026, 1, 1))
    assert promoted.grade == Grade.JUNIOR and kept.grade == Grade.JUNIOR
    assert told("grade_changed") == {promoted_account.id}
    assert kept_account.id not in told("grade_changed")


def test_a_rolled_back_action_tells_nobody(org):
    a = _assessment(_open(org), org["e1"])
    with pytest.raises(workflow.RatingsIncomplete):
        workflow.save_ratings(a, Rater.SELF, {}, submit=True, lock_version=a.lock_version)
    assert told("self_submitted") == set()


# --- the API: once per recipient, kind, object and day; set-based -------------------------------------------------


def test_each_kind_is_told_once_per_recipient_object_and_day(org):
    a = _assessment(_open(org), org["e1"])
    params = {"person": "x", "cycle": "c", "deadline": "2026-12-01"}
    assert notify([org["lead"]], "self_submitted", obj=a, params=params) == 1
    assert notify([org["lead"]], "self_submitted", obj=a, params=params) == 0
    assert notify([org["lead"]], "self_submitted", obj=a, params=params, on=date.today() + timedelta(days=1)) == 1


def test_bulk_notification_costs_the_same_statements_for_ten_or_two_hundred_people(app):
    people = [factories.user(staff_no=f"P{i:03d}", email=f"p{i}@bank.example") for i in range(200)]
    db.session.commit()
    app.config["MAIL_SERVER"] = "127.0.0.1"  # e-mails are queued too (nothing is sent here)
    try:
        counts = []
        for group, day in ((people[:10], date(2026, 1, 5)), (people, date(2026, 1, 6))):
            rows = [{"user_id": p.id, "object_id": p.employee_id, "params": {"person": p.employee.staff_no}} for p in group]
            with factories.statements() as seen:
                assert notify_many("self_submitted", rows, on=day) == len(group)
            counts.append(len(seen))
        source = select(User.id.label("user_id"), User.employee_id.label("object_id"))
        with factories.statements() as seen:
            assert notify_select("cycle_opened", source, params={"cycle": "C"}) == 200
    finally:
        app.config["MAIL_SERVER"] = None
    assert counts[0] == counts[1] == 3  # INSERT … RETURNING, the recipients, the outbox
    assert len(seen) == 3
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 410


# --- e-mail through the outbox ---------------------------------------------------------------------------------


def test_the_supervisor_receives_the_submitted_self_assessment_by_email_in_their_language(org, mail_on, client):
    a = _assessment(_open(org), org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=True, lock_version=a.lock_version)
    db.session.commit()
    result = mail.drain()
    assert result.sent == len(mail_on) == db.session.scalar(select(func.count(OutboxMessage.id)))
    to_lead = [m for rcpt, m in mail_on if rcpt == ["lead@bank.example"] and "self-assessment" in m["Subject"]]
    assert len(to_lead) == 1
    text, html = _body(to_lead[0])
    assert to_lead[0]["Subject"] == "A team member submitted a self-assessment"  # the lead reads English
    assert f"https://competency.bank.example/assessments/{a.id}/review" in text
    assert f'href="https://competency.bank.example/assessments/{a.id}/review"' in html
    to_e1 = [m for rcpt, m in mail_on if rcpt == ["e1@bank.example"]]
    assert [m["Subject"] for m in to_e1] == ["评估周期已开启"]  # e1 reads Chinese: the cycle opened
    assert "https://competency.bank.example/assessments/" in _body(to_e1[0])[0]
    assert not [m for rcpt, m in mail_on if rcpt == ["outsider@bank.example"] and "self-assessment" in m["Subject"]]


def test_a_refused_connection_keeps_the_outbox_and_the_next_run_delivers(org, mail_on, app, smtp):
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    notify([org["e1"]], "cycle_opened", params={"cycle": "C"})
    db.session.commit()
    first = mail.drain()
    assert (first.sent, first.retrying, first.waiting) == (0, 1, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "queued" and message.attempts == 1 and "Connection" in message.last_error
    app.config["MAIL_PORT"] = smtp[0]
    assert mail.drain().sent == 0  # not due yet: it waits RETRY_MINUTES
    assert mail.drain(now=utcnow() + timedelta(minutes=mail.RETRY_MINUTES + 1)).sent == 1
    assert [rcpt for rcpt, _m in mail_on] == [["e1@bank.example"]]


def test_after_the_last_attempt_the_email_is_failed_shown_to_admin_and_retried(org, mail_on, app, smtp, client, login_as):
    app.config["MAIL_PORT"] = free_port()
    notify([org["e1"]], "cycle_opened", params={"cycle": "C"})
    db.session.commit()
    now = utcnow()
    for attempt in range(app.config["MAIL_MAX_ATTEMPTS"]):
        mail.drain(now=now + timedelta(days=attempt))
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("failed", 5)
    login_as("admin")
    page = client.get("/admin/mail", headers=EN).data.decode()
    assert "e1@bank.example" in page and "ConnectionRefusedError" in page
    client.post(f"/admin/mail/{message.id}/retry")
    app.config["MAIL_PORT"] = smtp[0]
    assert mail.drain().sent == 1 and len(mail_on) == 1
    assert "No failed e-mails" in client.get("/admin/mail", headers=EN).data.decode()


def test_notify_run_twice_sends_nothing_twice(org, mail_on, app):
    _open(org)
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notify", "run"])
    assert first.exit_code == 0, first.output
    # 5 participants, 2 supervisors; and the reminders the run tells: trainee e2's probation (ended in 2020) is
    # overdue, told to lead and escalated to boss
    assert "e-mail: sent 9, to retry 0, failed 0, waiting 0" in first.output
    second = runner.invoke(args=["notify", "run"])
    assert "e-mail: sent 0," in second.output
    assert len(mail_on) == 9


def test_notify_run_without_mail_says_so_and_prunes_old_notifications(org, app):
    notify([org["e1"]], "cycle_opened", params={"cycle": "C"})
    old = Notification(user_id=org["e2"].id, kind="cycle_opened", params={}, link="/", day=date(2024, 1, 1),
                       created_at=utcnow() - timedelta(days=366))
    db.session.add(old)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notify", "run"])
    assert "e-mail: off (MAIL_SERVER is not set)" in result.output and "pruned: 1 notification(s)" in result.output
    assert told("cycle_opened") == ids(org, "e1")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0  # without MAIL_SERVER nothing is queued


def test_a_person_who_turned_off_an_optional_kind_gets_no_email_but_the_notification(org, mail_on, client, login_as):
    login_as(org["lead"])
    page = client.get("/account/notifications", headers=EN).data.decode()
    assert "A team member submitted a self-assessment" in page and "An assessment cycle opened" in page
    client.post("/account/notifications", data={"kind_appeal_filed": "y"})  # self_submitted unticked: off
    assert inbox.email_choices(org["lead"].id)["self_submitted"] is False
    a = _assessment(_open(org), org["e1"])
    workflow.save_ratings(a, Rater.SELF, _levels(a, 3, 3), submit=True, lock_version=a.lock_version)
    db.session.commit()
    mail.drain()
    assert told("self_submitted") == ids(org, "lead")
    assert not [m for rcpt, m in mail_on if "self-assessment" in m["Subject"]]
    assert sorted(m["Subject"] for rcpt, m in mail_on if rcpt == ["lead@bank.example"]) == [
        "An assessment cycle opened", "An assessment cycle opened for my team"]  # mandatory kinds still come


# --- the inbox and the bell ------------------------------------------------------------------------------------


def test_the_bell_counts_unread_and_the_inbox_reads_marks_and_pages(org, client, login_as, app):
    for i in range(30):
        notify([org["e2"]], "appeal_resolved", params={"outcome": "x", "response": f"R{i:02d}", "target": f"/assessments/{i}"},
               on=date(2026, 1, 1) + timedelta(days=i))
    db.session.commit()
    login_as(org["e2"])
    page = client.get("/notifications", headers=EN).data.decode()
    assert "Notifications: 30 unread" in page and '<span class="bell-count" aria-hidden="true">30</span>' in page
    assert "R29" in page and "R05" in page and "R04" not in page  # newest first, 25 a page
    older = client.get("/notifications?before=" + str(db.session.scalar(select(func.min(Notification.id))) + 5), headers=EN)
    assert "R04" in older.data.decode() and "R00" in older.data.decode()
    newest = db.session.scalar(select(Notification).order_by(Notification.id.desc()))
    response = client.get(f"/notifications/{newest.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/assessments/29"
    assert "Notifications: 29 unread" in client.get("/notifications", headers=EN).data.decode()
    client.post("/notifications/read-all")
    page = client.get("/notifications?show=unread", headers=EN).data.decode()
    assert "Nothing unread" in page and "Notifications: none unread" in page


def test_nobody_opens_someone_elses_notification(org, client, login_as):
    notify([org["e1"]], "cycle_opened", params={"cycle": "C"})
    db.session.commit()
    item = db.session.scalar(select(Notification))
    login_as(org["e2"])
    assert client.get(f"/notifications/{item.id}").status_code == 404
    assert db.session.get(Notification, item.id).read_at is None


def test_an_empty_inbox_says_what_comes_there(org, client, login_as):
    login_as(org["e2"])
    assert "No notifications yet" in client.get("/notifications", headers=EN).data.decode()


# --- several servers at once -------------------------------------------------------------------------------------


def _drain_at_once(app, workers: int = 4) -> list:
    """Run `workers` drains at the same moment, each in its own thread, app context and connection."""
    barrier, results = threading.Barrier(workers), []

    def run(name):
        with app.app_context():
            barrier.wait()
            results.append(mail.drain(worker=name, limit=5))
            db.session.remove()

    threads = [threading.Thread(target=run, args=(f"server-{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _concurrent_drains_send_each_message_once(app, mail_on):
    people = [factories.user(staff_no=f"C{i:02d}", email=f"c{i}@bank.example") for i in range(40)]
    db.session.commit()
    notify(people, "cycle_opened", params={"cycle": "C"})
    db.session.commit()
    results = _drain_at_once(app)
    assert sum(r.sent for r in results) == 40
    assert sorted(rcpt[0] for rcpt, _m in mail_on) == sorted(f"c{i}@bank.example" for i in range(40))
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent")) == 40


@pytest.mark.postgres
def test_two_servers_draining_at_once_never_send_a_message_twice_on_postgresql(app, mail_on):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs in the PostgreSQL pass (TEST_DATABASE_URL=postgresql+psycopg://…)")
    _concurrent_drains_send_each_message_once(app, mail_on)


def test_two_servers_draining_at_once_never_send_a_message_twice(app, mail_on):
    _concurrent_drains_send_each_message_once(app, mail_on)
