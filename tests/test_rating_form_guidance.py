"""The rating form guides the person: section links and a progress count, errors at the items with a summary that
links to them, a saved draft that opens the form again where they were, a read-only form that says what it waits
for; and the profile page's links to a person's development report, credits and grade (where the viewer may)."""
import re

import pytest

from competency.extensions import db
from competency.models import Assessment, AssessmentStatus, Rater, Rating
from competency.timeutil import bank_time

from . import factories
from .test_assessments import _assessment, _open, _rate, build_org

S = AssessmentStatus
EN = {"Accept-Language": "en"}


@pytest.fixture
def org(app):
    """The organisation of test_assessments (model K1, S1; LEAD rates E1 and E2), committed."""
    return build_org()


def _ids(assessment) -> dict[str, int]:
    return {c.code: c.id for c in assessment.version.competencies}


def _post(assessment, action="save", lock=None, **fields) -> dict:
    data = {"lock_version": str(assessment.lock_version if lock is None else lock), action: "1"}
    data.update(fields)
    return data


def _page(client, url: str) -> str:
    return client.get(url, headers=EN).data.decode()


def test_the_form_links_to_each_category_and_counts_what_is_rated(org, client, login_as):
    a = _assessment(_open(org), org["e1"])
    ids = _ids(a)
    login_as(org["e1"])
    page = _page(client, f"/assessments/{a.id}/self")
    nav = re.search(r'<nav class="form-nav".*?</nav>', page, re.S).group(0)
    assert [link for link in re.findall(r'href="#([^"]+)"', nav)] == ["cat-K", "cat-S", "overall"]
    for anchor in ("cat-K", "cat-S", "overall"):
        assert f'id="{anchor}"' in page
    assert "0 of 2 rated" in nav and 'data-format="{rated} of 2 rated"' in nav
    assert client.post(f"/assessments/{a.id}/self", data=_post(a, **{f"level_{ids['S1']}": "3"})).status_code == 302
    nav = re.search(r'<nav class="form-nav".*?</nav>', _page(client, f"/assessments/{a.id}/self"), re.S).group(0)
    assert "1 of 2 rated" in nav
    assert re.search(r'data-count-for="K">0/1<', nav) and re.search(r'data-count-for="S">1/1<', nav)


def test_a_refused_submission_marks_each_item_and_links_to_it_from_the_summary(org, client, login_as):
    a = _assessment(_open(org), org["e1"])
    ids = _ids(a)
    login_as(org["e1"])
    response = client.post(f"/assessments/{a.id}/self", headers=EN,
                           data=_post(a, "submit", **{f"level_{ids['K1']}": "1", f"comment_{ids['K1']}": ""}))
    assert response.status_code == 422
    page = response.data.decode()
    k1 = page[page.index('id="c-K1"'):page.index('id="c-S1"')]
    s1 = page[page.index('id="c-S1"'):page.index('id="overall"')]
    assert "Levels 1 and 5 need a comment" in k1 and "Choose a level" not in k1
    assert re.search(rf'<textarea aria-invalid="true" aria-describedby="e-comment_{ids["K1"]}"', k1)
    assert 'type="radio"' in k1 and 'aria-invalid="true" aria-describedby="e-level' not in k1
    assert "Choose a level for this competency." in s1
    assert s1.count(f'aria-invalid="true" aria-describedby="e-level_{ids["S1"]}"') == 5   # every radio of S1
    assert f'id="e-level_{ids["S1"]}"' in s1 and f'id="e-comment_{ids["K1"]}"' in k1
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    links = re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary, re.S)
    assert [target for target, _text in links] == [f"comment_{ids['K1']}", f"level_{ids['S1']}-0"]
    assert "K1" in links[0][1] and "Competency K1" in links[0][1] and "S1" in links[1][1]
    for target, _text in links:
        assert f'id="{target}"' in page
    assert "1 of 2 rated" in page          # the posted level counts, and it is still checked
    db.session.expire_all()
    assert db.session.get(Assessment, a.id).status == S.NOT_STARTED and db.session.query(Rating).count() == 0


@pytest.mark.parametrize(("anchor", "expected"), [("c-S1", "#c-S1"), ("cat-K", "#cat-K"), ("overall", "#overall"),
                                                  ("", "#c-K1"), ("c-XX", "#c-K1"), ('"><script>', "#c-K1")])
def test_a_saved_draft_opens_the_form_again_where_the_person_was(org, client, login_as, anchor, expected):
    a = _assessment(_open(org), org["e1"])
    ids = _ids(a)
    login_as(org["e1"])
    response = client.post(f"/assessments/{a.id}/self", data=_post(a, anchor=anchor, **{f"level_{ids['K1']}": "4"}))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/assessments/{a.id}/self{expected}"
    page = _page(client, f"/assessments/{a.id}/self")
    assert "Draft saved." in page and 'class="flash flash-success"' in page


def test_a_draft_with_nothing_rated_opens_at_the_top_and_the_supervisor_comes_back_to_the_review(org, client, login_as):
    a = _assessment(_open(org), org["e1"])
    login_as(org["e1"])
    response = client.post(f"/assessments/{a.id}/self", data=_post(a))
    assert response.status_code == 302 and response.headers["Location"] == f"/assessments/{a.id}/self"
    _rate(db.session.get(Assessment, a.id), Rater.SELF, 3, 3)
    a = db.session.get(Assessment, a.id)
    login_as(org["lead"])
    response = client.post(f"/assessments/{a.id}/review", data=_post(a, **{f"level_{_ids(a)['S1']}": "2"}))
    assert response.status_code == 302 and response.headers["Location"] == f"/assessments/{a.id}/review#c-S1"


def test_submitting_still_goes_back_to_the_list(org, client, login_as):
    a = _assessment(_open(org), org["e1"])
    ids = _ids(a)
    login_as(org["e1"])
    response = client.post(f"/assessments/{a.id}/self", data=_post(a, "submit", anchor="c-S1",
                                                                  **{f"level_{ids['K1']}": "3", f"level_{ids['S1']}": "3"}))
    assert response.status_code == 302 and response.headers["Location"] == "/assessments"


def test_a_read_only_form_says_what_state_it_is_in_and_what_comes_next(org, client, login_as):
    a = _assessment(_open(org), org["e1"])
    login_as(org["lead"])
    page = _page(client, f"/assessments/{a.id}/review")
    assert "has not submitted their self-assessment yet" in page and "Save a draft at any time" not in page
    _rate(a, Rater.SELF, 3, 3)
    a = db.session.get(Assessment, a.id)
    submitted_on = bank_time(a.self_submitted_at).strftime("%Y-%m-%d")  # the bank's day of the UTC moment
    login_as(org["e1"])
    page = _page(client, f"/assessments/{a.id}/self")
    assert "Save a draft at any time" not in page and "form-nav" in page
    assert f"You submitted your self-assessment on {submitted_on}. Your supervisor rates you next" in page
    assert "These ratings are read-only now." in page and 'name="save"' not in page
    login_as(org["lead"])
    page = _page(client, f"/assessments/{a.id}/review")
    assert "Save a draft at any time" in page and "state-note" not in page      # the supervisor's turn
    _rate(a, Rater.SUPERVISOR, 3, 3)
    a = db.session.get(Assessment, a.id)
    page = _page(client, f"/assessments/{a.id}/review")
    assert f"You submitted your ratings on {bank_time(a.supervisor_submitted_at):%Y-%m-%d}: the assessment is completed" in page
    assert f'href="/assessments/{a.id}">See the result</a>' in page
    login_as(org["e1"])
    page = _page(client, f"/assessments/{a.id}/self")
    assert "Completed: your supervisor has submitted their ratings too" in page and "Save a draft" not in page



def test_the_guidance_costs_no_statement(org, client, login_as):
    """The form and a draft save run the statements they ran before the guidance (see the load bench)."""
    a = _assessment(_open(org), org["e1"])
    ids = _ids(a)
    login_as(org["e1"])
    client.get(f"/assessments/{a.id}/self")
    with factories.statements() as shown:
        assert client.get(f"/assessments/{a.id}/self").status_code == 200
    with factories.statements() as saved:
        response = client.post(f"/assessments/{a.id}/self", data=_post(a, **{f"level_{ids['K1']}": "4"}))
    assert response.status_code == 302
    assert (len(shown), len(saved)) == STATEMENTS[db.engine.dialect.name]


# (form, draft save) as measured before the guidance; the save no longer reads the assessment again after its commit.
# The bell's count of unread notifications is read with the signed-in account, in the same statement.
STATEMENTS = {"sqlite": (5, 8), "postgresql": (5, 7)}


ALL_RECORDS = ("development", "credits", "grade")


@pytest.mark.parametrize(("who", "status", "links"), [
    ("e1", 200, ALL_RECORDS),   # the person
    ("lead", 200, ALL_RECORDS),  # their supervisor
    ("boss", 200, ALL_RECORDS),  # higher in the chain
    ("hr", 200, ALL_RECORDS),
    ("trainer", 200, ("credits",)),  # the credit ledger (they record the results that feed it), no personal results
    ("e2", 404, ()),             # a colleague
])
def test_the_profile_links_to_the_persons_records_where_the_viewer_may_read_them(org, client, login_as, who, status, links):
    org["trainer"] = factories.user(roles=["employee", "trainer"], staff_no="TR1", org_unit=org["branch"])
    db.session.commit()
    person = org["e1"].employee_id
    login_as(org[who])
    response = client.get(f"/employees/{person}", headers=EN)
    assert response.status_code == status
    page = response.data.decode()
    shown = tuple(record for record in ALL_RECORDS if f'href="/employees/{person}/{record}"' in page)
    assert shown == links
    for record in ALL_RECORDS:
        url = f"/employees/{person}/{record}"
        if record in links:
            assert client.get(url).status_code == 200
        elif status == 200:
            assert client.get(url).status_code == 404  # not linked, and not readable either
