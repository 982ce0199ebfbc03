"""The REST API: tokens, scopes and relationships, each resource's validation, all-or-nothing bulk upserts through the
imports, idempotent completions, ETag/If-Match, problem details, the rate limit, the audit, the contract."""
import itertools
import re
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import SCOPES, AnnualSales, ApiToken, AuditEvent, CreditEntry, Employee, Enrolment, OrgUnitKind, User, UserRole
from competency.services import api_tokens
from competency.timeutil import utcnow

from . import factories

JSON = "application/json"
PROBLEM = "application/problem+json"


@pytest.fixture
def token(app):
    """Make a token: `token(roles, scopes, **employee fields)` → (the secret's headers, the account)."""

    def make(roles=("hr",), scopes=SCOPES, user=None, **fields):
        user = user or factories.user(roles=roles, **fields)
        _token, secret = api_tokens.create_token(user, f"{'-'.join(roles)} token", scopes)
        return {"Authorization": f"Bearer {secret}"}, user

    return make


def _employee_item(staff_no, unit="U-API", **fields):
    return {"staff_no": staff_no, "name_zh": f"员工{staff_no}", "name_en": f"Person {staff_no}", "org_unit_code": unit,
            "position_code": "CM_CORP", "grade": "junior", "hire_date": "2024-01-01", **fields}


@pytest.fixture
def unit(app):
    """An org unit U-API and the CM_CORP position."""
    factories.position()
    made = factories.org_unit(code="U-API")
    db.session.commit()
    return made


def test_the_openapi_document_is_valid_openapi_3_1_and_documents_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    routes = {rule.rule.replace("<", "{").replace(">", "}").replace("int:", "") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint.split(".")[0] in ("organisation", "feeds", "reads")}
    assert routes == set(spec["paths"]) and len(routes) == 14
    assert [tag["name"] for tag in spec["tags"]] == ["organisation", "feeds", "reads"]
    put = spec["paths"]["/api/v1/employees/{staff_no}"]["put"]
    assert {"200", "201", "401", "403", "412", "422", "429"} <= set(put["responses"])
    assert "application/problem+json" in spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]


def test_the_docs_page_renders_the_document_with_vendored_assets(app, client):
    page = client.get("/api/v1/docs").data.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page and "/static/js/api-docs.js" in page
    assert "cdn" not in page.split("<main")[0].lower() and "<script>" not in page
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_a_token_is_stored_hashed_and_refused_when_missing_wrong_revoked_or_expired(app, client, token):
    headers, user = token(("hr",), ["org:read"])
    secret = headers["Authorization"].split()[1]
    stored = db.session.scalar(select(ApiToken))
    assert secret.startswith("cmpt_") and stored.token_hash == api_tokens.token_hash(secret)
    assert secret not in stored.prefix + stored.token_hash
    assert client.get("/api/v1/token", headers=headers).get_json()["scopes"] == ["org:read"]
    for bad in ({}, {"Authorization": "Bearer cmpt_wrong"}, {"Authorization": f"Basic {secret}"}):
        answer = client.get("/api/v1/token", headers=bad)
        assert answer.status_code == 401 and answer.content_type == PROBLEM and answer.get_json()["status"] == 401
    stored.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert client.get("/api/v1/token", headers=headers).status_code == 401
    stored.expires_on = None
    api_tokens.revoke(stored)
    assert client.get("/api/v1/token", headers=headers).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(app, client, token):
    headers, _user = token(("hr",), ["org:read"])
    assert client.get("/api/v1/token", headers=headers).status_code == 200
    first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    client.get("/api/v1/token", headers=headers)
    assert db.session.scalar(select(ApiToken.last_used_at)) == first  # within the minute: not written again
    db.session.execute(ApiToken.__table__.update().values(last_used_at=first - timedelta(minutes=2)))
    db.session.commit()
    client.get("/api/v1/token", headers=headers)
    assert db.session.scalar(select(ApiToken.last_used_at)) > first


ENDPOINTS = [  # (method, path, body, the scope it needs)
    ("get", "/api/v1/org-units", None, "org:read"),
    ("get", "/api/v1/employees", None, "org:read"),
    ("put", "/api/v1/org-units/U-NEW", {"kind": "sub_branch", "name_zh": "新支行", "name_en": "New"}, "org:write"),
    ("post", "/api/v1/employees/bulk", {"items": [_employee_item("N1")]}, "org:write"),
    ("post", "/api/v1/sales/bulk", {"items": [{"staff_no": "N1", "year": 2025, "amount": 10}]}, "sales:write"),
    ("post", "/api/v1/training/completions", {"items": [{"external_id": "x", "staff_no": "N1", "course_code": "C",
                                                         "completed_on": "2025-01-01", "result": "pass"}]}, "training:write"),
    ("get", "/api/v1/models", None, "models:read"),
    ("get", "/api/v1/results", None, "results:read"),
    ("get", "/api/v1/credits", None, "results:read"),
    ("get", "/api/v1/reviews/2025/recommendations", None, "reviews:read"),
]


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _b, _s in ENDPOINTS])
def test_a_token_without_the_scope_gets_403_and_writes_nothing(app, client, token, method, path, body, scope):
    headers, _user = token(("hr", "admin"), [s for s in SCOPES if s != scope])
    answer = getattr(client, method)(path, json=body, headers=headers)
    assert answer.status_code == 403 and answer.content_type == PROBLEM
    assert db.session.scalar(select(func.count(Employee.id))) == 1  # the token's own account only


def test_the_course_catalogue_needs_models_read_or_training_write(app, client, token):
    factories.course("S5-101")
    db.session.commit()
    reader, _user = token(("trainer",), ["training:write"])
    assert [c["code"] for c in client.get("/api/v1/courses", headers=reader).get_json()["items"]] == ["S5-101"]
    other, _user = token(("trainer",), ["org:read"])
    assert client.get("/api/v1/courses", headers=other).status_code == 403


def test_a_supervisor_token_sees_its_team_and_writes_nothing(app, client, token, unit):
    boss = factories.user(roles=["supervisor"], staff_no="S1", org_unit=unit)
    member = factories.employee(staff_no="M1", supervisor=boss.employee, org_unit=unit)
    factories.employee(staff_no="X1", org_unit=unit)
    headers, _user = token(("supervisor",), SCOPES, user=boss)
    listed = client.get("/api/v1/employees", headers=headers).get_json()
    assert [p["staff_no"] for p in listed["items"]] == ["M1", "S1"] and listed["next"] is None
    assert client.get("/api/v1/employees/X1", headers=headers).status_code == 404
    assert client.get(f"/api/v1/employees/{member.staff_no}", headers=headers).get_json()["supervisor_staff_no"] == "S1"
    assert client.get("/api/v1/org-units", headers=headers).status_code == 200  # supervisors browse the org tree, as on the pages
    assert client.post("/api/v1/employees/bulk", json={"items": [_employee_item("N9")]}, headers=headers).status_code == 403
    assert client.get("/api/v1/reviews/2025/recommendations", headers=headers).status_code == 403
    assert db.session.scalar(select(func.count(Employee.id)).where(Employee.staff_no == "N9")) == 0


def test_an_employee_token_sees_only_its_own_record_results_and_credits(app, client, token, unit):
    me = factories.user(roles=["employee"], staff_no="E1", org_unit=unit)
    other = factories.employee(staff_no="E2", org_unit=unit)
    course = factories.course("C1", credits="2")
    db.session.commit()
    from competency.services.imports import import_training

    import_training(b"staff_no,course_code,completed_on,result\nE1,C1,2025-05-01,pass\nE2,C1,2025-05-01,pass\n", "t.csv")
    headers, _user = token(("employee",), SCOPES, user=me)
    assert [p["staff_no"] for p in client.get("/api/v1/employees", headers=headers).get_json()["items"]] == ["E1"]
    assert client.get("/api/v1/org-units", headers=headers).status_code == 403  # the org tree is not an employee's page
    assert client.get(f"/api/v1/employees/{other.staff_no}", headers=headers).status_code == 404
    credits = client.get("/api/v1/credits", headers=headers).get_json()["items"]
    assert [(c["staff_no"], c["amount"], c["course_code"]) for c in credits] == [("E1", "2.00", course.code)]
    assert client.get("/api/v1/credits?staff_no=E2", headers=headers).get_json()["items"] == []


def test_employees_are_listed_with_filters_and_cursor_pagination(app, client, token, unit):
    for n in range(5):
        factories.employee(staff_no=f"P{n}", org_unit=unit, grade="senior" if n % 2 else "junior")
    headers, _user = token(("hr",), ["org:read"], with_employee=False, email="hr@bank.example")
    first = client.get("/api/v1/employees?limit=2", headers=headers).get_json()
    second = client.get(f"/api/v1/employees?limit=2&after={first['next']}", headers=headers).get_json()
    third = client.get(f"/api/v1/employees?limit=2&after={second['next']}", headers=headers).get_json()
    assert [p["staff_no"] for page in (first, second, third) for p in page["items"]] == ["P0", "P1", "P2", "P3", "P4"]
    assert third["next"] is None
    seniors = client.get("/api/v1/employees?grade=senior&org_unit=U-API", headers=headers).get_json()["items"]
    assert [p["staff_no"] for p in seniors] == ["P1", "P3"]
    unknown = client.get("/api/v1/employees?org_unit=NOPE", headers=headers)
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["pointer"] == "/org_unit"
    bad = client.get("/api/v1/employees?after=%%%", headers=headers)
    assert bad.status_code == 422 and bad.content_type == PROBLEM
    wrong = client.get("/api/v1/employees?grade=boss&limit=0", headers=headers).get_json()
    assert {e["pointer"] for e in wrong["errors"]} == {"/query/grade", "/query/limit"}


def test_bulk_employees_are_all_or_nothing_with_the_import_files_row_errors(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write", "org:read"], with_employee=False, email="hr@bank.example")
    items = [_employee_item("A1"), _employee_item("A2", org_unit_code="NOPE"), _employee_item("A3", supervisor_staff_no="A3")]
    answer = client.post("/api/v1/employees/bulk", json={"items": items}, headers=headers)
    assert answer.status_code == 422 and answer.content_type == PROBLEM
    errors = answer.get_json()["errors"]
    assert [(e["row"], e["field"], e["pointer"]) for e in errors] == [
        (2, "org_unit_code", "/items/1/org_unit_code"), (3, "supervisor_staff_no", "/items/2/supervisor_staff_no")]
    assert "Unknown org unit NOPE" in errors[0]["detail"]
    assert db.session.scalar(select(func.count(Employee.id))) == 0
    ok = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("A1"), _employee_item("A2", supervisor_staff_no="A1")]},
                     headers=headers)
    assert ok.status_code == 200 and ok.get_json()["created"] == 2
    assert ok.get_json()["items"][1] == {"row": 2, "key": "A2", "action": "create"}
    again = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("A1", grade="intermediate")]}, headers=headers).get_json()
    assert (again["updated"], db.session.scalar(select(Employee.grade).where(Employee.staff_no == "A1")).value) == (1, "intermediate")


def test_schema_errors_point_at_the_field_and_an_hr_token_cannot_give_roles(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write"], with_employee=False, email="hr@bank.example")
    answer = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("A1", grade="boss", hire_date="1.1.2024")]},
                         headers=headers).get_json()
    assert {e["pointer"] for e in answer["errors"]} == {"/items/0/grade", "/items/0/hire_date"}
    assert client.post("/api/v1/employees/bulk", json={"items": []}, headers=headers).status_code == 422
    roles = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("A1", roles=["admin"])]}, headers=headers).get_json()
    assert roles["errors"][0]["field"] == "roles" and "Only an administrator" in roles["errors"][0]["detail"]


def test_put_upserts_one_employee_with_etag_and_if_match(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write", "org:read"], with_employee=False, email="hr@bank.example")
    body = {k: v for k, v in _employee_item("B1").items() if k != "staff_no"}
    created = client.put("/api/v1/employees/B1", json=body, headers=headers)
    assert created.status_code == 201 and created.get_json()["status"] in ("active", "probation") and created.headers["ETag"]
    read = client.get("/api/v1/employees/B1", headers=headers)
    assert read.headers["ETag"] == created.headers["ETag"]
    changed = client.put("/api/v1/employees/B1", json={**body, "name_en": "Renamed"}, headers={**headers, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != read.headers["ETag"]
    stale = client.put("/api/v1/employees/B1", json={**body, "name_en": "Lost update"},
                       headers={**headers, "If-Match": read.headers["ETag"]})
    assert stale.status_code == 412 and stale.content_type == PROBLEM
    assert db.session.scalar(select(Employee.name_en).where(Employee.staff_no == "B1")) == "Renamed"
    invalid = client.put("/api/v1/employees/B1", json={**body, "org_unit_code": "NOPE"}, headers=headers)
    assert invalid.status_code == 422 and invalid.get_json()["errors"][0]["pointer"] == "/org_unit_code"
    unit_put = client.put("/api/v1/org-units/U-NEW", json={"parent_code": "U-API", "kind": "sub_branch", "name_zh": "新", "name_en": "New"},
                          headers={**headers, "If-Match": "*"})
    assert unit_put.status_code == 412  # If-Match: * — only if it exists


def test_completions_are_idempotent_by_external_id_and_earn_credits_once(app, client, token, unit):
    factories.employee(staff_no="C1", org_unit=unit)
    factories.course("S5-101", credits="3")
    headers, _user = token(("hr",), ["training:write"], with_employee=False, email="lms@bank.example")
    item = {"external_id": "lms-42", "staff_no": "C1", "course_code": "S5-101", "completed_on": "2025-06-01", "result": "pass", "score": 91}
    first = client.post("/api/v1/training/completions", json={"items": [item]}, headers=headers).get_json()
    second = client.post("/api/v1/training/completions", json={"items": [item]}, headers=headers).get_json()
    assert (first["created"], second["created"], second["unchanged"]) == (1, 0, 1)
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1
    assert db.session.scalars(select(CreditEntry.amount)).all() == [Decimal("3.00")]
    changed = client.post("/api/v1/training/completions", json={"items": [{**item, "result": "fail"}]}, headers=headers)
    assert changed.status_code == 422 and changed.get_json()["errors"][0]["field"] == "external_id"
    future = client.post("/api/v1/training/completions", json={"items": [
        {**item, "external_id": "lms-43"},
        {**item, "external_id": "lms-44", "completed_on": (date.today() + timedelta(days=1)).isoformat()}]},
        headers=headers)
    assert future.status_code == 422 and [e["row"] for e in future.get_json()["errors"]] == [2]
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1  # all or nothing: lms-43 was not written either


def test_sales_are_upserted_all_or_nothing(app, client, token, unit):
    factories.employee(staff_no="S9", org_unit=unit)
    headers, _user = token(("hr",), ["sales:write"], with_employee=False, email="core@bank.example")
    bad = client.post("/api/v1/sales/bulk", json={"items": [{"staff_no": "S9", "year": 2025, "amount": 100},
                                                            {"staff_no": "NOBODY", "year": 2025, "amount": 1}]}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/items/1/staff_no"
    assert db.session.scalar(select(func.count(AnnualSales.id))) == 0
    ok = client.post("/api/v1/sales/bulk", json={"items": [{"staff_no": "S9", "year": 2025, "amount": "1234.5"}]}, headers=headers)
    assert ok.get_json()["created"] == 1 and db.session.scalar(select(AnnualSales.amount)) == Decimal("1234.50")


def test_every_write_is_audited_with_the_tokens_name(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write"], with_employee=False, email="hr@bank.example")
    client.post("/api/v1/employees/bulk", json={"items": [_employee_item("D1")]}, headers=headers)
    body = {k: v for k, v in _employee_item("D2").items() if k != "staff_no"}
    assert client.put("/api/v1/employees/D2", json=body, headers=headers).status_code == 201
    unit_put = client.put("/api/v1/org-units/U-D", json={"parent_code": "U-API", "kind": "sub_branch", "name_zh": "新", "name_en": "New"},
                          headers=headers)
    assert unit_put.status_code == 201
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("import."))).all()
    assert {e.action for e in events} >= {"import.employees", "import.employees.row", "import.org_units", "import.org_units.row"}
    assert all(e.details.get("api_token") == "hr token" for e in events)
    assert {e.details.get("file") for e in events} == {"api:hr token"}
    assert {e.details.get("key") for e in events if e.action.endswith(".row")} == {"D1", "D2", "U-D"}


def test_models_results_and_recommendations_read(seeded, client, token):
    headers, _user = token(("hr",), ["models:read", "results:read", "reviews:read"], with_employee=False, email="dw@bank.example")
    models = client.get("/api/v1/models", headers=headers).get_json()["items"]
    assert {m["position_code"] for m in models} == {"CM_CORP", "CM_RETAIL"}
    k1 = next(c for c in models[0]["competencies"] if c["code"] == "K1")
    assert [d["level"] for d in k1["descriptors"]] == [1, 2, 3, 4, 5]
    assert set(k1["targets"]) == {"trainee", "junior", "intermediate", "senior"}
    results = client.get("/api/v1/results?limit=50", headers=headers).get_json()
    assert results["items"] and results["next"] and {"gap", "target", "combined", "overall_score"} <= set(results["items"][0])
    gaps = [item["gap"] for item in results["items"] if item["gap"] is not None]
    assert gaps and all(round(gap, 4) == gap for gap in gaps)  # no floating-point noise (0.2999999999999998)
    assert client.get("/api/v1/reviews/2025/recommendations", headers=headers).status_code == 404  # not run yet
    from competency.services.review.runs import run_review

    run_review(2025)
    page = client.get("/api/v1/reviews/2025/recommendations?limit=5", headers=headers).get_json()
    first = page["items"][0]
    assert len(page["items"]) == 5 and page["next"] and first["run_status"] == "draft" and first["decision"] == "pending"
    assert first["explanation"] and first["action"] in ("confirm", "refer", "promote", "keep", "demote", "transfer")
    assert client.get("/api/v1/reviews/1999/recommendations", headers=headers).status_code == 404


def _under(boss_staff_no: str) -> set[str]:
    """The staff numbers of a person and everyone who reports to them, directly or not (from the reporting lines)."""
    people = dict(db.session.execute(select(Employee.staff_no, Employee.supervisor_id)).all())
    ids = dict(db.session.execute(select(Employee.id, Employee.staff_no)).all())
    team, grew = {boss_staff_no}, True
    while grew:
        more = {no for no, boss in people.items() if boss is not None and ids[boss] in team} - team
        team |= more
        grew = bool(more)
    return team


def _all(client, path, headers):
    """Every item of a paged list, following `next`."""
    items, after = [], None
    while True:
        page = client.get(path + (f"&after={after}" if after else ""), headers=headers).get_json()
        items += page["items"]
        after = page["next"]
        if after is None:
            return items


def test_results_credits_and_recommendations_follow_the_pages_relationships(seeded, client, token):
    """A supervisor's token reads its team's results and credits, an employee's its own, a trainer's no one else's
    (trainers never see a gap): exactly the people, not only a subset, and a `staff_no` outside them gives nothing."""
    from competency.services.review.runs import run_review

    run_review(2025)
    db.session.commit()

    def of(staff_no):
        return db.session.scalar(select(User).join(Employee, Employee.id == User.employee_id).where(Employee.staff_no == staff_no))

    everyone, _user = token(("hr",), SCOPES, with_employee=False, email="dw@bank.example")
    results = {r["staff_no"] for r in _all(client, "/api/v1/results?limit=500", everyone)}
    credits = {c["staff_no"] for c in _all(client, "/api/v1/credits?limit=500", everyone)}
    team = _under("S0001")
    assert len(team) > 2 and len(results - team) > 0 and len(credits - team) > 0  # people on both sides
    outsider = sorted(results - team)[0]
    # trainers read everyone's ledger (they record the results that feed it, as on the pages), nobody's results
    for staff_no, sees, sees_credits in (("S0001", team, team), ("E0001", {"E0001"}, {"E0001"}), ("T0001", {"T0001"}, credits)):
        headers, _user = token(("scoped",), SCOPES, user=of(staff_no))
        assert {r["staff_no"] for r in _all(client, "/api/v1/results?limit=500", headers)} == results & sees, staff_no
        assert {c["staff_no"] for c in _all(client, "/api/v1/credits?limit=500", headers)} == credits & sees_credits, staff_no
        assert client.get(f"/api/v1/results?staff_no={outsider}", headers=headers).get_json()["items"] == []
        outsiders_credits = client.get(f"/api/v1/credits?staff_no={outsider}", headers=headers).get_json()["items"]
        assert bool(outsiders_credits) == (outsider in sees_credits and outsider in credits), staff_no
        assert client.get("/api/v1/reviews/2025/recommendations", headers=headers).status_code == 403
        assert client.get("/api/v1/models", headers=headers).status_code == 200  # everyone reads their model, as on the pages
    assert results & {"E0001"} and results & (team - {"S0001", "E0001"})  # the employee and the team have results to see


def test_a_browser_session_cannot_write_through_the_api(app, client, login_as, unit):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login_as("admin", "hr")
        answer = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("Z1")]})
        assert answer.status_code == 400 and answer.content_type == PROBLEM
        assert client.get("/api/v1/employees").status_code == 401  # a session is not an API credential
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(func.count(Employee.id)).where(Employee.staff_no == "Z1")) == 0


def test_the_rate_limit_answers_429_with_retry_after(app, make_app, monkeypatch):
    """Per token; beyond it a 429 whose Retry-After and message say the same wait, even when the clock moves on
    between the two (the limiter rounds its own wait down again after the answer is made); made-up tokens count
    against their sender's address, not each in a bucket of its own."""
    limited = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per hour")
    with limited.app_context():
        user = factories.user(roles=["hr"], with_employee=False, email="busy@bank.example")
        _token, secret = api_tokens.create_token(user, "busy", ["org:read"])
        client = limited.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        allowed = [client.get("/api/v1/token", headers=headers) for _ in range(2)]
        assert [a.status_code for a in allowed] == [200, 200]
        assert [a.headers.get("X-RateLimit-Remaining") for a in allowed] == ["1", "0"]
        assert all("Retry-After" not in a.headers for a in allowed)  # a header of refusals only
        real_time, ticks = time.time, itertools.count()
        monkeypatch.setattr(time, "time", lambda: real_time() + 0.4 * next(ticks))  # a clock that moves on each read
        answer = client.get("/api/v1/token", headers={**headers, "Accept-Language": "en"})
        monkeypatch.setattr(time, "time", real_time)
        wait = int(answer.headers["Retry-After"])
        assert answer.status_code == 429 and answer.content_type == PROBLEM and 3500 < wait <= 3600
        assert f"wait {wait} seconds" in answer.get_json()["detail"]
        made_up = [client.get("/api/v1/token", headers={"Authorization": f"Bearer cmpt_madeup{n}"}).status_code for n in range(4)]
        assert made_up == [401, 401, 429, 429]


def test_the_cli_creates_a_token_shown_once(app, unit):
    factories.user(roles=["hr"], staff_no="H9", org_unit=unit)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api-token", "create", "--staff-no", "H9", "--name", "HR nightly sync",
                                                "--scope", "org:write", "--scope", "org:read", "--expires", "2099-12-31"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    token = db.session.scalar(select(ApiToken))
    assert secret.startswith("cmpt_") and token.scope_list == ["org:read", "org:write"] and token.expires_on == date(2099, 12, 31)
    assert api_tokens.authenticate(secret).id == token.id
    listed = app.test_cli_runner().invoke(args=["api-token", "list"]).output
    assert "HR nightly sync" in listed and secret not in listed and "last used -" in listed
    token.last_used_at = datetime(2026, 3, 1, 23, 30, 15, 123456)  # UTC: 07:30 the next morning in Beijing
    db.session.commit()
    assert "last used 2026-03-02 07:30 Asia/Shanghai" in app.test_cli_runner().invoke(args=["api-token", "list"]).output
    unknown = app.test_cli_runner().invoke(args=["api-token", "create", "--staff-no", "NOPE", "--name", "x", "--scope", "org:read"])
    assert unknown.exit_code != 0


def test_the_admin_page_creates_shows_once_and_revokes(app, client, login_as, unit):
    login_as("admin")
    service = factories.user(roles=["hr"], with_employee=False, email="svc@bank.example")
    db.session.commit()
    page = client.post("/admin/api-tokens", data={"account": "svc@bank.example", "name": "Warehouse", "scopes": ["results:read"]},
                       follow_redirects=True).data.decode()
    token = db.session.scalar(select(ApiToken))
    assert token.user_id == service.id and "cmpt_" in page
    again = client.get("/admin/api-tokens", headers={"Accept-Language": "en"}).data.decode()
    assert "Warehouse" in again and token.prefix in again and "Never" in again
    assert "results:read — read assessment results and credit ledgers" in again  # what each scope allows
    assert token.token_hash not in again and page.count("cmpt_") >= 1 and again.count(token.prefix + "…") == 1
    client.post(f"/admin/api-tokens/{token.id}/revoke", follow_redirects=True)
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    nobody = client.post("/admin/api-tokens", data={"account": "nobody", "name": "x", "scopes": ["org:read"]}).data.decode()
    assert "No account with this staff number or email" in nobody
    login_as("hr")
    assert client.get("/admin/api-tokens").status_code == 403


def test_the_admin_page_tells_an_expired_token_and_a_deactivated_accounts_token_from_one_in_use(app, client, login_as, unit):
    login_as("admin")
    yesterday = date.today() - timedelta(days=1)
    expiring = api_tokens.create_token(factories.user(roles=["hr"], with_employee=False, email="old@bank.example"), "Old sync",
                                       ["org:read"], expires_on=yesterday, today=yesterday)[0]
    gone = factories.user(roles=["hr"], with_employee=False, email="gone@bank.example")
    api_tokens.create_token(gone, "Gone sync", ["org:read"])
    api_tokens.create_token(factories.user(roles=["hr"], with_employee=False, email="live@bank.example"), "Live sync", ["org:read"])
    gone.active = False
    db.session.commit()
    page = client.get("/admin/api-tokens", headers={"Accept-Language": "en"}).data.decode()
    rows = {re.search(r"<td>(\w+ sync)</td>", row).group(1): row for row in page.split("<tr>") if " sync</td>" in row}
    assert "Expired" in rows["Old sync"] and str(expiring.expires_on) in rows["Old sync"]
    assert "Account deactivated" in rows["Gone sync"]
    assert "Expired" not in rows["Live sync"] and "deactivated" not in rows["Live sync"] and "Revoke" in rows["Live sync"]
    zh = client.get("/admin/api-tokens", headers={"Accept-Language": "zh"}).data.decode()
    assert "令牌名称</th>" in zh


def test_org_units_are_listed_got_and_bulk_upserted(app, client, token, unit):
    headers, _user = token(("hr",), ["org:read", "org:write"], with_employee=False, email="hr@bank.example")
    answer = client.post("/api/v1/org-units/bulk", json={"items": [
        {"code": "B2", "parent_code": "B1", "kind": "sub_branch", "name_zh": "二", "name_en": "Two"},
        {"code": "B1", "parent_code": "U-API", "kind": "tier2_branch", "name_zh": "一", "name_en": "One"}]}, headers=headers)
    assert answer.get_json()["created"] == 2
    got = client.get("/api/v1/org-units/B2", headers=headers)
    assert got.get_json() == {"code": "B2", "parent_code": "B1", "kind": OrgUnitKind.SUB_BRANCH.value, "name_zh": "二", "name_en": "Two"}
    loop = client.post("/api/v1/org-units/bulk", json={"items": [
        {"code": "B1", "parent_code": "B2", "kind": "tier2_branch", "name_zh": "一", "name_en": "One"}]}, headers=headers)
    assert loop.status_code == 422 and "loops" in loop.get_json()["errors"][0]["detail"]
    assert [u["code"] for u in client.get("/api/v1/org-units", headers=headers).get_json()["items"]] == ["B1", "B2", "U-API"]


def test_a_bulk_batch_runs_the_same_statements_for_3_items_as_for_5000(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write", "training:write", "sales:write"], with_employee=False, email="hr@bank.example")
    factories.course("C1")
    db.session.commit()
    client.get("/api/v1/token", headers=headers)  # the token's last use is noted (once a minute): not counted below

    def count(path, items):
        with factories.statements() as seen:
            answer = client.post(path, json={"items": items}, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        return len(seen)

    def people(prefix, n, **fields):
        return [_employee_item(f"{prefix}{i}", supervisor_staff_no=f"{prefix}0" if i else None, **fields) for i in range(n)]

    def completions(prefix, n):
        return [{"external_id": f"lms-{prefix}{i}", "staff_no": f"{prefix}{i}", "course_code": "C1", "completed_on": "2025-03-01",
                 "result": "pass" if i % 3 else "fail"} for i in range(n)]

    employees = "/api/v1/employees/bulk"
    created = count(employees, people("q", 3)), count(employees, people("r", 5000))
    updated = count(employees, people("q", 3, grade="senior")), count(employees, people("r", 5000, grade="senior"))
    recorded = count("/api/v1/training/completions", completions("q", 3)), count("/api/v1/training/completions", completions("r", 5000))
    resent = count("/api/v1/training/completions", completions("q", 3)), count("/api/v1/training/completions", completions("r", 5000))

    def sales(prefix, n, amount):
        return [{"staff_no": f"{prefix}{i}", "year": 2025, "amount": amount} for i in range(n)]

    sold = count("/api/v1/sales/bulk", sales("q", 3, 10)), count("/api/v1/sales/bulk", sales("r", 5000, 10))
    resold = count("/api/v1/sales/bulk", sales("q", 3, 20)), count("/api/v1/sales/bulk", sales("r", 5000, 20))
    for small, large in (created, updated, recorded, resent, sold, resold):
        assert small == large
    assert max(created + updated + recorded + resent + sold + resold) <= 14
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 2 + 3333


def test_a_supervisor_that_closes_a_loop_through_stored_people_is_refused(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write"], with_employee=False, email="hr@bank.example")
    chain = [_employee_item("L3"), _employee_item("L2", supervisor_staff_no="L3"), _employee_item("L1", supervisor_staff_no="L2")]
    assert client.post("/api/v1/employees/bulk", json={"items": chain}, headers=headers).status_code == 200
    loop = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("L3", supervisor_staff_no="L1")]}, headers=headers)
    assert loop.status_code == 422 and loop.get_json()["errors"][0]["pointer"] == "/items/0/supervisor_staff_no"
    assert "L3 ends up reporting to themself" in loop.get_json()["errors"][0]["detail"]
    assert db.session.scalar(select(Employee.supervisor_id).where(Employee.staff_no == "L3")) is None


def test_a_token_is_refused_for_its_scope_before_its_body_is_read_and_told_why(app, client, token, unit):
    """403 for a missing scope whatever the body (a bad body does not answer 422 first), saying which scope is
    missing; a missing role says so too; 401 names the Bearer scheme."""
    reader, _user = token(("hr",), ["org:read"], with_employee=False, email="reader@bank.example")
    for path, method in (("/api/v1/employees/bulk", "post"), ("/api/v1/sales/bulk", "post"), ("/api/v1/employees/X1", "put")):
        answer = getattr(client, method)(path, json={"items": [{"grade": "boss"}]}, headers={**reader, "Accept-Language": "en"})
        assert answer.status_code == 403 and answer.content_type == PROBLEM, path
        assert "does not have the scope" in answer.get_json()["detail"]
    zh = client.post("/api/v1/training/completions", json={}, headers={**reader, "Accept-Language": "zh"}).get_json()
    assert zh["detail"].startswith("此令牌没有权限范围 training:write")
    employee, _user = token(("employee",), ["org:write"], staff_no="E7", org_unit=unit)
    refused = client.post("/api/v1/employees/bulk", json={"items": []}, headers={**employee, "Accept-Language": "en"})
    assert refused.status_code == 403 and "its roles do not allow it" in refused.get_json()["detail"]
    nobody = client.get("/api/v1/employees", headers={"Authorization": "Bearer cmpt_wrong", "Accept-Language": "zh"})
    assert nobody.status_code == 401 and nobody.headers["WWW-Authenticate"] == "Bearer"
    assert nobody.get_json()["detail"].startswith("请以 `Authorization: Bearer")


def test_schema_errors_are_in_the_requests_language_and_bulk_ones_name_the_item_and_field(app, client, token, unit):
    headers, _user = token(("hr",), ["org:write", "org:read"], with_employee=False, email="hr@bank.example")
    items = [_employee_item("A1"), {**_employee_item("A2", grade="boss", hire_date="2024-13-01"), "extra": 1}]
    del items[1]["name_zh"]
    for lang, expected in (("en", {"grade": "Must be one of: trainee, junior, intermediate, senior.",
                                   "hire_date": "Not a valid date.", "name_zh": "Missing data for required field.",
                                   "extra": "Unknown field."}),
                           ("zh", {"grade": "须为以下之一：trainee, junior, intermediate, senior。",
                                   "hire_date": "不是有效的日期（格式 YYYY-MM-DD）。", "name_zh": "缺少必填字段。",
                                   "extra": "未知字段。"})):
        answer = client.post("/api/v1/employees/bulk", json={"items": items}, headers={**headers, "Accept-Language": lang})
        assert answer.status_code == 422
        errors = answer.get_json()["errors"]
        assert {e["field"]: e["detail"] for e in errors} == expected, lang
        assert {(e["row"], e["pointer"]) for e in errors} == {(2, f"/items/1/{field}") for field in expected}
    limit = client.get("/api/v1/employees?limit=501", headers={**headers, "Accept-Language": "zh"}).get_json()["errors"]
    assert limit == [{"pointer": "/query/limit", "detail": "须大于或等于 1 且小于或等于 500。"}]
    cursor = client.get("/api/v1/employees?after=xyz", headers={**headers, "Accept-Language": "zh"}).get_json()["errors"]
    assert cursor[0]["detail"].startswith("不是此列表的游标")
    assert client.post("/api/v1/employees/bulk", data="{", content_type=JSON,
                       headers={**headers, "Accept-Language": "zh"}).get_json()["errors"][0]["detail"] == "请求体不是有效的 JSON。"


def test_a_completion_earns_its_credits_once_however_it_is_reported(app, client, token, unit):
    """Sent again with a score of more decimals than are kept, under a new external id, after a file import of it,
    or twice in one batch: one enrolment and one ledger entry. A fail and the same day's retake pass are two."""
    from competency.services.imports import import_training

    for staff_no in ("R1", "R2", "R3"):
        factories.employee(staff_no=staff_no, org_unit=unit)
    factories.course("S5-101", credits="3")
    headers, _user = token(("hr",), ["training:write"], with_employee=False, email="lms@bank.example")

    def send(*items):
        return client.post("/api/v1/training/completions", json={"items": list(items)}, headers=headers)

    def ledger(staff_no):
        return db.session.scalars(select(CreditEntry.amount).join(Employee, Employee.id == CreditEntry.employee_id)
                                  .where(Employee.staff_no == staff_no)).all()

    item = {"external_id": "lms-1", "staff_no": "R1", "course_code": "S5-101", "completed_on": "2025-06-01", "result": "pass",
            "score": 66.67}
    assert send(item).get_json()["created"] == 1
    assert db.session.scalar(select(Enrolment.score)) == Decimal("66.7")
    assert send(item).get_json()["unchanged"] == 1  # the stored 66.7 is the 66.67 sent
    assert send({**item, "external_id": "lms-1-again"}).get_json()["unchanged"] == 1
    assert ledger("R1") == [Decimal("3.00")]

    twice = send({**item, "external_id": "a", "staff_no": "R2"}, {**item, "external_id": "b", "staff_no": "R2"})
    assert twice.status_code == 422 and [(e["row"], e["field"]) for e in twice.get_json()["errors"]] == [(2, "course_code")]
    assert ledger("R2") == []

    import_training(b"staff_no,course_code,completed_on,result\nR3,S5-101,2025-07-01,pass\n", "past.csv")
    moved = send({**item, "external_id": "lms-3", "staff_no": "R3", "completed_on": "2025-07-01"}).get_json()
    assert moved["unchanged"] == 1 and ledger("R3") == [Decimal("3.00")]  # the file's pass, not a second one

    retake = send({**item, "external_id": "f", "staff_no": "R2", "result": "fail"}, {**item, "external_id": "p", "staff_no": "R2"})
    assert retake.get_json()["created"] == 2 and ledger("R2") == [Decimal("3.00")]


def test_a_sales_figure_sent_again_with_more_decimals_than_kept_is_unchanged(app, client, token, unit):
    factories.employee(staff_no="S8", org_unit=unit)
    headers, _user = token(("hr",), ["sales:write"], with_employee=False, email="core@bank.example")
    item = {"staff_no": "S8", "year": 2025, "amount": "1.23456"}
    assert client.post("/api/v1/sales/bulk", json={"items": [item]}, headers=headers).get_json()["created"] == 1
    assert client.post("/api/v1/sales/bulk", json={"items": [item]}, headers=headers).get_json()["unchanged"] == 1
    assert db.session.scalar(select(AnnualSales.amount)) == Decimal("1.23")


def test_if_match_guards_an_employees_account_and_is_compared_strongly(app, client, token, unit):
    """A change of roles or email changes the ETag, so that a second admin holding the old one gets 412; a weak tag
    never matches."""
    headers, _user = token(("admin", "hr"), ["org:write", "org:read"], with_employee=False, email="admin@bank.example")
    body = {k: v for k, v in _employee_item("K1", email="k1@bank.example", roles=["employee"]).items() if k != "staff_no"}
    first = client.put("/api/v1/employees/K1", json=body, headers=headers).headers["ETag"]
    assert client.get("/api/v1/employees/K1", headers=headers).headers["ETag"] == first
    promoted = client.put("/api/v1/employees/K1", json={**body, "roles": ["employee", "supervisor"]},
                          headers={**headers, "If-Match": first})
    assert promoted.status_code == 200 and promoted.headers["ETag"] != first
    late = client.put("/api/v1/employees/K1", json={**body, "roles": ["employee", "hr"]}, headers={**headers, "If-Match": first})
    assert late.status_code == 412
    current = client.get("/api/v1/employees/K1", headers=headers).headers["ETag"]
    assert current == promoted.headers["ETag"]
    assert client.put("/api/v1/employees/K1", json=body, headers={**headers, "If-Match": f"W/{current}"}).status_code == 412
    roles = db.session.scalars(select(UserRole.role).join(User).where(User.email == "k1@bank.example")).all()
    assert sorted(r.value for r in roles) == ["employee", "supervisor"]


def test_a_put_names_its_record_exactly(app, client, token, unit):
    """A key with spaces around it or a character that cannot be stored is refused (422), not written to another
    record than the one the URL, the lock and If-Match name."""
    headers, _user = token(("hr",), ["org:write", "org:read"], with_employee=False, email="hr@bank.example")
    body = {k: v for k, v in _employee_item("B1").items() if k != "staff_no"}
    assert client.put("/api/v1/employees/B1", json=body, headers=headers).status_code == 201
    for key in ("B1%20", "%20B1", "a%00b"):
        answer = client.put(f"/api/v1/employees/{key}", json={**body, "name_en": "Elsewhere"}, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["errors"][0]["pointer"] == "/staff_no", key
    unit_body = {"parent_code": "U-API", "kind": "sub_branch", "name_zh": "新", "name_en": "New"}
    assert client.put("/api/v1/org-units/U-X%20", json=unit_body, headers=headers).status_code == 422
    assert db.session.scalar(select(func.count(Employee.id))) == 1
    assert db.session.scalar(select(Employee.name_en).where(Employee.staff_no == "B1")) == "Person B1"


def test_requests_out_of_the_ordinary_get_a_clear_4xx_and_write_nothing(app, client, token, unit):
    """A date no one can mean (year 9999, whose probation end would not exist), a body nested beyond the parser or
    with a number of more digits than it reads, an amount beyond the decimal context, a cursor beyond any key, a body
    that is not JSON, an unknown path beside the docs page: problem details, no 500."""
    headers, _user = token(("hr",), ["org:write", "org:read", "results:read"], with_employee=False, email="hr@bank.example")
    far = client.post("/api/v1/employees/bulk", json={"items": [_employee_item("F1", hire_date="9999-12-01")]},
                      headers={**headers, "Accept-Language": "en"})
    assert far.status_code == 422 and far.get_json()["errors"][0]["pointer"] == "/items/0/hire_date"
    assert "out of range: use a date from 1900-01-01 to 2100-12-31" in far.get_json()["errors"][0]["detail"]
    body = {k: v for k, v in _employee_item("F1", hire_date="9999-11-15").items() if k != "staff_no"}
    assert client.put("/api/v1/employees/F1", json=body, headers=headers).status_code == 422
    deep = client.post("/api/v1/employees/bulk", data="[" * 100_000 + "]" * 100_000, content_type=JSON, headers=headers)
    assert deep.status_code == 400 and deep.content_type == PROBLEM
    sales = token(("hr",), ["sales:write"], with_employee=False, email="sales@bank.example")[0]
    long = client.post("/api/v1/sales/bulk", data='{"items": [{"staff_no": "F1", "year": ' + "9" * 5000 + ', "amount": "1"}]}',
                       content_type=JSON, headers=sales)  # more digits than Python's JSON reader converts
    assert long.status_code == 400 and long.content_type == PROBLEM
    empty = client.post("/api/v1/sales/bulk", data="", content_type=JSON, headers=sales)  # no body: its fields are missing
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["pointer"] == "/items"
    for amount in ("1e999999999", "-1e999999999"):  # beyond the decimal context: any arithmetic on it overflows
        beyond = client.post("/api/v1/sales/bulk", json={"items": [{"staff_no": "F1", "year": 2025, "amount": amount}]}, headers=sales)
        assert beyond.status_code == 422 and beyond.get_json()["errors"][0]["pointer"] == "/items/0/amount", amount
    import base64

    for path in ("/api/v1/results", "/api/v1/credits", "/api/v1/employees"):
        huge = base64.urlsafe_b64encode(str(2**63).encode()).decode().rstrip("=")
        answer = client.get(f"{path}?after={huge}", headers=headers)
        assert answer.status_code == 422 and answer.get_json()["errors"][0]["pointer"] == "/after", path
    text = client.post("/api/v1/employees/bulk", data="items", content_type="text/plain", headers=headers)
    assert text.status_code == 415 and text.content_type == PROBLEM
    assert client.get("/api/v1/docsx", headers=headers).content_type == PROBLEM
    assert client.get("/api/v1/docs").content_type.startswith("text/html")
    assert db.session.scalar(select(func.count(Employee.id))) == 0


def test_filters_do_not_tell_those_who_may_not_browse_the_org_tree_which_codes_exist(app, client, token, unit):
    me = factories.user(roles=["employee"], staff_no="E1", org_unit=unit)
    db.session.commit()
    headers, _user = token(("employee",), ["org:read"], user=me)
    known = client.get("/api/v1/employees?org_unit=U-API", headers=headers)
    unknown = client.get("/api/v1/employees?org_unit=NOPE", headers=headers)
    assert known.status_code == unknown.status_code == 200 and unknown.get_json()["items"] == []
    assert [p["staff_no"] for p in known.get_json()["items"]] == ["E1"]


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # 26 hours apart: at any moment one is not the server's day
def test_today_is_the_banks_day_whatever_the_servers(app, make_app, zone):
    """A completion dated the bank's today is taken and its tomorrow refused; a token expiring the bank's yesterday is
    refused and one expiring its today works — by COMPETENCY_TIMEZONE, not by the server's clock."""
    from zoneinfo import ZoneInfo

    from competency.timeutil import bank_today

    with make_app(TIMEZONE=zone).app_context() as zoned:
        today = datetime.now(ZoneInfo(zone)).date()
        assert bank_today() == today
        made = factories.org_unit(code="U-TZ")
        factories.position()
        factories.employee(staff_no="Z1", org_unit=made)
        factories.course("S5-101", credits="3")
        user = factories.user(roles=["hr"], with_employee=False, email="tz@bank.example")
        _token, secret = api_tokens.create_token(user, "today", ["training:write"], expires_on=today)
        _token, old = api_tokens.create_token(user, "yesterday", ["training:write"], expires_on=today - timedelta(days=1),
                                              today=today - timedelta(days=1))
        db.session.commit()
        client = zoned.app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        item = {"external_id": "tz-1", "staff_no": "Z1", "course_code": "S5-101", "completed_on": today.isoformat(), "result": "pass"}
        assert client.post("/api/v1/training/completions", json={"items": [item]}, headers=headers).status_code == 200
        tomorrow = {**item, "external_id": "tz-2", "completed_on": (today + timedelta(days=1)).isoformat()}
        assert client.post("/api/v1/training/completions", json={"items": [tomorrow]}, headers=headers).status_code == 422
        assert client.get("/api/v1/token", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_a_file_naming_one_training_with_and_without_an_external_id_is_refused_not_credited_twice(app, unit):
    from competency.services.imports import ImportFailed, import_training

    factories.employee(staff_no="W1", org_unit=unit)
    factories.course("S5-101", credits="3")
    db.session.commit()
    rows = ("staff_no,course_code,completed_on,result,external_id\n"
            "W1,S5-101,2025-05-01,pass,lms-1\nW1,S5-101,2025-05-01,pass,\nW1,S5-101,2025-05-01,pass," + "x" * 300 + "\n")
    with pytest.raises(ImportFailed) as refused:
        import_training(rows.encode(), "t.csv")
    assert [(e.line, e.column) for e in refused.value.errors] == [(3, "course_code"), (4, "external_id")]  # not a KeyError
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 0


def test_credits_of_any_year_a_completion_may_be_dated_can_be_read(app, client, token, unit):
    factories.employee(staff_no="Y1", org_unit=unit)
    factories.course("S5-101", credits="3")
    headers, _user = token(("hr",), ["training:write", "results:read"], with_employee=False, email="lms@bank.example")
    item = {"external_id": "old-1", "staff_no": "Y1", "course_code": "S5-101", "completed_on": "1998-06-01", "result": "pass"}
    assert client.post("/api/v1/training/completions", json={"items": [item]}, headers=headers).status_code == 200
    page = client.get("/api/v1/credits?year=1998", headers=headers).get_json()
    assert [(c["staff_no"], c["earned_on"]) for c in page["items"]] == [("Y1", "1998-06-01")]


def test_the_days_housekeeping_at_an_api_request_is_not_audited_as_the_tokens(app, make_app):
    """The first request of the bank's day applies the grade changes that fell due; when it is an API call under the
    rate limit, the change is the system's, not the token's (the limit looks at the token before the request is
    authenticated)."""
    from competency.models import Grade, GradeHistory
    from competency.services import grades

    limited = make_app(RATELIMIT_ENABLED=True)
    with limited.app_context():
        position, made = factories.position(code="CM_HK"), factories.org_unit(code="U-HK")
        person = factories.employee(staff_no="HK1", org_unit=made, position=position, grade="junior")
        db.session.add(GradeHistory(employee_id=person.id, from_grade=Grade.JUNIOR, to_grade=Grade.INTERMEDIATE,
                                    effective_date=date.today(), reason="due today"))
        user = factories.user(roles=["hr"], with_employee=False, email="nightly@bank.example")
        _token, secret = api_tokens.create_token(user, "HR nightly sync", ["org:read"])
        db.session.commit()
        grades._checked.clear()  # as at the first request of a new day
        assert limited.test_client().get("/api/v1/token", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        applied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grade.apply_due"))
        assert applied is not None and "api_token" not in applied.details
        assert db.session.scalar(select(Employee.grade).where(Employee.staff_no == "HK1")) == Grade.INTERMEDIATE
