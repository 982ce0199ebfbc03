"""The parts of published model versions, read once per process: drafts are never kept, and a database rebuilt
under the same ids (a restore, the next test) is not served another version's parts."""

from sqlalchemy import delete

from competency.extensions import db
from competency.models import Grade, ModelVersion
from competency.services.ksa import published

from . import factories


def test_a_published_version_is_read_once_with_its_descriptors_and_targets(app):
    version = factories.model_version(publish=True)
    db.session.commit()
    parts = published.parts_of(version)
    with factories.statements() as seen:
        again = published.parts_of(version)
    assert again is parts and seen == []
    k1 = parts.competencies[0]
    assert [c.code for c in parts.competencies] == ["K1", "S1"]
    assert (k1.descriptor(3).text_en, k1.descriptor(6), k1.target(Grade.SENIOR), k1.target("junior")) == ("K1 level 3", None, 4, 2)
    assert [(category.value, [c.code for c in comps]) for category, clusters in parts.groups for _cluster, comps in clusters] == \
        [("K", ["K1"]), ("S", ["S1"])]


def test_a_draft_is_read_afresh_each_time(app):
    version = factories.model_version()
    assert published.parts_of(version).competencies[0].name_en == "Competency K1"
    version.competencies[0].name_en = "Renamed"
    assert published.parts_of(version).competencies[0].name_en == "Renamed"


def test_a_version_rebuilt_under_the_same_id_is_read_again(app):
    first = factories.model_version(publish=True)
    db.session.commit()
    first_id = first.id
    assert len(published.parts_of(first).competencies) == 2
    db.session.execute(delete(ModelVersion))  # as a restore does: the rows go, their parts with them (ON DELETE CASCADE)
    db.session.commit()
    db.session.expunge_all()
    data = factories.model_data(codes=("K1", "S1", "S2"))
    second = factories.model_version(publish=True, competencies=data["competencies"])
    db.session.commit()
    assert second.id == first_id or db.engine.dialect.name == "postgresql"  # SQLite takes the freed id again
    assert [c.code for c in published.parts_of(second).competencies] == ["K1", "S1", "S2"]
