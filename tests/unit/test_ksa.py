"""The competency model's rules: publishing, immutability, versions."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from competency.errors import DomainError
from competency.extensions import db
from competency.models import AuditEvent, Competency, Grade, ModelVersion, Target, VersionStatus
from competency.services.ksa import editor, versions

from .. import factories


def _draft():
    return factories.model_version()


def test_a_complete_draft_has_no_problems_and_publishes(app):
    version = _draft()
    assert versions.publish_problems(version) == []
    versions.publish(version)
    assert version.status == VersionStatus.PUBLISHED and version.published_at is not None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "model.publish"))


def test_publish_rule_every_descriptor_in_chinese(app):
    version = _draft()
    version.competencies[0].descriptor(3).text_zh = ""
    assert versions.publish_problems(version) == ["K1: the level 3 descriptor in zh is missing."]


def test_publish_rule_every_descriptor_in_english(app):
    version = _draft()
    comp = version.competencies[1]
    comp.descriptors.remove(comp.descriptor(5))
    assert versions.publish_problems(version) == ["S1: the level 5 descriptor in zh is missing.",
                                             "S1: the level 5 descriptor in en is missing."]


def test_publish_rule_every_grade_has_a_target(app):
    version = _draft()
    comp = version.competencies[0]
    comp.targets.remove(next(t for t in comp.targets if t.grade == Grade.SENIOR))
    assert versions.publish_problems(version) == ["K1: no target for grade senior."]


def test_publish_rule_targets_never_decrease(app):
    version = _draft()
    next(t for t in version.competencies[0].targets if t.grade == Grade.INTERMEDIATE).level = 1
    assert versions.publish_problems(version) == [
        "K1: the target for intermediate (1) is below the target for junior (2)."]


def test_publish_rule_weights_positive(app):
    version = _draft()
    version.competencies[1].weight = Decimal("0")
    assert versions.publish_problems(version) == ["S1: the weight must be positive."]
    db.session.rollback()


def test_publish_refused_lists_problems_and_changes_nothing(app):
    version = _draft()
    version.competencies[0].descriptor(1).text_en = ""
    db.session.commit()
    with pytest.raises(versions.PublishRefused) as refused:
        versions.publish(version)
    assert refused.value.problems == ["K1: the level 1 descriptor in en is missing."]
    db.session.rollback()
    assert db.session.get(ModelVersion, version.id).status == VersionStatus.DRAFT


def test_weight_constraint_in_the_database(app):
    version = _draft()
    version.competencies[0].weight = Decimal("-1")
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_target_unique_per_competency_and_grade_in_the_database(app):
    version = _draft()
    db.session.add(Target(competency=version.competencies[0], grade=Grade.JUNIOR, level=3))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_publishing_a_new_version_retires_the_old(app):
    first = factories.model_version(publish=True)
    second = versions.new_version(first)
    versions.publish(second)
    assert db.session.get(ModelVersion, first.id).status == VersionStatus.RETIRED
    published = db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED)).all()
    assert [v.id for v in published] == [second.id]


def test_one_published_version_per_position_in_the_database(app):
    first = factories.model_version(publish=True)
    second = versions.new_version(first)
    second.status = VersionStatus.PUBLISHED
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_new_version_copies_everything_and_is_independent(app):
    source = factories.model_version(publish=True)
    copy = versions.new_version(source)
    assert copy.status == VersionStatus.DRAFT and copy.number == source.number + 1 and copy.based_on_id == source.id
    from competency.services.ksa.export import to_data

    assert to_data(copy) == to_data(source)
    comp = copy.competencies[0]
    editor.save_competency(copy, {"code": "K1", "cluster_id": comp.cluster_id, "name_zh": "改", "name_en": "Changed",
                               "weight": "3", "descriptors": {}, "targets": {}}, comp)
    assert db.session.get(ModelVersion, source.id).competencies[0].name_en == "Competency K1"


EDITS = {
    "save_competency": lambda v: editor.save_competency(v, {"code": "X1", "cluster_id": v.clusters[0].id, "name_zh": "x",
                                                         "name_en": "x", "weight": 1}),
    "remove_competency": lambda v: editor.remove_competency(v.competencies[0]),
    "move_competency": lambda v: editor.move_competency(v.competencies[0], 1),
    "save_duty_area": lambda v: editor.save_duty_area(v, {"code": "D9", "name_zh": "x", "name_en": "x"}),
    "remove_duty_area": lambda v: editor.remove_duty_area(v.duty_areas[0]),
    "save_targets": lambda v: editor.save_targets(v, {v.competencies[0].id: {Grade.SENIOR: 5}}),
    "rename_version": lambda v: editor.rename_version(v, "新", "New"),
    "publish": lambda v: versions.publish(v),
    "delete_draft": lambda v: versions.delete_draft(v),
}


@pytest.mark.parametrize("operation", sorted(EDITS))
def test_published_versions_are_read_only_in_the_service_layer(app, operation):
    version = factories.model_version(publish=True)
    before = __import__("competency.services.ksa.export", fromlist=["to_data"]).to_data(version)
    with pytest.raises(versions.ReadOnlyVersion):
        EDITS[operation](version)
    db.session.rollback()
    from competency.services.ksa.export import to_data

    assert to_data(db.session.get(ModelVersion, version.id)) == before


def test_orm_guard_refuses_direct_changes_to_a_published_version(app):
    version = factories.model_version(publish=True)
    version.competencies[0].name_en = "sneaky"
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()


def test_retire_only_published(app):
    draft = _draft()
    with pytest.raises(DomainError):
        versions.retire(draft)
    versions.publish(draft)
    versions.retire(draft)
    assert draft.status == VersionStatus.RETIRED and versions.published_version(draft.position_id) is None


def test_every_change_is_audited(app):
    version = factories.model_version(competencies=factories.model_data(codes=("K1", "K2"))["competencies"])
    comp = version.competencies[0]
    editor.save_competency(version, {"code": "K1", "cluster_id": comp.cluster_id, "name_zh": "甲", "name_en": "A",
                                  "weight": "2.5", "descriptors": {}, "targets": {}}, comp)
    editor.move_competency(version.competencies[1], -1)
    editor.remove_competency(version.competencies[0])
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"model.import", "model.competency_update", "model.competency_move", "model.competency_remove"} <= actions


def test_move_reorders_within_the_cluster(app):
    version = factories.model_version(competencies=factories.model_data(codes=("K1", "K2", "K3"))["competencies"])
    editor.move_competency(next(c for c in version.competencies if c.code == "K3"), -1)
    db.session.expire_all()
    version = db.session.get(ModelVersion, version.id)
    assert [c.code for c in version.competencies] == ["K1", "K3", "K2"]


def test_duplicate_competency_code_is_refused(app):
    version = _draft()
    with pytest.raises(DomainError):
        editor.save_competency(version, {"code": "S1", "cluster_id": version.clusters[0].id, "name_zh": "x",
                                      "name_en": "x", "weight": 1})
    db.session.rollback()
    assert db.session.scalar(select(func.count(Competency.id))) == 2
