"""Competency models: seed content, YAML/xlsx import-export, the editor pages, access, my model."""
import io

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import AuditEvent, Competency, ModelVersion, Position, VersionStatus
from competency.services.imports import ImportFailed
from competency.services.ksa import export as model_export
from competency.services.ksa import importer, versions

from . import factories


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (ModelVersion, Competency, AuditEvent))


def test_seed_publishes_the_customer_manager_model_for_both_positions(seeded):
    for code in ("CM_CORP", "CM_RETAIL"):
        position = db.session.scalar(select(Position).where(Position.code == code))
        version = versions.published_version(position.id)
        assert version is not None
        assert [c.code for c in version.competencies] == [
            "K1", "K2", "K3", "K4", "S1", "S2", "S3", "S4", "S5", "A1", "A2", "A3", "A4", "A5", "A6", "A7"]
        assert len(version.duty_areas) == 4
        assert {c.cluster.code for c in version.competencies if c.category.value == "A"} == {"general", "position"}
        assert versions.publish_problems(version) == []
        assert all(len(c.descriptors) == 5 for c in version.competencies)


def test_seed_descriptors_are_specific_not_generic(seeded):
    texts = [d.text_en for c in db.session.scalars(select(Competency)) for d in c.descriptors]
    assert len(set(texts)) == len(texts) / 2  # the same model for both positions, every descriptor distinct
    assert all(len(t.split()) >= 12 for t in texts)


def test_yaml_round_trips_exactly(seeded, tmp_path):
    runner = seeded.test_cli_runner()
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert runner.invoke(args=["model", "export", "--position", "CM_CORP", "--format", "yaml", str(first)]).exit_code == 0
    result = runner.invoke(args=["model", "import", str(first)])
    assert result.exit_code == 0 and "draft version 2" in result.output
    exported = runner.invoke(args=["model", "export", "--position", "CM_CORP", "--version", "2", "--format", "yaml", str(second)])
    assert exported.exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    data = yaml.safe_load(first.read_text(encoding="utf-8"))
    assert data["position"] == "CM_CORP" and len(data["competencies"]) == 16


def test_xlsx_export_has_the_sheets_and_imports_back(seeded, tmp_path):
    runner = seeded.test_cli_runner()
    path = tmp_path / "m.xlsx"
    assert runner.invoke(args=["model", "export", "--position", "CM_RETAIL", "--format", "xlsx", str(path)]).exit_code == 0
    book = load_workbook(path)
    assert {"Competencies", "Descriptors", "Targets", "DutyAreas"} <= set(book.sheetnames)
    assert book["Descriptors"].max_row == 1 + 16 * 5
    version = importer.import_file(path.read_bytes(), "m.xlsx")
    original = versions.published_version(version.position_id)
    assert model_export.export_yaml(version) == model_export.export_yaml(original)


def _xlsx_with(seeded, change) -> bytes:
    position = db.session.scalar(select(Position).where(Position.code == "CM_CORP"))
    book = load_workbook(io.BytesIO(model_export.export_xlsx(versions.published_version(position.id))))
    change(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_bad_xlsx_names_sheet_row_and_column_and_writes_nothing(seeded):
    def spoil(book):
        book["Competencies"]["H3"] = -2          # weight of the second competency
        book["Descriptors"]["B4"] = 7            # a level out of range
        book["Targets"]["A5"] = "ZZ9"            # an unknown competency
        book["Competencies"]["C2"] = "nowhere"   # an unknown cluster

    before = _counts()
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(_xlsx_with(seeded, spoil), "bad.xlsx")
    found = {(e.sheet, e.line, e.column) for e in failure.value.errors}
    assert ("Descriptors", 4, "level") in found and ("Targets", 5, "competency") in found
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(_xlsx_with(seeded, lambda b: (b["Competencies"].__setitem__("H3", -2),
                                                          b["Competencies"].__setitem__("C2", "nowhere"))), "bad.xlsx")
    found = {(e.sheet, e.line, e.column) for e in failure.value.errors}
    assert found == {("Competencies", 3, "weight"), ("Competencies", 2, "cluster")}
    assert _counts() == before


def test_xlsx_missing_sheet_is_named(seeded):
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(_xlsx_with(seeded, lambda b: b.remove(b["Targets"])), "bad.xlsx")
    assert [(e.sheet, e.message) for e in failure.value.errors] == [("Targets", "The sheet is missing.")]


def test_bad_yaml_is_refused_whole(app):
    factories.position("CM_CORP")
    data = factories.model_data()
    data["competencies"][1]["targets"]["senior"] = 9
    data["competencies"][0]["duty_areas"] = ["D7"]
    before = _counts()
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(yaml.safe_dump(data).encode(), "m.yaml")
    assert {(e.sheet, e.line, e.column) for e in failure.value.errors} == {
        ("competencies", 2, "targets"), ("competencies", 1, "duty_areas")}
    assert _counts() == before


def test_unknown_position_in_file(app):
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(yaml.safe_dump(factories.model_data("NOPE")).encode(), "m.yaml")
    assert any(e.column == "position" for e in failure.value.errors)


# --- the editor through HTTP ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "supervisor", "trainer"])
def test_only_hr_and_admin_may_change_a_model(app, client, login_as, role):
    draft = factories.model_version()
    db.session.commit()
    login_as(role)
    comp = draft.competencies[0]
    assert client.get("/models").status_code == 403
    assert client.get(f"/models/{draft.id}").status_code == 403
    assert client.post(f"/models/{draft.id}/publish").status_code == 403
    assert client.post(f"/models/{draft.id}/competencies/{comp.id}/remove").status_code == 403
    assert client.post("/models/import", data={}).status_code == 403
    assert db.session.get(ModelVersion, draft.id).status == VersionStatus.DRAFT


def _competency_form(version, **changes):
    form = {"code": "K9", "cluster": version.clusters[0].id, "name_zh": "新能力", "name_en": "New competency",
            "description_zh": "说明", "description_en": "About", "weight": "4", "duty_areas": [version.duty_areas[0].id]}
    for level in range(1, 6):
        form[f"descriptor_{level}_zh"] = f"第{level}级行为"
        form[f"descriptor_{level}_en"] = f"Level {level} behaviour"
    form.update({"target_trainee": "1", "target_junior": "2", "target_intermediate": "3", "target_senior": "4"})
    form.update(changes)
    return form


def test_editor_adds_edits_reorders_and_removes_a_competency(app, client, login_as):
    draft = factories.model_version()
    login_as("hr")
    assert client.post(f"/models/{draft.id}/competencies/new", data=_competency_form(draft)).status_code == 302
    added = db.session.scalar(select(Competency).where(Competency.code == "K9"))
    assert added.target("senior") == 4 and added.descriptor(5).text_en == "Level 5 behaviour"
    assert [d.code for d in added.duty_areas] == ["D1"]
    client.post(f"/models/{draft.id}/competencies/{added.id}", data=_competency_form(draft, weight="7.5", name_en="Renamed"))
    db.session.expire_all()
    assert db.session.get(Competency, added.id).name_en == "Renamed"
    assert str(db.session.get(Competency, added.id).weight) == "7.50"
    client.post(f"/models/{draft.id}/competencies/{added.id}/up")
    db.session.expire_all()
    knowledge = [c.code for c in db.session.get(ModelVersion, draft.id).competencies if c.category.value == "K"]
    assert knowledge == ["K9", "K1"]
    added_id = added.id
    client.post(f"/models/{draft.id}/competencies/{added_id}/remove")
    db.session.expunge_all()
    assert db.session.get(Competency, added_id) is None


def test_editor_refuses_a_bad_weight(app, client, login_as):
    draft = factories.model_version()
    login_as("hr")
    response = client.post(f"/models/{draft.id}/competencies/new", data=_competency_form(draft, weight="0"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200 and b"The weight must be positive." in response.data
    assert db.session.scalar(select(Competency).where(Competency.code == "K9")) is None


def test_editor_publish_lists_the_problems(app, client, login_as):
    draft = factories.model_version()
    draft.competencies[0].descriptor(2).text_zh = ""
    db.session.commit()
    login_as("hr")
    page = client.post(f"/models/{draft.id}/publish", follow_redirects=True, headers={"Accept-Language": "en"}).data.decode()
    assert "K1: the level 2 descriptor in zh is missing." in page
    assert db.session.get(ModelVersion, draft.id).status == VersionStatus.DRAFT


def test_editor_publish_new_version_and_retire(app, client, login_as):
    draft = factories.model_version()
    login_as("hr")
    client.post(f"/models/{draft.id}/publish")
    assert db.session.get(ModelVersion, draft.id).status == VersionStatus.PUBLISHED
    response = client.post(f"/models/{draft.id}/new_version")
    copy = db.session.scalar(select(ModelVersion).where(ModelVersion.number == 2))
    assert response.headers["Location"].endswith(f"/models/{copy.id}") and copy.status == VersionStatus.DRAFT
    client.post(f"/models/{draft.id}/retire")
    assert db.session.get(ModelVersion, draft.id).status == VersionStatus.RETIRED


def test_editing_a_published_version_through_the_page_is_refused(app, client, login_as):
    version = factories.model_version(publish=True)
    login_as("hr")
    response = client.post(f"/models/{version.id}/competencies/new", data=_competency_form(version),
                           headers={"Accept-Language": "en"})
    assert b"cannot be changed" in response.data
    assert db.session.scalar(select(Competency).where(Competency.code == "K9")) is None


def test_editor_targets_and_duty_areas(app, client, login_as):
    draft = factories.model_version()
    login_as("hr")
    comp = draft.competencies[0]
    form = {f"t_{c.id}_{g}": lvl for c in draft.competencies for g, lvl in
            (("trainee", "2"), ("junior", "2"), ("intermediate", "4"), ("senior", "5"))}
    assert client.post(f"/models/{draft.id}/targets", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Competency, comp.id).target("intermediate") == 4
    client.post(f"/models/{draft.id}/duty-areas/new", data={"code": "D2", "name_zh": "维护", "name_en": "Care",
                                                              "tasks_zh": "回访\n关怀", "tasks_en": "Calls\nCare"})
    db.session.expire_all()
    area = next(a for a in db.session.get(ModelVersion, draft.id).duty_areas if a.code == "D2")
    assert area.tasks_zh == ["回访", "关怀"]
    client.post(f"/models/{draft.id}/duty-areas/{area.id}/remove")
    db.session.expire_all()
    assert [a.code for a in db.session.get(ModelVersion, draft.id).duty_areas] == ["D1"]


def test_import_page_creates_a_draft_or_lists_errors(app, client, login_as):
    factories.position("CM_CORP")
    login_as("hr")
    good = yaml.safe_dump(factories.model_data(), allow_unicode=True).encode()
    response = client.post("/models/import", data={"file": (io.BytesIO(good), "m.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 302
    bad = factories.model_data()
    bad["competencies"][0]["weight"] = "heavy"
    response = client.post("/models/import", data={"file": (io.BytesIO(yaml.safe_dump(bad).encode()), "m.yaml")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 422 and b"The weight must be a positive number." in response.data
    assert db.session.scalar(select(func.count(ModelVersion.id))) == 1


def test_model_page_shows_matrix_and_targets_in_both_languages(seeded, client, login_as):
    login_as("hr")
    version = db.session.scalar(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED))
    zh = client.get(f"/models/{version.id}", headers={"Accept-Language": "zh"}).data.decode()
    assert "授信调查报告撰写技巧" in zh and "岗位能力" in zh
    client.post("/language", data={"lang": "en", "next": "/"})
    en = client.get(f"/models/{version.id}").data.decode()
    assert "Writing credit investigation reports" in en or "credit investigation report" in en
    assert "Descriptor matrix" in en


def test_my_model_highlights_my_grade_and_the_next(seeded, client):
    client.post("/login", data={"identifier": "E0001", "password": "Demo@2026"})  # a junior
    page = client.get("/my-model", headers={"Accept-Language": "en"}).data.decode()
    assert "K1" in page and "A7" in page
    version = db.session.scalar(select(ModelVersion).join(Position).where(Position.code == "CM_CORP"))
    differing = sum(1 for c in version.competencies if c.target("intermediate") != c.target("junior"))
    assert page.count('class="cell-mine ') == 16 and page.count(' cell-next"') == differing > 0


def test_my_model_without_a_published_model_says_so(app, client, login_as):
    login_as("employee")
    page = client.get("/my-model", headers={"Accept-Language": "en"}).data.decode()
    assert "No competency model is published for your position yet" in page


@pytest.mark.parametrize("spoil", [
    lambda d: d.update(duty_areas=["D1"]),
    lambda d: d.update(clusters=["knowledge"]),
    lambda d: d["competencies"][0].update(cluster=["knowledge"]),
    lambda d: d["competencies"][0].update(duty_areas="D1"),
])
def test_malformed_model_files_are_refused_with_errors_not_crashes(app, spoil):
    factories.position("CM_CORP")
    data = factories.model_data()
    spoil(data)
    with pytest.raises(ImportFailed) as failure:
        importer.import_file(yaml.safe_dump(data).encode(), "m.yaml")
    assert failure.value.errors
