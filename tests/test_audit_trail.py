"""The audit trail as the bank's auditors read it: rating values before and after (kept through a reopen), what each
import row changed, downloads, views of other people's personal records, and the filtered log with its export."""
import csv
import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import Assessment, AuditEvent, Employee, Rater
from competency.services import appeals, audit, exports, imports
from competency.services.assessments import workflow
from competency.timeutil import utcnow

from . import factories
from .test_assessments import _assessment, _levels, _open, _rate, build_org

EN = {"Accept-Language": "en"}


@pytest.fixture
def org(app):
    """The assessments' organisation: model K1/S1, boss > lead > e1, e2; an outsider; hr."""
    return build_org()


def _events(action: str) -> list[AuditEvent]:
    """The events of one action, oldest first."""
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


# --- ratings ----------------------------------------------------------------------------------------


def test_a_save_records_each_changed_rating_with_its_level_before_and_after(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, None, submit=False)
    _rate(a, Rater.SELF, 4, None, submit=False, c1="Led the Haidian deal")
    workflow.save_ratings(a, Rater.SELF, _levels(a, 4, 2, c1="Led the Haidian deal"), submit=True,
                          lock_version=a.lock_version, actor=org["e1"])
    first, second = _events("assessment.self_save")
    assert first.details["changes"] == [{"code": "K1", "rater": "self", "level": [None, 3]}]
    assert second.details["changes"] == [{"code": "K1", "rater": "self", "level": [3, 4], "comment": True}]
    submitted = _events("assessment.self_submit")[0]
    assert submitted.details["changes"] == [{"code": "S1", "rater": "self", "level": [None, 2]}]
    assert submitted.actor_id == org["e1"].id and submitted.object_id == str(a.id)


def test_a_save_that_changes_nothing_records_no_changes(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3, submit=False)
    _rate(a, Rater.SELF, 3, 3, submit=False)
    assert [e.details["changes"] for e in _events("assessment.self_save")][1] == []


def test_ratings_keep_their_history_through_a_reopen(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 2, 4, c1="Needs product training")
    old_score = a.overall_score
    workflow.reopen(a, "supervisor", "Sales figures were corrected", actor=org["hr"])
    _rate(a, Rater.SUPERVISOR, 4, 4, c1="Product training done")
    assert {r.level for r in workflow.ratings_of(a, Rater.SUPERVISOR).values()} == {4}  # the old 2 is overwritten

    reopened = _events("assessment.reopen")[0]
    assert reopened.details["ratings"]["supervisor"]["K1"] == [2, "Needs product training"]
    assert reopened.details["ratings"]["self"] == {"K1": [3, ""], "S1": [3, ""]}
    assert reopened.details["score"] == pytest.approx(old_score)
    first, second = _events("assessment.supervisor_submit")
    assert {c["code"]: c["level"] for c in first.details["changes"]} == {"K1": [None, 2], "S1": [None, 4]}
    assert second.details["changes"] == [{"code": "K1", "rater": "supervisor", "level": [2, 4], "comment": True}]


def test_the_ratings_import_records_each_rating_it_creates(org, client, login_as):
    data = "staff_no,competency_code,rater,level,comment\nE1,K1,self,4,Strong\nE2,K1,self,3,\nE1,K1,supervisor,2,\n"
    imports.import_ratings(data.encode(), "old.csv", cycle_code="2024", start=date(2024, 1, 1), end=date(2024, 12, 31),
                           actor=org["hr"])
    # one event per imported assessment, listing each rating it created, in file order
    events = _events("import.ratings.assessment")
    assert [(e.object_type, e.details["key"], e.details["created"], e.details["changes"]) for e in events] == [
        ("assessment", "E1 2024", True, [{"line": 2, "code": "K1", "rater": "self", "level": [None, 4], "comment": [None, "Strong"]},
                                         {"line": 4, "code": "K1", "rater": "supervisor", "level": [None, 2]}]),
        ("assessment", "E2 2024", True, [{"line": 3, "code": "K1", "rater": "self", "level": [None, 3]}])]
    assessments = {a.employee_id: a.id for a in db.session.scalars(select(Assessment))}
    assert [e.object_id for e in events] == [str(assessments[org["e1"].employee_id]), str(assessments[org["e2"].employee_id])]
    assert all(e.actor_id == org["hr"].id and e.details["file"] == "old.csv" for e in events)
    # what an auditor downloads: every rating with its level before and after
    login_as(factories.user(roles=["employee", "admin"], staff_no="AUD"))
    rows = _csv(client.get("/admin/audit/export.csv?action=import.ratings."))
    shown = {r[7]: json.loads(r[8]) for r in rows[1:]}
    assert shown[str(assessments[org["e1"].employee_id])]["changes"][1] == {"line": 4, "code": "K1", "rater": "supervisor",
                                                                   "level": [None, 2]}
    assert sum(len(d["changes"]) for d in shown.values()) == 3


# --- imports ----------------------------------------------------------------------------------------

UNITS = "code,parent_code,kind,name_zh,name_en\nHO,,head_office,总行,Head Office\nBJ,HO,tier1_branch,北京分行,Beijing\n"
PEOPLE = ("staff_no,name_zh,name_en,org_unit_code,position_code,grade,hire_date,probation_end,supervisor_staff_no,email,roles\n"
          "S1,王磊,Lei Wang,BJ,CM_CORP,senior,2015-03-01,2015-06-01,,lei@demo.bank,employee;supervisor\n"
          "E2,李娜,Na Li,BJ,CM_CORP,junior,2022-01-31,2022-04-30,S1,,\n")
COURSES = ("code,title_zh,title_en,type,delivery,hours,credits,competencies\n"
           "S5-101,授信报告,Credit reports,industry,classroom,8,2,S5:3;K3:3\n")
SALES = "staff_no,year,amount\nS1,2025,1200000\nE2,2025,800000.50\n"
TRAINING = "staff_no,course_code,completed_on,result,score\nE2,S5-101,2025-06-01,pass,90\n"


@pytest.fixture
def base(app):
    """Positions, units, two people (one with an account), a published model and a course, imported by the system."""
    factories.model_version(publish=True, codes=("K3", "S5"))
    imports.import_org_units(UNITS.encode(), "units.csv")
    imports.import_employees(PEOPLE.encode(), "people.csv")
    imports.import_courses(COURSES.encode(), "courses.csv")
    db.session.commit()
    return app


KINDS = {"org_units": UNITS, "employees": PEOPLE, "courses": COURSES, "sales": SALES, "training": TRAINING}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_reimporting_an_identical_file_records_no_row_events(base, kind):
    importer = imports.IMPORTERS[kind]
    importer(KINDS[kind].encode(), f"{kind}.csv")
    before = len(_events(f"import.{kind}.row"))
    assert before > 0
    again = importer(KINDS[kind].encode(), f"{kind}.csv")
    assert again.changed == 0 and len(_events(f"import.{kind}.row")) == before


@pytest.mark.parametrize(("kind", "edit", "key", "changes"), [
    ("org_units", ("Beijing\n", "Beijing Branch\n"), "BJ", {"name_en": ["Beijing", "Beijing Branch"]}),
    ("employees", ("Na Li,BJ,CM_CORP,junior", "Na Li,BJ,CM_CORP,intermediate"), "E2", {"grade": ["junior", "intermediate"]}),
    ("courses", (",8,2,", ",8,2.5,"), "S5-101", {"credits": ["2", "2.5"]}),
    ("sales", ("800000.50", "900000"), "E2 2025", {"amount": ["800000.5", "900000"]}),
])
def test_changing_one_field_records_exactly_that_fields_before_and_after(base, kind, edit, key, changes):
    importer = imports.IMPORTERS[kind]
    importer(KINDS[kind].encode(), "first.csv")
    count = len(_events(f"import.{kind}.row"))
    hr = factories.user(roles=["employee", "hr"], staff_no="H1")
    importer(KINDS[kind].replace(*edit).encode(), "second.csv", actor=hr)
    new = _events(f"import.{kind}.row")[count:]
    assert len(new) == 1
    assert new[0].details == {"file": "second.csv", "line": new[0].details["line"], "key": key, "created": False,
                              "changes": changes}
    assert new[0].actor_id == hr.id
    summary = _events(f"import.{kind}")[-1]
    assert summary.id < new[0].id and summary.details["updated"] == 1  # the summary stays, and comes first


def test_created_rows_name_the_entity_the_line_and_every_value(base):
    people = _events("import.employees.row")
    by_key = {e.details["key"]: e for e in people}
    wang = by_key["S1"]
    person = db.session.scalar(select(Employee).where(Employee.staff_no == "S1"))
    assert (wang.object_type, wang.object_id, wang.details["line"], wang.details["created"]) == ("employee", str(person.id), 2, True)
    assert wang.details["changes"] == {
        "name_zh": [None, "王磊"], "name_en": [None, "Lei Wang"], "org_unit": [None, "BJ"], "position": [None, "CM_CORP"],
        "hire_date": [None, "2015-03-01"], "probation_end": [None, "2015-06-01"], "grade": [None, "senior"],
        "status": [None, "active"], "email": [None, "lei@demo.bank"], "roles": [None, ["employee", "supervisor"]]}
    assert by_key["E2"].details["changes"]["supervisor"] == [None, "S1"]
    units = {e.details["key"]: e.details["changes"] for e in _events("import.org_units.row")}
    assert units["BJ"] == {"kind": [None, "tier1_branch"], "name_zh": [None, "北京分行"], "name_en": [None, "Beijing"],
                           "parent": [None, "HO"]}


def test_supervisor_and_account_changes_are_recorded_on_the_persons_row(base):
    changed = PEOPLE.replace("lei@demo.bank,employee;supervisor", "lei.wang@demo.bank,employee;supervisor;hr").replace(
        "2022-04-30,S1,,", "2022-04-30,,,")
    imports.import_employees(changed.encode(), "people.csv")
    rows = {e.details["key"]: e.details["changes"] for e in _events("import.employees.row") if not e.details["created"]}
    assert rows == {"S1": {"email": ["lei@demo.bank", "lei.wang@demo.bank"], "roles": [["employee", "supervisor"],
                                                                                       ["employee", "hr", "supervisor"]]},
                    "E2": {"supervisor": ["S1", None]}}


def test_a_dry_run_records_nothing(base):
    count = db.session.scalar(select(func.count(AuditEvent.id)))
    result = imports.import_employees(PEOPLE.replace("Lei Wang", "Lei W.").encode(), "people.csv", dry_run=True)
    assert result.updated == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))) == count


def test_row_events_are_written_in_bulk_slices(base, monkeypatch):
    monkeypatch.setattr(audit, "BULK_SLICE", 2)
    rows = "".join(f"N{i},BJ,sub_branch,支行{i},Sub {i}\n" for i in range(5))
    imports.import_org_units((UNITS + rows).encode(), "more.csv")
    assert sorted(e.details["key"] for e in _events("import.org_units.row"))[-5:] == [f"N{i}" for i in range(5)]


# --- downloads --------------------------------------------------------------------------------------


def test_every_download_is_recorded_with_format_filters_and_rows(org, client, login_as):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    login_as(org["hr"])
    assert client.get("/exports/results.csv?grade=junior&year=2026").status_code == 200
    results = _events("export.results")[0]
    assert results.actor_id == org["hr"].id and results.object_type == "export"
    assert results.details == {"format": "csv", "rows": 2, "filters": {"grade": "junior", "year": 2026}}
    assert client.get("/exports/credits.xlsx").status_code == 200
    assert _events("export.credits")[0].details["format"] == "xlsx"
    version = org["version"]
    assert client.get(f"/models/{version.id}/export.yaml").status_code == 200
    model = _events("export.model")[0]
    assert (model.object_type, model.object_id, model.details["format"]) == ("model_version", str(version.id), "yaml")
    assert client.get("/standards/export.yaml").status_code == 200
    assert _events("export.standards")[0].details == {"format": "yaml"}


# --- views of personal records ----------------------------------------------------------------------


def _completed(org):
    cycle = _open(org)
    a = _assessment(cycle, org["e1"])
    _rate(a, Rater.SELF, 3, 3)
    _rate(a, Rater.SUPERVISOR, 3, 3)
    return a


def test_opening_someone_elses_personal_records_is_recorded(org, client, login_as):
    a = _completed(org)
    person = org["e1"].employee_id
    login_as(org["hr"])
    pages = {"result": f"/assessments/{a.id}", "credits": f"/employees/{person}/credits",
             "certifications": f"/employees/{person}/certifications", "grade": f"/employees/{person}/grade",
             "development": f"/employees/{person}/development?print=1", "profile": f"/employees/{person}"}
    for url in pages.values():
        assert client.get(url).status_code == 200, url
    seen = {e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("view.")))}
    assert set(seen) == {f"view.{what}" for what in pages}
    assert all((e.object_type, e.object_id, e.actor_id) == ("employee", str(person), org["hr"].id) for e in seen.values())
    assert seen["view.result"].details == {"assessment": a.id}
    assert seen["view.development"].details == {"printed": True}
    assert seen["view.credits"].details == {"year": date.today().year}


def test_the_supervisor_chain_is_recorded_too_but_nobody_for_their_own_pages(org, client, login_as):
    a = _completed(org)
    login_as(org["boss"])
    client.get(f"/employees/{org['e1'].employee_id}/credits")
    login_as(org["e1"])
    for url in (f"/assessments/{a.id}", "/training/credits", "/training/certifications", "/my-grade", "/development",
                f"/employees/{org['e1'].employee_id}"):
        assert client.get(url).status_code == 200, url
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("view."))).all()
    assert [(e.action, e.actor_id) for e in views] == [("view.credits", org["boss"].id)]


def test_refused_pages_and_public_profiles_record_no_view(org, client, login_as):
    trainer = factories.user(roles=["employee", "trainer"], staff_no="T1")
    db.session.commit()
    login_as(org["outsider"])
    assert client.get(f"/employees/{org['e1'].employee_id}/credits").status_code == 404
    login_as(trainer)
    assert client.get(f"/employees/{org['e1'].employee_id}").status_code == 200  # no grade history for trainers
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("view."))).all()


def test_hr_opening_an_appeal_is_recorded(org, client, login_as):
    a = _completed(org)
    appeal = appeals.file_appeal(db.session.get(Employee, a.employee_id), assessment=a, reason="My S1 work is missing")
    login_as(org["hr"])
    assert client.get(f"/appeals/{appeal.id}").status_code == 200
    event = _events("view.appeal")[0]
    assert (event.object_id, event.details) == (str(a.employee_id), {"appeal": appeal.id})


# --- the audit log and its export -------------------------------------------------------------------


@pytest.fixture
def trail(app):
    """An admin and events by two actors on three days, one of them with text a spreadsheet would run."""
    admin = factories.user(roles=["admin"], email="admin@example.org", with_employee=False)
    hr = factories.user(roles=["employee", "hr"], staff_no="H1")
    for days_ago, action, actor, object_id in ((10, "import.employees", hr, None), (5, "view.credits", hr, "7"),
                                              (1, "employee.update", admin, "=HYPERLINK(\"http://x\")")):
        event = audit.record(action, "employee" if object_id else "import", object_id, actor=actor, note="-2+3")
        event.at = utcnow() - timedelta(days=days_ago)  # still pending: an event is never changed once written
    db.session.commit()
    return dict(admin=admin, hr=hr)


def test_the_log_filters_by_action_actor_dates_and_object(trail, client, login_as):
    login_as(trail["admin"])

    def shown(query: str) -> list[str]:
        page = client.get(f"/admin/audit?{query}", headers=EN).data.decode()
        found = [a for a in ("import.employees", "view.credits", "employee.update") if f"<code>{a}</code>" in page]
        return sorted(found, key=lambda a: page.index(f"<code>{a}</code>"))

    assert shown("") == ["employee.update", "view.credits", "import.employees"]
    assert shown("action=view.") == ["view.credits"]
    assert shown("actor=H1") == ["view.credits", "import.employees"]
    assert shown("actor=ADMIN@example.org") == ["employee.update"]
    today = date.today()
    assert shown(f"since={today - timedelta(days=6)}&until={today - timedelta(days=2)}") == ["view.credits"]
    assert shown("object_type=employee&object_id=7") == ["view.credits"]


def test_the_log_says_when_nothing_matches_and_names_a_bad_period(trail, client, login_as):
    login_as(trail["admin"])
    page = client.get("/admin/audit?action=nothing.", headers=EN).data.decode()
    assert "No events match these filters." in page and "/admin/audit/export.csv" not in page
    bad = client.get(f"/admin/audit?since={date.today()}&until={date.today() - timedelta(days=1)}", headers=EN).data.decode()
    assert "The end date is before the start date." in bad and "<code>" not in bad
    assert client.get(f"/admin/audit/export.csv?since={date.today()}&until=2000-01-01").status_code == 400


def test_the_log_stays_paginated(trail, client, login_as, app):
    login_as(trail["admin"])
    per_page = app.config["PAGE_SIZE"] * 2
    for i in range(per_page):
        audit.record("test.filler", "thing", i)
    db.session.commit()
    page = client.get("/admin/audit", headers=EN).data.decode()
    assert page.count("<code>") == per_page and "Page 1 of 2" in page


def test_the_csv_download_holds_the_filtered_events_neutralised_and_is_audited(trail, client, login_as):
    login_as(trail["admin"])
    last = audit.last_event_id()
    response = client.get("/admin/audit/export.csv?object_type=employee", headers=EN)
    assert response.status_code == 200 and "Content-Length" not in response.headers  # streamed: its size is not known ahead
    assert response.headers["Content-Disposition"].startswith("attachment; filename=audit-")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    assert rows[0] == ["Event id", "Time (Asia/Shanghai)", "Who", "Action", "Action code", "About", "Object type", "Object id", "Details"]
    hr = f"{trail['hr'].employee.name_en} (H1)"
    assert [(r[2], r[4], r[7]) for r in rows[1:]] == [
        ("admin@example.org", "employee.update", "'=HYPERLINK(\"http://x\")"), (hr, "view.credits", "7")]
    assert rows[2][8] == '{"note": "-2+3"}'
    download = _events("export.audit")[0]
    assert download.actor_id == trail["admin"].id
    assert download.details == {"format": "csv", "filters": {"object_type": "employee"}, "rows": 2,
                                "up_to": last}
    again = _csv(client.get("/admin/audit/export.csv?action=export."))
    assert [r[4] for r in again[1:]] == ["export.audit"]  # the first download, not this one


def test_the_xlsx_download_keeps_formulas_as_text(trail, client, login_as):
    login_as(trail["admin"])
    response = client.get("/admin/audit/export.xlsx?action=employee.", headers=EN)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Event id", "Time (Asia/Shanghai)", "Who") and len(rows) == 2
    cell = sheet.cell(row=2, column=8)
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"
    assert _events("export.audit")[0].details["format"] == "xlsx"


def test_the_export_reads_in_batches_and_streams_in_chunks(trail, monkeypatch):
    monkeypatch.setattr(audit, "EXPORT_BATCH", 2)
    monkeypatch.setattr(exports, "CHUNK_BYTES", 10)
    for i in range(5):
        audit.record("test.filler", "thing", i)
    db.session.commit()
    rows = audit.export_rows(audit.AuditFilters(action="test."), audit.last_event_id())
    chunks = list(exports.stream_csv(audit.export_header(), rows))
    assert len(chunks) > 5
    body = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [r[7] for r in body[1:]] == ["4", "3", "2", "1", "0"]


def test_only_admins_read_or_download_the_log(trail, client, login_as):
    login_as(trail["hr"])
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
    assert not _events("export.audit")



def test_opening_someones_grade_recommendation_is_recorded(seeded, client, login_as):
    from competency.models import Recommendation
    from competency.services.review import runs

    run = runs.run_review(2025)
    item = db.session.scalar(select(Recommendation).where(Recommendation.run_id == run.id).order_by(Recommendation.id))
    db.session.commit()
    hr = login_as("hr")
    assert client.get(f"/review/item/{item.id}").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view.recommendation"))
    assert (event.object_id, event.actor_id, event.details) == (str(item.employee_id), hr.id, {"recommendation": item.id})
