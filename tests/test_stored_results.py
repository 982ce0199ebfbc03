"""Stored results never go stale: after any sequence of completions, reopenings, ratings imports, people leaving
and returning, the stored rows and sums equal a recomputation from the ratings (both databases)."""
from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from competency.errors import DomainError
from competency.extensions import db
from competency.models import (
    LATEST,
    Assessment,
    AssessmentStatus,
    Cycle,
    Employee,
    EmployeeStatus,
    Grade,
    OrgUnitKind,
    Rater,
    RaterSum,
    ResultAggregate,
    ResultRow,
)
from competency.services import org as org_service
from competency.services.assessments import cycles, results, stored, workflow
from competency.services.imports import ImportFailed, import_ratings

from . import factories

S = AssessmentStatus
PEOPLE = ("E1", "E2", "E3", "E4")


def _build() -> dict:
    version = factories.model_version(publish=True)
    branch = factories.org_unit(code="BR", kind=OrgUnitKind.TIER1_BRANCH)
    sub = factories.org_unit(code="SUB", parent=branch)
    boss = factories.user(roles=["employee", "supervisor"], staff_no="BOSS", org_unit=branch, grade=Grade.SENIOR)
    units = (branch, sub, sub, branch)
    grades = (Grade.TRAINEE, Grade.JUNIOR, Grade.INTERMEDIATE, Grade.SENIOR)
    for no, unit, grade in zip(PEOPLE, units, grades, strict=True):
        factories.user(roles=["employee"], staff_no=no, org_unit=unit, grade=grade, supervisor=boss.employee)
    db.session.commit()
    opened = []
    for code, self_weight in (("C1", 30), ("C2", 0)):
        cycle = cycles.save_cycle(cycles.CycleValues(
            code=code, name_zh=code, name_en=code, version_id=version.id, period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30) if code == "C1" else date(2026, 12, 31), self_weight=self_weight,
            self_deadline=date.today() + timedelta(days=10), supervisor_deadline=date.today() + timedelta(days=20)))
        cycles.open_cycle(cycle)
        opened.append(cycle.id)
    return {"cycles": opened}


def _person(no: str) -> Employee:
    return db.session.scalar(select(Employee).where(Employee.staff_no == no))


def _levels(assessment, k1, s1):
    comps = {c.code: c.id for c in assessment.version.competencies}
    return {comps["K1"]: (k1, "why"), comps["S1"]: (s1, "why")}  # levels 1 and 5 need a comment


def _rate(cycle_id, no, k1, s1):
    """The next step of the person's assessment in an open cycle: the self form, then the supervisor's."""
    a = db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle_id, Assessment.employee_id == _person(no).id))
    if a is None or a.is_completed:
        return
    rater = Rater.SELF if a.self_editable and a.cycle.has_self_phase else Rater.SUPERVISOR
    workflow.save_ratings(a, rater, _levels(a, k1, s1), submit=True, lock_version=a.lock_version)


def _reopen(cycle_id, no, phase):
    a = db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle_id, Assessment.employee_id == _person(no).id))
    if a is not None and a.is_completed:
        workflow.reopen(a, phase if a.cycle.has_self_phase else "supervisor", "again")


def _import(code, rows):
    text = "staff_no,competency_code,rater,level,comment\n" + "".join(
        f"{no},{comp},{rater},{level},\n" for no, comp, rater, level in rows)
    year = 2020 + int(code[1:])
    try:
        import_ratings(text.encode(), "r.csv", cycle_code=code, start=date(year, 1, 1), end=date(year, 12, 31))
    except (ImportFailed, DomainError):
        db.session.rollback()


def _set_status(no, left: bool):
    person = _person(no)
    org_service.update_employee(person, {"status": EmployeeStatus.LEFT if left else EmployeeStatus.ACTIVE,
                                         "supervisor_staff_no": person.supervisor.staff_no if person.supervisor else None})


def _recomputed() -> tuple[dict, set, dict]:
    """From the ratings: rows {(assessment, code): values}, the latest assessments of people who stayed, the sums."""
    levels = results.combined_levels()
    rows = {}
    for r in db.session.execute(select(levels, Employee.position_id, Employee.status)
                                .join(Employee, Employee.id == levels.c.employee_id)).mappings():
        gap = None if r["target"] is None else r["target"] - r["combined"]
        rows[(r["assessment_id"], r["competency_code"])] = dict(
            employee=r["employee_id"], cycle=r["cycle_id"], unit=r["org_unit_id"], position=r["position_id"],
            grade=r["grade"], self=r["self_level"], supervisor=r["supervisor_level"], combined=r["combined"],
            target=r["target"], gap=gap, stayed=r["status"] != EmployeeStatus.LEFT)
    latest_query = results.latest_completed_query().subquery()
    latest = {a for a, in db.session.execute(select(latest_query.c.assessment_id))
              if any(k[0] == a and v["stayed"] for k, v in rows.items())}
    sums = defaultdict(lambda: [0, 0.0, 0, 0.0, 0.0])
    for (assessment, code), v in rows.items():
        keys = [(v["cycle"], v["unit"], v["position"], v["grade"], code)]
        if assessment in latest:
            keys.append((LATEST, v["unit"], v["position"], v["grade"], code))
        for key in keys:
            s = sums[key]
            s[0] += 1
            s[1] += v["combined"]
            if v["target"] is not None:
                s[2] += 1
                s[3] += v["target"]
                s[4] += v["gap"]
    return rows, latest, dict(sums)


def _assert_fresh() -> None:
    db.session.expire_all()
    rows, latest, sums = _recomputed()
    kept = {(r.assessment_id, r.competency_code): r for r in db.session.scalars(select(ResultRow))}
    assert set(kept) == set(rows)
    for key, want in rows.items():
        got = kept[key]
        assert (got.employee_id, got.cycle_id, got.org_unit_id, got.position_id, got.grade, got.self_level,
                got.supervisor_level, got.target) == (want["employee"], want["cycle"], want["unit"], want["position"],
                                                      want["grade"], want["self"], want["supervisor"], want["target"])
        assert got.combined == pytest.approx(want["combined"])
        assert (got.gap is None) == (want["gap"] is None) and (got.gap is None or got.gap == pytest.approx(want["gap"]))
    assert {a for (a, _), r in kept.items() if r.is_latest} == latest
    stored_sums = {(a.cycle_key, a.org_unit_id, a.position_id, a.grade, a.competency_code):
                   [a.people, a.combined_sum, a.target_people, a.target_sum, a.gap_sum]
                   for a in db.session.scalars(select(ResultAggregate))}
    assert set(stored_sums) == set(sums)
    for key, want in sums.items():
        assert stored_sums[key][0] == want[0] and stored_sums[key][2] == want[2]
        assert stored_sums[key][1::2] == pytest.approx(want[1::2]) and stored_sums[key][3] == pytest.approx(want[3])
    # The leniency page's sums per cycle and assessing supervisor, recomputed from the supervisor ratings.
    by_rater = defaultdict(lambda: [0, 0, set()])
    for (assessment, _code), v in rows.items():
        supervisor = db.session.scalar(select(Assessment.supervisor_id).where(Assessment.id == assessment))
        if supervisor is not None:
            s = by_rater[(v["cycle"], supervisor)]
            s[0] += v["supervisor"]
            s[1] += 1
            s[2].add(assessment)
    assert {(r.cycle_id, r.supervisor_id): (r.level_sum, r.levels, r.assessments) for r in db.session.scalars(select(RaterSum))} \
        == {key: (total, n, len(assessments)) for key, (total, n, assessments) in by_rater.items()}


person = st.sampled_from(PEOPLE)
level = st.integers(1, 5)
step = st.one_of(
    st.tuples(st.just("rate"), st.integers(0, 1), person, level, level),
    st.tuples(st.just("reopen"), st.integers(0, 1), person, st.sampled_from(["self", "supervisor"])),
    st.tuples(st.just("import"), st.sampled_from(["H1", "H2", "H3"]),
              st.lists(st.tuples(person, st.sampled_from(["K1", "S1"]), st.sampled_from(["self", "supervisor"]), level),
                       max_size=12, unique_by=lambda r: r[:3])),
    st.tuples(st.just("leave"), person, st.booleans()),
)


@pytest.fixture
def bank(app):
    return _build()


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_stored_results_and_sums_equal_a_recomputation_after_any_sequence(bank, steps):
    for op, *args in steps:
        if op == "rate":
            _rate(bank["cycles"][args[0]], *args[1:])
        elif op == "reopen":
            _reopen(bank["cycles"][args[0]], *args[1:])
        elif op == "import":
            _import(*args)
        else:
            _set_status(*args)
    _assert_fresh()


def test_a_completed_assessment_is_stored_and_reopening_removes_it(bank):
    cycle_id = bank["cycles"][1]  # supervisor only
    _rate(cycle_id, "E2", 2, 3)
    a = db.session.scalar(select(Assessment).where(Assessment.cycle_id == cycle_id, Assessment.employee_id == _person("E2").id))
    assert a.status == S.COMPLETED
    kept = {r.competency_code: (r.combined, r.target, r.is_latest) for r in db.session.scalars(
        select(ResultRow).where(ResultRow.assessment_id == a.id))}
    assert set(kept) == {"K1", "S1"} and kept["K1"][0] == 2 and all(latest for *_, latest in kept.values())
    _reopen(cycle_id, "E2", "supervisor")
    assert db.session.scalars(select(ResultRow).where(ResultRow.assessment_id == a.id)).all() == []
    assert db.session.scalar(select(ResultAggregate.id).where(ResultAggregate.cycle_key == cycle_id)) is None
    _assert_fresh()


def test_rebuild_writes_the_same_as_the_running_updates(bank):
    _rate(bank["cycles"][1], "E1", 4, 1)
    _rate(bank["cycles"][1], "E3", 5, 2)
    _import("H1", [("E1", "K1", "self", 3), ("E1", "S1", "self", 3), ("E1", "K1", "supervisor", 2), ("E1", "S1", "supervisor", 5)])
    before = sorted((a.cycle_key, a.org_unit_id, a.grade, a.competency_code, a.people, round(a.gap_sum, 9))
                    for a in db.session.scalars(select(ResultAggregate)))
    assert stored.rebuild() == 6
    db.session.commit()
    assert sorted((a.cycle_key, a.org_unit_id, a.grade, a.competency_code, a.people, round(a.gap_sum, 9))
                  for a in db.session.scalars(select(ResultAggregate))) == before
    assert db.session.scalar(select(Cycle.id).where(Cycle.code == "H1")) is not None
    _assert_fresh()
