"""Training records that cannot be wrong: result dates, sessions in the past, competency codes, empty and repeated
submits, undo, how enrolments show, recommendations, who reads a ledger and its year."""
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from competency.errors import DomainError
from competency.extensions import db
from competency.models import AuditEvent, Course, CreditEntry, Enrolment, EnrolmentStatus, TrainingResult, TrainingSession
from competency.services import imports
from competency.services.imports import ImportFailed
from competency.services.training import enrolment as enrolments
from competency.services.training import ledger, mentoring, recommendations
from competency.timeutil import bank_today

from . import factories

E = EnrolmentStatus
EN = {"Accept-Language": "en"}


def _today() -> date:
    """The bank's day when the test runs (not when the file was loaded: a run may pass midnight)."""
    return bank_today()


def _tomorrow() -> date:
    return _today() + timedelta(days=1)


def _session(course, days=7, capacity=5):
    """A session of the course starting `days` from now (negative: in the past)."""
    start = datetime.now().replace(second=0, microsecond=0) + timedelta(days=days)
    session = TrainingSession(course=course, starts_at=start, ends_at=start + timedelta(hours=3), place="Room 1",
                              capacity=capacity, seats_taken=0, open=True)
    db.session.add(session)
    db.session.commit()
    return session


def _assigned(course, people):
    enrolments.assign(course, [p.id for p in people], None)
    return db.session.scalars(select(Enrolment).order_by(Enrolment.id)).all()


def _credits():
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0)))


def _events(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _flashes(page: str) -> list[str]:
    return [part.split("</div>")[0] for part in page.split('role="status">')[1:]]


# --- 1. no result dated in the future, nor before its session -------------------------------------


def test_a_pass_dated_in_the_future_is_refused_and_nothing_is_written(app):
    person = factories.employee()
    (enrolment,) = _assigned(factories.course(credits="2"), [person])
    with pytest.raises(DomainError, match="cannot be dated in the future"):
        enrolments.record_result(enrolment, "pass", on=_tomorrow())
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == E.ASSIGNED
    assert _credits() == 0 and ledger.my_year(person, _tomorrow().year)[0] == 0


def test_a_result_dated_before_its_session_started_is_refused(app):
    course = factories.course()
    session = _session(course, days=-10)
    person = factories.employee()
    db.session.add(Enrolment(course=course, employee=person, session=session, status=E.IN_PROGRESS))
    db.session.commit()
    enrolment = db.session.scalar(select(Enrolment))
    day_before = session.starts_at.date() - timedelta(days=1)
    with pytest.raises(DomainError, match="before its session started"):
        enrolments.record_result(enrolment, "pass", on=day_before)
    assert enrolments.record_result(enrolment, "pass", on=session.starts_at.date()) is True
    assert enrolment.status == E.COMPLETED


def test_the_roster_refuses_a_future_date_with_a_message(app, client, login_as):
    course = factories.course()
    enrolment_ids = [e.id for e in _assigned(course, [factories.employee(), factories.employee()])]
    login_as("trainer")
    page = client.post(f"/catalogue/{course.id}/roster", data={"enrolments": enrolment_ids, "outcome": "pass",
                                                               "on": _tomorrow().isoformat()},
                       headers=EN, follow_redirects=True).data.decode()
    assert f"A result cannot be dated in the future ({_tomorrow().isoformat()} is after today" in page
    assert set(db.session.scalars(select(Enrolment.status))) == {E.ASSIGNED} and _credits() == 0
    assert f'max="{_today().isoformat()}"' in page  # the date picker offers no future day


def test_the_training_import_refuses_a_future_completion_date(app):
    factories.employee(staff_no="P1")
    factories.course("S5-101")
    data = ("staff_no,course_code,completed_on,result\nP1,S5-101,2025-06-01,pass\n"
            f"P1,S5-101,{_tomorrow().isoformat()},pass\n").encode()
    with pytest.raises(ImportFailed) as failure:
        imports.import_training(data, "t.csv")
    assert [(e.line, e.column) for e in failure.value.errors] == [(3, "completed_on")]
    assert "cannot be dated in the future" in str(failure.value.errors[0].message)
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0 and _credits() == 0


def test_credits_and_mentoring_cannot_be_dated_in_the_future_either(app, client, login_as):
    from competency.models import CourseType, Grade

    person = factories.employee()
    db.session.commit()
    with pytest.raises(DomainError, match="cannot be dated in the future"):
        ledger.adjust(person, "3", "Conference", on=_tomorrow())
    login_as("hr")
    page = client.post(f"/employees/{person.id}/credits/adjust", data={"amount": "3", "reason": "Talk", "on": _tomorrow().isoformat()},
                       headers=EN, follow_redirects=True).data.decode()
    assert "Credits cannot be dated in the future" in page and _credits() == 0
    course = factories.course("MEN-1", type=CourseType.MENTORING)
    pairing = mentoring.pair(factories.employee(grade=Grade.SENIOR), factories.employee(grade=Grade.TRAINEE), course,
                             on=date(2026, 1, 5))
    for wrong in (_tomorrow(), date(2026, 1, 4)):
        with pytest.raises(DomainError, match="between its start"):
            mentoring.complete_mentoring(pairing, on=wrong)
    assert _credits() == 0


# --- 2. sessions in the past need a confirmation ---------------------------------------------------


def _session_form(start: datetime, **extra):
    return {"starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Room 2", "capacity": "10", "open": "y"} | extra


def test_a_session_in_the_past_is_refused_until_confirmed(app, client, login_as):
    course = factories.course()
    login_as("trainer")
    past = datetime(2025, 3, 3, 9, 0)
    page = client.post(f"/catalogue/{course.id}/sessions/new", data=_session_form(past), headers=EN).data.decode()
    assert "This session starts in the past (2025-03-03 09:00). Nobody can enrol in a session once it has started" in page
    assert 'name="confirm_past"' in page and "Yes, save this session with dates in the past" in page
    assert db.session.scalar(select(func.count(TrainingSession.id))) == 0
    response = client.post(f"/catalogue/{course.id}/sessions/new", data=_session_form(past, confirm_past="y"))
    assert response.status_code == 302
    assert db.session.scalar(select(TrainingSession.starts_at)) == past


def test_a_future_session_needs_no_confirmation(app, client, login_as):
    course = factories.course()
    login_as("trainer")
    page = client.get(f"/catalogue/{course.id}/sessions/new", headers=EN).data.decode()
    assert 'name="confirm_past"' not in page
    soon = datetime.now().replace(second=0, microsecond=0) + timedelta(days=3)
    assert client.post(f"/catalogue/{course.id}/sessions/new", data=_session_form(soon)).status_code == 302


def test_moving_a_session_into_the_past_needs_the_confirmation_but_editing_a_past_one_does_not(app, client, login_as):
    course = factories.course()
    session = _session(course, days=5)
    login_as("trainer")
    past = datetime(2025, 4, 1, 14, 0)
    page = client.post(f"/sessions/{session.id}/edit", data=_session_form(past), headers=EN).data.decode()
    assert "This session starts in the past (2025-04-01 14:00)" in page
    assert db.session.get(TrainingSession, session.id).starts_at > datetime.now()
    client.post(f"/sessions/{session.id}/edit", data=_session_form(past, confirm_past="y"))
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).starts_at == past
    # the dates stay as they are: a change of place or capacity asks nothing
    response = client.post(f"/sessions/{session.id}/edit", data=_session_form(past, place="Room 9"))
    assert response.status_code == 302 and db.session.get(TrainingSession, session.id).place == "Room 9"
    # nor for a session kept to the second (the form gives minutes)
    held = TrainingSession(course=course, starts_at=past.replace(second=41, microsecond=5), ends_at=past + timedelta(hours=2),
                           capacity=5, seats_taken=0, open=True)
    db.session.add(held)
    db.session.commit()
    assert client.post(f"/sessions/{held.id}/edit", data=_session_form(past, capacity="6")).status_code == 302


# --- 3. competency codes must be those of a published model ---------------------------------------


def _course_form(competencies: dict):
    rows = {}
    for i, (code, level) in enumerate(competencies.items()):
        rows |= {f"competencies-{i}-competency_code": code, f"competencies-{i}-up_to_level": str(level)}
    return {"code": "NEW-1", "title_zh": "新课", "title_en": "New course", "type": "industry", "delivery": "classroom",
            "hours": "8", "credits": "2", "active": "y"} | rows


def test_the_course_editor_refuses_an_unknown_competency_code_naming_it(app, client, login_as):
    factories.model_version(publish=True, codes=("K1", "S1"))
    factories.model_version(codes=("K1", "S1", "S9"), position_code="CM_RETAIL")  # a draft: its codes do not count
    login_as("trainer")
    for wrong, named in (({"S1": 3, "Z9": 2}, "Z9"), ({"S9": 3}, "S9")):
        page = client.post("/catalogue/new", data=_course_form(wrong), headers=EN).data.decode()
        assert f"Unknown competency code {named}: use the codes of a published competency model" in page
        assert 'class="field has-error"' in page
    assert db.session.scalar(select(func.count(Course.id))) == 0
    assert client.post("/catalogue/new", data=_course_form({"S1": 3, "K1": 2})).status_code == 302
    assert db.session.scalar(select(Course.code)) == "NEW-1"


def test_the_course_import_refuses_unknown_competency_codes_naming_them(app):
    factories.model_version(publish=True, codes=("K1", "S1"))
    data = ("code,title_zh,title_en,type,delivery,hours,credits,competencies\n"
            "C1,甲,A,law,online,2,1,S1:3\nC2,乙,B,law,online,2,1,Z9:2;Y8:1\n")
    with pytest.raises(ImportFailed) as failure:
        imports.import_courses(data.encode(), "c.csv")
    assert [(e.line, e.column) for e in failure.value.errors] == [(3, "competencies")]
    assert "Unknown competency code Y8, Z9" in str(failure.value.errors[0].message)
    assert db.session.scalar(select(func.count(Course.id))) == 0


# --- 4. recording for nobody, and recording twice ---------------------------------------------------


def test_recording_with_nobody_ticked_is_refused(app, client, login_as):
    course = factories.course()
    _assigned(course, [factories.employee()])
    login_as("trainer")
    page = client.post(f"/catalogue/{course.id}/roster", data={"outcome": "pass"}, headers=EN,
                       follow_redirects=True).data.decode()
    assert "Tick at least one person to record a result for." in page and "Recorded for 0" not in page
    assert db.session.scalar(select(Enrolment.status)) == E.ASSIGNED
    with pytest.raises(DomainError, match="Tick at least one person"):
        enrolments.record_results([], "pass")


def test_a_second_click_records_nothing_more(app, client, login_as):
    course = factories.course(credits="2")
    ids = [e.id for e in _assigned(course, [factories.employee(), factories.employee()])]
    login_as("trainer")
    form = {"enrolments": ids, "outcome": "pass", "score": "80"}
    first = client.post(f"/catalogue/{course.id}/roster", data=form, headers=EN, follow_redirects=True).data.decode()
    assert _flashes(first) == ["Recorded for 2 people."]
    second = client.post(f"/catalogue/{course.id}/roster", data=form, headers=EN, follow_redirects=True).data.decode()
    assert _flashes(second) == ["These results were already recorded: nothing changed."]
    assert _credits() == Decimal("4") and _events("training.result") == 2


def test_a_different_result_for_a_closed_enrolment_is_refused_whole(app):
    course = factories.course()
    first, second = _assigned(course, [factories.employee(), factories.employee()])
    enrolments.record_result(first, "fail")
    with pytest.raises(DomainError, match="already closed"):
        enrolments.record_results([second, first], "pass")
    db.session.expire_all()
    assert db.session.get(Enrolment, second.id).status == E.ASSIGNED and _credits() == 0


def test_a_roster_is_recorded_in_the_same_few_statements_however_many_are_ticked(app):
    """One conditional UPDATE … RETURNING claims every ticked enrolment, then one write each for the audit events and
    the credit lines, and one read of whom to tell (and one insert of their notifications, when they have accounts):
    the same few statements for 2 people as for 12 (one fewer on PostgreSQL, whose audit events go by COPY)."""
    trainer = factories.user(roles=["trainer"])
    counts = {}
    for size in (2, 12):
        course = factories.course(code=f"C{size}", credits="2")
        enrolments.assign(course, [factories.employee().id for _ in range(size)], None)
        ticked = db.session.scalars(select(Enrolment).where(Enrolment.course_id == course.id)).all()
        assert trainer.id  # the signed-in account is loaded
        with factories.statements() as seen:
            done = enrolments.record_results(ticked, "pass", score=90, actor=trainer)
        counts[size] = len(seen)
        assert (done.recorded, done.unchanged) == (size, 0)
    assert counts[2] == counts[12] <= 5
    lines = db.session.scalars(select(CreditEntry)).all()
    assert len(lines) == 14 == len({line.enrolment_id for line in lines}) and {line.amount for line in lines} == {Decimal("2")}
    assert {(line.reason, line.created_by_id) for line in lines} == {("C2", trainer.id), ("C12", trainer.id)}
    assert _events("training.result") == 14


def test_an_enrolment_closed_by_someone_else_in_between_is_left_or_refuses_the_whole_submit(app):
    """Between the page and the submit another request closed one of the ticked enrolments: with the same result it
    is left as it is (no second credit line), with another result nothing of the submit is recorded."""
    course = factories.course(credits="2")
    a, b, c, d = _assigned(course, [factories.employee() for _ in range(4)])

    def closed_meanwhile(enrolment, status, result):
        """Closed in the database while the object still reads as assigned, as the page loaded it."""
        db.session.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status=status, result=result)
                           .execution_options(synchronize_session=False))

    closed_meanwhile(a, E.FAILED, TrainingResult.FAIL)
    with pytest.raises(DomainError, match="already closed"):
        enrolments.record_results([a, b], "pass")
    assert db.session.scalar(select(Enrolment.status).where(Enrolment.id == b.id)) == E.ASSIGNED and _credits() == 0
    closed_meanwhile(c, E.COMPLETED, TrainingResult.PASS)
    ledger.award_completions([c.id], _today(), None)  # as the other request did
    done = enrolments.record_results([c, d], "pass")
    assert (done.recorded, done.unchanged) == (1, 1) and _credits() == Decimal("4")
    assert db.session.scalar(select(func.count(CreditEntry.id)).where(CreditEntry.enrolment_id == c.id)) == 1


def test_two_simultaneous_submits_record_once(app):
    course = factories.course(credits="2")
    ids = [e.id for e in _assigned(course, [factories.employee(), factories.employee()])]
    trainer = factories.user(roles=["trainer"])
    db.session.commit()
    user_id, statuses, barrier = trainer.get_id(), [], threading.Barrier(2, timeout=30)

    def submit():
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as s:
                s.update(_user_id=user_id, auth_at=int(time.time()), seen_at=int(time.time()))
            barrier.wait()
            statuses.append(client.post(f"/catalogue/{course.id}/roster", data={"enrolments": ids, "outcome": "pass"}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert statuses == [302, 302]
    assert _events("training.result") == 2 and _credits() == Decimal("4")
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 2


# --- 5. undo: the roster shows the state after it, and an undo happens once ------------------------


def test_after_an_undo_the_roster_shows_no_result_and_no_score(app, client, login_as):
    course = factories.course(credits="3")
    (enrolment,) = _assigned(course, [factories.employee()])
    login_as("trainer")
    client.post(f"/catalogue/{course.id}/roster", data={"enrolments": [enrolment.id], "outcome": "pass", "score": "87.5"})
    assert "87.5" in client.get(f"/catalogue/{course.id}/roster", headers=EN).data.decode()
    client.post(f"/enrolments/{enrolment.id}/undo", data={"reason": "Wrong person ticked"})
    page = client.get(f"/catalogue/{course.id}/roster", headers=EN).data.decode()
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "87.5" not in row and "Passed" not in row and "In progress" in row
    assert "Undo a completion" not in page
    db.session.expire_all()
    undone = db.session.get(Enrolment, enrolment.id)
    assert (undone.status, undone.result, undone.score, undone.completed_on) == (E.IN_PROGRESS, None, None, None)
    assert _credits() == 0


def test_an_undo_sent_twice_reverses_once(app, client, login_as):
    course = factories.course(credits="3")
    (enrolment,) = _assigned(course, [factories.employee()])
    enrolments.record_result(enrolment, "pass")
    login_as("trainer")
    client.post(f"/enrolments/{enrolment.id}/undo", data={"reason": "Mistake"})
    page = client.post(f"/enrolments/{enrolment.id}/undo", data={"reason": "Mistake"}, headers=EN, follow_redirects=True)
    assert page.status_code == 200 and "Only a completed enrolment can be undone." in page.data.decode()
    assert [e.amount for e in db.session.scalars(select(CreditEntry).order_by(CreditEntry.id))] == [Decimal("3.00"), Decimal("-3.00")]
    assert _events("training.undo_completion") == 1


def test_a_cancel_sent_twice_frees_one_seat(app, client, login_as):
    course = factories.course()
    session = _session(course, capacity=3)
    person = login_as("employee")
    other = factories.employee()
    enrolments.enrol_in_session(db.session.get(TrainingSession, session.id), other)
    client.post(f"/training/sessions/{session.id}/enrol")
    mine = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == person.employee_id))
    assert db.session.get(TrainingSession, session.id).seats_taken == 2
    client.post(f"/training/enrolments/{mine.id}/cancel")
    page = client.post(f"/training/enrolments/{mine.id}/cancel", headers=EN, follow_redirects=True).data.decode()
    assert "Only an assigned or ongoing enrolment can be cancelled." in page
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).seats_taken == 1 and _events("training.cancel") == 1


# --- 6, 7. how my enrolments show: self-enrolled, and my status in the open sessions ---------------


def test_a_self_enrolment_shows_as_self_enrolled_and_an_assigned_course_as_assigned(app, client, login_as):
    chosen, given = factories.course("SELF-1"), factories.course("GIVEN-1")
    session = _session(chosen)
    person = login_as("employee")
    enrolments.assign(given, [person.employee_id], None, actor=factories.user(roles=["trainer"]))
    client.post(f"/training/sessions/{session.id}/enrol")
    page = client.get("/training", headers=EN).data.decode()
    rows = {row.split("</td>")[0].split(">")[-1].split()[0]: row for row in page.split("<tr><td>")[1:]}
    assert "Self-enrolled" in rows["SELF-1"] and "Assigned" not in rows["SELF-1"]
    assert "Assigned" in rows["GIVEN-1"] and "Self-enrolled" not in rows["GIVEN-1"]
    login_as("trainer")
    roster = client.get(f"/catalogue/{chosen.id}/roster", headers=EN).data.decode()
    assert "Self-enrolled" in roster and "self-enrolled ·" in roster


def test_an_enrolment_made_by_the_system_is_not_called_self_enrolled(app, client, login_as):
    course = factories.course()
    _assigned(course, [factories.employee()])  # no actor: the command line, a seed
    login_as("trainer")
    roster = client.get(f"/catalogue/{course.id}/roster", headers=EN).data.decode()
    assert "self-enrolled" not in roster.lower() and "Assigned" in roster


def test_open_sessions_show_my_status_instead_of_the_enrol_button(app, client, login_as):
    taken, other_session_course, done, free = (factories.course(code) for code in ("TAKEN", "TWICE", "DONE", "FREE"))
    sessions = {"TAKEN": _session(taken, 3), "TWICE-a": _session(other_session_course, 4), "TWICE-b": _session(other_session_course, 9),
                "DONE": _session(done, 5), "FREE": _session(free, 6)}
    person = login_as("employee")
    client.post(f"/training/sessions/{sessions['TAKEN'].id}/enrol")
    client.post(f"/training/sessions/{sessions['TWICE-a'].id}/enrol")
    enrolments.assign(done, [person.employee_id], None)
    enrolments.record_result(db.session.scalar(select(Enrolment).where(Enrolment.course_id == done.id)), "pass")
    page = client.get("/training", headers=EN).data.decode()
    table = page.split(">Open sessions<")[1]
    rows = {}
    for row in table.split("<tr><td>")[1:]:
        row = row.split("</span>", 1)[1] if row.startswith('<span id="session-') else row  # the row's anchor
        code, start = row.split()[0], row.split('class="nowrap">')[1][:10]
        rows[(code, start)] = row
    by_session = {key: rows[(s.course.code, s.starts_at.strftime("%Y-%m-%d"))] for key, s in sessions.items()}
    assert "Self-enrolled" in by_session["TAKEN"] and "Enrol</button>" not in by_session["TAKEN"]
    assert "Self-enrolled" in by_session["TWICE-a"]
    assert "in the session of " + sessions["TWICE-a"].starts_at.strftime("%Y-%m-%d") in by_session["TWICE-b"]
    assert "Enrol</button>" not in by_session["TWICE-b"]
    assert "Completed" in by_session["DONE"] and "Enrol</button>" not in by_session["DONE"]
    assert "Enrol</button>" in by_session["FREE"]


def test_an_assigned_course_without_a_session_still_offers_its_sessions(app, client, login_as):
    course = factories.course()
    session = _session(course)
    person = login_as("employee")
    enrolments.assign(course, [person.employee_id], None)
    table = client.get("/training", headers=EN).data.decode().split(">Open sessions<")[1]
    assert "Enrol</button>" in table
    client.post(f"/training/sessions/{session.id}/enrol")
    assert db.session.scalar(select(Enrolment.session_id)) == session.id


# --- 8. recommendations leave out what I am enrolled in or have completed --------------------------


def _open_cycle(version):
    """An open cycle of the model version (its participants: the position's people), without a self phase."""
    from competency.services.assessments import cycles

    cycle = cycles.save_cycle(cycles.CycleValues(
        code="C", name_zh="周期", name_en="Cycle", version_id=version.id, period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30), self_deadline=_today() + timedelta(days=5), supervisor_deadline=_today() + timedelta(days=9),
        self_weight=0))
    cycles.open_cycle(cycle)
    return cycle


def test_a_course_i_am_enrolled_in_or_completed_is_not_recommended(app):
    from competency.models import Assessment, Grade, Rater
    from competency.services.assessments import workflow

    version = factories.model_version(publish=True)
    person = factories.employee(grade=Grade.INTERMEDIATE)
    _open_cycle(version)
    comps = {c.code: c.id for c in version.competencies}
    assessment = db.session.scalar(select(Assessment))
    workflow.save_ratings(assessment, Rater.SUPERVISOR, {comps["S1"]: (1, "note"), comps["K1"]: (2, "")}, submit=True,
                          lock_version=assessment.lock_version)
    enrolled, completed, failed, open_ = (factories.course(code, competencies={"S1": 3})
                                          for code in ("S1-ENROLLED", "S1-DONE", "S1-FAILED", "S1-OPEN"))
    enrolments.assign(enrolled, [person.id], None)
    for course, outcome in ((completed, "pass"), (failed, "fail")):
        enrolments.assign(course, [person.id], None)
        enrolments.record_result(db.session.scalar(select(Enrolment).where(Enrolment.course_id == course.id)), outcome)
    (s1,) = [r for r in recommendations.recommendations(person) if r.competency_code == "S1"]
    assert [c.code for c in s1.courses] == ["S1-FAILED", "S1-OPEN"]  # a failed course may be taken again


# --- 9, 10. the ledger: trainers read it, and it shows the year asked for ---------------------------


def test_a_trainer_reads_a_ledger_from_the_roster_but_not_the_persons_results(app, client, login_as):
    course = factories.course()
    person = factories.employee()
    _assigned(course, [person])
    ledger.adjust(person, "3", "Conference talk")
    login_as("trainer")
    roster = client.get(f"/catalogue/{course.id}/roster", headers=EN).data.decode()
    assert f'href="/employees/{person.id}/credits"' in roster
    page = client.get(f"/employees/{person.id}/credits", headers=EN).data.decode()
    assert "Conference talk" in page and "Manual adjustment" not in page and ">Reverse<" not in page
    profile = client.get(f"/employees/{person.id}", headers=EN).data.decode()
    assert f'href="/employees/{person.id}/credits"' in profile
    assert client.get(f"/employees/{person.id}/development").status_code == 404


def test_the_ledger_shows_the_lines_of_the_year_asked_for(app, client, login_as):
    account = login_as("employee")
    person = account.employee
    ledger.adjust(person, "5", "Workshop of 2024", on=date(2024, 6, 1))
    ledger.adjust(person, "7", "Conference of 2025", on=date(2025, 3, 2))
    ledger.adjust(person, "2", "Seminar of 2025", on=date(2025, 11, 30))
    page_2025 = client.get("/training/credits?year=2025", headers=EN).data.decode()
    assert "Conference of 2025" in page_2025 and "Seminar of 2025" in page_2025 and "Workshop of 2024" not in page_2025
    assert "2025: 9 of 0 credits" in page_2025
    page_2024 = client.get("/training/credits?year=2024", headers=EN).data.decode()
    assert "Workshop of 2024" in page_2024 and "of 2025" not in page_2024
    empty = client.get("/training/credits?year=2023", headers=EN).data.decode()
    assert "No credits in 2023." in empty and "of 202" not in empty


# --- the same class of defect nearby: forms sent twice, codes typed elsewhere -----------------------


def test_an_adjustment_form_sent_twice_adds_one_line(app, client, login_as):
    person = factories.employee()
    login_as("hr")
    page = client.get(f"/employees/{person.id}/credits", headers=EN).data.decode()
    key = page.split('name="key" type="hidden" value="')[1].split('"')[0]
    form = {"key": key, "amount": "4", "reason": "Conference talk", "on": "2026-03-01"}
    first = client.post(f"/employees/{person.id}/credits/adjust", data=form, headers=EN, follow_redirects=True).data.decode()
    assert "Adjustment recorded." in first
    assert f'value="{key}"' not in first  # the page shown next carries a new key: a new adjustment is possible
    second = client.post(f"/employees/{person.id}/credits/adjust", data=form, headers=EN, follow_redirects=True).data.decode()
    assert "This adjustment is already in the ledger (the form was sent twice): nothing was added." in second
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 1 and _credits() == Decimal("4")
    client.post(f"/employees/{person.id}/credits/adjust", data=form | {"key": "another-form"})
    assert _credits() == Decimal("8")


def test_the_same_pairing_twice_is_refused_so_nobody_is_credited_twice(app):
    from competency.models import CourseType, Grade, Mentoring

    course = factories.course("MEN-1", credits="5", type=CourseType.MENTORING)
    mentor, mentee = factories.employee(grade=Grade.SENIOR), factories.employee(grade=Grade.TRAINEE)
    first = mentoring.pair(mentor, mentee, course)
    with pytest.raises(DomainError, match="already paired for this course"):
        mentoring.pair(mentor, mentee, course)
    mentoring.complete_mentoring(first)
    mentoring.pair(mentor, mentee, course)  # completed: a new pairing may start
    assert db.session.scalar(select(func.count(Mentoring.id))) == 2 and _credits() == Decimal("10")


def test_assigning_by_gap_names_an_unknown_competency_code(app, client, login_as):
    factories.employee()
    cycle = _open_cycle(factories.model_version(publish=True, codes=("K1", "S1")))
    course = factories.course()
    login_as("trainer")
    form = {"course": course.id, "mode": "gap", "cycle": str(cycle.id), "preview": "1"}
    page = client.post("/assign", data=form | {"competency": "z9"}, headers=EN).data.decode()
    assert "Unknown competency code Z9" in page
    assert "Unknown competency code" not in client.post("/assign", data=form | {"competency": "s1"}, headers=EN).data.decode()


# --- a refusal on the roster speaks plainly --------------------------------------------------------


@pytest.mark.parametrize(("headers", "expected"), [
    (EN, "The enrolment of Ann Lee (R0001) is already closed: Failed. Nothing was recorded."),
    ({"Accept-Language": "zh"}, "李安（R0001）的培训记录已结束：未通过。未记录任何结果。"),
])
def test_a_result_for_an_enrolment_closed_meanwhile_is_refused_in_plain_words(app, client, login_as, headers, expected):
    course = factories.course(credits="2")
    first, second = _assigned(course, [factories.employee(staff_no="R0001", name_zh="李安", name_en="Ann Lee"),
                                       factories.employee()])
    login_as("trainer")
    ticked = {"enrolments": [first.id, second.id], "outcome": "pass"}  # the roster as it was before someone else's click
    enrolments.record_result(first, "fail")
    db.session.commit()
    page = client.post(f"/catalogue/{course.id}/roster", data=ticked, headers=headers, follow_redirects=True).data.decode()
    assert _flashes(page) == [expected]
    assert "(failed)" not in page and "failed" not in _flashes(page)[0]
    assert _credits() == 0 and db.session.get(Enrolment, second.id).status == E.ASSIGNED
