"""Setting a password ends the user's other web sessions: a changed own password keeps the session that changed
it and signs out the rest, an admin's new password signs out all of them, and a cookie from before the session
epoch (a bare user id) is a visitor's, not an error. API tokens are not sessions and stay valid."""
from __future__ import annotations

import pytest

from kia.orgs.services import create_user
from tests.web.test_account import NEW_PASSWORD, change
from tests.web.test_login import PASSWORD, csrf_token, sign_in
from tests.web.test_two_factor import enrol, send_code

EN = {"Accept-Language": "en"}


@pytest.fixture
def staff(db, tree):
    return create_user(db, "maja.medarbetare@skola.stockholm.se", "Maja Medarbetare", PASSWORD, [("reporter", "S1")])


@pytest.fixture
def two_browsers(app, staff):
    """Two clients signed in as the same user with the password, as two browsers are."""
    browsers = app.test_client(), app.test_client()
    for browser in browsers:
        assert sign_in(browser, staff.email, PASSWORD).status_code == 302
        assert browser.get("/me").status_code == 200
    return browsers


def signed_out(browser) -> bool:
    response = browser.get("/me")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_changing_ones_password_keeps_this_session_and_ends_the_others(db, staff, two_browsers):
    this, other = two_browsers
    response = change(this, PASSWORD, NEW_PASSWORD, **EN)
    assert response.status_code == 200 and "Your password is changed." in response.get_data(as_text=True)
    assert this.get("/me").status_code == 200 and this.get("/account/password").status_code == 200
    assert signed_out(other)
    assert signed_out(other)   # and stays so: the old session does not come back
    assert sign_in(other, staff.email, NEW_PASSWORD).status_code == 302 and other.get("/me").status_code == 200
    assert this.get("/me").status_code == 200   # signing in elsewhere ends no session


def test_a_refused_change_ends_no_session(staff, two_browsers):
    this, other = two_browsers
    assert change(this, "fel-lösenord-123", NEW_PASSWORD).status_code == 422
    assert this.get("/me").status_code == 200 and other.get("/me").status_code == 200


def test_an_admin_setting_the_password_ends_every_session_of_the_user(app, db, staff, two_browsers):
    admin = create_user(db, "ada.admin@stockholm.se", "Ada Admin", PASSWORD, [("admin", "STHLM")], language="en")
    admins = app.test_client()
    totp, _ = enrol(db, admin)   # an admin signs in with a second factor (web.two_factor)
    assert sign_in(admins, admin.email, PASSWORD).status_code == 302
    assert send_code(admins, totp.now()).status_code == 302
    response = admins.post(f"/admin/users/{staff.id}/password", headers=EN, data={
        "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD,
        "csrf_token": csrf_token(admins, f"/admin/users/{staff.id}")})
    assert response.status_code == 302
    assert all(signed_out(browser) for browser in two_browsers)
    assert admins.get("/me").status_code == 200   # the admin's own session is not the user's
    first, _ = two_browsers
    assert sign_in(first, staff.email, NEW_PASSWORD).status_code == 302 and first.get("/me").status_code == 200


def test_a_session_cookie_from_before_the_epoch_is_signed_out_not_an_error(client, staff):
    for old in (str(staff.id), f"{staff.id}:", f"{staff.id}:x", f":{staff.session_epoch}", "x:0", ""):
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = old, True
        assert signed_out(client), old
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = staff.get_id(), True
    assert client.get("/me").status_code == 200   # the same user in the current shape is signed in


def test_api_tokens_outlive_a_password_change(app, make, staff, two_browsers):
    token = make.token(staff, ["incidents:read"])
    this, _ = two_browsers
    assert change(this, PASSWORD, NEW_PASSWORD).status_code == 200
    response = app.test_client().get("/api/v1/my/incidents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
