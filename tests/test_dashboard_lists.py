"""Dashboard lists stay short at bank scale: the first rows, the total, and a link to the full list."""
import re
from datetime import date, timedelta

from competency.extensions import db
from competency.models import EmployeeStatus, Grade
from competency.services import dashboard

from . import factories


def test_the_probation_list_shows_the_soonest_and_says_how_many_there_are(app, client):
    hr = factories.user(roles=["employee", "hr"], staff_no="HR1", grade=Grade.SENIOR)
    for i in range(dashboard.DASHBOARD_ROWS + 5):
        factories.employee(staff_no=f"T{i:03d}", grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION,
                           probation_end=date.today() + timedelta(days=i % 20))
    db.session.commit()
    first, total = dashboard.probation_ending(hr)
    assert len(first) == dashboard.DASHBOARD_ROWS and total == dashboard.DASHBOARD_ROWS + 5
    assert [p.probation_end for p in first] == sorted(p.probation_end for p in first)
    with client.session_transaction() as session:
        factories.sign_in(session, hr)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"The first {dashboard.DASHBOARD_ROWS} of {dashboard.DASHBOARD_ROWS + 5}, soonest first." in page
    assert "/employees?grade=trainee" in page


def test_the_probation_list_holds_the_people_whose_records_the_user_reads(app, client):
    """The dashboard's probation list: a supervisor's own probation and their team's (direct and indirect), nobody
    else's; hr's: everyone's; an employee who leads nobody sees no such list."""
    ends = date.today() + timedelta(days=5)
    on_probation = dict(grade=Grade.TRAINEE, status=EmployeeStatus.PROBATION, probation_end=ends)
    lead = factories.user(roles=["employee", "supervisor"], staff_no="LEAD", name_en="LEAD", **on_probation)
    middle = factories.user(roles=["employee", "supervisor"], staff_no="MID", name_en="MID", supervisor=lead.employee)
    factories.employee(staff_no="DIRECT", name_en="DIRECT", supervisor=lead.employee, **on_probation)
    factories.employee(staff_no="INDIRECT", name_en="INDIRECT", supervisor=middle.employee, **on_probation)
    factories.employee(staff_no="OUTSIDE", name_en="OUTSIDE", **on_probation)
    hr = factories.user(roles=["hr"], with_employee=False, email="hr-probation@example.com")
    employee = factories.user(roles=["employee"], staff_no="EMP", name_en="EMP", **on_probation)
    db.session.commit()

    def listed(account) -> set[str] | None:
        with client.session_transaction() as session:
            factories.sign_in(session, account)
        page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        if "Probation ended or ending within 30 days" not in page:
            return None
        card = page.split("Probation ended or ending within 30 days", 1)[1].split("</section>", 1)[0]
        return set(re.findall(r'<a href="/employees/\d+">([^<]+)</a>', card))

    assert listed(lead) == {"LEAD", "DIRECT", "INDIRECT"}
    assert listed(middle) == {"INDIRECT"}
    assert listed(hr) == {"LEAD", "DIRECT", "INDIRECT", "OUTSIDE", "EMP"}
    assert listed(employee) is None
