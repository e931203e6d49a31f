"""Browser tests: the real app on a loopback port with its own committed database, driven by Playwright in
Debian's Chromium, with axe-core checking every page against WCAG 2.1 AA and screenshots under test-output/."""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from kia import migrate
from kia.app import create_app
from kia.config import Settings
from kia.db import make_engine, make_session_factory
from kia.orgs.services import create_user
from kia.seed import ensure_reference_data
from tests.conftest import POSTGRES_URL, REPO_ROOT, TZ, _fresh_postgres
from tests.factories import THREAT_FIELDS, Factory

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
# The machine's network is closed: without these Chromium keeps trying Google's hosts (machine doc).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "e2e-password-2026"
PHONE = {"width": 390, "height": 844}


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run .ci/install-browser)"
    if not AXE.exists():
        return f"{AXE.relative_to(REPO_ROOT)} is missing (run .ci/install-browser)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    # CI installs the browser (.ci/run sets KIA_REQUIRE_BROWSER=1): there a missing part fails the run.
    here = Path(__file__).parent
    browser_tests = [item for item in items if here in Path(str(item.fspath)).parents]
    if browser_tests and os.environ.get("KIA_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"KIA_REQUIRE_BROWSER=1 but {reason}")
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=f"browser tests: {reason}"))


# ---- the live server --------------------------------------------------------------------------

class _AccessLog(WSGIRequestHandler):
    """Request lines as `kia serve`'s access log has them: no client address, and no query string (an admin's
    search for a user by name or e-mail), which the run's log check (tests/logcheck.py) would rightly refuse."""

    access = logging.getLogger("werkzeug")   # not `log`: the handler has a method of that name

    def log_request(self, code="-", size="-") -> None:
        self.access.info('"%s %s" %s', self.command, urlsplit(self.path).path, getattr(code, "value", code))


def _e2e_database_url(tmp_path_factory) -> str:
    # Its own database with real commits: the rolled-back test transaction cannot be shared with the
    # server's threads. On PostgreSQL a sibling of the test database, fresh each run.
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        return _fresh_postgres(url.set(database=f"{url.database}_e2e").render_as_string(hide_password=False))
    return f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'kia-e2e.db'}"


@pytest.fixture(scope="session")
def e2e_engine(tmp_path_factory):
    engine = make_engine(_e2e_database_url(tmp_path_factory), pool_size=10)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_reference_data(session)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(e2e_engine, tmp_path_factory):
    """The whole app (web + API) served from a thread on a free loopback port; yields its base URL."""
    settings = Settings(instance_path=tmp_path_factory.mktemp("e2e-instance"), database_url=str(e2e_engine.url),
                        secret_key="e2e-" + uuid.uuid4().hex, timezone=TZ, session_cookie_secure=False)
    app = create_app(settings, session_factory=make_session_factory(e2e_engine))
    _AccessLog.access.setLevel(logging.INFO)   # as werkzeug's own request log would set it
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_AccessLog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    # Links in e-mails point at this server.
    app.extensions["kia"].settings = dataclasses.replace(settings, base_url=base_url)
    yield base_url
    server.shutdown()
    thread.join(timeout=5)


@dataclass
class World:
    """Data the scenarios file against, committed in the e2e database: the factories' tree and users
    who sign in with PASSWORD."""

    session: Session
    make: Factory

    def user(self, *roles: tuple[str, str], name: str | None = None, language: str = "sv"):
        email = f"e2e-{uuid.uuid4().hex[:10]}@test.kia.se"
        return create_user(self.session, email, name or email.split("@")[0], PASSWORD, list(roles), language=language)


@pytest.fixture(scope="session")
def world(e2e_engine) -> World:
    session = Session(e2e_engine, expire_on_commit=False)
    make = Factory(session)
    make.tree()
    yield World(session, make)
    session.close()


# ---- the browser ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """A factory of pages in fresh contexts (own cookies), e.g. new_page(viewport=PHONE)."""
    contexts = []

    def open_page(viewport: dict | None = None, language: str = "sv"):
        # bypass_csp: the app's CSP (script-src 'self') would refuse axe-core, injected as inline script.
        context = browser.new_context(base_url=live_server, bypass_csp=True, locale=language,
                                      viewport=viewport or {"width": 1280, "height": 900},
                                      extra_http_headers={"Accept-Language": language})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return result["violations"]


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}"
                  for node in v["nodes"][:5]]
    return "\n".join(lines)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page, name: str) -> None:
    """Screenshot the page, then assert axe-core finds no WCAG 2.1 AA violations on it."""
    screenshot(page, name)
    violations = axe_violations(page)
    assert not violations, f"axe-core on {name} ({page.url}):\n{_describe(violations)}"


def choose(page, name: str, value: str) -> None:
    """A type field is radios or a select, depending on its number of choices."""
    radio = page.locator(f"input[name='{name}'][value='{value}']")
    if radio.count():
        radio.check()
    else:
        page.select_option(f"select[name='{name}']", value)


def fill_threat(page) -> None:
    """The report form of a threat: a member of staff threatened in a corridor, with the type's own fields."""
    page.fill("#occurred_at", "2026-03-10")
    page.fill("#occurred_at-time", "09:30")
    page.fill("#location", "Korridor plan 2")
    page.fill("#description", "Elev hotade läraren efter en tillsägelse.")
    page.select_option("select[name='persons[0].role']", "affected")
    page.select_option("select[name='persons[0].category']", "staff")
    page.select_option("select[name='persons[0].gender']", "female")
    for key, value in THREAT_FIELDS.items():
        choose(page, f"fields.{key}", value)


def sign_in(page, user, password: str = PASSWORD) -> None:
    """With the password; an admin, who must have a second factor, sets one up with the key the page shows
    (web.two_factor; the flow itself is tests/e2e/test_two_factor.py)."""
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=password]) [type=submit]")
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/two-factor/enrol":   # an admin's first sign-in is sent there
        enrol_second_factor(page)


def enrol_second_factor(page) -> str:
    """Confirm the enrolment page's key with its current code; returns the key."""
    import pyotp

    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("form:has(#code) [type=submit]")
    page.wait_for_load_state()
    return secret
