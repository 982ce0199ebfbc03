"""Signing in to the app through the bank's directory (a real slapd): accounts linked by staff number, roles from
groups, local break-glass accounts that keep working when the directory is down."""
import pytest
from sqlalchemy import select

from competency.extensions import db
from competency.models import Role, User

from . import factories
from .ldap_server import free_port
from .test_ldap import ldap, template_config  # noqa: F401  (fixtures: one slapd, bind-DN-template settings)

EN = {"Accept-Language": "en"}


@pytest.fixture
def directory_app(make_app, app, template_config):  # noqa: F811
    """The app with LDAP sign-in on (bind-DN template, groups mapped to roles)."""
    with_ldap = make_app(**template_config)
    with with_ldap.app_context():
        yield with_ldap


def _login(client, identifier, password):
    return client.post("/login", data={"identifier": identifier, "password": password}, headers=EN)


def _account(staff_no):
    return db.session.scalar(select(User).join(User.employee).where(User.employee.has(staff_no=staff_no)))


def test_a_directory_person_signs_in_and_gets_an_account(directory_app, ldap):  # noqa: F811
    factories.employee(staff_no="E9001")
    db.session.commit()
    client = directory_app.test_client()
    assert _login(client, "E9001", ldap.people["E9001"].password).status_code == 302
    account = _account("E9001")
    assert account.auth_source == "ldap" and account.roles == {Role.EMPLOYEE}
    assert b"managed by the bank" in client.get("/account/password", headers=EN).data


def test_directory_groups_give_roles_and_hr_still_needs_the_second_factor(directory_app, ldap):  # noqa: F811
    factories.employee(staff_no="H9001")
    db.session.commit()
    client = directory_app.test_client()
    assert _login(client, "H9001", ldap.people["H9001"].password).status_code == 302
    assert _account("H9001").roles == {Role.EMPLOYEE, Role.HR, Role.SUPERVISOR}
    assert client.get("/analytics").headers["Location"] == "/account/two-factor"


def test_wrong_directory_password_and_strangers_are_refused_alike(directory_app, ldap):  # noqa: F811
    factories.employee(staff_no="E9001")
    db.session.commit()
    client = directory_app.test_client()
    wrong = _login(client, "E9001", "not-the-password")
    stranger = _login(client, "S9001", ldap.people["S9001"].password)  # in the directory, not among the bank's people
    for response in (wrong, stranger):
        assert response.status_code == 200 and b"Wrong staff number, email or password." in response.data
    assert _account("E9001") is None


def test_break_glass_local_account_works_with_the_directory_up_or_down(make_app, app, ldap, template_config):  # noqa: F811
    factories.user(roles=["admin"], with_employee=False, email="breakglass@bank.cn")
    factories.employee(staff_no="E9001")
    db.session.commit()
    up = make_app(**template_config)
    down = make_app(**dict(template_config, LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT_SECONDS=1))
    for served in (up, down):
        with served.app_context():
            assert _login(served.test_client(), "breakglass@bank.cn", factories.PASSWORD).status_code == 302
    with down.app_context():
        refused = _login(down.test_client(), "E9001", ldap.people["E9001"].password)
        assert b"directory does not answer" in refused.data


def test_a_local_account_stays_local_when_the_directory_also_knows_the_person(make_app, app, ldap, template_config):  # noqa: F811
    local = factories.user(roles=["admin"], staff_no="E9001")  # a break-glass admin the directory also lists
    db.session.commit()
    up = make_app(**template_config)
    with up.app_context():
        assert _login(up.test_client(), "E9001", ldap.people["E9001"].password).status_code == 302
    account = db.session.get(User, local.id)
    assert account.auth_source == "local" and Role.ADMIN in account.roles  # not demoted to the directory's groups
    down = make_app(**dict(template_config, LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT_SECONDS=1))
    with down.app_context():
        assert _login(down.test_client(), "E9001", factories.PASSWORD).status_code == 302
