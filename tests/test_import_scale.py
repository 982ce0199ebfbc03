"""Imports at the scale of a bank: the SQL they run does not grow with the file, a preview writes nothing and
leaves sign-ins working, and an upload confirmed twice is imported once."""
import io
import threading
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, insert, select

from competency.extensions import db
from competency.models import AuditEvent, Employee, EmployeeStatus, Grade
from competency.services import background, imports
from competency.services.imports import employees as employee_import

from . import factories

HEADER = "staff_no,name_zh,name_en,org_unit_code,position_code,grade,hire_date,probation_end,supervisor_staff_no,email,roles\n"
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def statements():
    """The SQL statements the database receives meanwhile (each batch of a bulk statement counts)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def people_file(prefix: str, n: int, unit: str, grade: str = "junior", name: str = "Person") -> bytes:
    """n people in one unit: every tenth leads the next nine (and has an account), the others have none."""
    lines = []
    for i in range(n):
        lead = f"{prefix}{i - i % 10:05d}"
        staff_no = f"{prefix}{i:05d}"
        boss, roles, email = ("", "employee;supervisor", f"{staff_no.lower()}@demo.bank") if i % 10 == 0 else (lead, "", "")
        lines.append(f"{staff_no},员工{i},{name} {i},{unit},CM_CORP,{grade},2020-01-01,2020-04-01,{boss},{email},{roles}\n")
    return (HEADER + "".join(lines)).encode()


@pytest.fixture
def bank(app):
    """A position and an org unit to import people into."""
    factories.position("CM_CORP")
    unit = factories.org_unit(code="BR1")
    db.session.commit()
    return {"unit": unit.code}


def _count(data: bytes, **options) -> int:
    with statements() as seen:
        imports.import_employees(data, "people.csv", **options)
    return len(seen)


def test_employee_imports_run_as_many_statements_for_2000_rows_as_for_100(bank):
    small, large = _count(people_file("A", 100, "BR1")), _count(people_file("B", 2000, "BR1"))
    assert db.session.scalar(select(func.count(Employee.id))) == 2100
    assert large - small <= 2 * 2 + 2  # people and accounts go in batches of 1,000 (plus their updates and roles)
    # re-imported with changes: every person is updated (name, grade through the grade history)
    small_again = _count(people_file("A", 100, "BR1", grade="intermediate", name="Renamed"))
    large_again = _count(people_file("B", 2000, "BR1", grade="intermediate", name="Renamed"))
    assert large_again - small_again <= 2 * 2 + 2
    assert db.session.scalar(select(Employee.grade).where(Employee.staff_no == "B01999")) == Grade.INTERMEDIATE


def _ratings_file(staff_nos, codes=("K1", "S1")) -> bytes:
    rows = [f"{s},{c},{r},{1 + (i + j) % 5},{'Fine' if i % 7 == 0 else ''}\n"
            for i, s in enumerate(staff_nos) for j, c in enumerate(codes) for r in ("self", "supervisor")]
    return ("staff_no,competency_code,rater,level,comment\n" + "".join(rows)).encode()


def _people(prefix: str, n: int, unit_id: int, position_id: int) -> list[str]:
    rows = [{"staff_no": f"{prefix}{i:05d}", "name_zh": f"员工{i}", "name_en": f"Person {i}", "org_unit_id": unit_id,
             "position_id": position_id, "grade": Grade.JUNIOR, "hire_date": date(2020, 1, 1),
             "probation_end": date(2020, 4, 1), "status": EmployeeStatus.ACTIVE} for i in range(n)]
    db.session.execute(insert(Employee), rows)
    return [r["staff_no"] for r in rows]


def test_rating_imports_run_as_many_statements_for_2000_rows_as_for_100(bank):
    version = factories.model_version(publish=True)
    unit = factories.org_unit()
    small_people, large_people = _people("R", 25, unit.id, version.position_id), _people("Q", 500, unit.id, version.position_id)
    db.session.commit()
    counts = []
    for code, people in (("C1", small_people), ("C2", large_people)):
        with statements() as seen:
            result = imports.import_ratings(_ratings_file(people), "r.csv", cycle_code=code, start=date(2024, 1, 1),
                                            end=date(2024, 12, 31))
        assert result.counts == {"completed": len(people), "incomplete": 0}
        counts.append(len(seen))
    assert counts[1] - counts[0] <= 4  # ratings go in batches of 1,000 rows
    # each rating is audited: one event per assessment lists its ratings
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import.ratings.assessment")).all()
    assert len(events) == 525 and sum(len(e.details["changes"]) for e in events) == 2100


def test_a_preview_writes_nothing_and_counts_what_it_would_do(bank):
    imports.import_employees(people_file("A", 30, "BR1"), "people.csv")
    changed = people_file("A", 40, "BR1", grade="senior", name="Renamed")
    for kind, data in (("employees", changed), ("sales", b"staff_no,year,amount\nA00001,2025,100\nA00002,2025,200\n"),
                       ("org_units", "code,parent_code,kind,name_zh,name_en\nBR2,BR1,sub_branch,支行,Sub\n".encode())):
        with statements() as seen:
            result = imports.IMPORTERS[kind](data, "preview.csv", dry_run=True)
        assert [s for s in seen if s in WRITES] == [], kind
        assert result.changed > 0
    preview = imports.import_employees(changed, "people.csv", dry_run=True)
    real = imports.import_employees(changed, "people.csv")
    assert (preview.created, preview.updated, preview.unchanged) == (real.created, real.updated, real.unchanged) == (10, 30, 0)


def _token(page) -> str:
    return page.data.decode().split('name="token" type="hidden" value="')[1].split('"')[0]


def test_a_sign_in_succeeds_while_a_preview_runs(bank, app, client, login_as, monkeypatch):
    login_as("admin")
    user_id = factories.user(staff_no="U0001").id
    db.session.commit()
    checking, signed_in = threading.Event(), threading.Event()
    real_finish = employee_import.finish

    def finish_after_a_sign_in(*args, **kwargs):
        checking.set()  # everything is read and planned: where writing previews held the lock until the end
        assert signed_in.wait(30)
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(employee_import, "finish", finish_after_a_sign_in)
    outcome = {}

    def preview():
        with app.app_context():
            outcome["preview"] = client.post("/imports/", data={"kind": "employees", "file": (
                io.BytesIO(people_file("P", 3000, "BR1")), "p.csv")}, content_type="multipart/form-data").status_code

    def sign_in():
        with app.app_context():
            other = app.test_client()
            outcome["login"] = other.post("/login", data={"identifier": "U0001", "password": factories.PASSWORD})
            with other.session_transaction() as session:
                outcome["user"] = session.get("_user_id")
        signed_in.set()

    worker = threading.Thread(target=preview)
    worker.start()
    assert checking.wait(60)
    signer = threading.Thread(target=sign_in)
    signer.start()
    signer.join(60)
    worker.join(60)
    assert outcome["login"].status_code == 302 and outcome["user"].startswith(f"{user_id}.")
    assert outcome["preview"] == 200
    assert db.session.scalar(select(func.count(Employee.id)).where(Employee.staff_no.startswith("P"))) == 0


def _stage(client) -> str:
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(people_file("D", 20, "BR1")), "p.csv")},
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    return _token(page)


def _imported() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(Employee.id)).where(Employee.staff_no.startswith("D"))),
            db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "import.employees")))


def test_confirming_twice_imports_once(bank, client, login_as):
    login_as("admin")
    token = _stage(client)
    first = client.post("/imports/confirm", data={"token": token}, follow_redirects=True, headers={"Accept-Language": "en"})
    second = client.post("/imports/confirm", data={"token": token}, follow_redirects=True, headers={"Accept-Language": "en"})
    assert first.status_code == 200 and b"20 created" in first.data
    assert second.status_code == 200 and b"already been imported" in second.data
    assert _imported() == (20, 1)


def test_a_double_click_on_import_imports_once(bank, app, client, login_as, monkeypatch):
    login_as("admin")
    token = _stage(client)
    importing, second_done = threading.Event(), threading.Event()
    real_run = background._import

    def run_slowly(*args, **kwargs):
        importing.set()
        assert second_done.wait(30)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(background, "_import", run_slowly)
    outcome = {}

    def first_click():
        with app.app_context():
            outcome["first"] = client.post("/imports/confirm", data={"token": token}, headers={"Accept-Language": "en"})

    worker = threading.Thread(target=first_click)
    worker.start()
    assert importing.wait(30)
    with app.app_context():
        second = client.post("/imports/confirm", data={"token": token}, follow_redirects=True, headers={"Accept-Language": "en"})
    second_done.set()
    worker.join(60)
    assert second.status_code == 200 and b"already been imported" in second.data
    assert outcome["first"].status_code == 302
    assert _imported() == (20, 1)


def test_accounts_created_in_bulk_have_no_usable_password_each_of_their_own(bank, client):
    from competency.models import User

    imports.import_employees(people_file("C", 20, "BR1"), "people.csv")
    hashes = db.session.scalars(select(User.password_hash)).all()
    assert len(hashes) == 2 and len(set(hashes)) == 2 and all(h.startswith("!") for h in hashes)
    answer = client.post("/login", data={"identifier": "C00000", "password": "anything at all"},
                         headers={"Accept-Language": "en"})
    assert answer.status_code == 200 and "Wrong staff number, email or password." in answer.get_data(as_text=True)
