"""The review's list of recommendations pages by staff number (?after= / ?before=), not by OFFSET: every row once,
in order, forwards and back, with "page n of m", and the filters kept."""
import re
from datetime import date

from competency.extensions import db
from competency.models import Grade, Recommendation, ReviewAction, ReviewRun

from . import factories


def _run_of(n: int) -> list[str]:
    unit = factories.org_unit(code="PG1")
    run = ReviewRun(year=2025, as_of=date(2026, 1, 15))
    db.session.add(run)
    staff = []
    for i in range(n):
        person = factories.employee(staff_no=f"P{i:04d}", org_unit=unit)
        db.session.flush()
        action = ReviewAction.KEEP if i % 3 else ReviewAction.PROMOTE
        db.session.add(Recommendation(run=run, employee_id=person.id, org_unit_id=unit.id, current_grade=Grade.JUNIOR,
                                      recommended_grade=Grade.JUNIOR, action=action, explanation={}))
        staff.append(person.staff_no)
    db.session.commit()
    return staff


def _listed(page: str) -> list[str]:
    return re.findall(r'<span class="muted">(P\d{4})</span>', page)


def _link(page: str, label: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">[^<]*' + label, page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_go_by_staff_number_forwards_and_back(app, client, login_as):
    staff = _run_of(60)
    login_as("hr")
    seen, pages, url = [], [], "/review/2025"
    while url:
        page = client.get(url, headers={"Accept-Language": "en"}).data.decode()
        pages.append(page)
        seen += _listed(page)
        url = _link(page, "Next")
    assert seen == sorted(staff) and len(pages) == 3
    assert "Page 2 of 3 (60 in all)" in pages[1] and "after=P0024" in _link(pages[0], "Next")
    back = client.get(_link(pages[2], "Previous"), headers={"Accept-Language": "en"}).data.decode()
    assert _listed(back) == sorted(staff)[25:50] and "Page 2 of 3" in back


def test_paging_keeps_the_filter(app, client, login_as):
    staff = _run_of(90)
    login_as("hr")
    promoted = [s for i, s in enumerate(staff) if i % 3 == 0]
    first = client.get("/review/2025?action=promote", headers={"Accept-Language": "en"}).data.decode()
    second = client.get(_link(first, "Next"), headers={"Accept-Language": "en"}).data.decode()
    assert _listed(first) + _listed(second) == promoted and "action=promote" in _link(first, "Next")
    assert "(30 in all)" in first
