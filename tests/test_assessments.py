"""Assessment cycles end to end: opening, the workflow, blindness, access, conflicts, reopen, leniency, import."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from competency.errors import DomainError
from competency.extensions import db
from competency.models import (
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Cycle,
    CycleStatus,
    Grade,
    OrgUnitKind,
    Rater,
    Rating,
)
from competency.services import access, imports
from competency.services.assessments import cycles, results, workflow
from competency.services.imports import ImportFailed
from competency.services.ksa import versions

from . import factories

S = AssessmentStatus


@pytest.fixture
def org(app):
    """A published two-competency model (K1 weight 10, S1 weight 11), a supervisor with two reports, others."""
    return build_org()


def build_org() -> dict:
    """The `org` fixture's organisation (committed)."""
    version = factories.model_version(publish=True)
    branch = factories.org_unit(code="BR", kind=OrgUnitKind.TIER1_BRANCH)
    sub = factories.org_unit(code="SUB", parent=branch)
    other_unit = factories.org_unit(code="OTHER")
    boss = factories.user(roles=["employee", "supervisor"], staff_no="BOSS", org_unit=branch, grade=Grade.SENIOR)
    lead = factories.user(roles=["employee", "supervisor"], staff_no="LEAD", org_unit=sub, grade=Grade.SENIOR,
                          supervisor=boss.employee)
    e1 = factories.user(roles=["employee"], staff_no="E1", org_unit=sub, grade=Grade.JUNIOR, supervisor=lead.employee)
    e2 = factories.user(roles=["employee"], staff_no="E2", org_unit=sub, grade=Grade.TRAINEE, supervisor=lead.employee)
    outsider = factories.user(roles=["employee", "supervisor"], staff_no="OUT", org_unit=other_unit)
    hr = factories.user(roles=["employee", "hr"], staff_no="HR1", org_unit=other_unit,
                        position=factories.position("HR_SPEC", name_zh="人力", name_en="HR"))
    db.session.commit()
    return dict(version=version, branch=branch, sub=sub, boss=boss, lead=lead, e1=e1, e2=e2, outsider=outsider, hr=hr)


def _values(org, **changes):
    values = dict(code="C1", name_zh="周期", name_en="Cycle", version_id=org["version"].id,
                  period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                  self_deadline=date.today() + timedelta(days=10), supervisor_deadline=date.today() + timedelta(days=20))
    values.update(changes)
    return cycles.CycleValues(**values)


def _open(org, **changes):
    cycle = cycles.save_cycle(_values(org, **changes))
    cycles.open_cycle(cycle)
    return cycle


def _assessment(cycle, user):
    return db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle.id, Assessment.employee_id == user.employee_id))


def _levels(assessment, k1, s1, c1="", c2=""):
    comps = {c.code: c.id for c in assessment.version.competencies}
    return {comps["K1"]: (k1, c1), comps["S1"]: (s1, c2)}


def _rate(assessment, rater, k1, s1, submit=True, **comments):
    return workflow.save_ratings(assessment, rater, _levels(assessment, k1, s1, **comments), submit=submit,
                                lock_version=assessment.lock_version)


# --- cycles ---------------------------------------------------------------------------------------


def test_participants_preview_and_opening_snapshot(org):
    cycle = cycles.save_cycle(_values(org, filter_org_unit_id=org["branch"].id, filter_grades=("junior", "trainee")))
    assert cycles.participant_count(cycle) == 2            # E1, E2 under BR/SUB; LEAD and BOSS are senior
    assert cycles.open_cycle(cycle) == 2
    a1 = _assessment(cycle, org["e1"])
    assert (a1.grade, a1.supervisor_id, a1.org_unit_id, a1.status) == (Grade.JUNIOR, org["lead"].employee_id, org["sub"].id, S.NOT_STARTED)
    org["e1"].employee.grade = Grade.INTERMEDIATE            # later changes do not touch the snapshot
    db.session.commit()
    assert db.session.get(Assessment, a1.id).grade == Grade.JUNIOR
    assert cycle.status == CycleStatus.OPEN
    with pytest.raises(DomainError):
        cycles.open_cycle(cycle)
    assert db.session.scalar(select(func.count(Assessment.id))) == 2


def test_position_limits_participants(org):
    cycle = cycles.save_cycle(_values(org))
    assert cycles.participant_count(cycle) == 5  # everyone but the hr specialist (another position)


@pytest.mark.parametrize(("changes", "message"), [
    (dict(period_end=date(2025, 1, 1)), "period"),
    (dict(supervisor_deadline=date.today()), "deadline"),
    (dict(self_weight=120), "weight"),
    (dict(self_weight=100), "weight"),  # the supervisor's rating always counts
])
def test_cycle_validation(org, changes, message):
    with pytest.raises(DomainError, match=message):
        cycles.save_cycle(_values(org, **changes))


def test_cycle_needs_a_published_version(org):

    draft = versions.new_version(org["version"])
    with pytest.raises(DomainError, match="published"):
        cycles.save_cycle(_values(org, version_id=draft.id))


def test_closing_marks_unfinished_incomplete(org):
    cycle = _open(org)
    _rate(_assessment(cycle, org["e1"]), Rater.SELF, 3, 3)
    _rate(_assessment(cycle, org["e1"]), Rater.SUPERVISOR, 3, 3)
    assert cycles.close_cycle(cycle) == 4
    statuses = dict(db.session.execute(select(Assessment.employee_id, Assessment.status)).all())
    assert statuses[org["e1"].employee_id] == S.COMPLETED
    assert {s for k, s in statuses.items() if k != org["e1"].employee_id} == {S.INCOMPLETE}


# --- the workflow ---------------------------------------------------------------------------------


def test_full_workflow_and_exact_score(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 4, 2, submit=False)
    assert a.status == S.SELF_IN_PROGRESS
    _rate(a, Rater.SELF, 4, 2)
    assert a.status == S.SELF_SUBMITTED and a.self_submitted_at is not None
    _rate(a, Rater.SUPERVISOR, 2, 2, submit=False)
    assert a.status == S.SUPERVISOR_IN_PROGRESS
    _rate(a, Rater.SUPERVISOR, 2, 3)
    assert a.status == S.COMPLETED
    # combined K1 = .3*4 + .7*2 = 2.6, S1 = .3*2 + .7*3 = 2.7; overall = (10*2.6 + 11*2.7) / (5*21) * 100 = 53.0476…
    assert a.overall_score == pytest.approx((10 * 2.6 + 11 * 2.7) / 105 * 100)
    result = results.result_of(a)
    k1 = result.rows[0]
    assert ((k1.self_level, k1.supervisor_level, k1.combined, k1.target, k1.gap, k1.next_target)
            == (4, 2, pytest.approx(2.6), 2, pytest.approx(-0.6), 3))
    assert k1.flag == "blind_spot"
    assert result.rows[1].flag is None
    assert result.categories == {"K": pytest.approx(52.0), "S": pytest.approx(54.0)}


ILLEGAL = [
    ("supervisor before self", lambda a: _rate(a, Rater.SUPERVISOR, 3, 3)),
    ("self after submit", lambda a: (_rate(a, Rater.SELF, 3, 3), _rate(a, Rater.SELF, 2, 2, submit=False))),
    ("supervisor after completion", lambda a: (_rate(a, Rater.SELF, 3, 3), _rate(a, Rater.SUPERVISOR, 3, 3),
                                               _rate(a, Rater.SUPERVISOR, 2, 2, submit=False))),
    ("self after completion", lambda a: (_rate(a, Rater.SELF, 3, 3), _rate(a, Rater.SUPERVISOR, 3, 3),
                                         _rate(a, Rater.SELF, 2, 2, submit=False))),
]


@pytest.mark.parametrize("name", [name for name, _ in ILLEGAL])
def test_illegal_transitions_are_refused(org, name):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    with pytest.raises(DomainError):
        dict(ILLEGAL)[name](a)


def test_nothing_can_be_rated_in_a_closed_cycle(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    cycles.close_cycle(cycle)
    with pytest.raises(DomainError, match="not open"):
        _rate(a, Rater.SELF, 3, 3, submit=False)


def test_submit_needs_every_competency_and_comments_on_1_and_5(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    comps = {c.code: c.id for c in a.version.competencies}
    with pytest.raises(workflow.RatingsIncomplete) as missing:
        workflow.save_ratings(a, Rater.SELF, {comps["K1"]: (3, "")}, submit=True, lock_version=a.lock_version)
    assert missing.value.missing == ["S1"]
    db.session.rollback()
    with pytest.raises(workflow.RatingsIncomplete) as uncommented:
        _rate(a, Rater.SELF, 1, 5, c1="weak on products")
    assert uncommented.value.uncommented == ["S1"]
    db.session.rollback()
    _rate(a, Rater.SELF, 1, 5, c1="weak on products", c2="top seller")
    assert a.status == S.SELF_SUBMITTED


def test_no_self_phase_when_self_weight_is_zero(org):
    cycle = _open(org, self_weight=0)
    a = _assessment(cycle, org["e1"])
    assert a.status == S.SELF_SUBMITTED
    with pytest.raises(DomainError):
        _rate(a, Rater.SELF, 3, 3)
    db.session.rollback()
    _rate(a, Rater.SUPERVISOR, 4, 2)
    assert a.overall_score == pytest.approx((10 * 4 + 11 * 2) / 105 * 100)


def test_reopen_is_audited_and_clears_the_score(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    with pytest.raises(DomainError):
        workflow.reopen(a, "supervisor", "  ")
    workflow.reopen(a, "supervisor", "Sales figures were corrected", actor=org["hr"])
    assert a.status == S.SUPERVISOR_IN_PROGRESS and a.overall_score is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.reopen"))
    assert {k: event.details[k] for k in ("phase", "before", "reason")} == {
        "phase": "supervisor", "before": "completed", "reason": "Sales figures were corrected"}
    assert event.details["ratings"]["supervisor"] == {"K1": [3, ""], "S1": [3, ""]}  # kept: re-rating overwrites them
    assert event.details["score"] == pytest.approx(60.0)
    assert event.actor_id == org["hr"].id
    workflow.reopen(a, "self", "Employee asked", actor=org["hr"])
    assert a.status == S.SELF_IN_PROGRESS
    _rate(a, Rater.SELF, 2, 2)  # editable again


def test_overdue_and_late_flags(org):
    cycle = _open(org, self_deadline=date.today() - timedelta(days=1), supervisor_deadline=date.today() + timedelta(days=5))
    a = _assessment(cycle, org["e1"])
    everyone = (org["boss"], org["lead"], org["e1"], org["e2"], org["outsider"])
    assert {x.employee_id for x in cycles.overdue(cycle)} == {p.employee_id for p in everyone}
    _rate(a, Rater.SELF, 3, 3)
    assert cycles.late_flags(a) == {"self": True, "supervisor": False}
    assert a not in cycles.overdue(cycle)


def test_leniency_in_sql(org):
    cycle = _open(org, filter_org_unit_id=org["branch"].id)
    for user, levels in ((org["e1"], (4, 4)), (org["e2"], (2, 4))):
        a = _assessment(cycle, user)
        _rate(a, Rater.SELF, 3, 3)
        _rate(a, Rater.SUPERVISOR, *levels)
    lead_assessment = _assessment(cycle, org["lead"])  # rated by BOSS
    _rate(lead_assessment, Rater.SELF, 3, 3)
    _rate(lead_assessment, Rater.SUPERVISOR, 1, 1, c1="x", c2="y")
    # supervisor ratings: LEAD gave 4,4,2,4 (mean 3.5, 2 people); BOSS gave 1,1 (mean 1.0); org mean = 16/6
    rows = {person.staff_no: (mean, n, diff) for person, mean, n, diff in results.leniency(cycle)}
    assert rows["LEAD"] == (pytest.approx(3.5), 2, pytest.approx(3.5 - 16 / 6))
    assert rows["BOSS"] == (pytest.approx(1.0), 1, pytest.approx(1.0 - 16 / 6))
    assert results.organisation_mean(cycle) == pytest.approx(16 / 6)


def test_progress_by_unit_rolls_up_sub_units(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    progress = {unit: (total, done) for unit, total, done in cycles.progress_by_unit(cycle)}
    assert progress[org["sub"].id] == (3, 1)       # LEAD, E1, E2
    assert progress[org["branch"].id] == (4, 1)    # plus BOSS


# --- through HTTP: forms, blindness, access, conflicts ---------------------------------------------


def _form_data(assessment, k1, s1, action="submit", lock=None):
    comps = {c.code: c.id for c in assessment.version.competencies}
    return {f"level_{comps['K1']}": str(k1), f"level_{comps['S1']}": str(s1),
            f"comment_{comps['K1']}": "self note K1", f"comment_{comps['S1']}": "self note S1",
            "lock_version": str(lock if lock is not None else assessment.lock_version), action: "1"}


def test_employee_submits_in_the_browser_flow(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    login_as(org["e1"])
    page = client.get(f"/assessments/{a.id}/self", headers={"Accept-Language": "en"}).data.decode()
    assert "K1 level 3" in page and "S1 level 5" in page          # the descriptors are the choices
    response = client.post(f"/assessments/{a.id}/self", data=_form_data(a, 3, 4, "save"))
    assert response.status_code == 302
    assert db.session.get(Assessment, a.id).status == S.SELF_IN_PROGRESS
    a = db.session.get(Assessment, a.id)
    response = client.post(f"/assessments/{a.id}/self", data=_form_data(a, 3, 4))
    assert response.status_code == 302 and db.session.get(Assessment, a.id).status == S.SELF_SUBMITTED
    page = client.get(f"/assessments/{a.id}/self", headers={"Accept-Language": "en"}).data.decode()
    assert "read-only" in page and 'disabled' in page


def test_supervisor_rates_blind(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 1, 5, c1="SECRET-SELF-COMMENT-1", c2="SECRET-SELF-COMMENT-2")
    login_as(org["lead"])
    responses = [client.get(url).data.decode() for url in (f"/assessments/{a.id}/review", "/team", "/assessments")]
    responses.append(client.get(f"/assessments/{a.id}").data.decode())  # 404 before completion
    for body in responses:
        assert "SECRET-SELF-COMMENT" not in body
    a = db.session.get(Assessment, a.id)
    form = _form_data(a, 3, 3)
    form.update({k: "supervisor view" for k in form if k.startswith("comment_")})
    assert client.post(f"/assessments/{a.id}/review", data=form).status_code == 302
    result = client.get(f"/assessments/{a.id}").data.decode()
    assert "SECRET-SELF-COMMENT-1" in result  # once submitted, the supervisor reads the self comments …
    assert re.search(r">\s*1\s*</td>", result)  # … and the self levels


def test_a_cycle_that_is_not_blind_shows_the_self_ratings_beside_each_competency(org, client, login_as):
    cycle = _open(org, blind=False)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 1, 5, c1="OPEN-SELF-COMMENT-K1", c2="OPEN-SELF-COMMENT-S1")
    login_as(org["lead"])
    page = client.get(f"/assessments/{a.id}/review", headers={"Accept-Language": "en"}).data.decode()
    k1 = page[page.index('id="c-K1"'):page.index('id="c-S1"')]
    s1 = page[page.index('id="c-S1"'):]
    beside = [re.search(r'<p class="self-rating">(.*?)</p>', part, re.S).group(1) for part in (k1, s1)]
    assert "1 · Aware" in beside[0] and "OPEN-SELF-COMMENT-K1" in beside[0]
    assert "5 · Expert" in beside[1] and "OPEN-SELF-COMMENT-S1" in beside[1]
    assert "You rate blind" not in page
    assert access.shows_self_ratings(org["lead"], a) is True


def test_a_blind_cycle_keeps_the_self_ratings_off_the_supervisor_form_until_they_submit(org, client, login_as):
    cycle = _open(org)
    assert cycle.blind  # the default
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 1, 5, c1="HIDDEN-SELF-COMMENT-K1", c2="HIDDEN-SELF-COMMENT-S1")
    login_as(org["lead"])
    page = client.get(f"/assessments/{a.id}/review", headers={"Accept-Language": "en"}).data.decode()
    assert "HIDDEN-SELF-COMMENT" not in page and 'class="self-rating"' not in page
    assert "You rate blind" in page


def test_result_page_hides_self_levels_from_a_blind_supervisor_reading_it_as_hr(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 1, 5, c1="x", c2="y")
    assert access.shows_self_ratings(org["lead"], a) is False
    assert access.shows_self_ratings(org["hr"], a) is True
    assert access.shows_self_ratings(org["e1"], a) is True
    assert results.result_of(a, include_self=False).rows[0].self_level is None


ACCESS = [
    ("e2", "/assessments/{e1}/self", 404),
    ("lead", "/assessments/{e1}/self", 404),
    ("outsider", "/assessments/{e1}/review", 404),
    ("boss", "/assessments/{e1}/review", 404),   # in the chain, but not the assessing supervisor
    ("e1", "/assessments/{e1}/review", 404),
    ("lead", "/assessments/{e1}/review", 200),
    ("e1", "/assessments/{e1}/self", 200),
    ("e1", "/assessments/{e1}", 404),            # not completed yet
    ("hr", "/assessments/{e1}", 200),
    ("e1", "/assessments/999999/self", 404),
    ("e1", "/cycles/", 403),
    ("lead", "/cycles/", 403),
    ("hr", "/cycles/", 200),
    ("e1", "/team", 403),
    ("lead", "/team", 200),
]


@pytest.mark.parametrize(("who", "url", "expected"), ACCESS)
def test_assessment_access(org, client, login_as, who, url, expected):
    cycle = _open(org)
    login_as(org[who])
    assert client.get(url.format(e1=_assessment(cycle, org["e1"]).id)).status_code == expected


@pytest.mark.parametrize(("who", "expected"), [("e1", 200), ("lead", 200), ("boss", 200), ("hr", 200), ("e2", 404), ("outsider", 404)])
def test_completed_results_are_visible_to_the_employee_the_chain_and_hr(org, client, login_as, who, expected):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    login_as(org[who])
    assert client.get(f"/assessments/{a.id}").status_code == expected


def test_second_tab_gets_a_conflict_and_nothing_is_overwritten(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    login_as(org["e1"])
    opened_at = a.lock_version
    assert client.post(f"/assessments/{a.id}/self", data=_form_data(a, 4, 4, "save", lock=opened_at)).status_code == 302
    stale = client.post(f"/assessments/{a.id}/self", data=_form_data(a, 2, 2, "submit", lock=opened_at),
                        headers={"Accept-Language": "en"})
    assert stale.status_code == 409 and b"changed since you opened it" in stale.data
    db.session.expire_all()
    levels = sorted(r.level for r in db.session.scalars(select(Rating)))
    assert levels == [4, 4] and db.session.get(Assessment, a.id).status == S.SELF_IN_PROGRESS


def test_hr_reopens_through_the_page(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    login_as(org["hr"])
    client.post(f"/assessments/{a.id}/reopen", data={"phase": "self", "reason": "Wrong competency rated"})
    assert db.session.get(Assessment, a.id).status == S.SELF_IN_PROGRESS
    login_as(org["lead"])
    assert client.post(f"/assessments/{a.id}/reopen", data={"phase": "self", "reason": "x"}).status_code == 403


def test_hr_opens_and_closes_a_cycle_through_the_pages(org, client, login_as):
    login_as(org["hr"])
    form = dict(code="WEB", name_zh="网页周期", name_en="Web cycle", version=org["version"].id,
                period_start="2026-01-01", period_end="2026-12-31", self_deadline="2026-12-01",
                supervisor_deadline="2026-12-15", self_weight="30", supervisor_weight="70", blind="y", org_unit=str(org["sub"].id))
    response = client.post("/cycles/new", data=form)
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == "WEB"))
    assert response.headers["Location"].endswith(f"/cycles/{cycle.id}")
    page = client.get(f"/cycles/{cycle.id}", headers={"Accept-Language": "en"}).data.decode()
    assert "3 people" in page
    client.post(f"/cycles/{cycle.id}/open")
    assert db.session.scalar(select(func.count(Assessment.id))) == 3
    client.post(f"/cycles/{cycle.id}/close")
    assert db.session.get(Cycle, cycle.id).status == CycleStatus.CLOSED


def test_bad_weights_in_the_cycle_form(org, client, login_as):
    login_as(org["hr"])
    form = dict(code="W2", name_zh="x", name_en="x", version=org["version"].id, period_start="2026-01-01",
                period_end="2026-12-31", self_deadline="2026-12-01", supervisor_deadline="2026-12-15",
                self_weight="40", supervisor_weight="70")
    response = client.post("/cycles/new", data=form, headers={"Accept-Language": "en"})
    assert b"must add up to 100" in response.data
    assert db.session.scalar(select(func.count(Cycle.id))) == 0


# --- import of past results -----------------------------------------------------------------------

HEADER = "staff_no,competency_code,rater,level,comment\n"


def test_import_ratings_creates_a_closed_historical_cycle(org, app, tmp_path):
    rows = HEADER + "E1,K1,self,4,\nE1,S1,self,2,\nE1,K1,supervisor,2,\nE1,S1,supervisor,3,\nE2,K1,self,3,\n"
    path = tmp_path / "r.csv"
    path.write_text(rows, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", "ratings", "--cycle", "2025", "--start", "2025-01-01",
                                                "--end", "2025-12-31", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 completed, 1 incomplete" in result.output
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == "2025"))
    assert cycle.status == CycleStatus.CLOSED and cycle.historical and cycle.period_end == date(2025, 12, 31)
    done = _assessment(cycle, org["e1"])
    assert done.status == S.COMPLETED and done.overall_score == pytest.approx((10 * 2.6 + 11 * 2.7) / 105 * 100)
    assert _assessment(cycle, org["e2"]).status == S.INCOMPLETE


def test_import_ratings_bad_rows_write_nothing(org):
    rows = HEADER + "E1,K1,self,4,\nNOPE,K1,self,3,\nE1,K9,self,3,\nE1,S1,boss,3,\nE1,S1,self,6,\nE1,K1,self,2,\n"
    before = (db.session.scalar(select(func.count(Cycle.id))), db.session.scalar(select(func.count(Rating.id))))
    with pytest.raises(ImportFailed) as failure:
        imports.import_ratings(rows.encode(), "r.csv", cycle_code="OLD", start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert [(e.line, e.column) for e in failure.value.errors] == [
        (3, "staff_no"), (4, "competency_code"), (5, "rater"), (6, "level"), (7, "rater")]
    assert (db.session.scalar(select(func.count(Cycle.id))), db.session.scalar(select(func.count(Rating.id)))) == before


def test_assessing_supervisor_must_hold_the_role(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    with pytest.raises(DomainError, match="supervisor role"):
        workflow.change_supervisor(a, org["e2"].employee)
    workflow.change_supervisor(a, org["outsider"].employee)
    assert a.supervisor_id == org["outsider"].employee_id
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    with pytest.raises(DomainError, match="unfinished"):
        workflow.change_supervisor(a, org["lead"].employee)


def test_the_leniency_page_lists_supervisors_most_lenient_first_a_page_at_a_time(org, client, login_as, app):
    cycle = _open(org, filter_org_unit_id=org["branch"].id)
    for user, levels in ((org["e1"], (4, 4)), (org["e2"], (2, 4))):
        a = _assessment(cycle, user)
        _rate(a, Rater.SELF, 3, 3)
        _rate(a, Rater.SUPERVISOR, *levels)
    lead_assessment = _assessment(cycle, org["lead"])
    _rate(lead_assessment, Rater.SELF, 3, 3)
    _rate(lead_assessment, Rater.SUPERVISOR, 1, 1, c1="x", c2="y")
    login_as("hr")
    page = client.get(f"/cycles/{cycle.id}/leniency", headers={"Accept-Language": "en"}).data.decode()
    assert page.index("LEAD") < page.index("BOSS") and "+0.8" in page and "2.7" in page
    app.config["PAGE_SIZE"] = 1
    try:
        first = client.get(f"/cycles/{cycle.id}/leniency", headers={"Accept-Language": "en"}).data.decode()
        second = client.get(f"/cycles/{cycle.id}/leniency?page=2", headers={"Accept-Language": "en"}).data.decode()
    finally:
        app.config["PAGE_SIZE"] = 25
    assert "LEAD" in first and "BOSS" not in first and "Page 1 of 2" in first
    assert "BOSS" in second and "LEAD" not in second
