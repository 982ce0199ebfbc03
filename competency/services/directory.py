"""Sign-in against the bank's LDAP / Active Directory (used only when LDAP_URL is set).

Two ways to find and check a person, chosen by the configuration:

* Bind DN template (LDAP_BIND_DN_TEMPLATE, e.g. ``uid={username},ou=people,dc=bank,dc=example``): the
  username, escaped as an RDN value, is put into the template and the server is asked to bind as that DN
  with the password; the person's own entry is then read with that connection.
* Search, then bind (LDAP_SEARCH_BASE and LDAP_SEARCH_FILTER, default ``(uid={username})``): a service
  account (LDAP_BIND_DN / LDAP_BIND_PASSWORD; an anonymous search when LDAP_BIND_DN is unset) searches the
  base with the filter, the username escaped for filters; exactly one entry must match, and a second
  connection binds as that entry's DN with the password.

Either way, an empty password is refused before the server is asked (LDAP treats a DN with an empty
password as an "unauthenticated bind", which many servers accept), the staff number and email are read
from LDAP_STAFF_NO_ATTRIBUTE and LDAP_EMAIL_ATTRIBUTE, and every network step is bounded by
LDAP_TIMEOUT_SECONDS.

Roles: LDAP_GROUP_ROLES maps group DNs to roles (``<group DN>=<role>;<group DN>=<role>``). The groups whose
``member`` (groupOfNames, Active Directory groups) or ``uniqueMember`` (groupOfUniqueNames) holds the person's
DN are searched under the parent of each mapped group DN; the person's roles are the mapped roles of those
groups plus ``employee`` (every person is an employee). Nested groups are not followed. With no mapping
configured the roles are None and the application keeps the roles it has.

A wrong password or an unknown person gives None; a server that cannot be reached or used (refused
connection, timeout, rejected service account, unusable configuration) raises DirectoryUnavailable, so the
caller can fall back to the local break-glass accounts and say so.
"""
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..models import Role

with warnings.catch_warnings():
    # ldap3 2.9.1 imports tagMap/typeMap, which pyasn1 >= 0.6.1 deprecates: nothing for us to act on.
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    from ldap3 import ANONYMOUS, BASE, NO_ATTRIBUTES, NONE, SIMPLE, SUBTREE, Connection, Server
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn, parse_dn

DEFAULT_TIMEOUT = 5
_DN_ESCAPE = re.compile(rb"\\([0-9A-Fa-f]{2})|\\(.)", re.DOTALL)


@dataclass
class DirectoryUser:
    """A person the directory vouched for: staff number, email and (when mapped) roles."""

    staff_no: str
    email: str | None
    roles: set[Role] | None  # None: no LDAP_GROUP_ROLES mapping, keep the local roles


class DirectoryUnavailable(Exception):
    """The directory cannot be reached or used (down, timeout, misconfigured): only local accounts can sign in."""


def enabled(config) -> bool:
    """Whether sign-in goes to the directory (LDAP_URL is set)."""
    return bool(config.get("LDAP_URL"))


def group_roles(config) -> dict[str, set[Role]]:
    """LDAP_GROUP_ROLES parsed into group DN -> roles; ValueError names a malformed entry."""
    mapping: dict[str, set[Role]] = {}
    for item in (config.get("LDAP_GROUP_ROLES") or "").split(";"):
        if not item.strip():
            continue
        group_dn, _, role = item.strip().rpartition("=")
        try:
            parse_dn(group_dn.strip(), strip=True)
            mapping.setdefault(group_dn.strip(), set()).add(Role(role.strip().lower()))
        except (LDAPException, ValueError) as error:
            raise ValueError(f"LDAP_GROUP_ROLES: cannot read {item.strip()!r} as <group DN>=<role>") from error
    return mapping


def authenticate(identifier: str, password: str, config) -> DirectoryUser | None:
    """The directory's person for these credentials, or None (unknown, wrong or empty password)."""
    username = (identifier or "").strip()
    if not username or not password:
        return None
    try:
        if config.get("LDAP_BIND_DN_TEMPLATE"):
            return _authenticate_by_template(username, password, config)
        if config.get("LDAP_SEARCH_BASE"):
            return _authenticate_by_search(username, password, config)
        raise DirectoryUnavailable("LDAP_URL is set but neither LDAP_BIND_DN_TEMPLATE nor LDAP_SEARCH_BASE is")
    except LDAPException as error:
        raise DirectoryUnavailable(f"LDAP directory at {config.get('LDAP_URL')}: {error}") from error
    except ValueError as error:
        raise DirectoryUnavailable(str(error)) from error


def _authenticate_by_template(username: str, password: str, config) -> DirectoryUser | None:
    """Bind as the DN made from the template, then read the person's entry with that connection."""
    user_dn = config["LDAP_BIND_DN_TEMPLATE"].replace("{username}", escape_rdn(username))
    with _bound(config, user_dn, password) as connection:
        if connection is None:
            return None
        found = connection.search(user_dn, "(objectClass=*)", BASE, attributes=_attributes(config),
                                  time_limit=_timeout(config))
        entries = _entries(connection) if found else []
        return _directory_user(connection, entries[0], config) if entries else None


def _authenticate_by_search(username: str, password: str, config) -> DirectoryUser | None:
    """Find the one entry with the service account, bind as it with the password, then read its groups."""
    with _service_connection(config) as service:
        query = (config.get("LDAP_SEARCH_FILTER") or "(uid={username})").replace("{username}", escape_filter_chars(username))
        service.search(config["LDAP_SEARCH_BASE"], query, SUBTREE, attributes=_attributes(config),
                       size_limit=2, time_limit=_timeout(config))
        entries = _entries(service)
        if len(entries) != 1:
            return None  # unknown, or ambiguous: never guess which person is meant
        with _bound(config, entries[0]["dn"], password) as connection:
            if connection is None:
                return None
        return _directory_user(service, entries[0], config)


@contextmanager
def _service_connection(config) -> Iterator[Connection]:
    """A connection bound as the service account (anonymous when LDAP_BIND_DN is unset), closed afterwards."""
    bind_dn, bind_password = config.get("LDAP_BIND_DN"), config.get("LDAP_BIND_PASSWORD")
    if bind_dn and not bind_password:
        raise DirectoryUnavailable("LDAP_BIND_DN is set without LDAP_BIND_PASSWORD")
    with _bound(config, bind_dn or None, bind_password or None) as connection:
        if connection is None:
            raise DirectoryUnavailable(f"LDAP service account {bind_dn!r} was refused")
        yield connection


@contextmanager
def _bound(config, user_dn: str | None, password: str | None) -> Iterator[Connection | None]:
    """A connection bound as user_dn (anonymous when None), or None when the server refuses; always closed."""
    server = Server(config["LDAP_URL"], connect_timeout=_timeout(config), get_info=NONE)
    connection = Connection(server, user=user_dn, password=password, authentication=SIMPLE if user_dn else ANONYMOUS,
                            receive_timeout=_timeout(config), read_only=True, raise_exceptions=False, auto_referrals=False)
    try:
        yield connection if connection.bind() else None
    finally:
        connection.unbind()
        if connection.socket is not None:  # ldap3 keeps the socket of a failed connect (refused, timed out) open
            connection.socket.close()


def _directory_user(connection: Connection, entry: dict, config) -> DirectoryUser | None:
    """The person of an entry (None without a staff number), with roles from their groups when mapped."""
    attributes = entry["attributes"]
    staff_no = _first(attributes, config.get("LDAP_STAFF_NO_ATTRIBUTE") or "uid")
    if not staff_no:
        return None
    email = _first(attributes, config.get("LDAP_EMAIL_ATTRIBUTE") or "mail")
    return DirectoryUser(staff_no=staff_no, email=email or None, roles=_roles(connection, entry["dn"], config))


def _roles(connection: Connection, user_dn: str, config) -> set[Role] | None:
    """The mapped roles of the person's groups plus employee; None when no mapping is configured."""
    mapping = group_roles(config)
    if not mapping:
        return None
    by_dn = {}
    for group_dn, roles in mapping.items():
        by_dn.setdefault(_normal_dn(group_dn), set()).update(roles)
    roles = {Role.EMPLOYEE}
    for group_dn in _groups_of(connection, user_dn, {_parent_dn(dn) for dn in mapping}, config):
        roles |= by_dn.get(_normal_dn(group_dn), set())
    return roles


def _groups_of(connection: Connection, user_dn: str, bases: set[str], config) -> set[str]:
    """DNs of the groups under the bases whose member or uniqueMember is user_dn."""
    member = escape_filter_chars(user_dn)
    found = set()
    for base in sorted(bases):
        if connection.search(base, f"(|(member={member})(uniqueMember={member}))", SUBTREE,
                             attributes=NO_ATTRIBUTES, time_limit=_timeout(config)):
            found.update(entry["dn"] for entry in _entries(connection))
    return found


def _entries(connection: Connection) -> list[dict]:
    """The entries of the last search (referrals left out)."""
    return [item for item in connection.response or [] if item.get("type") == "searchResEntry"]


def _first(attributes, name: str) -> str | None:
    """The first value of an attribute (names compared without case), stripped; None when absent."""
    for key, value in attributes.items():
        if key.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            return str(values[0]).strip() if values and values[0] is not None else None
    return None


def _attributes(config) -> list[str]:
    """The attributes read from a person's entry."""
    return [config.get("LDAP_STAFF_NO_ATTRIBUTE") or "uid", config.get("LDAP_EMAIL_ATTRIBUTE") or "mail"]


def _timeout(config) -> int:
    """Seconds allowed for connecting and for each answer."""
    return int(config.get("LDAP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)


def _parent_dn(dn: str) -> str:
    """The DN one level up (the DN itself when it has a single RDN)."""
    parts = parse_dn(dn, strip=True)
    first_rdn_end = next((index for index, (_, _, separator) in enumerate(parts) if separator == ","), None)
    if first_rdn_end is None:
        return dn
    return "".join(f"{kind}={value}{separator}" for kind, value, separator in parts[first_rdn_end + 1:])


def _normal_dn(dn: str) -> str:
    """A DN in one comparable spelling: escapes decoded, spaces around separators dropped, lower case."""
    return "".join(f"{kind.strip().lower()}={_unescape(value).strip().lower()}{separator}"
                   for kind, value, separator in parse_dn(dn, strip=True))


def _unescape(value: str) -> str:
    """An RDN value without its RFC 4514 escapes (hex pairs read as UTF-8)."""
    raw = _DN_ESCAPE.sub(lambda match: bytes.fromhex(match[1].decode()) if match[1] else match[2], value.encode())
    return raw.decode(errors="replace")
