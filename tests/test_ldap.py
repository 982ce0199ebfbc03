"""Directory sign-in against a real OpenLDAP server (tests/ldap_server.py), in both modes."""
import shutil
import socket
import subprocess
import time

import pytest

from competency.models import Role
from competency.services import directory
from competency.services.directory import DirectoryUnavailable, DirectoryUser

from .ldap_server import DECOY_PASSWORD, require_slapd, running_slapd


@pytest.fixture(scope="session")
def ldap(tmp_path_factory):
    """One slapd for the whole run, loaded with the people and groups of tests/ldap_server.py."""
    require_slapd()
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


def group_roles(ldap) -> str:
    """An LDAP_GROUP_ROLES value for the test groups (cn=unmapped stays unmapped)."""
    return f"{ldap.groups['hr']}=hr; {ldap.groups['supervisors']}=supervisor;{ldap.groups['trainers']}=TRAINER"


@pytest.fixture
def template_config(ldap) -> dict:
    """Bind-DN-template mode with a group mapping."""
    return {
        "LDAP_URL": ldap.url,
        "LDAP_BIND_DN_TEMPLATE": f"uid={{username}},{ldap.people_base}",
        "LDAP_GROUP_ROLES": group_roles(ldap),
        "LDAP_TIMEOUT_SECONDS": 3,
    }


@pytest.fixture
def search_config(ldap) -> dict:
    """Search-then-bind mode with the service account and a group mapping."""
    return {
        "LDAP_URL": ldap.url,
        "LDAP_SEARCH_BASE": ldap.people_base,
        "LDAP_SEARCH_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "LDAP_BIND_DN": ldap.reader_dn,
        "LDAP_BIND_PASSWORD": ldap.reader_password,
        "LDAP_STAFF_NO_ATTRIBUTE": "uid",
        "LDAP_EMAIL_ATTRIBUTE": "mail",
        "LDAP_GROUP_ROLES": group_roles(ldap),
        "LDAP_TIMEOUT_SECONDS": 3,
    }


@pytest.fixture(params=["template", "search"])
def config(request, template_config, search_config) -> dict:
    """Each mode in turn."""
    return template_config if request.param == "template" else search_config


def sign_in(ldap, uid: str, config: dict) -> DirectoryUser | None:
    """Authenticate a test person with their own password."""
    return directory.authenticate(uid, ldap.people[uid].password, config)


def test_enabled_only_with_a_url():
    assert directory.enabled({"LDAP_URL": "ldap://directory.bank.example"})
    assert not directory.enabled({"LDAP_URL": None})
    assert not directory.enabled({})


def test_template_mode_returns_staff_number_email_and_mapped_roles(ldap, template_config):
    assert sign_in(ldap, "H9001", template_config) == DirectoryUser(
        staff_no="H9001", email="h9001@bank.example", roles={Role.EMPLOYEE, Role.HR, Role.SUPERVISOR})


def test_search_mode_with_a_service_account(ldap, search_config):
    assert sign_in(ldap, "S9001", search_config) == DirectoryUser(
        staff_no="S9001", email="s9001@bank.example", roles={Role.EMPLOYEE, Role.SUPERVISOR, Role.TRAINER})


def test_search_mode_with_an_anonymous_search(ldap, search_config):
    del search_config["LDAP_BIND_DN"], search_config["LDAP_BIND_PASSWORD"]
    assert sign_in(ldap, "H9001", search_config).roles == {Role.EMPLOYEE, Role.HR, Role.SUPERVISOR}


def test_unmapped_groups_give_just_employee(ldap, config):
    """E9001 is only in cn=unmapped; uniqueMember (groupOfUniqueNames) counts like member."""
    assert sign_in(ldap, "E9001", config).roles == {Role.EMPLOYEE}


def test_no_mapping_keeps_local_roles(ldap, config):
    config["LDAP_GROUP_ROLES"] = ""
    assert sign_in(ldap, "H9001", config) == DirectoryUser(staff_no="H9001", email="h9001@bank.example", roles=None)


def test_missing_email_is_none(ldap, config):
    assert sign_in(ldap, "N9001", config) == DirectoryUser(staff_no="N9001", email=None, roles={Role.EMPLOYEE})


def test_other_staff_number_attribute(ldap, config):
    config["LDAP_STAFF_NO_ATTRIBUTE"] = "cn"
    assert sign_in(ldap, "E9001", config).staff_no == "E9001"
    config["LDAP_STAFF_NO_ATTRIBUTE"] = "employeeNumber"  # absent from the entries: nobody can be linked
    assert sign_in(ldap, "E9001", config) is None


def test_group_dns_match_whatever_their_spelling(ldap, template_config):
    template_config["LDAP_GROUP_ROLES"] = "CN=HR, OU=Groups, DC=bank, DC=example = hr"
    assert sign_in(ldap, "H9001", template_config).roles == {Role.EMPLOYEE, Role.HR}


def test_username_that_needs_escaping_still_signs_in(ldap, config):
    """The uid "Smith, J" holds a comma: escaped in the DN and the filter, it is the person's own."""
    assert sign_in(ldap, "Smith, J", config) == DirectoryUser(staff_no="Smith, J", email="smith@bank.example",
                                                               roles={Role.EMPLOYEE})


def test_surrounding_spaces_are_ignored(ldap, config):
    assert directory.authenticate("  E9001 ", ldap.people["E9001"].password, config).staff_no == "E9001"


def test_wrong_password_is_none(ldap, config):
    assert directory.authenticate("E9001", ldap.people["H9001"].password, config) is None
    assert directory.authenticate("E9001", ldap.people["E9001"].password + "x", config) is None


def test_unknown_user_is_none(ldap, config):
    assert directory.authenticate("X0000", "whatever-1", config) is None


@pytest.mark.parametrize("identifier", ["", "   "])
def test_empty_username_is_none(config, identifier):
    assert directory.authenticate(identifier, "whatever-1", config) is None


@pytest.mark.parametrize("password", ["", None])
def test_empty_password_is_none_though_the_server_accepts_it(ldap, config, password):
    dn = ldap.people["E9001"].dn
    if shutil.which("ldapwhoami"):  # the server does take a DN with an empty password (an unauthenticated bind)
        answer = subprocess.run(["ldapwhoami", "-x", "-H", ldap.url, "-D", dn, "-w", ""],
                                capture_output=True, text=True, timeout=10)
        assert (answer.returncode, answer.stdout.strip()) == (0, "anonymous")
    assert directory.authenticate("E9001", password, config) is None


@pytest.mark.parametrize("identifier", ["*", "*)(uid=*", "H90*", "E9001)(|(uid=*", "E9001\\", "E9001\x00"])
def test_filter_special_characters_match_nothing(ldap, config, identifier):
    """Unescaped, "H90*" would find H9001 and sign in with H9001's password."""
    assert directory.authenticate(identifier, ldap.people["H9001"].password, config) is None


@pytest.mark.parametrize("identifier", ["E9001,ou=decoy", "E9001+cn=x", "E9001;ou=decoy", "uid=E9001", "#E9001", "E9001\\,ou=decoy"])
def test_dn_special_characters_match_nothing(ldap, config, identifier):
    """Unescaped, "E9001,ou=decoy" would bind as uid=E9001,ou=decoy,ou=people,… in bind-template mode."""
    assert directory.authenticate(identifier, DECOY_PASSWORD, config) is None


def test_ambiguous_search_is_none(ldap, search_config):
    """The decoy entry also has uid=E9001: without the objectClass in the filter two entries match."""
    search_config["LDAP_SEARCH_FILTER"] = "(uid={username})"
    assert sign_in(ldap, "E9001", search_config) is None


def test_refused_service_account_is_unavailable(ldap, search_config):
    search_config["LDAP_BIND_PASSWORD"] = "not-the-password"
    with pytest.raises(DirectoryUnavailable, match="service account"):
        sign_in(ldap, "E9001", search_config)
    search_config["LDAP_BIND_PASSWORD"] = ""  # would be an unauthenticated bind: refused before asking
    with pytest.raises(DirectoryUnavailable, match="LDAP_BIND_PASSWORD"):
        sign_in(ldap, "E9001", search_config)


@pytest.mark.parametrize("change", [
    {"LDAP_GROUP_ROLES": "cn=hr,ou=groups,dc=bank,dc=example=boss"},
    {"LDAP_SEARCH_FILTER": "(uid={username}"},
    {"LDAP_BIND_DN_TEMPLATE": None, "LDAP_SEARCH_BASE": None},
])
def test_unusable_configuration_is_unavailable(ldap, config, change):
    config.update(change)
    if "LDAP_SEARCH_FILTER" in change:
        config["LDAP_BIND_DN_TEMPLATE"] = None  # the filter is used in search mode only
        config.update({"LDAP_SEARCH_BASE": ldap.people_base, "LDAP_BIND_DN": ldap.reader_dn,
                       "LDAP_BIND_PASSWORD": ldap.reader_password})
    with pytest.raises(DirectoryUnavailable):
        sign_in(ldap, "H9001", config)


def test_group_roles_names_a_bad_entry():
    assert directory.group_roles({"LDAP_GROUP_ROLES": " cn=a,dc=x=admin ; cn=a,dc=x=hr;"}) == {"cn=a,dc=x": {Role.ADMIN, Role.HR}}
    with pytest.raises(ValueError, match="cn=a,dc=x=chief"):
        directory.group_roles({"LDAP_GROUP_ROLES": "cn=a,dc=x=chief"})


def closed_port() -> int:
    """A local port with nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_config(mode: str, url: str) -> dict:
    """A configuration of either mode for a server that does not answer (no slapd needed)."""
    if mode == "template":
        return {"LDAP_URL": url, "LDAP_BIND_DN_TEMPLATE": "uid={username},ou=people,dc=bank,dc=example", "LDAP_TIMEOUT_SECONDS": 1}
    return {"LDAP_URL": url, "LDAP_SEARCH_BASE": "ou=people,dc=bank,dc=example", "LDAP_BIND_DN": "cn=reader,dc=bank,dc=example",
            "LDAP_BIND_PASSWORD": "reader-secret", "LDAP_TIMEOUT_SECONDS": 1}


@pytest.mark.parametrize("mode", ["template", "search"])
def test_server_down_is_unavailable_at_once(mode):
    config = unreachable_config(mode, f"ldap://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="127.0.0.1"):
        directory.authenticate("E9001", "whatever-1", config)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("mode", ["template", "search"])
def test_server_that_never_answers_is_unavailable_within_the_timeout(mode):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = unreachable_config(mode, f"ldap://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            directory.authenticate("E9001", "whatever-1", config)
        assert time.monotonic() - started < 3
