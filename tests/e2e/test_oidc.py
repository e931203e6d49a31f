"""Single sign-on in the browser: the sign-in page's button, by keyboard, through the real provider
(tests/oidc_provider.py) and back, signed in; and a refusal shown on the sign-in page. axe-checked."""
from __future__ import annotations

import dataclasses
import logging
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from kia.app import create_app
from kia.config import Settings
from kia.db import make_session_factory
from tests.conftest import TZ
from tests.e2e.conftest import _AccessLog, check_page
from tests.oidc_provider import Account, Provider


@pytest.fixture(scope="module")
def provider():
    started = Provider().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def sso_server(e2e_engine, tmp_path_factory, provider):
    """KIA served as in the other browser tests, with single sign-on at the test provider; yields its base URL."""
    settings = Settings(instance_path=tmp_path_factory.mktemp("e2e-sso-instance"), database_url=str(e2e_engine.url),
                        secret_key="e2e-sso-" + uuid.uuid4().hex, timezone=TZ, session_cookie_secure=False,
                        oidc_issuer=provider.issuer, oidc_client_id=provider.client.client_id,
                        oidc_client_secret=provider.client.client_secret, oidc_display_name="Stadens inloggning")
    app = create_app(settings, session_factory=make_session_factory(e2e_engine))
    _AccessLog.access.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_AccessLog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.extensions["kia"].settings = dataclasses.replace(settings, base_url=base_url)
    provider.client.redirect_uris = {base_url + "/login/oidc/callback"}
    yield base_url
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def sso_page(browser, sso_server, provider):
    provider.reset()
    context = browser.new_context(base_url=sso_server, bypass_csp=True, locale="sv",
                                  viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "sv"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    provider.reset()


def test_single_sign_on_through_the_provider_and_back(sso_page, sso_server, provider, world):
    page = sso_page
    page.goto("/login?next=/me")
    button = page.get_by_role("link", name="Logga in med Stadens inloggning")
    assert button.count() == 1
    check_page(page, "login-sso-sv")

    email = f"e2e-sso-{uuid.uuid4().hex[:8]}@test.kia.se"
    provider.account = Account("e2e-" + uuid.uuid4().hex, email, name="Sara Sso")
    button.focus()
    with page.expect_navigation(url=f"{sso_server}/me"):
        page.keyboard.press("Enter")   # to the provider, which approves at once, and back to the callback
    assert provider.requests and provider.requests[-1]["code_challenge_method"] == "S256"
    assert page.locator("h1").inner_text() == "Sara Sso"
    check_page(page, "me-after-sso-sv")


def test_a_refused_single_sign_on_is_told_on_the_sign_in_page(sso_page, sso_server, provider, world):
    page = sso_page
    page.goto("/login")
    provider.account = Account("e2e-" + uuid.uuid4().hex, f"e2e-sso-{uuid.uuid4().hex[:8]}@test.kia.se",
                               email_verified=False)
    page.get_by_role("link", name="Logga in med Stadens inloggning").click()
    page.wait_for_url(f"{sso_server}/login/oidc/callback*")
    alert = page.get_by_role("alert")
    assert "har inte verifierat din e-postadress" in alert.inner_text()
    assert page.get_by_role("link", name="Logga in med Stadens inloggning").count() == 1   # try again from here
    check_page(page, "login-sso-refused-sv")
