"""Dashboard lists stay short at bank scale: the first rows, the total, and a link to the full list."""
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
