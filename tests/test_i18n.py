"""Languages: complete zh catalogue, browser default, stored choice, switcher."""
import os
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from competency.extensions import db
from competency.services import audit

from . import factories

ROOT = Path(__file__).resolve().parent.parent
METHOD_MAP = [("competency/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords={"_": None, "gettext": None, "_l": None, "N_": None, "lazy_gettext": None, "ngettext": (1, 2)},
        directory_filter=lambda path: not os.path.basename(path).startswith("."),  # _macros/, _partials/ count too
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(lang: str):
    with open(ROOT / "competency" / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_translatable_string_has_a_chinese_translation():
    catalog = _catalog("zh")
    def translated(entry) -> bool:
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return all(strings) and not entry.fuzzy

    missing = sorted(m for m in _source_messages() if catalog.get(m) is None or not translated(catalog.get(m)))
    assert missing == [], f"{len(missing)} strings lack a zh translation, e.g. {missing[:10]}"


def test_english_catalogue_lists_every_string():
    catalog = _catalog("en")
    missing = sorted(m for m in _source_messages() if catalog.get(m) is None)
    assert missing == []


def test_browser_language_is_the_default(app, client):
    assert "登录".encode() in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).data
    assert b"Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).data


def test_switcher_changes_the_page_and_is_stored_on_the_account(app, client, login_as):
    account = login_as("employee")
    assert "仪表板".encode() in client.get("/", headers={"Accept-Language": "zh-CN"}).data
    response = client.post("/language", data={"lang": "en", "next": "/"})
    assert response.headers["Location"] == "/"
    assert b"Dashboard" in client.get("/", headers={"Accept-Language": "zh-CN"}).data
    assert db.session.get(type(account), account.id).locale == "en"


def test_stored_choice_wins_over_the_browser_at_next_login(app, client):
    account = factories.user(staff_no="E8001")
    account.locale = "en"
    db.session.commit()
    client.post("/login", data={"identifier": "E8001", "password": factories.PASSWORD})
    assert b"Dashboard" in client.get("/", headers={"Accept-Language": "zh-CN"}).data


def test_error_pages_are_bilingual(app, client, login_as):
    login_as("employee")
    assert "不存在".encode() in client.get("/no-such-page", headers={"Accept-Language": "zh"}).data
    client.post("/language", data={"lang": "en", "next": "/"})
    assert b"does not exist" in client.get("/no-such-page").data
    assert b"permission" in client.get("/admin/users").data


def test_a_name_without_its_english_form_is_shown_in_chinese_wherever_people_are_named(app, client, login_as):
    """One rule for bilingual names (i18n.in_language): the top bar, the accounts page, the audit log and the exports
    fall back to the Chinese name where the English one is empty, and show the English one where there is one."""
    admin = login_as("admin", staff_no="A9", name_zh="王芳", name_en="")
    factories.employee(staff_no="E9", name_zh="李娜", name_en="Li Na")
    audit.record("employee.update", "employee", admin.employee_id, actor=admin)
    db.session.commit()
    english = {"Accept-Language": "en"}
    top_bar = client.get("/", headers=english).data.decode().split('class="who"', 1)[1].split("</a>", 1)[0]
    assert top_bar.endswith(">王芳")
    accounts = client.get("/admin/users", headers=english).data.decode()
    assert "<td>王芳</td>" in accounts
    log = client.get("/admin/audit", headers=english).data.decode()
    assert log.count("王芳 (A9)") == 2  # who did it, and whom it was about
    credits = client.get("/exports/credits.csv", headers=english).data.decode("utf-8-sig").splitlines()
    assert {line.split(",")[1] for line in credits if line.split(",")[0] in ("A9", "E9")} == {"王芳", "Li Na"}
