"""Imports of org units and employees: good files, bad files, dry runs, the upload page and the CLI."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import AuditEvent, Employee, EmployeeStatus, Grade, OrgUnit, User
from competency.services import imports
from competency.services.imports import ImportFailed

from . import factories

UNITS = """code,parent_code,kind,name_zh,name_en
HO,,head_office,总行,Head Office
BJ,HO,tier1_branch,北京分行,Beijing Branch
BJ_HD,BJ,sub_branch,海淀支行,Haidian Sub-branch
"""

PEOPLE_HEADER = "staff_no,name_zh,name_en,org_unit_code,position_code,grade,hire_date,probation_end,supervisor_staff_no,email,roles\n"
PEOPLE = PEOPLE_HEADER + """E0002,李娜,Na Li,BJ_HD,CM_CORP,trainee,2026-10-08,,S0001,,employee
S0001,王磊,Lei Wang,BJ_HD,CM_CORP,senior,2015-03-01,2015-06-01,,lei.wang@demo.bank,employee;supervisor
E0003,张伟,Wei Zhang,BJ_HD,CM_RETAIL,junior,2022-01-31,,S0001,,
"""


def _snapshot():
    """Everything an import could change, for before/after comparisons."""
    return (
        sorted((u.code, u.parent_id, u.name_en) for u in db.session.scalars(select(OrgUnit))),
        sorted((e.staff_no, e.grade, e.supervisor_id, e.name_en) for e in db.session.scalars(select(Employee))),
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


@pytest.fixture
def base(app):
    factories.position("CM_CORP")
    factories.position("CM_RETAIL", name_zh="个人客户经理", name_en="Retail customer manager")
    imports.import_org_units(UNITS.encode(), "units.csv")
    return app


def test_org_units_import_creates_the_tree(base):
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    assert set(units) == {"HO", "BJ", "BJ_HD"}
    assert units["BJ_HD"].parent.code == "BJ" and units["BJ"].parent.code == "HO" and units["HO"].parent is None
    assert db.session.scalar(select(AuditEvent.action)) == "import.org_units"


def test_org_units_child_before_parent_and_upsert(base):
    data = ("code,parent_code,kind,name_zh,name_en\nSH_PD,SH,sub_branch,浦东支行,Pudong\nSH,HO,tier1_branch,上海分行,Shanghai\n"
            "BJ,HO,tier1_branch,北京分行,Beijing (renamed)\n")
    result = imports.import_org_units(data.encode(), "u.csv")
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "SH_PD")).parent.code == "SH"
    assert db.session.scalar(select(OrgUnit.name_en).where(OrgUnit.code == "BJ")) == "Beijing (renamed)"


def test_org_units_bad_file_names_every_error_and_writes_nothing(base):
    before = _snapshot()
    data = ("code,parent_code,kind,name_zh,name_en\n"
            "A,B,sub_branch,甲,A\nB,A,sub_branch,乙,B\n"      # a loop
            "C,NOPE,branch,丙,\n"                             # unknown parent, bad kind, missing name
            "HO,,head_office,总行,Head Office\nHO,,head_office,总行,Dup\n")  # duplicate
    with pytest.raises(ImportFailed) as failure:
        imports.import_org_units(data.encode(), "u.csv")
    found = {(e.line, e.column) for e in failure.value.errors}
    assert {(2, "parent_code"), (3, "parent_code"), (4, "parent_code"), (4, "kind"), (4, "name_en"), (6, "code")} <= found
    assert _snapshot() == before


def test_employees_import_with_supervisor_defined_later(base):
    result = imports.import_employees(PEOPLE.encode(), "people.csv", today=__import__("datetime").date(2026, 11, 26))
    assert result.created == 3
    people = {e.staff_no: e for e in db.session.scalars(select(Employee))}
    assert people["E0002"].supervisor.staff_no == "S0001"
    assert people["E0002"].probation_end.isoformat() == "2027-01-08"  # hire date + 3 months
    assert people["E0002"].status == EmployeeStatus.PROBATION
    assert people["E0003"].probation_end.isoformat() == "2022-04-30"  # clamped to month end
    accounts = {u.employee.staff_no: u for u in db.session.scalars(select(User))}
    assert set(accounts) == {"E0002", "S0001"}  # E0003 has no roles: no account
    assert {r.value for r in accounts["S0001"].roles} == {"employee", "supervisor"}
    assert accounts["S0001"].email == "lei.wang@demo.bank"


def test_employees_reimport_is_an_upsert(base):
    imports.import_employees(PEOPLE.encode(), "people.csv")
    again = imports.import_employees(PEOPLE.replace("junior", "intermediate").encode(), "people.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert db.session.scalar(select(Employee.grade).where(Employee.staff_no == "E0003")) == Grade.INTERMEDIATE


def test_employees_dry_run_writes_nothing(base):
    before = _snapshot()
    result = imports.import_employees(PEOPLE.encode(), "people.csv", dry_run=True)
    assert result.created == 3 and result.dry_run
    assert _snapshot() == before


BAD_ROWS = [
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-13-01,,,,", "hire_date"),
    ("E1,甲,A,NOPE,CM_CORP,junior,2024-01-01,,,,", "org_unit_code"),
    ("E1,甲,A,BJ_HD,NOPE,junior,2024-01-01,,,,", "position_code"),
    ("E1,甲,A,BJ_HD,CM_CORP,expert,2024-01-01,,,,", "grade"),
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,2023-01-01,,,", "probation_end"),
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,GHOST,,", "supervisor_staff_no"),
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,E1,,", "supervisor_staff_no"),
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,,not-an-email,employee", "email"),
    ("E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,,,boss", "roles"),
    ("E1,,A,BJ_HD,CM_CORP,junior,2024-01-01,,,,", "name_zh"),
]


@pytest.mark.parametrize(("row", "column"), BAD_ROWS)
def test_each_bad_value_is_a_clear_error_and_nothing_is_written(base, row, column):
    before = _snapshot()
    good = "G1,乙,B,BJ_HD,CM_CORP,junior,2024-01-01,,,,employee\n"
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees((PEOPLE_HEADER + good + row + "\n").encode(), "p.csv")
    assert [(e.line, e.column) for e in failure.value.errors] == [(3, column)]
    assert str(failure.value.errors[0].message)
    assert _snapshot() == before


def test_duplicate_staff_numbers_and_supervisor_cycles(base):
    imports.import_employees(PEOPLE.encode(), "people.csv")
    before = _snapshot()
    data = PEOPLE_HEADER + ("A1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,A2,,\n"
                            "A2,乙,B,BJ_HD,CM_CORP,junior,2024-01-01,,A1,,\n"
                            "Z1,丙,C,BJ_HD,CM_CORP,junior,2024-01-01,,,,\n"
                            "Z1,丁,D,BJ_HD,CM_CORP,junior,2024-01-01,,,,\n"
                            "S0001,王磊,Lei Wang,BJ_HD,CM_CORP,senior,2015-03-01,,E0003,,\n")  # S0001 -> E0003 -> S0001
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(data.encode(), "p.csv")
    errors = {(e.line, e.column) for e in failure.value.errors}
    assert errors == {(5, "staff_no"), (2, "supervisor_staff_no"), (3, "supervisor_staff_no"), (6, "supervisor_staff_no")}
    assert _snapshot() == before


@pytest.mark.parametrize("lookup_in", [10_000, 1], ids=["looked up by index", "tables read at once"])
def test_an_employee_file_reads_the_same_by_lookups_as_in_one_pass(base, monkeypatch, lookup_in):
    """A batch looks up the people it names (and their chains, accounts, emails, leading-zero twins); a file naming more
    than LOOKUP_IN people reads each table once. Both see the same: here with LOOKUP_IN at 1, every file is a large one."""
    from competency.services.imports import common

    monkeypatch.setattr(common, "LOOKUP_IN", lookup_in)
    imports.import_employees(PEOPLE.encode(), "people.csv")
    before = _snapshot()
    data = PEOPLE_HEADER + ("S0001,王磊,Lei Wang,BJ_HD,CM_CORP,senior,2015-03-01,,E0003,,\n"  # S0001 -> E0003 -> S0001
                            "0E0002,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,,,\n"  # differs from E0002 by a leading zero
                            "E0009,乙,B,BJ_HD,CM_CORP,junior,2024-01-01,,S0001,LEI.WANG@demo.bank,\n")  # S0001's email
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(data.encode(), "p.csv", actor=factories.user(roles=["admin"], with_employee=False,
                                                                              email="root@bank.example"))
    assert {(e.line, e.column) for e in failure.value.errors} == {(2, "supervisor_staff_no"), (3, "staff_no"), (4, "email")}
    assert _snapshot()[1:3] == before[1:3]
    result = imports.import_employees((PEOPLE_HEADER + "E0003,张伟,Wei Zhang (renamed),BJ_HD,CM_RETAIL,junior,2022-01-31,,S0001,,\n"
                                       "E0010,丙,C,BJ_HD,CM_CORP,junior,2024-01-01,,E0003,,\n").encode(), "p.csv")
    assert (result.created, result.updated) == (1, 1)
    assert db.session.scalar(select(Employee.supervisor_id).where(Employee.staff_no == "E0010")) == db.session.scalar(
        select(Employee.id).where(Employee.staff_no == "E0003"))


@pytest.mark.parametrize("lookup_in", [10_000, 1], ids=["looked up by index", "tables read at once"])
def test_training_and_sales_files_read_the_same_by_lookups_as_in_one_pass(base, monkeypatch, lookup_in):
    from competency.models import AnnualSales, CreditEntry
    from competency.services.imports import common

    monkeypatch.setattr(common, "LOOKUP_IN", lookup_in)
    imports.import_employees(PEOPLE.encode(), "people.csv")
    factories.course("C1", credits="2")
    db.session.commit()
    training = ("staff_no,course_code,completed_on,result,external_id\nS0001,C1,2025-05-01,pass,x1\n"
                "E0003,C1,2025-05-02,pass,\nE0002,C1,2025-05-03,fail,x3\n")
    first, again = (imports.import_training(training.encode(), "t.csv") for _ in range(2))
    assert (first.created, again.created, again.unchanged) == (3, 0, 3)
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 2
    sales = "staff_no,year,amount\nS0001,2025,100\nE0003,2025,200\n"
    imports.import_sales(sales.encode(), "s.csv")
    result = imports.import_sales((sales + "E0002,2025,5\n").replace("200", "250").encode(), "s.csv")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert sorted(db.session.scalars(select(AnnualSales.amount))) == [5, 100, 250]


def test_header_errors(base):
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(b"staff_no,name,extra\nE1,x,y\n", "p.csv")
    columns = {e.column for e in failure.value.errors}
    assert {"name_zh", "grade", "hire_date", "name", "extra"} <= columns


def test_xlsx_with_bom_free_header_and_real_dates(base):
    import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(PEOPLE_HEADER.strip().split(","))
    sheet.append(["E9", "赵六", "Liu Zhao", "BJ_HD", "CM_CORP", "junior", datetime.datetime(2023, 5, 4), None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = imports.import_employees(buffer.getvalue(), "p.xlsx")
    assert result.created == 1
    assert db.session.scalar(select(Employee.hire_date).where(Employee.staff_no == "E9")).isoformat() == "2023-05-04"


def test_csv_with_bom_is_accepted(base):
    assert imports.import_employees(("\ufeff" + PEOPLE).encode("utf-8"), "p.csv").created == 3


def test_upload_page_previews_then_imports(base, client, login_as):
    login_as("admin")
    before = _snapshot()
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(PEOPLE.encode()), "p.csv")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert page.status_code == 200 and b"will create 3" in page.data
    assert _snapshot()[1] == before[1]
    token = page.data.decode().split('name="token" type="hidden" value="')[1].split('"')[0]
    done = client.post("/imports/confirm", data={"token": token}, follow_redirects=True, headers={"Accept-Language": "en"})
    assert b"3 created" in done.data
    assert db.session.scalar(select(func.count(Employee.id))) == 3 + 1  # plus the admin's own record


def test_hr_cannot_grant_roles_or_create_accounts_through_an_import(base, client, login_as):
    hr = login_as("hr", staff_no="H9")
    before = _snapshot()
    escalate = PEOPLE_HEADER + f"H9,{hr.employee.name_zh},{hr.employee.name_en},BJ_HD,CM_CORP,junior,2020-01-01,,,,employee;hr;admin\n"
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(escalate.encode()), "p.csv")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert page.status_code == 422 and b"Only an administrator can create accounts or change roles." in page.data
    assert _snapshot() == before and not db.session.get(User, hr.id).has_role("admin")
    people_without_accounts = PEOPLE_HEADER + "E0003,张伟,Wei Zhang,BJ_HD,CM_RETAIL,junior,2022-01-31,,,,\n"
    assert imports.import_employees(people_without_accounts.encode(), "p.csv", actor=db.session.get(User, hr.id)).created == 1


def test_upload_page_lists_row_errors(base, client, login_as):
    login_as("hr")
    bad = PEOPLE_HEADER + "E1,甲,A,BJ_HD,CM_CORP,junior,2024-02-30,,,,\n"
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(bad.encode()), "p.csv")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert b"hire_date" in page.data and b"Nothing was written" in page.data


def test_cli_import_reports_errors_and_exit_code(base, tmp_path):
    runner = base.test_cli_runner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(PEOPLE, encoding="utf-8")
    bad.write_text(PEOPLE_HEADER + "E1,甲,A,BJ_HD,CM_CORP,junior,2024-01-01,,GHOST,,\n", encoding="utf-8")
    result = runner.invoke(args=["import", "employees", str(bad)])
    assert result.exit_code != 0 and "line 2, supervisor_staff_no" in result.output
    result = runner.invoke(args=["import", "employees", str(good)])
    assert result.exit_code == 0 and "created 3" in result.output
    result = runner.invoke(args=["import", "org-units", "--dry-run", str(tmp_path / "good.csv")])
    assert result.exit_code != 0 and "line 1, code" in result.output and "nothing was written" in result.output
