"""Two-factor sign-in in the browser's shape (web.two_factor): the second step after the password, admins' forced
enrolment, admin pages refused without a checked factor, the settings page, an admin's reset, and no secret in the
log. The rules themselves (windows, lock-out's release) are in tests/auth/test_two_factor.py."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pyotp
import pytest

from kia.auth import two_factor
from kia.auth.models import TwoFactor
from kia.db import utcnow
from kia.orgs.models import User
from kia.orgs.services import create_user
from tests.logcheck import leaks
from tests.web.test_login import PASSWORD, csrf_token, sign_in

EN = {"Accept-Language": "en"}


def enrol(db, user) -> tuple[pyotp.TOTP, list[str]]:
    """The user with a confirmed factor, confirmed with the code of 30 seconds ago (the current one is still free)."""
    now = utcnow()
    factor = two_factor.start_enrolment(db, user, now)
    totp = pyotp.TOTP(factor.secret)
    codes = two_factor.confirm_enrolment(db, user, totp.at(now - timedelta(seconds=30)), now)
    return totp, codes


def send_code(client, code: str, **headers):
    token = csrf_token(client, "/two-factor/verify")
    return client.post("/two-factor/verify", data={"code": code, "csrf_token": token}, headers=headers)


def signed_in(client) -> bool:
    return client.get("/me").status_code == 200


@pytest.fixture
def staff(db, tree):
    return create_user(db, "maja.medarbetare@skola.stockholm.se", "Maja Medarbetare", PASSWORD, [("reporter", "S1")])


@pytest.fixture
def admin(db, tree):
    return create_user(db, "ada.admin@stockholm.se", "Ada Admin", PASSWORD, [("admin", "STHLM")])


def test_a_user_without_a_factor_signs_in_with_the_password_alone(client, staff):
    assert sign_in(client, staff.email, PASSWORD).location == "/"
    assert signed_in(client)


def test_with_a_factor_the_password_leads_to_the_second_step_and_only_the_code_signs_in(client, db, staff):
    totp, _ = enrol(db, staff)
    response = sign_in(client, staff.email, PASSWORD, next_url="/me")
    assert response.status_code == 302 and response.location == "/two-factor/verify"
    assert not signed_in(client)   # pending, not signed in
    page = client.get("/two-factor/verify").get_data(as_text=True)
    assert '<label for="code">Kod</label>' in page and 'autocomplete="one-time-code"' in page
    wrong = send_code(client, "000000" if totp.now() != "000000" else "111111")
    assert wrong.status_code == 401 and "Koden stämmer inte" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    right = send_code(client, totp.now())
    assert right.status_code == 302 and right.location == "/me"
    assert signed_in(client)


def test_a_code_used_once_is_refused_the_next_time(app, db, staff):
    totp, _ = enrol(db, staff)
    code = totp.now()
    first, second = app.test_client(), app.test_client()
    sign_in(first, staff.email, PASSWORD)
    assert send_code(first, code).status_code == 302
    sign_in(second, staff.email, PASSWORD)
    assert send_code(second, code).status_code == 401
    assert not signed_in(second)


def test_five_wrong_codes_lock_the_second_step_with_the_time_it_ends(client, db, staff):
    totp, _ = enrol(db, staff)
    sign_in(client, staff.email, PASSWORD)
    wrong = next(c for c in ("123456", "654321", "111111") if c not in {totp.at(utcnow() + timedelta(seconds=s))
                                                                         for s in (-30, 0, 30)})
    for _ in range(4):
        assert send_code(client, wrong).status_code == 401
    locked = send_code(client, wrong, **EN)
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert "Too many wrong codes in a row. Two-factor sign-in is locked until" in text
    until = db.get(TwoFactor, staff.id).locked_until
    assert until is not None
    still = send_code(client, totp.now())   # the right code too, while locked
    assert still.status_code == 429 and "låst till" in still.get_data(as_text=True)
    assert not signed_in(client)
    # The lock is the account's, kept in the database: another browser (or another server process) is locked too.
    other = client.application.test_client()
    sign_in(other, staff.email, PASSWORD)
    assert send_code(other, totp.now()).status_code == 429 and not signed_in(other)


def test_a_recovery_code_signs_in_once(app, db, staff):
    _, codes = enrol(db, staff)
    first, second = app.test_client(), app.test_client()
    sign_in(first, staff.email, PASSWORD)
    assert send_code(first, codes[0]).status_code == 302 and signed_in(first)
    sign_in(second, staff.email, PASSWORD)
    assert send_code(second, codes[0]).status_code == 401 and not signed_in(second)


def test_an_admin_without_a_factor_must_enrol_before_anything_else(client, db, admin):
    assert sign_in(client, admin.email, PASSWORD).status_code == 302
    for path in ("/", "/me", "/admin", "/admin/users", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == "/two-factor/enrol", path
    assert client.get("/api/v1/admin/webhooks").status_code == 403   # the session's cookie on the API too
    page = client.get("/two-factor/enrol")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Administratörer måste använda tvåstegsinloggning" in text
    assert re.search(r'role="img" aria-label="[^"]+"><svg', text)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', text).group(1)
    assert secret == db.get(TwoFactor, admin.id).secret
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "1"
    token = csrf_token(client, "/two-factor/enrol")
    assert client.post("/two-factor/enrol", data={"code": wrong, "csrf_token": token}).status_code == 401
    done = client.post("/two-factor/enrol", data={"code": pyotp.TOTP(secret).now(),
                                                  "csrf_token": csrf_token(client, "/two-factor/enrol")})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/admin").status_code == 200
    assert client.get("/two-factor/enrol").location == "/account/two-factor"   # once on, no second enrolment


def test_an_admin_with_a_factor_signs_in_through_the_second_step(client, db, admin):
    totp, _ = enrol(db, admin)
    assert sign_in(client, admin.email, PASSWORD, next_url="/admin").location == "/two-factor/verify"
    assert client.get("/admin").location.startswith("/login")
    assert send_code(client, totp.now()).location == "/admin"
    assert client.get("/admin").status_code == 200


def test_admin_pages_refuse_an_admin_session_without_a_checked_factor(client, db, admin):
    """A session signed in without the second step (one from before it was required, say) is sent to it."""
    totp, _ = enrol(db, admin)
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = admin.get_id(), True
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.location == "/two-factor/verify"
    assert client.get("/admin").location.startswith("/login")   # no longer signed in: pending the code
    assert send_code(client, totp.now()).location == "/admin/users"
    assert client.get("/admin/users").status_code == 200


def test_a_session_signed_in_through_the_citys_idp_is_not_asked_for_a_second_factor(client, db, admin):
    """Single sign-on (session["auth_method"] == "oidc") leaves the second factor to the IdP."""
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["auth_method"] = admin.get_id(), True, "oidc"
    assert client.get("/admin").status_code == 200


def test_the_settings_page_turns_the_factor_off_with_a_code_and_makes_new_recovery_codes(client, db, staff):
    totp, old = enrol(db, staff)
    sign_in(client, staff.email, PASSWORD)
    send_code(client, old[0])   # the recovery code: the app's current code stays free for what follows
    page = client.get("/account/two-factor", headers=EN).get_data(as_text=True)
    assert "Two-factor sign-in is on" in page and "9 unused recovery codes left." in page
    token = csrf_token(client, "/account/two-factor")
    assert client.post("/account/two-factor/disable", data={"code": "12", "csrf_token": token}).status_code == 401
    renewed = client.post("/account/two-factor/recovery-codes", data={"code": totp.now(), "csrf_token": token})
    assert renewed.status_code == 200
    assert len(re.findall(r"<li><code>[a-z0-9]{5}-[a-z0-9]{5}</code></li>", renewed.get_data(as_text=True))) == 10
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", renewed.get_data(as_text=True))
    off = client.post("/account/two-factor/disable", data={"code": new_codes[0], "csrf_token": token})
    assert off.status_code == 302 and not two_factor.is_enabled(db, staff.id)
    other = client.application.test_client()
    assert sign_in(other, staff.email, PASSWORD).location == "/"


def test_an_admin_cannot_turn_their_factor_off(client, db, admin):
    totp, codes = enrol(db, admin)
    sign_in(client, admin.email, PASSWORD)
    send_code(client, codes[0])
    page = client.get("/account/two-factor", headers=EN).get_data(as_text=True)
    assert "it cannot be turned off" in page and "/account/two-factor/disable" not in page
    refused = client.post("/account/two-factor/disable",
                          data={"code": totp.now(), "csrf_token": csrf_token(client, "/account/two-factor")})
    assert refused.status_code == 409 and two_factor.is_enabled(db, admin.id)


def test_a_city_admin_resets_a_users_factor_from_the_user_page(app, db, admin, staff):
    totp, codes = enrol(db, admin)
    enrol(db, staff)
    staffs = app.test_client()
    sign_in(staffs, staff.email, PASSWORD)
    admins = app.test_client()
    sign_in(admins, admin.email, PASSWORD)
    send_code(admins, codes[0])
    page = admins.get(f"/admin/users/{staff.id}", headers=EN).get_data(as_text=True)
    assert f"/admin/users/{staff.id}/two-factor/reset" in page
    reset = admins.post(f"/admin/users/{staff.id}/two-factor/reset",
                        data={"csrf_token": csrf_token(admins, f"/admin/users/{staff.id}")})
    assert reset.status_code == 302 and not two_factor.is_enabled(db, staff.id)
    history = admins.get(f"/admin/users/{staff.id}", headers=EN).get_data(as_text=True)
    assert "Two-factor sign-in reset" in history
    assert sign_in(app.test_client(), staff.email, PASSWORD).location == "/"   # the password alone again
    refused = admins.post(f"/admin/users/{admin.id}/two-factor/reset",
                          data={"csrf_token": csrf_token(admins, f"/admin/users/{staff.id}")})
    assert refused.status_code == 409 and two_factor.is_enabled(db, admin.id)


def test_no_secret_or_code_reaches_the_log(caplog, app, db, staff, admin):
    caplog.set_level(logging.DEBUG)
    totp, codes = enrol(db, staff)
    client = app.test_client()
    sign_in(client, staff.email, PASSWORD)
    send_code(client, "999999" if totp.now() != "999999" else "888888")
    send_code(client, codes[1])
    admins = app.test_client()
    sign_in(admins, admin.email, PASSWORD)
    page = admins.get("/two-factor/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', page).group(1)
    done = admins.post("/two-factor/enrol", data={"code": pyotp.TOTP(secret).now(),
                                                  "csrf_token": csrf_token(admins, "/two-factor/enrol")})
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    logged = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    staff_secret = db.get(TwoFactor, staff.id).secret
    for value in [staff_secret, secret, *codes, *new_codes, *(c.replace("-", "") for c in codes)]:
        assert value not in logged
    assert leaks(logged, {}) == []
    assert db.get(User, admin.id) is not None
