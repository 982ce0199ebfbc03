"""Fixtures of the browser journeys: a live server on its own seeded SQLite database, Chromium, pages.

The server is independent of the `app` fixtures of tests/conftest.py (which wipe their own database):
it is migrated with `flask db upgrade` and seeded with the demo data, as `make run` does.
"""
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..factories import totp_code

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = "Chromium not installed at /usr/bin/chromium (apt-get install chromium)"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "Demo@2026"
HASH = "pbkdf2:sha256:1000"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
TIMEOUT_MS = 15_000


def chromium_missing_reason() -> str | None:
    """Why the journeys cannot run here, or None when the browser is installed."""
    return None if os.path.exists(CHROMIUM) else CHROMIUM_MISSING


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    """Skip every journey when Chromium is missing; fail instead when CI demands them (COMPETENCY_REQUIRE_E2E=1)."""
    reason = chromium_missing_reason()
    if reason is not None:
        if os.environ.get("COMPETENCY_REQUIRE_E2E") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, _require_chromium):
    """Serve the app, migrated and seeded on a fresh SQLite file, on a free local port; yield its base URL."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from competency import create_app
    from competency.extensions import db
    from competency.services.notifications import runner
    from competency.services.seed import seed_all

    path = tmp_path_factory.mktemp("e2e-db") / "e2e.db"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SECRET_KEY": "e2e-" + "k" * 40,
        "WTF_CSRF_ENABLED": True,
        "TESTING": False,
        "SEEDS_DIR": str(REPO / "seeds"),
        "PASSWORD_HASH_METHOD": HASH,
        "RATELIMIT_ENABLED": False,  # the journeys sign in as the same people many times a minute (test_sign_in)
        "MAIL_SERVER": "127.0.0.1",  # e-mail on (queued, never sent: nothing listens on port 9), so "Forgot password" shows
        "MAIL_PORT": 9,
    })
    app.instance_path = str(tmp_path_factory.mktemp("e2e-instance"))
    with app.app_context():
        upgrade()
        seed_all(app.config["SEEDS_DIR"], probation_months=3, hash_method=HASH)
        # The day's reminders, as `make run` tells them before serving: the server's job consumer would otherwise
        # tell them at its first ten-minute tick, in the middle of a journey that counts the bell.
        runner.run()
        db.session.remove()

    werkzeug_log = logging.getLogger("werkzeug")
    old_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # no access log lines in the test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        werkzeug_log.setLevel(old_level)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser(_require_chromium):
    """One headless Chromium (the Debian package, never a downloaded one) for the whole session."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@dataclass
class Tab:
    """A page in its own browser context, with the console and page errors it produced."""

    context: object
    page: object
    errors: list = field(default_factory=list)


def open_tab(browser, locale: str) -> Tab:
    """A new context (own cookies) and page in the given locale: dialogs accepted, errors recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(context, page)
    page.on("console", lambda message: tab.errors.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: tab.errors.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())  # the app asks window.confirm before irreversible actions
    return tab


@pytest.fixture(scope="module")
def module_tabs(browser):
    """Open tabs for module-scoped prerequisites (a journey shared by several tests); closed at module end."""
    tabs = []

    def make(locale: str = "en-US") -> Tab:
        tab = open_tab(browser, locale)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.context.close()


@pytest.fixture
def page_for(browser, live_server, request):
    """page_for(locale) -> a fresh page ("zh-CN" or "en-US"); its errors are on `page.errors_seen`.

    At the end the last page opened is saved as screenshots/<test name>.png, then every context is closed."""
    tabs = []

    def make(locale: str = "zh-CN"):
        tab = open_tab(browser, locale)
        tabs.append(tab)
        tab.page.errors_seen = tab.errors
        return tab.page

    yield make
    try:
        if tabs and not tabs[-1].page.is_closed():
            SCREENSHOTS.mkdir(exist_ok=True)
            tabs[-1].page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    finally:
        for tab in tabs:
            tab.context.close()


def login(page, base: str, staff_no: str) -> None:
    """Log in through the form (the header's language switch is a submit button too, hence `main`)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/login")
    page.fill("input[name=identifier]", staff_no)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button.primary")
    page.wait_for_url(lambda url: not url.endswith("/login") and "/login?" not in url)
    if "/login/code" in page.url:  # hr and admin: the second factor, from the demo secret
        page.fill("input[name=code]", totp_code(staff_no))
        page.click("main button.primary")
        page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator("nav.mainnav")).to_be_visible()

