"""Forms that name things instead of asking for codes: the course editor's competency and level rows, the person
pickers (the search behind them, its scope, and the resolver every such form uses), the assign page's competency
select, and the rule that an unknown competency is refused by the gap search itself."""
import re

import pytest
from sqlalchemy import func, select

from competency.errors import FieldError
from competency.extensions import db
from competency.models import (
    Course,
    CourseCompetency,
    CourseType,
    EmployeeStatus,
    Enrolment,
    Grade,
    Mentoring,
    TrainingSession,
)
from competency.services import access, people
from competency.services.training import enrolment as enrolments

from . import factories
from .test_assessments import _assessment, _open, build_org

EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh"}


def _rows(competencies: dict, start: int = 0) -> dict:
    """The course editor's row fields for {code: level} (a level "" leaves it unchosen)."""
    rows = {}
    for i, (code, level) in enumerate(competencies.items(), start=start):
        rows |= {f"competencies-{i}-competency_code": code, f"competencies-{i}-up_to_level": str(level)}
    return rows


def _course_form(code="NEW-1", title_en="New course", **rows):
    return {"code": code, "title_zh": "新课", "title_en": title_en, "type": "industry", "delivery": "classroom",
            "hours": "8", "credits": "2", "active": "y"} | rows


def _errors(page: str) -> list[str]:
    return re.findall(r'<small class="error"[^>]*>([^<]*)</small>', page)


@pytest.fixture
def model(app):
    """Two published models: the corporate one (K1, S1) and the retail one (K1, A2); a draft with S9."""
    factories.model_version(publish=True, codes=("K1", "S1"))
    factories.model_version(publish=True, codes=("K1", "A2"), position_code="CM_RETAIL")
    factories.model_version(codes=("K1", "S1", "S9"))
    db.session.commit()
    return app


# --- the course editor -------------------------------------------------------------------------------


def test_a_new_course_offers_named_competencies_grouped_by_category_and_named_levels(model, client, login_as):
    login_as("trainer")
    page = client.get("/catalogue/new", headers=EN).data.decode()
    select_ = page[page.index('name="competencies-0-competency_code"'):]
    select_ = select_[:select_.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)">', select_)
    assert groups == ["K Knowledge", "S Skills", "A Abilities"]  # K, S, A, each once, whichever model has them
    assert re.findall(r'<option value="(\w+)">([^<]+)</option>', select_) == [
        ("K1", "K1 Competency K1"), ("S1", "S1 Competency S1"), ("A2", "A2 Competency A2")]  # no S9: only a draft has it
    assert '<option value="3">3 · Proficient</option>' in page
    assert page.count('name="competencies-') == 2 * 3  # three empty rows, each a competency and a level
    zh = client.get("/catalogue/new", headers=ZH).data.decode()
    assert "K1 能力K1" in zh and '<optgroup label="K 知识">' in zh and "3 · 熟练" in zh


def test_the_rows_save_the_competencies_and_skip_empty_rows(model, client, login_as):
    login_as("trainer")
    form = _course_form(**_rows({"S1": 3, "": "", "K1": 2}))
    assert client.post("/catalogue/new", data=form).status_code == 302
    course = db.session.scalar(select(Course))
    assert {c.competency_code: c.up_to_level for c in course.competencies} == {"K1": 2, "S1": 3}
    page = client.get(f"/catalogue/{course.id}", headers=EN).data.decode()
    # an existing course shows its rows (by code), then three empty ones
    rows = page[page.index("competency-rows"):page.index("data-add-row")]
    assert re.findall(r'<option selected value="(\w+)">', rows) == ["K1", "2", "S1", "3"]
    assert page.count('name="competencies-') == 2 * 5


@pytest.mark.parametrize(("rows", "row", "field", "message"), [
    ({"K1": 2, "S1": 3, "K1 ": 4}, 2, "competency_code", "K1 is already on row 1."),
    ({"K1": 2, "S1": ""}, 1, "up_to_level", "Choose up to which level the course develops S1."),
    ({"K1": 2, "": 3}, 1, "competency_code", "Choose the competency, or clear the level."),
    ({"K1": 2, "Z9": 3}, 1, "competency_code", "Unknown competency code Z9: use the codes of a published competency model"),
    ({"K1": 2, "S1": 9}, 1, "up_to_level", "Choose up to which level the course develops S1."),
])
def test_a_wrong_row_is_marked_at_the_row_and_nothing_is_saved(model, client, login_as, rows, row, field, message):
    course = factories.course("KEEP-1", competencies={"S1": 1}, title_en="Old title")
    db.session.commit()
    login_as("trainer")
    sent = _course_form(code="KEEP-1", title_en="Changed title") | {
        f"competencies-{i}-{name}": value for i, (code, level) in enumerate(rows.items())
        for name, value in (("competency_code", code.strip()), ("up_to_level", str(level)))}
    page = client.post(f"/catalogue/{course.id}", data=sent, headers=EN).data.decode()
    assert "Correct the competencies marked below: nothing was saved." in page
    marked = re.search(rf'<div class="field has-error">\s*<label for="competencies-{row}-{field}">', page)
    assert marked, f"row {row} {field} is not marked"
    assert any(e.startswith(message) for e in _errors(page)), _errors(page)
    db.session.expire_all()
    kept = db.session.get(Course, course.id)
    assert kept.title_en == "Old title" and [(c.competency_code, c.up_to_level) for c in kept.competencies] == [("S1", 1)]


def test_a_course_naming_a_code_no_published_model_has_shows_it_and_must_drop_it(model, client, login_as):
    course = factories.course("OLD-1", competencies={"S9": 2, "K1": 3})
    db.session.commit()
    login_as("hr")
    page = client.get(f"/catalogue/{course.id}", headers=EN).data.decode()
    assert '<option selected value="S9">S9 (Not in a published model)</option>' in page
    kept = _course_form(code="OLD-1") | _rows({"K1": 3, "S9": 2})
    assert "Unknown competency code S9" in client.post(f"/catalogue/{course.id}", data=kept, headers=EN).data.decode()
    assert client.post(f"/catalogue/{course.id}", data=_course_form(code="OLD-1") | _rows({"K1": 3, "S1": 2})).status_code == 302
    assert db.session.scalars(select(CourseCompetency.competency_code).order_by(CourseCompetency.competency_code)).all() == ["K1", "S1"]


def test_the_course_file_format_is_unchanged(model):
    from competency.services import imports

    imports.import_courses("code,title_zh,title_en,type,delivery,hours,credits,competencies\nC1,甲,A,law,online,2,1,S1:3;K1:2\n"
                           .encode(), "c.csv")
    assert db.session.scalar(select(Course)).competency_text == "K1:2;S1:3"


# --- the search behind the person pickers ------------------------------------------------------------


@pytest.fixture
def team(app):
    """A supervisor (S-LEAD, 王主管) with two reports, one of whom left; others outside the team; an hr account."""
    unit = factories.org_unit(name_zh="海淀支行", name_en="Haidian")
    lead = factories.user(roles=["employee", "supervisor"], staff_no="S-LEAD", name_zh="王主管", name_en="Lead Wang", org_unit=unit)
    mine = factories.employee(staff_no="E0101", name_zh="王伟", name_en="Wang Wei", supervisor=lead.employee, org_unit=unit)
    gone = factories.employee(staff_no="E0102", name_zh="王离", name_en="Wang Li", supervisor=lead.employee,
                              status=EmployeeStatus.LEFT, org_unit=unit)
    twin = factories.employee(staff_no="E0201", name_zh="王伟", name_en="Wang Wei", org_unit=factories.org_unit(name_zh="朝阳支行",
                                                                                                          name_en="Chaoyang"))
    other = factories.employee(staff_no="E0301", name_zh="李娜", name_en="Na Li")
    db.session.commit()
    return dict(lead=lead, mine=mine, gone=gone, twin=twin, other=other)


def _search(client, q, scope="", headers=EN):
    response = client.get("/people/search", query_string={"q": q, "scope": scope}, headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


TEAM_NUMBERS = {"E0101", "E0102", "E0201", "E0301", "S-LEAD"}


def test_the_search_answers_staff_number_name_and_unit_in_the_users_language(team, client, login_as):
    login_as("hr")
    # (the factories' people of earlier tests, E00001 …, may start with E01 too: only the team's are looked at)
    assert [p for p in _search(client, "E01") if p["staff_no"] in TEAM_NUMBERS] == [{
        "staff_no": "E0101", "name": "Wang Wei", "org_unit": "Haidian", "name_zh": "王伟", "name_en": "Wang Wei"}]  # E0102 left
    assert [p["name"] for p in _search(client, "e01", headers=ZH) if p["staff_no"] in TEAM_NUMBERS] == ["王伟"]  # any case
    assert [p["org_unit"] for p in _search(client, "李", headers=ZH)] == [team["other"].org_unit.name_zh]


@pytest.mark.parametrize(("q", "found"), [
    ("王", ["E0201", "E0101", "S-LEAD"]),   # by the first characters of the Chinese name …
    ("伟", ["E0101", "E0201"]),              # … or any part of it
    ("wang w", ["E0101", "E0201"]),          # English in any case
    ("ei", ["E0101", "E0201"]),
    ("Li", ["E0301"]),
    ("nobody", []),
    ("%", []), ("_", []),                    # LIKE's wildcards are only characters
])
def test_the_search_finds_by_staff_number_prefix_or_name(team, client, login_as, q, found):
    login_as("hr")
    assert sorted(p["staff_no"] for p in _search(client, q)) == sorted(found)


def test_each_role_finds_only_the_people_it_may_see(team, client, login_as):
    login_as(factories.user(roles=["employee"], staff_no="E0999", name_zh="王小", name_en="Xiao Wang"))
    assert [p["staff_no"] for p in _search(client, "王")] == ["E0999"]  # an employee: only themself
    assert _search(client, "E0101") == []
    login_as(team["lead"])
    assert sorted(p["staff_no"] for p in _search(client, "王")) == ["E0101", "S-LEAD"]  # a supervisor: self and team
    assert [p["staff_no"] for p in _search(client, "王", scope="assignable")] == ["E0101"]  # assigns to the team only
    login_as("trainer")
    assert len(_search(client, "王")) == 4  # trainers and hr see everyone (E0999 too)
    login_as("hr")
    assert len(_search(client, "王")) == 4


def test_the_search_gives_at_most_twenty_by_staff_number(app, client, login_as):
    for n in range(25):
        factories.employee(staff_no=f"P{n:03d}")
    db.session.commit()
    login_as("hr")
    assert [p["staff_no"] for p in _search(client, "P")] == [f"P{n:03d}" for n in range(20)]
    assert _search(client, "x" * 300) == []  # longer than any name: asked for nothing


def test_the_search_needs_a_sign_in(team, client):
    assert client.get("/people/search?q=E01").status_code == 302


def test_the_usual_searches_read_indexes_not_the_table(team, app):
    """EXPLAIN QUERY PLAN (SQLite): a search by the first characters of a staff number or a name seeks the indexes of
    the staff number and of both names, and reads no table from start to end."""
    from sqlalchemy import event

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    seen = []

    def listen(_conn, _cursor, statement, parameters, *_args):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert len(people.search_people(access.EVERYONE, "王", limit=3)) == 3  # a full page: the prefixes alone
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    (statement, parameters), = [(s, p) for s, p in seen if "employee" in s]
    plan = [row[-1] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert not [step for step in plan if step.startswith("SCAN employee")], plan
    seeks = [step for step in plan if step.startswith("SEARCH employee USING")]
    assert any("ix_employee_name_zh (name_zh>? AND name_zh<?)" in step for step in seeks), plan
    assert any("ix_employee_name_en (name_en>? AND name_en<?)" in step for step in seeks), plan
    assert any("(staff_no>? AND staff_no<?)" in step for step in seeks), plan


# --- the resolver every person picker uses -----------------------------------------------------------


@pytest.mark.parametrize("typed", ["E0101", "e0101", " E0101 ", "E0101 王伟", "E0101 Wang Wei", "E0101 wang wei"])
def test_a_staff_number_with_or_without_the_name_names_the_person(team, typed):
    assert people.resolve_person(access.EVERYONE, typed) == team["mine"]


def test_a_name_borne_by_one_person_names_them(team):
    assert people.resolve_person(access.EVERYONE, "李娜") == team["other"]
    assert people.resolve_person(access.EVERYONE, "na li") == team["other"]


def test_a_name_borne_by_several_lists_them_to_choose_from(team, app):
    from flask_babel import force_locale

    with pytest.raises(people.SeveralPeople) as several, app.test_request_context(), force_locale("en"):
        people.resolve_person(access.EVERYONE, "王伟")
    with app.test_request_context(), force_locale("en"):
        assert str(several.value) == ("Several people are called 王伟: E0101 Wang Wei (Haidian); E0201 Wang Wei (Chaoyang). "
                                      "Choose one from the list, or type the staff number.")


def test_nobody_and_a_wrong_name_are_clear_errors(team, app):
    with app.test_request_context():
        with pytest.raises(people.PersonNotFound, match="Nobody you may choose here has the staff number or name 张三"):
            people.resolve_person(access.EVERYONE, "张三")
        with pytest.raises(people.NameMismatch, match="Staff number E0101 belongs to"):
            people.resolve_person(access.EVERYONE, "E0101 李娜")
    assert people.resolve_person(access.EVERYONE, "  ") is None


def test_part_of_a_name_suggests_the_people_it_could_mean(team, client, login_as):
    course = factories.course()
    db.session.commit()
    login_as("hr")
    page = client.post("/assign", data={"course": course.id, "mode": "one", "staff_no": "王", "preview": "1"}, headers=EN).data.decode()
    assert ("王 is not the whole staff number or name of anyone you may choose. Did you mean E0101 Wang Wei (Haidian); "
            "E0201 Wang Wei (Chaoyang); S-LEAD Lead Wang (Haidian)? Choose from the list, or type the staff number.") in page
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_the_resolver_looks_only_within_its_scope(team):
    team_scope = access.team_ids(team["lead"])
    assert people.resolve_person(team_scope, "王伟") == team["mine"]  # the namesake outside the team does not count
    with pytest.raises(people.PersonNotFound):
        people.resolve_person(team_scope, "E0301")  # not even by staff number
    with pytest.raises(people.PersonNotFound):
        people.resolve_person(access.EVERYONE, "王离")  # left: not by name …
    assert people.resolve_person(access.EVERYONE, "E0102") == team["gone"]  # … but a staff number is taken as typed


# --- every form with a person in it ------------------------------------------------------------------


def test_assign_by_name(team, client, login_as):
    course = factories.course()
    db.session.commit()
    login_as(team["lead"])
    form = {"course": course.id, "mode": "one", "staff_no": "王伟", "preview": "1"}
    page = client.post("/assign", data=form, headers=EN).data.decode()
    assert "1 person matches." in page and "E0101" in page  # the namesake outside the team is not a candidate
    client.post("/assign", data=form | {"submit": "1", "confirm": "1"})
    assert db.session.scalars(select(Enrolment.employee_id)).all() == [team["mine"].id]


def test_an_ambiguous_name_on_the_assign_page_is_an_error_at_the_field(team, client, login_as):
    course = factories.course()
    db.session.commit()
    login_as("trainer")
    page = client.post("/assign", data={"course": course.id, "mode": "one", "staff_no": "王伟", "preview": "1"},
                       headers=EN).data.decode()
    assert 'id="staff_no-error">Several people are called 王伟: E0101 Wang Wei (Haidian); E0201 Wang Wei (Chaoyang).' in page
    assert 'aria-describedby="staff_no-hint staff_no-error"' in page
    page = client.post("/assign", data={"course": course.id, "mode": "one", "staff_no": "", "preview": "1"}, headers=EN).data.decode()
    assert "Choose the employee: type a staff number or a name." in page
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0


def test_a_person_left_in_another_modes_field_is_not_looked_for(team, client, login_as):
    course = factories.course()
    db.session.commit()
    login_as("hr")
    page = client.post("/assign", data={"course": course.id, "mode": "list", "staff_no": "nobody", "preview": "1"},
                       headers=EN).data.decode()
    assert "Nobody you may choose here" not in page and "people match." in page


def test_the_picker_renders_a_labelled_input_with_its_list_and_hint(team, client, login_as):
    login_as("trainer")
    page = client.get("/assign", headers=EN).data.decode()
    assert '<label for="staff_no">Employee</label>' in page
    assert re.search(r'<input aria-describedby="staff_no-hint" aria-invalid="false" autocomplete="off" '
                     r'data-found="\{n\} found: choose from the list." data-none="Nobody found." '
                     r'data-person-search="/people/search\?scope=assignable" data-status="staff_no-status" id="staff_no" '
                     r'list="staff_no-people" maxlength="200" name="staff_no" spellcheck="false" type="text" value="">', page), page
    assert '<datalist id="staff_no-people"></datalist>' in page
    assert '<small class="hint" id="staff_no-hint">Staff number or name</small>' in page
    assert '<script src="/static/js/pickers.js"></script>' in page


def test_a_session_trainer_by_name_and_shown_with_the_name(team, client, login_as):
    from datetime import datetime, timedelta

    course = factories.course()
    trainer = factories.employee(staff_no="T0009", name_zh="赵老师", name_en="Teacher Zhao")
    db.session.commit()
    login_as("trainer")
    start = (datetime.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    form = {"starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Room 1", "trainer": "赵老师", "capacity": "10", "open": "y"}
    assert client.post(f"/catalogue/{course.id}/sessions/new", data=form).status_code == 302
    session = db.session.scalar(select(TrainingSession))
    assert session.trainer_id == trainer.id
    page = client.get(f"/sessions/{session.id}/edit", headers=EN).data.decode()
    assert 'value="T0009 Teacher Zhao"' in page
    page = client.post(f"/sessions/{session.id}/edit", data=form | {"trainer": "nobody here"}, headers=EN).data.decode()
    assert "Nobody you may choose here has the staff number or name nobody here." in page


def test_a_mentoring_pair_by_names_within_the_supervisors_team(team, client, login_as):
    mentee = factories.employee(staff_no="E0103", name_zh="新人", name_en="New Person", supervisor=team["lead"].employee,
                                grade=Grade.TRAINEE)
    course = factories.course("MEN-1", type=CourseType.MENTORING)
    db.session.commit()
    login_as(team["lead"])
    form = {"mentor": "王伟", "mentee": "E0103 新人", "course": course.id}
    assert client.post("/mentoring", data=form).status_code == 302
    pair = db.session.scalar(select(Mentoring))
    assert (pair.mentor_id, pair.mentee_id) == (team["mine"].id, mentee.id)
    page = client.post("/mentoring", data=form | {"mentor": "李娜"}, headers=EN).data.decode()
    assert "Nobody you may choose here has the staff number or name 李娜." in page  # not in the team


def test_the_employee_editor_takes_the_supervisor_by_name(team, client, login_as):
    person = team["other"]
    login_as("hr")
    form = {"name_zh": person.name_zh, "name_en": person.name_en, "org_unit": person.org_unit_id, "position": person.position_id,
            "grade": "junior", "status": "active", "hire_date": "2020-01-01", "probation_end": "2020-04-01", "supervisor": "王主管"}
    assert client.post(f"/employees/{person.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(person), person.id).supervisor_id == team["lead"].employee_id
    page = client.get(f"/employees/{person.id}/edit", headers=EN).data.decode()
    assert 'value="S-LEAD Lead Wang"' in page
    page = client.post(f"/employees/{person.id}/edit", data=form | {"supervisor": "王伟"}, headers=EN).data.decode()
    assert "Several people are called 王伟" in page


def test_hr_changes_the_assessing_supervisor_by_name(app, client, login_as):
    org = build_org()
    a = _assessment(_open(org), org["e1"])
    login_as(org["hr"])
    outsider = org["outsider"].employee
    response = client.post(f"/assessments/{a.id}/supervisor", data={"staff_no": outsider.name_zh}, headers=EN)
    assert response.status_code == 302
    db.session.expire_all()
    assert _assessment(a.cycle, org["e1"]).supervisor_id == outsider.id
    page = client.post(f"/assessments/{a.id}/supervisor", data={"staff_no": "nobody"}, headers=EN, follow_redirects=True)
    assert "Nobody you may choose here has the staff number or name nobody." in page.data.decode()


# --- the assign page's competency select and the gap rule's one home ---------------------------------


def test_the_assign_page_offers_the_competencies_by_name(model, client, login_as):
    login_as("trainer")
    page = client.get("/assign", headers=EN).data.decode()
    select_ = page[page.index('name="competency"'):]
    select_ = select_[:select_.index("</select>")]
    assert '<option value="S1">S1 Competency S1</option>' in select_ and "S9" not in select_


def test_an_unknown_competency_is_refused_by_the_gap_search_itself(model, client, login_as):
    with pytest.raises(FieldError) as refused:
        enrolments.gap_candidates("Z9", 1, None)
    assert refused.value.field == "competency" and "Unknown competency code Z9" in str(refused.value)
    cycle = _open_cycle_for_gaps()
    login_as("hr")
    form = {"course": factories.course().id, "mode": "gap", "competency": "Z9", "cycle": cycle, "min_gap": "1", "preview": "1"}
    db.session.commit()
    page = client.post("/assign", data=form, headers=EN).data.decode()
    assert re.search(r'<div class="field has-error">\s*<label for="competency">Competency</label>', page)
    assert "Unknown competency code Z9" in page


def _open_cycle_for_gaps() -> int:
    """An open cycle of the corporate model (nobody in it): the assign page lists started cycles."""
    from datetime import date, timedelta

    from competency.models import ModelVersion, VersionStatus
    from competency.services.assessments import cycles

    version = db.session.scalar(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED).order_by(ModelVersion.id))
    cycle = cycles.save_cycle(cycles.CycleValues(
        code="G1", name_zh="周期", name_en="Cycle", version_id=version.id, period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31), self_deadline=date.today() + timedelta(days=10),
        supervisor_deadline=date.today() + timedelta(days=20)))
    cycles.open_cycle(cycle)
    db.session.commit()
    return cycle.id
