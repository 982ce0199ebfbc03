"""Two people (or one double click) acting at once: one wins, the other gets a 409 page, never a 500, and nothing is
written twice. Real threads against the real database (SQLite file or PostgreSQL)."""
import threading
import time

from sqlalchemy import func, select

from competency.extensions import db
from competency.models import CreditEntry, Rater, Rating
from competency.services.training import ledger

from . import factories
from .test_assessments import _assessment, _form_data, _open, _rate, build_org


def _at_once(app, session_id: str, requests: list[tuple[str, dict]]) -> list[int]:
    """Send the POSTs from separate threads released together; return their status codes, sorted."""
    barrier, statuses = threading.Barrier(len(requests)), []

    def send(url, data):
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as session:
                session.update(_user_id=session_id, auth_at=int(time.time()), seen_at=int(time.time()), mfa=True)
            barrier.wait()
            statuses.append(client.post(url, data=data, headers={"Accept-Language": "en"}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    return sorted(statuses)


def test_a_double_submit_of_the_supervisor_form_saves_once(app):
    org = build_org()
    cycle = _open(org)
    assessment = _assessment(cycle, org["e1"])
    _rate(assessment, Rater.SELF, 3, 3)
    db.session.commit()
    url, lock = f"/assessments/{assessment.id}/review", assessment.lock_version
    statuses = _at_once(app, org["lead"].get_id(), [(url, _form_data(assessment, 4, 4, lock=lock)),
                                                    (url, _form_data(assessment, 2, 2, lock=lock))])
    assert statuses == [302, 409]
    levels = {r.level for r in db.session.scalars(select(Rating).where(Rating.rater == Rater.SUPERVISOR))}
    assert levels in ({4}, {2})  # one submission, whole; never a mix of both


def test_a_concurrent_reversal_of_a_ledger_line_reverses_once(app):
    person = factories.employee()
    hr = factories.user(roles=["hr"])
    entry = ledger.adjust(person, "4", "Conference talk")
    db.session.commit()
    url = f"/credits/{entry.id}/reverse"
    statuses = _at_once(app, hr.get_id(), [(url, {"reason": "Entered twice"}), (url, {"reason": "Entered twice"})])
    assert 500 not in statuses and statuses[0] == 302
    reversals = db.session.scalar(select(func.count(CreditEntry.id)).where(CreditEntry.reverses_id == entry.id))
    assert reversals == 1


def test_two_admins_removing_each_others_role_at_once_leave_one(app):
    from competency.models import Role, User, UserRole

    first = factories.user(roles=["admin"], staff_no="AD1")
    second = factories.user(roles=["admin"], staff_no="AD2")
    db.session.commit()
    statuses = []
    barrier = threading.Barrier(2)

    def demote(session_id, target_id):
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as session:
                session.update(_user_id=session_id, auth_at=int(time.time()), seen_at=int(time.time()), mfa=True)
            barrier.wait()
            response = client.post(f"/admin/users/{target_id}", data={"roles-roles": ["employee"], "roles-submit": "1"},
                                   headers={"Accept-Language": "en"})
            statuses.append(response.status_code if "/login" not in response.headers.get("Location", "") else "login")
            db.session.remove()

    threads = [threading.Thread(target=demote, args=(first.get_id(), second.id)),
               threading.Thread(target=demote, args=(second.get_id(), first.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    admins = db.session.scalar(select(func.count(User.id)).join(UserRole).where(UserRole.role == Role.ADMIN, User.active.is_(True)))
    # one change went through; the other was refused: with the form's message (200), or, when it arrived after the
    # first was committed, because its sender is no longer an administrator (403) or no longer signed in at all (the
    # role change ended their session: sent to the sign-in page)
    assert admins == 1 and sorted(statuses, key=str) in ([200, 302], [302, 403], [302, "login"])


def test_two_trainers_recording_overlapping_rosters_at_once_credit_each_pass_once(app):
    """Each submit claims its ticked enrolments in one statement: the second waits for the first (on PostgreSQL, row
    by row in the order of their ids, so never a deadlock), records the rest and leaves those already passed."""
    from competency.models import Enrolment
    from competency.services.training import enrolment as enrolments

    course = factories.course(credits="2")
    people = [factories.employee() for _ in range(10)]
    enrolments.assign(course, [p.id for p in people], None)
    ids = db.session.scalars(select(Enrolment.id).order_by(Enrolment.id)).all()
    trainer = factories.user(roles=["trainer"])
    db.session.commit()
    url = f"/catalogue/{course.id}/roster"
    statuses = _at_once(app, trainer.get_id(), [(url, {"enrolments": ids[:7], "outcome": "pass"}),
                                                (url, {"enrolments": ids[3:], "outcome": "pass"})])
    assert statuses == [302, 302]
    lines = db.session.execute(select(CreditEntry.enrolment_id, func.count()).group_by(CreditEntry.enrolment_id)).all()
    assert sorted(lines) == [(i, 1) for i in sorted(ids)]
