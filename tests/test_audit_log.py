"""The audit log as an administrator reads it: times in the bank's time zone (COMPETENCY_TIMEZONE), actions by label,
people by name and staff number (or the account's email), filters by the bank's calendar days, action, who and whom,
and the export of the filtered log the same way."""
import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from competency.extensions import db
from competency.models import AuditEvent
from competency.services import audit

from . import factories

EN = {"Accept-Language": "en"}


@pytest.fixture
def log(app):
    """An admin (an email account), Wang Fang (P1) with an account, an email-only account, and four events around
    midnight in Shanghai on 2 January 2026."""
    admin = factories.user(roles=["admin"], email="admin@bank.example", with_employee=False)
    wang = factories.user(roles=["employee"], staff_no="P1", name_en="Wang Fang", name_zh="王芳")
    mailbox = factories.user(roles=["trainer"], email="trainer@bank.example", with_employee=False)
    for at, action, actor, object_type, object_id in (
            (datetime(2026, 1, 1, 10, 0), "user.password_reset", admin, "user", wang.id),
            (datetime(2026, 1, 1, 20, 30), "auth.login", wang, "user", wang.id),
            (datetime(2026, 1, 2, 1, 0), "view.credits", admin, "employee", wang.employee_id),
            (datetime(2026, 1, 2, 2, 0), "user.activate", admin, "user", mailbox.id)):
        event = audit.record(action, object_type, object_id, actor=actor)
        event.at = at  # still pending: an event is never changed once written
    db.session.commit()
    return dict(admin=admin, wang=wang, mailbox=mailbox)


def _rows(page: str) -> list[list[str]]:
    """The log's table: the text of each row's cells (tags dropped)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_times_are_shown_in_the_banks_time_zone(log, client, login_as):
    login_as(log["admin"])
    page = client.get("/admin/audit", headers=EN).data.decode()
    assert "When (Asia/Shanghai)" in page and "Asia/Shanghai" in page.split('class="filters"', 1)[0]
    assert [row[0] for row in _rows(page)] == ["2026-01-02 10:00:00", "2026-01-02 09:00:00", "2026-01-02 04:30:00",
                                               "2026-01-01 18:00:00"]
    assert db.session.scalar(select(AuditEvent.at).where(AuditEvent.action == "auth.login")) == datetime(2026, 1, 1, 20, 30)


def test_actions_and_people_are_named(log, client, login_as):
    login_as(log["admin"])
    rows = _rows(client.get("/admin/audit", headers=EN).data.decode())
    assert [row[1:4] for row in rows] == [
        ["admin@bank.example", "Account activated user.activate", "trainer@bank.example"],
        ["admin@bank.example", "Opened: credits view.credits", "Wang Fang (P1)"],
        ["Wang Fang (P1)", "Signed in auth.login", "Wang Fang (P1)"],
        ["admin@bank.example", "Password reset user.password_reset", "Wang Fang (P1)"]]
    chinese = _rows(client.get("/admin/audit", headers={"Accept-Language": "zh"}).data.decode())
    assert chinese[1][3] == "王芳 (P1)"
    dashboard = client.get("/", headers=EN).data.decode()
    assert "Wang Fang (P1)" in dashboard and "Signed in" in dashboard


def test_days_are_the_banks_calendar_days(log, client, login_as):
    login_as(log["admin"])

    def actions(query: str) -> list[str]:
        return [row[2].split()[-1] for row in _rows(client.get(f"/admin/audit?{query}", headers=EN).data.decode())]

    # 20:30 UTC on 1 January is 04:30 on 2 January in Shanghai
    assert actions("since=2026-01-02&until=2026-01-02") == ["user.activate", "view.credits", "auth.login"]
    assert actions("since=2026-01-01&until=2026-01-01") == ["user.password_reset"]
    assert actions("until=2026-01-01") == ["user.password_reset"]


def test_the_log_filters_by_action_group_who_and_whom(log, client, login_as):
    login_as(log["admin"])

    def actions(query: str) -> list[str]:
        return [row[2].split()[-1] for row in _rows(client.get(f"/admin/audit?{query}", headers=EN).data.decode())]

    assert actions("action=user.") == ["user.activate", "user.password_reset"]
    assert actions("action=user.activate") == ["user.activate"]
    assert actions("action=auth.login") == ["auth.login"]
    assert actions("actor=Wang+Fang") == actions("actor=王芳") == actions("actor=P1") == ["auth.login"]
    assert actions("subject=P1") == ["view.credits", "auth.login", "user.password_reset"]
    assert actions("subject=trainer@bank.example") == ["user.activate"]
    assert actions("subject=P1&actor=admin@bank.example") == ["view.credits", "user.password_reset"]
    page = client.get("/admin/audit", headers=EN).data.decode()
    assert '<option value="auth.login">Signed in</option>' in page and '<optgroup label="Sign-in">' in page


def test_whom_an_event_is_about_is_found_by_staff_number_email_or_name(log, client, login_as):
    """Whom: a person's employee record and their account, found by their staff number, their account's email or
    their name (zh, or en in any case); a person without an account by their employee record."""
    li = factories.user(roles=["employee"], staff_no="P2", name_en="Li Na", name_zh="李娜", email="li.na@bank.example")
    zhao = factories.employee(staff_no="P3", name_en="Zhao Lei", name_zh="赵磊")
    for action, object_type, object_id in (("user.password_reset", "user", li.id), ("employee.update", "employee", li.employee_id),
                                           ("employee.update", "employee", zhao.id)):
        audit.record(action, object_type, object_id, actor=log["admin"])
    db.session.commit()
    login_as(log["admin"])

    def about(who: str) -> list[tuple[str, str]]:
        page = client.get("/admin/audit", query_string={"subject": who}, headers=EN).data.decode()
        return sorted((row[2].split()[-1], row[3]) for row in _rows(page))

    li_events = [("employee.update", "Li Na (P2)"), ("user.password_reset", "Li Na (P2)")]
    assert about("P2") == about("LI.NA@bank.example") == about("li na") == about("李娜") == li_events
    assert about("P3") == about("Zhao Lei") == about("赵磊") == [("employee.update", "Zhao Lei (P3)")]
    assert about("trainer@bank.example") == [("user.activate", "trainer@bank.example")]
    assert about("P4") == about("nobody@bank.example") == []


def test_the_log_stays_paginated_with_its_filters(log, client, login_as, app):
    login_as(log["admin"])
    per_page = app.config["PAGE_SIZE"] * 2
    for _ in range(per_page + 1):
        audit.record("auth.login", "user", log["wang"].id, actor=log["wang"])
    db.session.commit()
    first = client.get("/admin/audit?action=auth.login", headers=EN).data.decode()
    assert len(_rows(first)) == per_page and "Page 1 of 2" in first
    assert "action=auth.login" in first.split("Page 1 of 2", 1)[1]  # the next page keeps the filter
    second = client.get("/admin/audit?action=auth.login&page=2", headers=EN).data.decode()
    assert len(_rows(second)) == 2


def test_the_export_holds_the_filtered_log_as_the_page_shows_it(log, client, login_as):
    login_as(log["admin"])
    response = client.get("/admin/audit/export.xlsx?subject=P1&since=2026-01-02", headers=EN)
    sheet = load_workbook(io.BytesIO(response.data))["Audit log"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Event id", "Time (Asia/Shanghai)", "Who", "Action", "Action code", "About", "Object type", "Object id",
                       "Details")
    assert [row[1:6] for row in rows[1:]] == [
        (datetime(2026, 1, 2, 9, 0), "admin@bank.example", "Opened: credits", "view.credits", "Wang Fang (P1)"),
        (datetime(2026, 1, 2, 4, 30), "Wang Fang (P1)", "Signed in", "auth.login", "Wang Fang (P1)")]
    assert sheet.cell(row=2, column=2).number_format == "yyyy-mm-dd hh:mm:ss" and sheet.freeze_panes == "A2"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=audit-from-2026-01-02-")
    text = client.get("/admin/audit/export.csv?action=auth.&since=2026-01-01&until=2026-01-02", headers={"Accept-Language": "zh"})
    assert text.headers["Content-Type"] == "text/csv; charset=utf-8" and text.data.startswith(b"\xef\xbb\xbf")
    assert "filename=audit-2026-01-01_2026-01-02-" in text.headers["Content-Disposition"]
    found = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert found[0][2] == "操作人" and found[0][8] == "详情"
    assert [(r[1], r[2], r[4]) for r in found[1:]] == [("2026-01-02 04:30:00", "王芳 (P1)", "auth.login")]


def test_the_time_zone_is_a_setting(log, make_app):
    utc = make_app(TIMEZONE="UTC")
    with utc.app_context():
        client = utc.test_client()
        with client.session_transaction() as session:
            factories.sign_in(session, log["admin"])
        page = client.get("/admin/audit?action=auth.login", headers=EN).data.decode()
    assert "When (UTC)" in page and _rows(page)[0][0] == "2026-01-01 20:30:00"
    with pytest.raises(ValueError, match="Mars/Olympus"):
        make_app(TIMEZONE="Mars/Olympus")
