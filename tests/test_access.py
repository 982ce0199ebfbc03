"""The access matrix: each role and relationship against each page: allowed, 403 or 404."""
import re

import pytest

from competency.extensions import db

from . import factories


@pytest.fixture
def org(app):
    """A small organisation: a boss over a team lead over a member, an outsider, and staff roles."""
    boss = factories.user(roles=["employee", "supervisor"], staff_no="B1")
    lead = factories.user(roles=["employee", "supervisor"], staff_no="S1", supervisor=boss.employee)
    member = factories.user(roles=["employee"], staff_no="E1", supervisor=lead.employee)
    outsider = factories.user(roles=["employee"], staff_no="X1")
    people = {
        "boss": boss, "lead": lead, "member": member, "outsider": outsider,
        "hr": factories.user(roles=["employee", "hr"], staff_no="H1"),
        "admin": factories.user(roles=["admin"], email="admin@example.org", with_employee=False),
        "trainer": factories.user(roles=["employee", "trainer"], staff_no="T1"),
    }
    db.session.commit()
    return {k: v.id for k, v in people.items()} | {f"{k}_emp": v.employee_id for k, v in people.items()}


def _user(key, org):
    from competency.models import User

    return db.session.get(User, org[key])


# (who, page, expected status); pages name the employee they open by key.
MATRIX = [
    # dashboard: everyone logged in
    *[(who, "/", 200) for who in ("member", "lead", "boss", "hr", "admin", "trainer")],
    # employee list: everyone logged in (scoped)
    *[(who, "/employees", 200) for who in ("member", "lead", "hr", "admin", "trainer")],
    # org tree: staff roles and supervisors only
    ("member", "/org", 403), ("lead", "/org", 200), ("hr", "/org", 200), ("admin", "/org", 200), ("trainer", "/org", 200),
    # employee detail: self, supervisor chain, hr/admin/trainer; others 404
    ("member", "/employees/{member_emp}", 200),
    ("member", "/employees/{lead_emp}", 404),
    ("member", "/employees/{outsider_emp}", 404),
    ("lead", "/employees/{member_emp}", 200),
    ("boss", "/employees/{member_emp}", 200),
    ("lead", "/employees/{boss_emp}", 404),
    ("lead", "/employees/{outsider_emp}", 404),
    ("outsider", "/employees/{member_emp}", 404),
    ("hr", "/employees/{member_emp}", 200),
    ("admin", "/employees/{member_emp}", 200),
    ("trainer", "/employees/{member_emp}", 200),
    ("hr", "/employees/999999", 404),
    # employee edit: hr/admin only
    ("member", "/employees/{member_emp}/edit", 403),
    ("lead", "/employees/{member_emp}/edit", 403),
    ("trainer", "/employees/{member_emp}/edit", 403),
    ("hr", "/employees/{member_emp}/edit", 200),
    ("admin", "/employees/{member_emp}/edit", 200),
    # imports: hr/admin
    ("member", "/imports/", 403), ("lead", "/imports/", 403), ("trainer", "/imports/", 403),
    ("hr", "/imports/", 200), ("admin", "/imports/", 200),
    # account admin and audit log: admin only
    *[(who, "/admin/users", 403) for who in ("member", "lead", "hr", "trainer")],
    ("admin", "/admin/users", 200), ("admin", "/admin/users/new", 200), ("admin", "/admin/users/{member}", 200),
    ("hr", "/admin/users/{member}", 403), ("hr", "/admin/audit", 403), ("admin", "/admin/audit", 200),
    ("admin", "/admin/users/999999", 404),
]


@pytest.mark.parametrize(("who", "page", "expected"), MATRIX)
def test_access_matrix(org, client, login_as, who, page, expected):
    login_as(_user(who, org))
    assert client.get(page.format(**org)).status_code == expected


@pytest.mark.parametrize("page", ["/", "/employees", "/org", "/admin/users", "/imports/", "/employees/1"])
def test_anonymous_is_sent_to_login(app, client, page):
    response = client.get(page)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_employee_list_is_scoped_to_what_the_user_may_see(org, client, login_as):
    login_as(_user("lead", org))
    page = client.get("/employees").data.decode()
    shown = set(re.findall(r">\s*([A-Z]\d+)\s*<", page))  # staff numbers as the list's cells show them (not inside a token)
    assert {"E1", "S1"} <= shown
    assert not {"X1", "B1", "H1"} & shown


def test_member_cannot_post_an_edit(org, client, login_as):
    login_as(_user("member", org))
    response = client.post(f"/employees/{org['member_emp']}/edit", data={"grade": "senior"})
    assert response.status_code == 403


# Relationship rules that used to live in the views, now in services/access.py: personal records, team pages,
# exports, probation confirmations. (who, page, expected status)
RELATIONSHIP_MATRIX = [
    *[(who, page, expected) for page in ("/employees/{member_emp}/certifications",
                                         "/employees/{member_emp}/development", "/employees/{member_emp}/grade")
      for who, expected in (("member", 200), ("lead", 200), ("boss", 200), ("hr", 200), ("admin", 200),
                            ("trainer", 404), ("outsider", 404))],
    # the credit ledger: trainers too (they record the results that feed it), for everyone
    *[(who, "/employees/{member_emp}/credits", expected) for who, expected in (
        ("member", 200), ("lead", 200), ("boss", 200), ("hr", 200), ("admin", 200), ("trainer", 200), ("outsider", 404))],
    ("trainer", "/employees/{outsider_emp}/credits", 200),
    ("member", "/employees/{lead_emp}/credits", 404),
    *[(who, "/exports/results.csv", expected) for who, expected in
      (("member", 403), ("trainer", 403), ("outsider", 403), ("lead", 200), ("hr", 200), ("admin", 200))],
    ("lead", "/team/probation/{member_emp}", 200), ("boss", "/team/probation/{member_emp}", 200),
    ("lead", "/team/probation/{outsider_emp}", 404), ("lead", "/team/probation/{boss_emp}", 404),
    ("hr", "/team/probation/{member_emp}", 403), ("member", "/team/probation/{member_emp}", 403),
    *[(who, "/team/credits", expected) for who, expected in (("lead", 200), ("member", 403), ("hr", 403))],
    *[(who, "/mentoring", expected) for who, expected in (("lead", 200), ("hr", 200), ("member", 403), ("trainer", 403))],
]


@pytest.mark.parametrize(("who", "page", "expected"), RELATIONSHIP_MATRIX)
def test_relationship_matrix(org, client, login_as, who, page, expected):
    login_as(_user(who, org))
    assert client.get(page.format(**org)).status_code == expected


def test_supervisor_export_holds_only_their_team(org, client, login_as):
    login_as(_user("lead", org))
    rows = client.get("/exports/credits.csv").data.decode("utf-8-sig").splitlines()
    assert {line.split(",")[0] for line in rows[1:]} == {"E1"}


def test_supervisors_complete_only_their_teams_pairings(org, client, login_as):
    from datetime import date

    from competency.models import CourseType, Employee, Grade, Mentoring

    course = factories.course("MENTOR-1", type=CourseType.MENTORING)
    member, boss, outsider = (db.session.get(Employee, org[k]) for k in ("member_emp", "boss_emp", "outsider_emp"))
    boss.grade = Grade.SENIOR
    inside = Mentoring(course=course, mentor=boss, mentee=member, started_on=date(2026, 1, 5))
    outside = Mentoring(course=course, mentor=boss, mentee=outsider, started_on=date(2026, 1, 5))
    db.session.add_all([inside, outside])
    db.session.commit()
    login_as(_user("lead", org))
    assert client.post(f"/mentoring/{outside.id}/complete").status_code == 404
    assert client.post(f"/mentoring/{inside.id}/complete").status_code == 302
    assert db.session.get(Mentoring, inside.id).status.value == "completed"
    assert db.session.get(Mentoring, outside.id).status.value == "active"


def test_templates_and_views_ask_the_access_module(org, client, login_as):
    from competency.services import access

    trainer, hr, lead = (_user(k, org) for k in ("trainer", "hr", "lead"))
    assert access.can(trainer, "training.manage") and not access.can(trainer, "review.manage")
    assert access.can(hr, "review.manage") and not access.can(hr, "accounts.manage")
    login_as(lead)
    nav = client.get("/").data.decode()
    assert 'href="/team"' in nav and 'href="/review"' not in nav and 'href="/catalogue"' not in nav


def _menu(page: str) -> list[tuple[str, list[str]]]:
    """The main menu as a user reads it: (area, [link labels]); a plain link is its own area."""
    nav = page.split('<ul class="menubar">', 1)[1].split("</nav>", 1)[0]
    found = []
    for summary, links, plain in re.findall(
            r'<details class="menu">\s*<summary[^>]*>(.*?)</summary>\s*<ul>(.*?)</ul>|<li><a [^>]*>(.*?)</a></li>', nav, flags=re.S):
        found.append((summary, re.findall(r"<a [^>]*>(.*?)</a>", links)) if summary else (plain, [plain]))
    return found


def test_the_menu_shows_each_role_its_links_in_its_language_and_marks_where_the_user_is(org, client, login_as):
    member = login_as("employee")
    page = client.get("/assessments", headers={"Accept-Language": "en"}).data.decode()
    assert _menu(page) == [("Dashboard", ["Dashboard"]), ("Me", ["My profile", "My assessments", "My training", "My development",
                                                                   "My grade", "My competency model"])]
    assert f'href="/employees/{member.employee_id}"' in page  # the profile link names the person
    assert '<summary class="current">Me</summary>' in page and 'href="/assessments" aria-current="page"' in page
    login_as(factories.user(roles=["hr"], with_employee=False, email="menu-hr@example.com"))
    page = client.get("/", headers={"Accept-Language": "zh"}).data.decode()
    areas = dict(_menu(page))
    assert "我的" not in areas and "仪表板" in page and 'class="current"' not in page
    assert all(labels for labels in areas.values()) and len(areas) >= 4
    assert "审计日志" not in str(areas)  # audit log is admin's
    login_as(factories.user(roles=["admin"], with_employee=False, email="menu-admin@example.com"))
    assert "审计日志" in str(dict(_menu(client.get("/", headers={"Accept-Language": "zh"}).data.decode())))
