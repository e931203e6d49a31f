"""Single sign-on against a real OpenID Connect provider (tests/oidc_provider.py, Authlib's authorization server on
a loopback port): the browser's part is played by the Flask test client for KIA and `requests` for the provider's
authorize endpoint; every call KIA makes to the provider (discovery, token, JWKS, userinfo) is real HTTP."""
from __future__ import annotations

import dataclasses
import re
import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from kia.app import create_app
from kia.auth.models import UserIdentity
from kia.config import Settings
from kia.orgs.models import Membership, User
from tests.oidc_provider import Account, Provider


@pytest.fixture(scope="module")
def provider():
    started = Provider().start()
    yield started
    started.stop()


@pytest.fixture
def idp(provider):
    provider.reset()
    yield provider
    provider.reset()


def sso_settings(settings: Settings, idp: Provider, **changes) -> Settings:
    values = dict(oidc_issuer=idp.issuer, oidc_client_id=idp.client.client_id,
                  oidc_client_secret=idp.client.client_secret, oidc_display_name="Stadens inloggning")
    return dataclasses.replace(settings, **{**values, **changes})


@pytest.fixture
def sso_app(settings, session_factory, idp):
    app = create_app(sso_settings(settings, idp), session_factory=session_factory)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def browser(sso_app):
    return sso_app.test_client()


def to_provider(browser, next_url: str | None = None) -> str:
    """Press the sign-in page's button: KIA's redirect to the provider's authorize endpoint."""
    start = browser.get("/login/oidc" + ("?" + urlencode({"next": next_url}) if next_url else ""))
    assert start.status_code == 302, start.get_data(as_text=True)
    return start.location


def at_provider(authorize_url: str) -> str:
    """The provider's answer (real HTTP): its redirect back to KIA's callback, as a path and query for the client."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return f"{back.path}?{back.query}"


def sso(browser, idp: Provider, account: Account | None = None, next_url: str | None = None):
    if account is not None:
        idp.account = account
    return browser.get(at_provider(to_provider(browser, next_url)))


def signed_in(browser) -> bool:
    return browser.get("/me").status_code == 200


def identities(db, issuer: str) -> list[UserIdentity]:
    return db.scalars(select(UserIdentity).where(UserIdentity.issuer == issuer)).all()


def count_users(db) -> int:
    return db.scalar(select(func.count()).select_from(User))


def alert(response) -> str:
    found = re.search(r'<p class="error" role="alert" id="login-error">([^<]*)</p>', response.get_data(as_text=True))
    return found.group(1) if found else ""


# ---- the button and the request sent to the provider ------------------------------------------------------------

def test_the_sign_in_page_has_the_button_when_single_sign_on_is_set_up(browser, client):
    page = browser.get("/login").get_data(as_text=True)
    assert 'href="/login/oidc">Logga in med Stadens inloggning</a>' in page
    assert "/login/oidc?next=/me" in browser.get("/login?next=/me").get_data(as_text=True)
    # The default app has no KIA_OIDC_*: no button, and the routes say single sign-on is not set up.
    assert "/login/oidc" not in client.get("/login").get_data(as_text=True)
    off = client.get("/login/oidc")
    assert off.status_code == 400 and "inte konfigurerad" in alert(off)
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 400


def test_the_authorization_request_uses_pkce_s256_a_state_and_a_nonce(browser, idp):
    authorize = urlsplit(to_provider(browser))
    assert f"{authorize.scheme}://{authorize.netloc}" == idp.issuer   # found by discovery
    args = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert args["response_type"] == "code"
    assert args["client_id"] == idp.client.client_id
    assert set(args["scope"].split()) == {"openid", "email", "profile"}
    assert args["code_challenge_method"] == "S256" and len(args["code_challenge"]) == 43
    assert len(args["state"]) >= 20 and len(args["nonce"]) >= 20
    assert args["redirect_uri"] == "http://127.0.0.1:5000/login/oidc/callback"
    assert args["ui_locales"] == "sv"
    second = {k: v[0] for k, v in parse_qs(urlsplit(to_provider(browser)).query).items()}
    assert {second["state"], second["nonce"], second["code_challenge"]}.isdisjoint(
        {args["state"], args["nonce"], args["code_challenge"]})


# ---- who the sign-in is -----------------------------------------------------------------------------------------

def test_the_first_sign_in_creates_a_user_with_no_role_and_the_second_reuses_the_identity(browser, sso_app, idp,
                                                                                        db, tree):
    before = count_users(db)
    response = sso(browser, idp, Account("sub-ny-1", "Nina.Ny@Skola.Stockholm.se", name="Nina Ny"))
    assert response.status_code == 302 and response.location == "/"
    assert signed_in(browser)
    with browser.session_transaction() as session:
        assert session["auth_method"] == "oidc"
    user = db.scalar(select(User).where(User.email == "nina.ny@skola.stockholm.se"))
    assert user is not None and user.name == "Nina Ny" and user.password_hash is None and user.active
    assert db.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id)) == 0
    assert count_users(db) == before + 1
    [identity] = identities(db, idp.issuer)
    assert (identity.subject, identity.user_id) == ("sub-ny-1", user.id)
    first_used = identity.last_used_at

    # Again, from a fresh browser: the identity decides, even with the address changed at the provider.
    again = sso_app.test_client()
    response = sso(again, idp, Account("sub-ny-1", "nina.gift@skola.stockholm.se", name="Nina Gift"))
    assert response.status_code == 302 and signed_in(again)
    assert count_users(db) == before + 1
    db.expire_all()
    [identity] = identities(db, idp.issuer)
    assert identity.user_id == user.id and identity.last_used_at >= first_used
    assert db.get(User, user.id).email == "nina.ny@skola.stockholm.se"


def test_a_verified_address_links_the_existing_user_and_keeps_their_roles(browser, idp, db, make, tree):
    existing = make.user(("handler", "S1"), name="Hanna Handläggare")
    before = count_users(db)
    response = sso(browser, idp, Account("sub-hanna", existing.email.upper(), email_verified=True), next_url="/me")
    assert response.status_code == 302 and response.location == "/me"
    page = browser.get("/me").get_data(as_text=True)
    assert "<h1>Hanna Handläggare</h1>" in page and "handler" in page
    assert count_users(db) == before
    [identity] = identities(db, idp.issuer)
    assert identity.user_id == existing.id


def test_an_unverified_address_with_no_linked_identity_is_refused(browser, idp, db, make, tree):
    existing = make.user(("handler", "S1"))
    before = count_users(db)
    response = sso(browser, idp, Account("sub-unverified", existing.email, email_verified=False))
    assert response.status_code == 401
    assert "har inte verifierat din e-postadress" in alert(response)
    assert not signed_in(browser)
    assert identities(db, idp.issuer) == [] and count_users(db) == before
    # Nor does an unverified address make a new user.
    response = sso(browser, idp, Account("sub-unverified-2", "okand@skola.stockholm.se", email_verified=False))
    assert response.status_code == 401 and count_users(db) == before


def test_the_address_may_come_from_the_userinfo_endpoint(browser, idp, db, tree):
    idp.email_in_id_token = False
    response = sso(browser, idp, Account("sub-userinfo", "ulla.info@skola.stockholm.se"))
    assert response.status_code == 302 and signed_in(browser)
    [identity] = identities(db, idp.issuer)
    assert identity.user.email == "ulla.info@skola.stockholm.se"


def test_a_deactivated_user_is_refused_matched_by_address_or_by_identity(browser, sso_app, idp, db, make, tree):
    by_address = make.user(("reporter", "S1"))
    by_address.active = False
    db.commit()
    response = sso(browser, idp, Account("sub-inactive", by_address.email))
    assert response.status_code == 401 and "avaktiverat" in alert(response)
    assert not signed_in(browser) and identities(db, idp.issuer) == []

    linked = sso_app.test_client()
    assert sso(linked, idp, Account("sub-linked", "lina.lankad@skola.stockholm.se")).status_code == 302
    [identity] = identities(db, idp.issuer)
    identity.user.active = False
    db.commit()
    later = sso_app.test_client()
    response = sso(later, idp)
    assert response.status_code == 401 and "avaktiverat" in alert(response)
    assert not signed_in(later)
    assert not signed_in(linked)   # the session of before is signed out too (the user loader's rule)


# ---- what an attacker or a broken provider sends ---------------------------------------------------------------

def test_a_wrong_or_missing_state_is_refused(browser, idp, db, tree):
    idp.account = Account("sub-state", "stina.state@skola.stockholm.se")
    callback = at_provider(to_provider(browser))
    tampered = re.sub(r"state=[^&]+", "state=not-the-one-sent", callback)
    response = browser.get(tampered)
    assert response.status_code == 400 and "state" in alert(response)
    response = browser.get(re.sub(r"&?state=[^&]+", "", callback))
    assert response.status_code == 400 and "state" in alert(response)
    # An answer to a sign-in another browser started (a login CSRF): this browser has no such state.
    other_browser_callback = at_provider(to_provider(browser))
    from_elsewhere = browser.application.test_client().get(other_browser_callback)
    assert from_elsewhere.status_code == 400
    assert not signed_in(browser) and identities(db, idp.issuer) == []


def test_an_id_token_with_another_nonce_is_refused(browser, idp, db, tree):
    idp.id_token_extra = {"nonce": "a-nonce-of-another-sign-in"}
    response = sso(browser, idp, Account("sub-nonce", "nils.nonce@skola.stockholm.se"))
    assert response.status_code == 400 and "nonce" in alert(response)
    assert not signed_in(browser) and identities(db, idp.issuer) == []


def test_an_id_token_from_another_issuer_is_refused(browser, idp, db, tree):
    idp.id_token_extra = {"iss": "http://127.0.0.1:9/another-provider"}
    response = sso(browser, idp, Account("sub-iss", "isak.iss@skola.stockholm.se"))
    assert response.status_code == 400 and "annan inloggningstjänst" in alert(response)
    assert not signed_in(browser) and identities(db, idp.issuer) == []


@pytest.mark.parametrize("extra", [{"aud": ["another-client"]}, {"exp": 1_000_000_000}])
def test_an_id_token_for_another_client_or_expired_is_refused(browser, idp, db, tree, extra):
    idp.id_token_extra = extra
    response = sso(browser, idp, Account("sub-aud", "alva.aud@skola.stockholm.se"))
    assert response.status_code == 400 and "kunde inte verifieras" in alert(response)
    assert not signed_in(browser) and identities(db, idp.issuer) == []


def test_an_id_token_signed_with_a_key_not_in_the_providers_jwks_is_refused(browser, idp, db, tree):
    idp.signing_key = RSAKey.generate_key(2048, parameters={"alg": "RS256"})
    response = sso(browser, idp, Account("sub-forged", "fia.forged@skola.stockholm.se"))
    assert response.status_code == 400 and "kunde inte verifieras" in alert(response)
    assert not signed_in(browser) and identities(db, idp.issuer) == []


def test_the_providers_error_is_shown(browser, idp):
    idp.deny = "access_denied"
    response = sso(browser, idp, Account("sub-denied", "dan.denied@skola.stockholm.se"))
    assert response.status_code == 401 and "avbröts eller nekades" in alert(response)
    idp.deny = "temporarily_unavailable"
    response = sso(browser, idp)
    assert response.status_code == 401 and "(temporarily_unavailable)" in alert(response)
    assert not signed_in(browser)


def test_a_provider_that_cannot_be_reached_gets_a_page_not_a_500(settings, session_factory, idp):
    with socket.socket() as closed:   # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = create_app(sso_settings(settings, idp, oidc_issuer=f"http://127.0.0.1:{port}"),
                     session_factory=session_factory)
    response = app.test_client().get("/login/oidc")
    assert response.status_code == 502 and "kan inte nås" in alert(response)


def test_messages_are_in_english_for_an_english_browser(browser, idp):
    idp.deny = "access_denied"
    idp.account = Account("sub-en", "eve.english@skola.stockholm.se")
    response = browser.get(at_provider(to_provider(browser)), headers={"Accept-Language": "en"})
    assert "cancelled or refused" in alert(response)


# ---- settings ----------------------------------------------------------------------------------------------------

def test_settings_need_issuer_and_client_id_together_and_never_show_the_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("KIA_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("KIA_OIDC_ISSUER", "https://login.stad.example/")
    with pytest.raises(ValueError, match="KIA_OIDC_CLIENT_ID"):
        Settings.from_env(instance_path=tmp_path)
    monkeypatch.setenv("KIA_OIDC_CLIENT_ID", "kia")
    monkeypatch.setenv("KIA_OIDC_CLIENT_SECRET", "the-client-secret-123")
    configured = Settings.from_env(instance_path=tmp_path)
    assert configured.oidc_enabled and configured.oidc_issuer == "https://login.stad.example"
    assert "the-client-secret-123" not in repr(configured)
    monkeypatch.setenv("KIA_OIDC_ISSUER", "http://login.stad.example")
    with pytest.raises(ValueError, match="https"):
        Settings.from_env(instance_path=tmp_path)
    for name in ("KIA_OIDC_ISSUER", "KIA_OIDC_CLIENT_ID", "KIA_OIDC_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    assert not Settings.from_env(instance_path=tmp_path).oidc_enabled
