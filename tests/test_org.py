"""Employee list, detail and edit; the org tree."""
from sqlalchemy import select

from competency.extensions import db
from competency.models import AuditEvent, Employee, Grade

from . import factories


def test_list_filters_by_unit_subtree_grade_and_search(app, client, login_as):
    branch = factories.org_unit(code="BR")
    sub = factories.org_unit(code="SUB", parent=branch)
    elsewhere = factories.org_unit(code="ELSE")
    factories.employee(staff_no="IN1", org_unit=sub, grade=Grade.SENIOR, name_en="Alice Zhou")
    factories.employee(staff_no="IN2", org_unit=branch, grade=Grade.JUNIOR)
    factories.employee(staff_no="OUT", org_unit=elsewhere, grade=Grade.SENIOR)
    login_as("hr")
    page = client.get(f"/employees?org_unit={branch.id}").data.decode()
    assert "IN1" in page and "IN2" in page and "OUT" not in page
    page = client.get(f"/employees?org_unit={branch.id}&grade=senior").data.decode()
    assert "IN1" in page and "IN2" not in page
    page = client.get("/employees?q=zhou").data.decode()
    assert "IN1" in page and "IN2" not in page and "OUT" not in page


def test_list_is_paginated(app, client, login_as):
    unit = factories.org_unit()
    for n in range(30):
        factories.employee(staff_no=f"P{n:03d}", org_unit=unit)
    login_as("hr")
    first = client.get("/employees", headers={"Accept-Language": "en"}).data.decode()
    assert "P000" in first and "P029" not in first and "Page 1 of 2" in first
    second = client.get("/employees?page=2").data.decode()
    assert "P029" in second and "P000" not in second


def test_empty_list_says_what_to_do(app, client, login_as):
    login_as("hr")
    page = client.get("/employees?q=nobody-like-this", headers={"Accept-Language": "en"}).data.decode()
    assert "No employees match these filters" in page


def test_edit_employee_saves_and_audits(app, client, login_as):
    person = factories.employee(staff_no="ED1", grade=Grade.JUNIOR)
    boss = factories.employee(staff_no="BOSS")
    db.session.commit()
    login_as("hr")
    form = {
        "name_zh": "新名字", "name_en": "New Name", "org_unit": person.org_unit_id, "position": person.position_id,
        "grade": "intermediate", "status": "active", "hire_date": "2020-01-01", "probation_end": "2020-04-01",
        "supervisor": "BOSS",
    }
    response = client.post(f"/employees/{person.id}/edit", data=form)
    assert response.status_code == 302
    saved = db.session.get(Employee, person.id)
    assert saved.grade == Grade.INTERMEDIATE and saved.supervisor_id == boss.id and saved.name_en == "New Name"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "employee.update"))
    assert set(event.details["changes"]) >= {"grade", "supervisor_id", "name_en"}


def test_edit_refuses_a_reporting_loop(app, client, login_as):
    top = factories.employee(staff_no="TOP")
    low = factories.employee(staff_no="LOW", supervisor=top)
    db.session.commit()
    login_as("hr")
    form = {
        "name_zh": top.name_zh, "name_en": top.name_en, "org_unit": top.org_unit_id, "position": top.position_id,
        "grade": "senior", "status": "active", "hire_date": "2020-01-01", "probation_end": "2020-04-01",
        "supervisor": "LOW",
    }
    response = client.post(f"/employees/{top.id}/edit", data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and b"reporting loop" in response.data
    db.session.expire_all()
    assert db.session.get(Employee, top.id).supervisor_id is None
    assert db.session.get(Employee, low.id).supervisor_id == top.id


def test_org_tree_lists_units_in_order(app, client, login_as):
    head = factories.org_unit(code="HQ", name_en="Head Office")
    factories.org_unit(code="CHILD", name_en="Child Branch", parent=head)
    login_as("hr")
    page = client.get("/org", headers={"Accept-Language": "en"}).data.decode()
    assert page.index("Head Office") < page.index("Child Branch")


def test_employee_page_shows_grade_history(app, client, login_as):
    from datetime import date

    from competency.models import GradeHistory

    person = factories.employee(staff_no="GH1", grade=Grade.JUNIOR)
    db.session.add(GradeHistory(employee=person, from_grade=Grade.TRAINEE, to_grade=Grade.JUNIOR,
                                effective_date=date(2024, 1, 1), reason="Probation confirmed"))
    db.session.commit()
    login_as("hr")
    page = client.get(f"/employees/{person.id}", headers={"Accept-Language": "en"}).data.decode()
    assert "Probation confirmed" in page and "2024-01-01" in page


def test_grade_change_on_the_employee_page_writes_grade_history(app, client, login_as):
    from competency.models import GradeHistory

    person = factories.employee(staff_no="GH2", grade=Grade.JUNIOR)
    db.session.commit()
    hr = login_as("hr")
    form = {"name_zh": person.name_zh, "name_en": person.name_en, "org_unit": person.org_unit_id, "position": person.position_id,
            "grade": "senior", "status": "active", "hire_date": "2020-01-01", "probation_end": "2020-04-01", "supervisor": ""}
    client.post(f"/employees/{person.id}/edit", data=form)
    history = db.session.scalars(select(GradeHistory)).all()
    assert [(h.from_grade, h.to_grade, h.approved_by_id) for h in history] == [(Grade.JUNIOR, Grade.SENIOR, hr.id)]


def test_trainers_see_the_directory_but_not_grade_history(app, client, login_as):
    person = factories.employee(staff_no="TR1")
    db.session.commit()
    login_as("trainer")
    page = client.get(f"/employees/{person.id}", headers={"Accept-Language": "en"}).data.decode()
    assert "TR1" in page and "Grade history" not in page
