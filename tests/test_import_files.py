"""The files Chinese banks really have: rosters saved by Excel, WPS and LibreOffice in their encodings and layouts,
with Chinese headers and values, numbers that lose their leading zeros, .xls workbooks — and the import templates."""
import codecs
import datetime
import io

import pytest
import xlwt
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import AnnualSales, AuditEvent, Employee, Grade, OrgUnit, OrgUnitKind, User
from competency.services import imports
from competency.services.imports import ImportFailed
from competency.services.review.standards import export_standards

from . import factories

UNITS = "code,parent_code,kind,name_zh,name_en\nHO,,head_office,总行,Head Office\n0101,HO,tier1_branch,北京分行,Beijing\n"
HEADER = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date"]
ZH_HEADER = ["工号", "姓名", "英文姓名", "所属机构", "岗位", "岗级", "入职日期"]


@pytest.fixture
def bank(app):
    """Two positions and two org units, one of whose codes has a leading zero."""
    factories.position("CM_CORP")
    factories.position("CM_RETAIL", name_zh="个人客户经理", name_en="Retail customer manager")
    imports.import_org_units(UNITS.encode(), "units.csv")
    return app


def _xlsx(rows, formats=None, title=None, before=None) -> bytes:
    """An .xlsx whose first sheet holds the rows; `formats` {(row, column): number format} (1-based), `title` a
    merged title row above them, `before` a first sheet of notes."""
    book = Workbook()
    sheet = book.active
    if before is not None:
        sheet.title = before[0]
        for line in before[1]:
            sheet.append([line])
        sheet = book.create_sheet("员工信息")
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    offset = sheet.max_row if title else 0
    for row in rows:
        sheet.append(row)
    for (row, column), number_format in (formats or {}).items():
        sheet.cell(row=row + offset, column=column).number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _people():
    return {e.staff_no: e for e in db.session.scalars(select(Employee))}


# --- leading zeros ---------------------------------------------------------------------------------


def test_a_staff_number_shown_padded_by_its_number_format_keeps_its_zeros(bank):
    data = _xlsx([HEADER, [123, "李娜", "Na Li", "0101", "CM_CORP", "junior", datetime.datetime(2024, 3, 1)]],
                 formats={(2, 1): "00000"})
    assert imports.import_employees(data, "roster.xlsx").created == 1
    assert set(_people()) == {"00123"}


def test_an_org_code_typed_as_a_number_is_read_padded_and_a_new_one_without_zeros_is_refused(bank):
    padded = _xlsx([HEADER, ["E1", "甲", "A", 101, "CM_CORP", "junior", "2024-03-01"]], formats={(2, 4): "0000"})
    assert imports.import_employees(padded, "p.xlsx").created == 1
    assert _people()["E1"].org_unit.code == "0101"
    lost = _xlsx([HEADER, ["E2", "乙", "B", 101, "CM_CORP", "junior", "2024-03-01"]])
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(lost, "p.xlsx")
    assert [(e.line, e.column, str(e.message)) for e in failure.value.errors] == [
        (2, "org_unit_code", "Unknown org unit 101: did you mean 0101?")]
    with pytest.raises(ImportFailed) as failure:
        imports.import_org_units(b"code,parent_code,kind,name_zh,name_en\n101,HO,tier1_branch,x,y\n", "u.csv")
    assert "differs from 0101 only by leading zeros" in str(failure.value.errors[0].message)


def test_re_importing_a_roster_whose_zeros_were_lost_is_refused_with_the_existing_number(bank):
    imports.import_employees(_xlsx([HEADER, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "junior", "2024-03-01"]]), "p.xlsx")
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    edited = _xlsx([HEADER, [123, "李娜", "Na Li", "0101", "CM_CORP", "intermediate", "2024-03-01"]])  # General format
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(edited, "p.xlsx")
    (error,) = failure.value.errors
    assert (error.line, error.column) == (2, "staff_no")
    assert str(error.message).startswith("The new staff number 123 differs from 00123 only by leading zeros: write 00123")
    assert set(_people()) == {"00123"} and db.session.scalar(select(func.count(AuditEvent.id))) == before
    kept = _xlsx([HEADER, [123, "李娜", "Na Li", "0101", "CM_CORP", "intermediate", "2024-03-01"]], formats={(2, 1): "00000"})
    assert (imports.import_employees(kept, "p.xlsx").updated, len(_people())) == (1, 1)


def test_two_new_staff_numbers_that_differ_only_by_leading_zeros_are_refused(bank):
    roster = ("工号,姓名,英文姓名,所属机构,岗位,岗级,入职日期\n"
              "00123,甲,A,0101,CM_CORP,初级,2024-03-01\n123,乙,B,0101,CM_CORP,初级,2024-03-01\n")
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(roster.encode(), "p.csv")
    assert [(e.line, e.column) for e in failure.value.errors] == [(3, "staff_no")]
    assert "differs from 00123 only by leading zeros" in str(failure.value.errors[0].message) and not _people()


def test_an_unknown_staff_number_in_sales_suggests_the_one_with_zeros(bank):
    imports.import_employees(_xlsx([HEADER, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "junior", "2024-03-01"]]), "p.xlsx")
    with pytest.raises(ImportFailed) as failure:
        imports.import_sales(_xlsx([["staff_no", "year", "amount"], [123, 2025, 100]]), "s.xlsx")
    assert [str(e.message) for e in failure.value.errors] == ["Unknown staff number 123: did you mean 00123?"]


# --- encodings and separators ------------------------------------------------------------------------


ROSTER = ("工号,姓名,英文姓名,所属机构,岗位,岗级,入职日期\n00123,李娜,Na Li,0101,CM_CORP,初级,2024/3/1\n"
          "00124,张伟,Wei Zhang,0101,CM_RETAIL,中级,2024年3月1日\n")


@pytest.mark.parametrize(("encode", "name"), [
    (lambda text: text.encode("utf-8"), "utf-8.csv"),
    (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-bom.csv"),
    (lambda text: text.encode("gb18030"), "excel-on-chinese-windows.csv"),
    (lambda text: text.encode("gbk"), "wps.csv"),
    (lambda text: text.replace(",", "\t").encode("utf-16"), "unicode-text.txt"),  # Excel's "Unicode text": BOM, tabs
    (lambda text: text.replace(",", "\t").encode("gb18030"), "tabs.txt"),
])
def test_text_files_in_every_encoding_excel_and_wps_write_import_alike(bank, encode, name):
    result = imports.import_employees(encode(ROSTER), name)
    assert result.created == 2
    people = _people()
    assert (people["00123"].name_zh, people["00124"].name_zh) == ("李娜", "张伟")
    assert (people["00123"].grade, people["00124"].grade) == (Grade.JUNIOR, Grade.INTERMEDIATE)
    assert people["00124"].hire_date == datetime.date(2024, 3, 1)


def test_bytes_in_no_known_encoding_are_refused_clearly(bank):
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(b"staff_no\n\x81\x20\n", "p.csv")  # neither UTF-8 nor GB18030, and no BOM
    assert "UTF-8, UTF-16 or GB18030" in str(failure.value.errors[0].message)


def test_a_gb18030_standards_yaml_imports_from_the_cli(bank, tmp_path):
    text = ("# 岗级标准（GB18030）\n- position: CM_CORP\n  unit: 万元\n  standards:\n"
            "    junior: {min_sales: 310, min_score: 40, min_credits: 20}\n")
    path = tmp_path / "标准.yaml"
    path.write_bytes(text.encode("gb18030"))
    result = bank.test_cli_runner().invoke(args=["standards", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "min_sales: 310" in export_standards()


# --- layouts -----------------------------------------------------------------------------------------


def test_a_title_row_and_an_instructions_sheet_before_the_table_are_skipped_and_the_sheet_named(bank):
    data = _xlsx([ZH_HEADER, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "初级", "2024-03-01"]], title="2026年度员工花名册",
                 before=("填表说明", ["1. 工号请填写文本格式", "2. 岗级：见习/初级/中级/高级"]))
    result = imports.import_employees(data, "p.xlsx")
    assert result.created == 1
    assert [str(n) for n in result.notices] == ["Read the sheet 员工信息, header on line 2."]


def test_row_errors_of_a_workbook_name_its_sheet(bank):
    data = _xlsx([ZH_HEADER, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "初级", "2024-02-30"]], title="2026年度员工花名册",
                 before=("填表说明", ["工号请填写文本格式"]))
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(data, "p.xlsx")
    assert [str(e) for e in failure.value.errors] == [
        "员工信息, line 3, hire_date: Not a date: 2024-02-30. Write it as YYYY-MM-DD (2024-03-01, 2024/3/1 and 2024年3月1日 also work)."]


def test_a_sheet_without_a_header_row_names_the_sheet_and_the_missing_columns(bank):
    data = _xlsx([["工号", "姓名"], ["00123", "李娜"]], title="2026年度销售业绩表")
    with pytest.raises(ImportFailed) as failure:
        imports.import_employees(data, "p.xlsx")
    errors = failure.value.errors
    assert {(e.sheet, e.line) for e in errors} == {("Sheet", 2)}
    assert "Missing column 岗级(grade)." in [str(e.message) for e in errors]


def _xls(rows, sheet_name="员工信息", title="2026年度员工花名册") -> bytes:
    """A real .xls (BIFF8) workbook: a title row, then the rows; numbers in the first column padded by their format,
    datetimes as date cells."""
    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("填表说明").write(0, 0, "请从第二个工作表填写")
    sheet = book.add_sheet(sheet_name)
    sheet.write_merge(0, 0, 0, len(rows[0]) - 1, title)
    padded, day = xlwt.easyxf(num_format_str="00000"), xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write(r, c, value, day)
            elif c == 0 and isinstance(value, int):
                sheet.write(r, c, value, padded)
            else:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xls_workbook_with_padded_numbers_and_date_cells_imports(bank):
    data = _xls([ZH_HEADER, [123, "李娜", "Na Li", "0101", "CM_CORP", "初级", datetime.date(2024, 3, 1)]])
    result = imports.import_employees(data, "花名册.xls")
    assert result.created == 1
    person = _people()["00123"]
    assert (person.name_zh, person.hire_date) == ("李娜", datetime.date(2024, 3, 1))
    sales = _xls([["工号", "年度", "年销量"], [123, 2025, "¥1,234.50"]], "销售业绩", "2026年度销售业绩表")
    assert imports.import_sales(sales, "业绩.xls").created == 1
    assert db.session.scalar(select(AnnualSales.amount)) == 1234.5


def test_an_xls_upload_is_previewed_on_the_imports_page(bank, client, login_as):
    login_as("hr")
    data = _xls([ZH_HEADER, [123, "李娜", "Na Li", "0101", "CM_CORP", "初级", datetime.date(2024, 3, 1)]])
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(data), "花名册.xls")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert page.status_code == 200 and b"will create 1" in page.data
    assert "Read the sheet 员工信息, header on line 2." in page.data.decode()


# --- headers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    ["工号(staff_no)", "姓名(name_zh)", "英文姓名(name_en)", "所属机构(org_unit_code)", "岗位(position_code)", "岗级(grade)",
     "入职日期(hire_date)"],
    ["工号（staff_no）", "*姓名（name_zh）", "英文姓名 (name_en)", "所属机构", "岗位", "岗级", "入职日期"],
    [" Staff_No ", "NAME_ZH", "Name En", "org_unit_code", "Position Code", "grade ", "Hire Date"],
])
def test_headers_by_code_label_or_both_in_any_case(bank, header):
    data = _xlsx([header, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "junior", "2024-03-01"]])
    assert imports.import_employees(data, "p.xlsx").created == 1


def test_extra_columns_are_ignored_with_a_notice_in_the_preview(bank, client, login_as):
    login_as("admin")
    text = "工号,姓名,身份证号,英文姓名,所属机构,岗位,岗级,入职日期,手机号,备注\n" \
           "00123,李娜,110101199001011234,Na Li,0101,CM_CORP,初级,2024-03-01,13800000000,新员工\n"
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(text.encode("gb18030")), "花名册.csv")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data")
    assert page.status_code == 200, page.data.decode()
    assert "Columns ignored (not import columns): 身份证号、手机号、备注." in page.data.decode()
    assert b"will create 1" in page.data


def test_a_column_given_twice_is_refused(bank):
    with pytest.raises(ImportFailed) as failure:
        imports.import_sales("工号,staff_no,年度,年销量\n1,1,2025,1\n".encode(), "s.csv")
    assert [str(e.message) for e in failure.value.errors] == ["Two columns are staff_no: 工号 and staff_no."]


# --- values ------------------------------------------------------------------------------------------


def test_chinese_labels_dates_and_lists_as_staff_write_them(bank):
    people = ("工号,姓名,英文姓名,所属机构,岗位,岗级,入职日期,试用期结束日期,角色\n"
              "A1,甲,A,0101,CM_CORP,见习,2024.03.01,2024-06-01 00:00:00,员工；主管\n"
              "A2,乙,B,0101,CM_CORP,高级,45352,,\n")
    imports.import_employees(people.encode(), "p.csv", today=datetime.date(2024, 3, 2))
    found = _people()
    assert found["A1"].grade == Grade.TRAINEE and found["A1"].hire_date == datetime.date(2024, 3, 1)
    assert found["A1"].probation_end == datetime.date(2024, 6, 1)
    assert found["A2"].grade == Grade.SENIOR and found["A2"].hire_date == datetime.date(2024, 3, 1)  # Excel serial
    account = db.session.scalar(select(User).where(User.employee_id == found["A1"].id))
    assert {r.value for r in account.roles} == {"employee", "supervisor"}
    units = "机构代码,上级机构代码,机构类型,机构名称,英文名称\nSH,HO,一级分行,上海分行,Shanghai\nSH01,SH,支行,浦东支行,Pudong\n"
    imports.import_org_units(units.encode(), "u.csv")
    kinds = dict(db.session.execute(select(OrgUnit.code, OrgUnit.kind)).all())
    assert (kinds["SH"], kinds["SH01"]) == (OrgUnitKind.TIER1_BRANCH, OrgUnitKind.SUB_BRANCH)


def test_org_units_and_positions_by_name_and_compact_dates(bank):
    roster = "工号\t姓名\t英文姓名\t所属机构\t岗位\t岗级\t入职日期\nA1\t甲\tA\t北京分行\t个人客户经理\t初级\t20240301\n"
    assert imports.import_employees(roster.encode("gb18030"), "roster.txt").created == 1
    person = _people()["A1"]
    assert (person.org_unit.code, person.position.code, person.hire_date) == ("0101", "CM_RETAIL", datetime.date(2024, 3, 1))


def test_tab_separated_amounts_with_thousands_separators(bank):
    imports.import_employees(ROSTER.encode(), "p.csv")
    sales = "工号\t年度\t年销量\n00123\t2024\t1,234,567.5\n00124\t2024\t12,000\n"
    assert imports.import_sales(sales.encode("utf-16"), "s.txt").created == 2
    assert sorted(float(a) for a in db.session.scalars(select(AnnualSales.amount))) == [12000.0, 1234567.5]


def test_amounts_with_currency_signs_and_thousands_separators(bank):
    imports.import_employees(ROSTER.encode(), "p.csv")
    sales = "工号,年度,年销量\n00123,2024,\"1,234.5\"\n00124,2024年,￥987654.32\n00123,2025,\"¥1,234.50\"\n"
    assert imports.import_sales(sales.encode("gb18030"), "s.csv").created == 3
    amounts = sorted(float(a) for a in db.session.scalars(select(AnnualSales.amount)))
    assert amounts == [1234.5, 1234.5, 987654.32]


@pytest.mark.parametrize(("row", "column", "message"), [
    ("00123,2025,12万", "amount", "The amount must be a number of at least 0, like 1234.5 or ¥1,234.50: 12万."),
    ("00123,去年,100", "year", "The year must be a four-digit year from 2000 to 2100: 去年."),
    # int() of this would build a number of a billion digits: the import would hold its worker for hours
    ("00123,1e999999999,100", "year", "The year must be a four-digit year from 2000 to 2100: 1e999999999."),
])
def test_a_refused_value_is_shown_with_the_expected_form(bank, row, column, message):
    imports.import_employees(ROSTER.encode(), "p.csv")
    with pytest.raises(ImportFailed) as failure:
        imports.import_sales(f"工号,年度,年销量\n{row}\n".encode(), "s.csv")
    assert [(e.column, str(e.message)) for e in failure.value.errors] == [(column, message)]


def test_ratings_and_training_in_chinese(seeded):
    ratings = "工号,能力代码,评价人,等级,评语\nS0001,K1,自评,3.0,\nS0001,K1,上级评,4,表现稳定\nS0001,K2,上级,5.0,优秀\n"
    result = imports.import_ratings(ratings.encode("gb18030"), "r.csv", cycle_code="H2019", start=datetime.date(2019, 1, 1),
                                    end=datetime.date(2019, 12, 31))
    assert result.counts == {"completed": 0, "incomplete": 1}
    with pytest.raises(ImportFailed) as failure:
        imports.import_ratings("工号,能力代码,评价人,等级\nS0001,K1,自评,6\n".encode(), "r.csv", cycle_code="H2018",
                               start=datetime.date(2018, 1, 1), end=datetime.date(2018, 12, 31))
    assert [str(e.message) for e in failure.value.errors] == ["Levels run from 1 to 5: 6."]
    with pytest.raises(ImportFailed) as failure:
        imports.import_ratings("工号,能力代码,评价人,等级\nS0001,K1,自评,1e999999999\n".encode(), "r.csv", cycle_code="H2018",
                               start=datetime.date(2018, 1, 1), end=datetime.date(2018, 12, 31))
    assert [str(e.message) for e in failure.value.errors] == ["Levels run from 1 to 5: 1e999999999."]
    training = "工号,课程代码,完成日期,培训结果,成绩\nS0001,LAW-101,2019/5/20,通过,92\nS0002,LAW-101,2019年5月21日,未通过,40\n"
    result = imports.import_training(training.encode("gb18030"), "t.csv")
    assert result.counts == {"passed": 1, "failed": 1}


def test_course_competencies_with_full_width_separators(seeded):
    courses = "课程代码,课程名称,英文名称,课程类型,授课方式,学时,学分,对应能力\nNEW-1,新课,New,营销技能,线上,\"1,000\",2.0,K1：3；S2：4\n"
    result = imports.import_courses(courses.encode("gb18030"), "c.csv")
    assert result.created == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import.courses.row")).all()[-1]
    assert event.details["changes"]["competencies"] == [None, "K1:3;S2:4"]
    assert event.details["changes"]["type"] == [None, "sales"]


# --- templates ---------------------------------------------------------------------------------------


def test_the_cli_writes_a_template_with_instructions_dropdowns_and_text_identifiers(bank, tmp_path):
    path = tmp_path / "employees.xlsx"
    result = bank.test_cli_runner().invoke(args=["import", "template", "employees", "--lang", "zh", str(path)])
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames[0] == "填表说明"  # the instructions sheet, named in the template's language
    sheet = book.worksheets[1]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["*工号(staff_no)", "*姓名(name_zh)", "*英文姓名(name_en)"] and "邮箱(email)" in header
    assert sheet["A2"].number_format == "@" and sheet["G2"].number_format == "yyyy-mm-dd"
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["F2"] == '"见习,初级,中级,高级"' and lists["E2"] == '"CM_CORP,CM_RETAIL"'


def _fill(sheet, *rows) -> None:
    """Type the rows into a template's data sheet under its header, as a person does (into its prepared cells)."""
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)


@pytest.mark.parametrize(("kind", "rows", "count"), [
    ("org_units", [["0102", "HO", "二级分行", "朝阳支行", "Chaoyang"]], lambda: db.session.scalar(select(func.count(OrgUnit.id)))),
    ("employees", [["00123", "李娜", "Na Li", "0101", "CM_CORP", "初级", datetime.date(2024, 3, 1)]],
     lambda: db.session.scalar(select(func.count(Employee.id)))),
])
def test_a_filled_in_template_imports(bank, client, login_as, kind, rows, count):
    login_as("admin")
    download = client.get(f"/imports/template/{kind}.xlsx")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    _fill(book.worksheets[1], *rows)
    buffer = io.BytesIO()
    book.save(buffer)
    before = count()
    result = imports.IMPORTERS[kind](buffer.getvalue(), f"{kind}.xlsx")
    assert result.created == 1 and count() == before + 1


def test_a_filled_in_sales_template_imports(bank):
    from competency.services.imports.template import template

    imports.import_employees(ROSTER.encode(), "p.csv")
    book = load_workbook(io.BytesIO(template("sales")))
    _fill(book.worksheets[1], ["00123", 2025, 1234.5])
    buffer = io.BytesIO()
    book.save(buffer)
    assert imports.import_sales(buffer.getvalue(), "sales.xlsx").created == 1


def test_filled_in_course_and_training_templates_import(seeded):
    from competency.services.imports.template import template

    with force_locale("zh"):
        courses, training = load_workbook(io.BytesIO(template("courses"))), load_workbook(io.BytesIO(template("training")))
    _fill(courses.worksheets[1], ["0042", "信贷产品基础", "Credit products", "行业技能知识", "课堂", 8, 2, "K1:3"])
    _fill(training.worksheets[1], ["S0001", "0042", datetime.datetime(2025, 5, 20), "通过", 92])
    for kind, book in (("courses", courses), ("training", training)):
        buffer = io.BytesIO()
        book.save(buffer)
        assert imports.IMPORTERS[kind](buffer.getvalue(), f"{kind}.xlsx").created == 1


def test_the_imports_page_links_a_template_per_kind(bank, client, login_as):
    login_as("hr")
    page = client.get("/imports/", headers={"Accept-Language": "en"}).data.decode()
    for kind in ("org_units", "employees", "sales"):
        assert f"/imports/template/{kind}.xlsx" in page
    assert client.get("/imports/template/nothing.xlsx").status_code == 404


# --- totals rows and merged cells --------------------------------------------------------------------


def _book(rows, merges=(), title=None) -> bytes:
    """An .xlsx made by openpyxl: an optional title row merged across the columns, the rows, then the merged ranges
    ("C3:C5", in the sheet's own coordinates) the way a person merges a column's repeated value."""
    book = Workbook()
    sheet = book.active
    sheet.title = "业绩"
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_merged_ranges_listed_are_those_the_workbook_holds(bank):
    from competency.services.imports import sources

    data = _book([["a", "b", "c"]] + [["x", "y", "z"]] * 5, merges=("C2:C4", "A5:B6", "AB7:AC9"), title="标题")
    merges = [sheet.merges() for sheet in sources.sheets(data, "m.xlsx", 100)]  # read while the workbook is open
    assert merges == [[(1, 1, 1, 3), (2, 3, 4, 3), (5, 1, 6, 2), (7, 28, 9, 29)]]


def test_an_org_unit_merged_over_its_peoples_rows_is_filled_down_with_a_notice(bank):
    rows = [ZH_HEADER, ["00123", "李娜", "Na Li", "0101", "CM_CORP", "初级", "2024-03-01"],
            ["00124", "张伟", "Wei Zhang", None, "CM_CORP", "初级", "2024-03-01"],
            ["00125", "王芳", "Fang Wang", None, "CM_RETAIL", "中级", "2024-03-01"],
            ["00126", "赵敏", "Min Zhao", "HO", "CM_RETAIL", "中级", "2024-03-01"]]
    data = _book(rows, merges=("D3:D5",), title="2026年度员工花名册")  # 所属机构 merged over three people
    result = imports.import_employees(data, "花名册.xlsx")
    assert result.created == 4
    units = {e.staff_no: e.org_unit.code for e in _people().values()}
    assert units == {"00123": "0101", "00124": "0101", "00125": "0101", "00126": "HO"}
    assert [str(n) for n in result.notices] == [
        "Read the sheet 业绩, header on line 2.",  # the title's merge above the header is no data
        "Merged cells D3:D5: each row took the value the merge shows (its first cell's)."]


def test_a_merge_over_an_empty_row_or_an_ignored_column_changes_nothing_else(bank):
    rows = [["工号", "年度", "年销量", "备注"], ["00123", 2025, 100, "季度汇总"], ["00124", None, 200, None], [None, None, None, None]]
    imports.import_employees(ROSTER.encode(), "p.csv")
    data = _book(rows, merges=("B2:B4", "D2:D3"))  # the year merged down past the data; a remark merged too
    result = imports.import_sales(data, "s.xlsx")
    assert result.created == 2 and {s.year for s in db.session.scalars(select(AnnualSales))} == {2025}
    assert [str(n) for n in result.notices] == ["Columns ignored (not import columns): 备注.",
                                                "Merged cells B2:B4: each row took the value the merge shows (its first cell's)."]


def test_a_merge_in_an_xls_workbook_is_filled_down_too(bank):
    imports.import_employees(ROSTER.encode(), "p.csv")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("销售")
    for c, name in enumerate(["工号", "年度", "年销量"]):
        sheet.write(0, c, name)
    sheet.write_merge(1, 2, 1, 1, 2025)  # the year over both rows
    for r, (no, amount) in enumerate((("00123", 100), ("00124", 200)), start=1):
        sheet.write(r, 0, no)
        sheet.write(r, 2, amount)
    buffer = io.BytesIO()
    book.save(buffer)
    result = imports.import_sales(buffer.getvalue(), "s.xls")
    assert result.created == 2
    assert "Merged cells B2:B3: each row took the value the merge shows (its first cell's)." in [str(n) for n in result.notices]


@pytest.mark.parametrize("label", ["合计", "总计", "合  计：", "Total", "TOTAL:", "本页合计", "小计"])
def test_a_totals_row_at_the_end_of_a_sales_file_is_skipped_with_a_notice(bank, label):
    imports.import_employees(ROSTER.encode(), "p.csv")
    data = _book([["工号", "年度", "年销量"], ["00123", 2025, 100], ["00124", 2025, 200.5], [label, None, "=SUM(C2:C3)"]],
                 title="2025年度销售业绩表")
    result = imports.import_sales(data, "业绩.xlsx")
    assert result.created == 2 and db.session.scalar(select(func.sum(AnnualSales.amount))) == 300.5
    assert f"Skipped the totals row on line 5 ({label.strip()}): it is not a person." in [str(n) for n in result.notices]


def test_a_totals_row_whose_label_sits_in_a_column_of_its_own_is_skipped(seeded):
    training = ("序号,工号,课程代码,完成日期,培训结果\n1,S0001,LAW-101,2019/5/20,通过\n2,S0002,LAW-101,2019/5/21,未通过\n"
                "合计,,,,\n")
    result = imports.import_training(training.encode("gb18030"), "t.csv")
    assert result.counts == {"passed": 1, "failed": 1}
    assert [str(n) for n in result.notices] == ["Columns ignored (not import columns): 序号.",
                                                "Skipped the totals row on line 4 (合计): it is not a person."]


def test_a_row_with_a_real_staff_number_is_no_totals_row_and_an_unknown_one_is_still_refused(bank):
    imports.import_employees(ROSTER.encode(), "p.csv")
    with pytest.raises(ImportFailed) as failure:
        imports.import_sales("备注,工号,年度,年销量\n合计,00123,2025,100\n,NOPE,2025,1\n".encode(), "s.csv")
    assert [str(e) for e in failure.value.errors] == ["line 3, staff_no: Unknown staff number NOPE."]


def test_the_preview_says_which_totals_row_it_skipped(bank, client, login_as):
    imports.import_employees(ROSTER.encode(), "p.csv")
    login_as("hr")
    text = "工号,年度,年销量\n00123,2025,100\n00124,2025,200\n合计,,300\n"
    page = client.post("/imports/", data={"kind": "sales", "file": (io.BytesIO(text.encode("gb18030")), "业绩.csv")},
                       headers={"Accept-Language": "en"}, content_type="multipart/form-data").data.decode()
    assert "will create 2" in page and "Unknown staff number" not in page
    assert "<li>Skipped the totals row on line 4 (合计): it is not a person.</li>" in page
