"""Hostile files: formula injection in exports, zip bombs, YAML billion laughs, NUL bytes and overlong values in
imports, abandoned staged uploads."""
import csv
import datetime
import io
import os
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from competency.services import exports, imports, safe_files
from competency.services.imports import ImportFailed, staging
from competency.services.imports.tabular import Row
from competency.services.ksa import export as model_export
from competency.services.ksa import importer
from competency.services.review.standards import import_standards

from . import factories

UNITS_HEADER = ["code", "parent_code", "kind", "name_zh", "name_en"]
FORMULAS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "=HYPERLINK(\"http://x\",\"y\")", "#N/A"]


def _messages(failure) -> list[str]:
    return [str(e.message) for e in failure.value.errors]


def _workbook(rows, sheet_xml=None) -> bytes:
    """An .xlsx of the rows, its sheet XML changed by `sheet_xml` (bytes -> bytes) when given."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if sheet_xml is None:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, sheet_xml(content) if item.filename == "xl/worksheets/sheet1.xml" else content)
    return out.getvalue()


def _padded(padding: int) -> bytes:
    """A valid org-units workbook whose sheet XML holds `padding` bytes of whitespace: a zip bomb when large."""
    def pad(xml: bytes) -> bytes:
        assert b"<sheetData>" in xml
        return xml.replace(b"<sheetData>", b"<sheetData>" + b" " * padding)

    return _workbook([UNITS_HEADER, ["HO", None, "head_office", "总行", "Head office"]], pad)


# --- 1. formula injection ------------------------------------------------------------------------


def test_xlsx_export_writes_formula_like_text_as_text_and_numbers_as_numbers():
    content = b"".join(exports.stream_xlsx(["a"] * 10, [[*FORMULAS, -0.6, 3, None, "a\x01b"]], "results"))
    cells = list(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2))[0]
    assert [c.value for c in cells[:6]] == FORMULAS and {c.data_type for c in cells[:6]} == {"s"}
    assert (cells[6].value, cells[6].data_type, cells[7].value, cells[8].value) == (-0.6, "n", 3, None)
    assert cells[9].value == "ab"  # a control character .xlsx cannot hold is dropped instead of failing the export
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")


def test_csv_export_prefixes_formula_like_text_but_not_numbers():
    content = b"".join(exports.stream_csv(["a"] * 8, [[*FORMULAS[:4], "plain", -0.6, 3, None]]))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1] == ["'=1+1", "'+SUM(A1:A2)", "'-2+3", "'@cmd", "plain", "-0.6", "3", ""]


def test_model_xlsx_round_trip_keeps_formula_like_text(app):
    factories.position("CM_CORP")
    data = factories.model_data()
    data["competencies"][0]["descriptors"][1]["en"] = "=1+1"
    data["competencies"][0]["name_en"] = "@SUM(1)"
    data["duty_areas"][0]["name_en"] = "-Development"
    version = importer.import_file(yaml.safe_dump(data, allow_unicode=True).encode(), "m.yaml")
    content = model_export.export_xlsx(version)
    book = load_workbook(io.BytesIO(content))
    cell = next(c for row in book["Descriptors"].iter_rows() for c in row if c.value == "=1+1")
    assert cell.data_type == "s"
    again = importer.import_file(content, "m.xlsx")
    assert again.number == version.number + 1
    assert again.competencies[0].descriptors[0].text_en == "=1+1"
    assert again.competencies[0].name_en == "@SUM(1)" and again.duty_areas[0].name_en == "-Development"
    assert model_export.export_yaml(again) == model_export.export_yaml(version)


# --- 2. zip bombs and oversized sheets ----------------------------------------------------------


def _refuse_openpyxl(monkeypatch):
    def load_workbook(*args, **kwargs):
        raise AssertionError("openpyxl must not parse a refused workbook")

    monkeypatch.setattr("openpyxl.load_workbook", load_workbook)


@pytest.mark.parametrize("read", [lambda d: imports.import_org_units(d, "u.xlsx"), lambda d: importer.import_file(d, "m.xlsx")],
                         ids=["import", "model"])
@pytest.mark.parametrize("padding, message", [
    (70 * 1024 * 1024, "The workbook unpacks to more than 60 MB: split it into smaller files."),
    (5 * 1024 * 1024, "The workbook is packed too densely to be an ordinary spreadsheet; it was not read."),
], ids=["total", "ratio"])
def test_zip_bomb_is_refused_before_it_is_parsed(app, monkeypatch, read, padding, message):
    bomb = _padded(padding)
    assert len(bomb) < 1024 * 1024
    _refuse_openpyxl(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(ImportFailed) as failure:
        read(bomb)
    assert time.perf_counter() - started < 2
    assert _messages(failure) == [message]


def test_slightly_padded_workbook_is_still_read(app):
    assert imports.import_org_units(_padded(500_000), "u.xlsx").created == 1


def test_too_many_rows_are_refused(app, monkeypatch):
    monkeypatch.setattr(safe_files, "MAX_ROWS", 3)
    rows = [UNITS_HEADER] + [[f"U{i}", None, "head_office", "总行", "Head office"] for i in range(4)]
    for data, name in ((_workbook(rows), "u.xlsx"), ("\n".join(",".join(c or "" for c in r) for r in rows).encode(), "u.csv")):
        with pytest.raises(ImportFailed) as failure:
            imports.import_org_units(data, name)
        assert [(e.line, str(e.message)) for e in failure.value.errors] == [
            (4, "The sheet has more than 3 rows: split it into smaller files.")]
    monkeypatch.setattr(safe_files, "MAX_ROWS", 5)
    assert imports.import_org_units(_workbook(rows), "u.xlsx").created == 4


def test_model_sheet_row_limit(app, monkeypatch):
    factories.position("CM_CORP")
    content = model_export.export_xlsx(factories.model_version())
    monkeypatch.setattr(safe_files, "MAX_MODEL_ROWS", 5)
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(content, "m.xlsx")
    assert [(e.sheet, e.line) for e in failure.value.errors] == [("Descriptors", 6)]


def test_rows_are_not_padded_to_the_declared_dimension(app):
    book = Workbook()
    book.active.append(UNITS_HEADER)
    book.active.append(["HO", None, "head_office", "总行", "Head office"])
    book.active.cell(row=50_000, column=16_384, value="x")  # the file now declares A1:XFD50000
    buffer = io.BytesIO()
    book.save(buffer)
    with safe_files.open_xlsx(buffer.getvalue()) as loaded:
        assert loaded.worksheets[0].max_column == 16_384
        widths = {len(values) for _line, values in safe_files.sheet_rows(loaded.worksheets[0], safe_files.MAX_ROWS)}
    assert widths == {5}
    started = time.perf_counter()
    assert imports.import_org_units(buffer.getvalue(), "u.xlsx").created == 1  # the stray cell has no column: ignored
    assert time.perf_counter() - started < 5


def test_broken_sheet_xml_is_an_invalid_workbook_not_a_crash(app):
    broken = _workbook([UNITS_HEADER, ["HO", None, "head_office", "总行", "Head office"]],
                       lambda xml: xml.replace(b"</sheetData>", b""))
    with pytest.raises(ImportFailed) as failure:
        imports.import_org_units(broken, "u.xlsx")
    assert _messages(failure) == ["The file is not a valid .xlsx workbook."]


# --- 3. YAML billion laughs ----------------------------------------------------------------------

LAUGHS = "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)])


def test_billion_laughs_is_refused_by_the_model_reader(app):
    assert len(LAUGHS) < 1000
    started = time.perf_counter()
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(LAUGHS.encode(), "m.yaml")
    assert time.perf_counter() - started < 1
    assert [(e.sheet, e.line, str(e.message)) for e in failure.value.errors] == [
        ("YAML", 1, "YAML anchors and aliases (& and *) are not allowed.")]


def test_billion_laughs_is_refused_by_the_standards_import(app):
    started = time.perf_counter()
    with pytest.raises(ImportFailed) as failure:
        import_standards(LAUGHS)
    assert time.perf_counter() - started < 1
    assert _messages(failure) == ["YAML anchors and aliases (& and *) are not allowed."]
    with pytest.raises(ImportFailed) as failure:
        import_standards("position: CM_CORP\nstandards: *x\n")
    assert _messages(failure) == ["YAML anchors and aliases (& and *) are not allowed."]


def test_yaml_nesting_values_and_size_are_bounded(app, monkeypatch):
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(("a: " + "[" * 50 + "]" * 50).encode(), "m.yaml")
    assert _messages(failure) == ["The YAML is nested more than 20 levels deep."]
    with pytest.raises(ImportFailed) as failure:
        import_standards("a: " + "x" * safe_files.MAX_YAML_CHARS)
    assert _messages(failure) == ["The YAML text is larger than 2 MB."]
    monkeypatch.setattr(safe_files, "MAX_YAML_VALUES", 100)
    with pytest.raises(ImportFailed) as failure:
        import_standards(yaml.safe_dump([list(range(200))]))
    assert _messages(failure) == ["The YAML holds more than 100 values."]


def test_yaml_documents_still_load(app):
    assert safe_files.load_yaml_all("---\na: 1\n---\nb: [x, y]\n") == [{"a": 1}, {"b": ["x", "y"]}]
    assert safe_files.load_yaml('a: "x\\0y"') == {"a": "xy"}  # NUL is a valid YAML escape, but not storable
    with pytest.raises(yaml.YAMLError):
        safe_files.load_yaml("a: [")


def test_yaml_numbers_that_cost_or_fail_to_convert_are_read_as_text_and_refused(seeded):
    """An integer in hexadecimal or base 60 (whose conversion grows with the square of its length), one of more digits
    than Python converts, a date that names no day: text, which the imports refuse as any word, never a 500."""
    long = "9" * 5000
    loaded = safe_files.load_yaml(f"a: 0x{'f' * 4000}\nb: {long}\nc: {':'.join(['1'] * 1000)}\nd: 2025-13-45\n")
    assert loaded == {"a": "0x" + "f" * 4000, "b": long, "c": ":".join(["1"] * 1000), "d": "2025-13-45"}
    assert safe_files.load_yaml("a: 12\nb: -3\nc: 1_000\nd: 2025-01-31\ne: 0.25\n") == \
        {"a": 12, "b": -3, "c": 1000, "d": datetime.date(2025, 1, 31), "e": 0.25}
    for value in (f"0x{'f' * 4000}", long):
        with pytest.raises(ImportFailed):
            import_standards(f"position: CM_CORP\nunit: 万元\nstandards:\n  junior: {{min_sales: {value}, min_score: 60, "
                             "min_credits: 20}\n")
        for field in ("position", "name_en"):
            data = factories.model_data()
            data[field] = "PLACEHOLDER"
            with pytest.raises(ImportFailed):
                importer.import_file(yaml.safe_dump(data, allow_unicode=True).replace("PLACEHOLDER", value).encode(), "m.yaml")
        data = factories.model_data()
        data["competencies"][0]["targets"]["junior"] = "PLACEHOLDER"
        with pytest.raises(ImportFailed):
            importer.import_file(yaml.safe_dump(data, allow_unicode=True).replace("PLACEHOLDER", value).encode(), "m.yaml")


# --- 4. NUL bytes and overlong values ------------------------------------------------------------


def test_nul_bytes_are_stripped_from_imported_cells(app):
    data = "code,parent_code,kind,name_zh,name_en\nH\x00O,,head_office,总\x00行,Head\x00 Office\n".encode()
    assert imports.import_org_units(data, "u.csv").created == 1
    from competency.extensions import db
    from competency.models import OrgUnit

    unit = db.session.query(OrgUnit).one()
    assert (unit.code, unit.name_zh, unit.name_en) == ("HO", "总行", "Head Office")
    assert Row(2, {"name": "a\x00b\ud800 "}).get("name") == "ab"


def test_overlong_csv_value_is_a_row_error_not_a_crash(app):
    data = f"code,parent_code,kind,name_zh,name_en\nHO,,head_office,{'x' * 200_000},Head office\n".encode()
    with pytest.raises(ImportFailed) as failure:
        imports.import_org_units(data, "u.csv")
    assert [(e.line, str(e.message)) for e in failure.value.errors] == [
        (2, "This line is not valid CSV or holds a value longer than 131,072 characters.")]


# --- 5. staged uploads ---------------------------------------------------------------------------


def _age(folder: Path, token: str, hours: float) -> None:
    stamp = time.time() - hours * 3600
    for suffix in (".bin", ".json"):
        os.utime(folder / f"{token}{suffix}", (stamp, stamp))


def test_staging_removes_uploads_older_than_a_day(tmp_path):
    old, recent = staging.stage(str(tmp_path), b"old", {}), staging.stage(str(tmp_path), b"recent", {})
    folder = tmp_path / "staged"
    _age(folder, old, 25)
    _age(folder, recent, 23)
    other = folder / "notes.txt"
    other.write_text("not a staged upload")
    os.utime(other, (0, 0))
    new = staging.stage(str(tmp_path), b"new", {"kind": "org_units"})
    assert staging.load(str(tmp_path), old) is None
    assert not (folder / f"{old}.bin").exists() and not (folder / f"{old}.json").exists()
    assert staging.load(str(tmp_path), recent) == (b"recent", {})
    assert staging.load(str(tmp_path), new) == (b"new", {"kind": "org_units"})
    assert other.exists()


def test_staging_ignores_files_that_vanish_meanwhile(tmp_path, monkeypatch):
    folder = tmp_path / "staged"
    folder.mkdir()
    listed = Path.iterdir

    def iterdir(self):
        yield from listed(self)
        yield self / "gone.bin"  # listed, then removed by another request before it is looked at

    monkeypatch.setattr(Path, "iterdir", iterdir)
    token = staging.stage(str(tmp_path), b"data", {})
    assert staging.load(str(tmp_path), token) == (b"data", {})
    (folder / f"{token}.json").unlink()
    assert staging.load(str(tmp_path), token) is None


def test_an_abandoned_preview_cannot_be_confirmed_even_when_nothing_else_was_staged(tmp_path):
    token = staging.stage(str(tmp_path), b"old", {})
    _age(tmp_path / "staged", token, 25)
    assert staging.load(str(tmp_path), token) is None  # refused, and removed on the way
    assert not list((tmp_path / "staged").iterdir())


def test_the_daily_housekeeping_removes_abandoned_previews(make_app, app, tmp_path):
    from competency.services import grades

    housekeeping = make_app()
    housekeeping.instance_path = str(tmp_path)
    token = staging.stage(str(tmp_path), b"personal data", {})
    _age(tmp_path / "staged", token, 25)
    grades._checked.clear()  # as at the first request of a new day
    with housekeeping.test_request_context("/"):
        grades.apply_due_once_a_day()
    assert not (tmp_path / "staged" / f"{token}.bin").exists()
