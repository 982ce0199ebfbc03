"""A domain error that no view handles becomes a translated 4xx page, never a 500; the unit of work owns the
transaction (commit on success, roll back on any exception)."""
import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from competency.errors import Conflict, DomainError, Forbidden, NotFound
from competency.extensions import db
from competency.models import OrgUnit
from competency.services.unit_of_work import unit_of_work

from . import factories

RULE = _l("Only a draft cycle can be edited.")  # a message with a zh translation in the catalogue


@pytest.fixture
def raising_app(make_app, app):
    """An app with one extra page per domain error; it shares the test database."""
    extra = make_app()
    errors = {"rule": DomainError(RULE), "conflict": Conflict(), "missing": NotFound(), "forbidden": Forbidden()}

    @extra.route("/raise/<kind>")
    def raise_(kind):
        with unit_of_work():
            factories.org_unit(code="WRITTEN-BEFORE-THE-ERROR")
            raise errors[kind]

    return extra


@pytest.mark.parametrize(("kind", "status"), [("rule", 400), ("conflict", 409), ("missing", 404), ("forbidden", 403)])
def test_an_unhandled_domain_error_is_a_4xx_page_and_nothing_is_written(raising_app, kind, status):
    client = raising_app.test_client()
    response = client.get(f"/raise/{kind}", headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert b"Something went wrong on our side" not in response.data
    assert db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.code == "WRITTEN-BEFORE-THE-ERROR")) == 0


def test_the_error_page_names_the_broken_rule_in_the_users_language(raising_app):
    client = raising_app.test_client()
    english = client.get("/raise/rule", headers={"Accept-Language": "en"}).data.decode()
    chinese = client.get("/raise/rule", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "Only a draft cycle can be edited." in english
    assert "Only a draft cycle can be edited." not in chinese and "草稿" in chinese
    conflict = client.get("/raise/conflict", headers={"Accept-Language": "en"}).data.decode()
    assert "reload the page" in conflict


def test_units_of_work_nest_and_only_the_outermost_commits(app):
    with unit_of_work():
        with unit_of_work():
            factories.org_unit(code="INNER")
        db.session.rollback()  # still inside the outer unit: the inner one did not commit
    assert db.session.scalar(select(func.count(OrgUnit.id))) == 0
    with pytest.raises(DomainError):
        with unit_of_work():
            factories.org_unit(code="KEPT-ONLY-ON-SUCCESS")
            with unit_of_work():
                raise DomainError("inner failure")
    assert db.session.scalar(select(func.count(OrgUnit.id))) == 0
    with unit_of_work():
        factories.org_unit(code="COMMITTED")
    db.session.rollback()
    assert db.session.scalar(select(OrgUnit.code)) == "COMMITTED"


def test_a_discarded_unit_of_work_writes_nothing(app):
    with unit_of_work() as work:
        factories.org_unit(code="DRY-RUN")
        work.discard()
    assert db.session.scalar(select(func.count(OrgUnit.id))) == 0
