"""Web sign-in: passwords, no user enumeration, CSRF, safe redirects, security headers, cookies, language."""
from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlencode

import pytest

from kia.app import create_app
from kia.orgs.services import create_user

PASSWORD = "rätt-lösenord-2026"
GENERIC_ERROR_SV = "Fel e-postadress eller lösenord."


@pytest.fixture
def rektor(db, tree):
    return create_user(db, "rita.rektor@skola.stockholm.se", "Rita Rektor", PASSWORD,
                       [("handler", "S1"), ("reporter", "S2")])


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str, next_url: str | None = None, **headers):
    url = "/login" if next_url is None else "/login?" + urlencode({"next": next_url})
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(client)},
                       headers=headers)


def test_the_right_password_redirects_home_and_me_shows_the_users_roles(client, rektor):
    response = sign_in(client, "Rita.Rektor@skola.stockholm.se ", PASSWORD)  # as typed: case and spaces
    assert response.status_code == 302
    assert response.location == "/"
    me = client.get("/me")
    assert me.status_code == 200
    page = me.get_data(as_text=True)
    assert "<h1>Rita Rektor</h1>" in page
    assert "handler – Skola Ett (S1)" in page
    assert "reporter – Skola Två (S2)" in page


def test_me_needs_a_signed_in_user_and_comes_back_after_sign_in(client, rektor):
    response = client.get("/me")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fme"
    assert sign_in(client, rektor.email, PASSWORD, next_url="/me").location == "/me"


def _normalised(response, email: str) -> tuple[int, str]:
    # The page echoes the typed address and carries a per-session CSRF token; everything else must match.
    text = response.get_data(as_text=True).replace(email, "EMAIL")
    return response.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", text)


def test_wrong_password_and_unknown_email_get_the_same_response(client, app, rektor, db):
    wrong_password = sign_in(client, rektor.email, "fel-lösenord-123")
    unknown = sign_in(app.test_client(), "ingen@skola.stockholm.se", PASSWORD)
    assert _normalised(wrong_password, rektor.email) == _normalised(unknown, "ingen@skola.stockholm.se")
    assert wrong_password.status_code == 401
    assert GENERIC_ERROR_SV in wrong_password.get_data(as_text=True)
    assert client.get("/me").status_code == 302  # still not signed in


def test_a_deactivated_user_or_one_without_a_password_cannot_sign_in(client, app, db, rektor, make):
    rektor.active = False
    db.commit()
    refused = sign_in(client, rektor.email, PASSWORD)
    no_password = make.user(("reporter", "S1"))  # demo staff have no password at all
    for password in ("", "kia-timing-equaliser"):
        other = sign_in(app.test_client(), no_password.email, password)
        assert _normalised(other, no_password.email) == _normalised(refused, rektor.email)


@pytest.mark.parametrize("form", [
    {},
    {"csrf_token": "not-the-token"},
    {"csrf_token": "åäö-not-ascii"},
], ids=["missing", "wrong", "non-ascii"])
def test_sign_in_without_the_sessions_csrf_token_is_refused(client, rektor, form):
    csrf_token(client)  # the session has a token; the form does not carry it
    response = client.post("/login", data={"email": rektor.email, "password": PASSWORD, **form})
    assert response.status_code == 400
    assert client.get("/me").status_code == 302


def test_a_csrf_token_from_another_session_is_refused(client, app, rektor):
    foreign = csrf_token(app.test_client())
    csrf_token(client)
    response = client.post("/login", data={"email": rektor.email, "password": PASSWORD, "csrf_token": foreign})
    assert response.status_code == 400


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "http://evil.example/me", "/\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "javascript:alert(1)", "evil.example", "///evil.example",
])
def test_next_never_redirects_off_site(client, rektor, target):
    response = sign_in(client, rektor.email, PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("target", ["/me", "/api/docs?tag=incidents"])
def test_next_keeps_a_same_site_path(client, rektor, target):
    assert sign_in(client, rektor.email, PASSWORD, next_url=target).location == target


def test_logout_needs_a_post_with_the_csrf_token(client, rektor):
    sign_in(client, rektor.email, PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 400
    assert client.get("/me").status_code == 200  # still signed in

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/me").status_code == 302


@pytest.mark.parametrize("url", ["/", "/login", "/api/v1/openapi.json"])
def test_security_headers_are_on_every_response(client, url):
    headers = client.get(url).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def test_session_cookie_is_httponly_and_samesite_lax(client):
    client.get("/login")  # the CSRF token starts the session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # the test settings are plain HTTP, as `make run`


def test_session_cookie_is_secure_by_default(settings, session_factory):
    app = create_app(dataclasses.replace(settings, session_cookie_secure=True), session_factory=session_factory)
    response = app.test_client().get("/login", base_url="https://localhost")
    set_cookie = response.headers["Set-Cookie"]
    assert "; Secure" in set_cookie and "; HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def test_pages_are_swedish_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "<h1>Logga in</h1>" in page
    assert "E-postadress" in page


@pytest.mark.parametrize("accept", ["en", "en-GB,en;q=0.9,sv;q=0.5"])
def test_pages_are_english_when_the_browser_asks(client, rektor, accept):
    page = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Sign in</h1>" in page
    failed = sign_in(client, rektor.email, "fel-lösenord-123", **{"Accept-Language": accept})
    assert "Wrong e-mail address or password." in failed.get_data(as_text=True)


def test_a_signed_in_user_gets_their_own_language(client, db, tree):
    create_user(db, "english@skola.stockholm.se", "Emma English", PASSWORD, [("handler", "S1")], language="en")
    sign_in(client, "english@skola.stockholm.se", PASSWORD)
    page = client.get("/me").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Your roles" in page
