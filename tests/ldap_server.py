"""A real OpenLDAP server for the directory tests: Debian's slapd, run on a free local port from a temp dir.

`running_slapd(workdir)` writes an old-style slapd.conf (mdb backend, the core/cosine/inetorgperson/nis
schemas, suffix dc=bank,dc=example), loads the people, service account and groups below with `slapadd`,
starts `slapd -d 0` in the foreground as a child process, waits until it accepts connections and yields a
`Directory` (its URL and the data). The process is terminated on exit. Anonymous and unauthenticated
binds (a DN with an empty password) are allowed on purpose, so the tests prove the client refuses them.
"""
import base64
import hashlib
import os
import secrets
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = "/etc/ldap/schema"
MODULE_DIR = "/usr/lib/ldap"
MISSING = "slapd not installed (apt-get install slapd ldap-utils)"
START_TIMEOUT = 15.0

SUFFIX = "dc=bank,dc=example"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
READER_DN = f"cn=reader,ou=services,{SUFFIX}"
READER_PASSWORD = "reader-secret"


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    mail: str | None = None

    @property
    def dn(self) -> str:
        """The entry's DN under ou=people (the uid escaped as an RDN value)."""
        return f"uid={escape_value(self.uid)},{PEOPLE}"


@dataclass(frozen=True)
class Directory:
    url: str
    people: dict[str, Person]
    groups: dict[str, str] = field(default_factory=dict)  # name -> group DN
    suffix: str = SUFFIX
    people_base: str = PEOPLE
    reader_dn: str = READER_DN
    reader_password: str = READER_PASSWORD


PEOPLE_DATA = {
    "E9001": Person("E9001", "Employee#1", "e9001@bank.example"),
    "H9001": Person("H9001", "Hr-pass#1", "h9001@bank.example"),
    "S9001": Person("S9001", "Sup-pass#1", "s9001@bank.example"),
    "N9001": Person("N9001", "No-mail#1"),  # no mail attribute
    "Smith, J": Person("Smith, J", "Comma#1", "smith@bank.example"),  # a DN-special character in the uid
}
# group name -> (object class, member attribute, member uids)
GROUP_DATA = {
    "hr": ("groupOfNames", "member", ["H9001"]),
    "supervisors": ("groupOfNames", "member", ["S9001", "H9001"]),
    "trainers": ("groupOfUniqueNames", "uniqueMember", ["S9001"]),
    "unmapped": ("groupOfNames", "member", ["E9001"]),
}
# A non-person entry that an unescaped username "E9001,ou=decoy" would reach in bind-template mode.
DECOY_DN = f"uid=E9001,ou=decoy,{PEOPLE}"
DECOY_PASSWORD = "Decoy#1"


def missing_reason() -> str | None:
    """Why no server can run here, or None when slapd and slapadd are installed."""
    return None if os.path.exists(SLAPD) and os.path.exists(SLAPADD) else MISSING


def require_slapd() -> None:
    """Skip when slapd is missing; fail instead when CI demands the LDAP tests (COMPETENCY_REQUIRE_LDAP=1)."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("COMPETENCY_REQUIRE_LDAP") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def escape_value(value: str) -> str:
    """Escape a value for a DN (RFC 4514, enough for the test data)."""
    for char in "\\,+\"<>;=":
        value = value.replace(char, "\\" + char)
    return value


def ssha(password: str) -> str:
    """An {SSHA} userPassword value, as slappasswd makes."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slapd_conf(workdir: Path) -> str:
    """The server's configuration: schemas, one mdb database, open read access."""
    schemas = "\n".join(f"include {SCHEMA_DIR}/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis"))
    return f"""{schemas}
pidfile {workdir}/slapd.pid
argsfile {workdir}/slapd.args
modulepath {MODULE_DIR}
moduleload back_mdb
allow bind_anon_cred bind_anon_dn
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ssha(ADMIN_PASSWORD)}
directory {workdir}/data
index objectClass eq
index uid,member,uniqueMember eq
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
"""


def entry(dn: str, *lines: str) -> str:
    """One LDIF record."""
    return "\n".join((f"dn: {dn}", *lines)) + "\n"


def person_ldif(person: Person) -> str:
    """The inetOrgPerson entry of a person."""
    lines = ["objectClass: inetOrgPerson", f"uid: {person.uid}", f"cn: {person.uid}", f"sn: {person.uid}",
             f"userPassword: {ssha(person.password)}"]
    if person.mail:
        lines.append(f"mail: {person.mail}")
    return entry(person.dn, *lines)


def group_ldif(name: str, object_class: str, attribute: str, uids: list[str]) -> str:
    """A static group listing its members' DNs."""
    return entry(f"cn={name},{GROUPS}", f"objectClass: {object_class}", f"cn: {name}",
                 *(f"{attribute}: {PEOPLE_DATA[uid].dn}" for uid in uids))


def data_ldif() -> str:
    """Every entry of the test directory, parents first."""
    records = [
        entry(SUFFIX, "objectClass: dcObject", "objectClass: organization", "dc: bank", "o: Bank"),
        *(entry(f"ou={ou},{SUFFIX}", "objectClass: organizationalUnit", f"ou: {ou}") for ou in ("people", "groups", "services")),
        entry(READER_DN, "objectClass: organizationalRole", "objectClass: simpleSecurityObject", "cn: reader",
              f"userPassword: {ssha(READER_PASSWORD)}"),
        *(person_ldif(person) for person in PEOPLE_DATA.values()),
        entry(f"ou=decoy,{PEOPLE}", "objectClass: organizationalUnit", "ou: decoy"),
        entry(DECOY_DN, "objectClass: account", "objectClass: simpleSecurityObject", "uid: E9001",
              f"userPassword: {ssha(DECOY_PASSWORD)}"),
        *(group_ldif(name, *spec) for name, spec in GROUP_DATA.items()),
    ]
    return "\n".join(records)


def load(workdir: Path) -> Path:
    """Write the configuration and load the data with slapadd; return the configuration file."""
    (workdir / "data").mkdir()
    conf = workdir / "slapd.conf"
    conf.write_text(slapd_conf(workdir))
    ldif = workdir / "data.ldif"
    ldif.write_text(data_ldif())
    result = subprocess.run([SLAPADD, "-f", str(conf), "-l", str(ldif)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"slapadd failed ({result.returncode}): {result.stderr[-2000:]}")
    return conf


def wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    """Return once the server accepts connections; raise if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"slapd did not listen on port {port} within {START_TIMEOUT}s: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    """Terminate the server and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_slapd(workdir: Path):
    """Run a loaded slapd on a free local port for the duration of the block; yield its `Directory`."""
    conf = load(workdir)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = workdir / "slapd.log"
    with log.open("wb") as output:
        process = subprocess.Popen([SLAPD, "-f", str(conf), "-h", f"{url}/", "-d", "0"],
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(process, port, log)
            yield Directory(url=url, people=dict(PEOPLE_DATA),
                            groups={name: f"cn={name},{GROUPS}" for name in GROUP_DATA})
        finally:
            stop(process)
