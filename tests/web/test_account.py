"""One's own account on the web: password change, the language switch, and the limits on failed sign-ins."""
from __future__ import annotations

import re

import pytest

from kia.auth.account import FAILURES_PER_ACCOUNT, FAILURES_PER_CLIENT
from kia.auth.passwords import MIN_PASSWORD_LENGTH, verify_password
from kia.orgs.services import create_user
from tests.web.test_login import PASSWORD, csrf_token, sign_in

NEW_PASSWORD = "ett-nytt-lösenord-2026"


@pytest.fixture
def staff(db, tree):
    return create_user(db, "maja.medarbetare@skola.stockholm.se", "Maja Medarbetare", PASSWORD, [("reporter", "S1")])


def change(client, current: str, new: str, repeat: str | None = None, **headers):
    return client.post("/account/password", headers=headers, data={
        "current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat,
        "csrf_token": csrf_token(client, "/account/password")})


@pytest.mark.parametrize("language, text", [("sv", "Logga ut"), ("en", "Change password")])
def test_the_password_page_renders_in_both_languages(client, staff, language, text):
    sign_in(client, staff.email, PASSWORD)
    response = client.get("/account/password", headers={"Accept-Language": language})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<html lang="{language}">' in html and text in html
    assert f"{MIN_PASSWORD_LENGTH}" in html
    assert 'for="current_password"' in html and 'for="repeat_password"' in html


def test_the_password_is_changed_with_the_right_current_password(client, db, staff):
    sign_in(client, staff.email, PASSWORD)
    response = change(client, PASSWORD, NEW_PASSWORD, **{"Accept-Language": "en"})
    assert response.status_code == 200 and "Your password is changed." in response.get_data(as_text=True)
    db.refresh(staff)
    assert verify_password(staff.password_hash, NEW_PASSWORD)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert sign_in(client, staff.email, PASSWORD).status_code == 401
    assert sign_in(client, staff.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current, new, repeat, field", [
    ("fel-lösenord-123", NEW_PASSWORD, None, "current_password"),
    (PASSWORD, "kort", None, "new_password"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "repeat_password"),
    (PASSWORD, PASSWORD, None, "new_password"),
])
def test_a_refused_change_says_why_at_the_field_and_keeps_the_password(client, db, staff, current, new, repeat, field):
    sign_in(client, staff.email, PASSWORD)
    response = change(client, current, new, repeat)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and f'href="#{field}"' in html and 'role="alert"' in html
    db.refresh(staff)
    assert verify_password(staff.password_hash, PASSWORD)


def test_a_password_change_without_the_csrf_token_is_refused(client, db, staff):
    sign_in(client, staff.email, PASSWORD)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                      "repeat_password": NEW_PASSWORD})
    assert response.status_code == 400
    db.refresh(staff)
    assert verify_password(staff.password_hash, PASSWORD)


def test_failed_sign_ins_are_limited_per_account_the_same_whether_the_email_exists(client, app, staff):
    for _ in range(FAILURES_PER_ACCOUNT):
        assert sign_in(client, staff.email, "fel-lösenord-123").status_code == 401
    limited = sign_in(client, staff.email, PASSWORD, **{"Accept-Language": "en"})   # even the right password
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "Too many failed sign-ins" in limited.get_data(as_text=True)

    other = app.test_client()
    for _ in range(FAILURES_PER_ACCOUNT):
        sign_in(other, "ingen@skola.stockholm.se", "fel-lösenord-123")
    unknown = sign_in(other, "ingen@skola.stockholm.se", PASSWORD, **{"Accept-Language": "en"})
    assert unknown.status_code == 429
    # The same page but for the session's token and the minutes left (a window may end between the two).
    def normalised(response, session_client) -> str:
        return re.sub(r"\d+", "N", response.get_data(as_text=True).replace(csrf_token(session_client), "CSRF"))
    assert normalised(unknown, other) == normalised(limited, client)


def test_another_client_may_still_sign_in_to_a_limited_account(client, app, staff):
    for _ in range(FAILURES_PER_ACCOUNT):
        sign_in(client, staff.email, "fel-lösenord-123")
    elsewhere = app.test_client()
    response = elsewhere.post("/login", environ_base={"REMOTE_ADDR": "192.0.2.7"},
                              data={"email": staff.email, "password": PASSWORD, "csrf_token": csrf_token(elsewhere)})
    assert response.status_code == 302


def test_failed_sign_ins_are_limited_per_client_across_accounts(client, staff):
    for n in range(FAILURES_PER_CLIENT):
        sign_in(client, f"gissning{n}@skola.stockholm.se", "fel-lösenord-123")
    assert sign_in(client, staff.email, PASSWORD).status_code == 429


def test_the_language_switch_persists_in_the_session_and_for_the_user(client, db, staff):
    sign_in(client, staff.email, PASSWORD)
    response = client.post("/language", data={"language": "en", "next": "/my-reports",
                                              "csrf_token": csrf_token(client, "/me")},
                           headers={"Accept-Language": "sv"})
    assert response.status_code == 302 and response.location == "/my-reports"
    db.refresh(staff)
    assert staff.language == "en"
    # The choice beats what the browser sends, on every page after.
    html = client.get("/my-reports", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign out" in html
    assert 'value="sv" lang="sv">Svenska</button>' in html


def test_a_language_chosen_before_signing_in_is_kept_and_remembered(client, db, staff):
    client.post("/language", data={"language": "en", "next": "//evil.example", "csrf_token": csrf_token(client)})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    sign_in(client, staff.email, PASSWORD)
    assert '<html lang="en">' in client.get("/me").get_data(as_text=True)
    db.refresh(staff)
    assert staff.language == "en"


def test_the_language_switch_needs_the_csrf_token_and_a_known_language(client, staff):
    assert client.post("/language", data={"language": "en"}).status_code == 400
    client.post("/language", data={"language": "de", "csrf_token": csrf_token(client)})
    assert '<html lang="sv">' in client.get("/login").get_data(as_text=True)
