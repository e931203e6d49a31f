"""The unit and user pages: rename, close and reopen a unit; correct a user, deactivate and reactivate them, set a
password – messages at the fields with what was typed kept, 409 for what the state refuses, 404 for unknown ids,
CSRF on every form, and each page's history."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kia.orgs.models import AdminChange, User
from tests.cases.conftest import filing, people  # noqa: F401 – fixtures
from tests.web.test_admin import EN, html, sign_in
from tests.web.test_login import sign_in as sign_in_with_password

NEW_PASSWORD = "glömt-lösenord-ersatt-2026"


@pytest.fixture
def admin(client, make, tree):
    user = make.user(("admin", "STHLM"), language="en", name="Ada Admin")
    return user, sign_in(client, user)


@pytest.fixture
def rektor(make, tree) -> User:
    return make.user(("handler", "S1"), name="Rita Rektor")


def post(client, url: str, token: str, **data):
    return client.post(url, headers=EN, data={"csrf_token": token, **data})


def test_the_pages_render_for_admins_only_and_unknown_ids_are_404(client, make, admin, rektor, tree):
    for page in (f"/admin/units/{tree['S1'].id}", f"/admin/users/{rektor.id}"):
        response = client.get(page, headers=EN)
        assert response.status_code == 200 and html(response).count("<h1") == 1, page
    _, token = admin
    for url in ("/admin/units/999999", "/admin/users/999999"):
        assert client.get(url).status_code == 404, url
    for url, data in (("/admin/units/999999", {"name": "X"}), ("/admin/units/999999/active", {"active": "false"}),
                      ("/admin/users/999999", {"name": "X", "email": "x@test.kia.se", "language": "sv"}),
                      ("/admin/users/999999/active", {"active": "false"}),
                      ("/admin/users/999999/password", {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}),
                      (f"/admin/users/{rektor.id}/memberships/999999/remove", {})):
        assert post(client, url, token, **data).status_code == 404, url

    sign_in(client, make.user(("admin", "UTBF")))   # an administration's admin: not the organisation's
    for page in (f"/admin/units/{tree['S1'].id}", f"/admin/users/{rektor.id}"):
        assert client.get(page).status_code == 403, page


def test_every_form_carries_the_csrf_token_and_a_post_without_it_changes_nothing(client, db, admin, rektor, tree):
    user, token = admin
    for page in (f"/admin/units/{tree['S1'].id}", f"/admin/users/{rektor.id}", f"/admin/users/{user.id}"):
        body = html(client.get(page))
        assert body.count('method="post"') == body.count(f'name="csrf_token" value="{token}"') > 0, page
    for url, data in ((f"/admin/units/{tree['S1'].id}", {"name": "Ny"}),
                      (f"/admin/units/{tree['S1'].id}/active", {"active": "false"}),
                      (f"/admin/users/{rektor.id}", {"name": "Ny", "email": rektor.email, "language": "sv"}),
                      (f"/admin/users/{rektor.id}/active", {"active": "false"}),
                      (f"/admin/users/{rektor.id}/password",
                       {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})):
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={"csrf_token": "not-the-token", **data}).status_code == 400, url
    db.expire_all()
    assert (rektor.name, rektor.active, rektor.password_hash, tree["S1"].active) == ("Rita Rektor", True, None, True)
    assert db.scalars(select(AdminChange)).all() == []


# ---- a user's page --------------------------------------------------------------------------------

def test_details_are_corrected_and_shown_in_the_history(client, db, admin, rektor):
    _, token = admin
    response = post(client, f"/admin/users/{rektor.id}", token, name="Rita Rektorsson",
                    email="Rita.Rektorsson@Test.kia.se", language="en")
    assert response.status_code == 302 and response.location.endswith(f"/admin/users/{rektor.id}")
    db.expire_all()
    assert (rektor.name, rektor.email, rektor.language) == ("Rita Rektorsson", "rita.rektorsson@test.kia.se", "en")
    page = html(client.get(f"/admin/users/{rektor.id}", headers=EN))
    assert "The details are saved." in page
    history = page[page.index('id="history"'):]
    assert "Rita Rektor</td><td>Rita Rektorsson</td><td>Ada Admin" in history
    assert "<td>Swedish</td><td>English</td>" in history


def test_wrong_details_are_shown_at_their_fields_with_what_was_typed(client, db, admin, rektor, make):
    _, token = admin
    taken = make.user(("reporter", "S1")).email
    response = post(client, f"/admin/users/{rektor.id}", token, name="", email=taken, language="en")
    assert response.status_code == 422
    body = html(response)
    assert 'id="email-error">A user with this e-mail address already exists.' in body
    assert 'id="name-error">A name is required.' in body
    assert 'aria-describedby="email-hint email-error"' in body and 'aria-describedby="name-error"' in body
    assert 'class="error-summary"' in body and 'href="#email"' in body
    assert f'value="{taken}"' in body and '<option value="en" selected>' in body   # nothing typed is lost
    assert "role-error" not in body and body.count('aria-invalid="true"') == 2   # only the form sent
    db.expire_all()
    assert rektor.name == "Rita Rektor"


def test_a_new_password_is_set_never_shown_and_signs_the_user_in(client, app, db, admin, rektor):
    _, token = admin
    refused = post(client, f"/admin/users/{rektor.id}/password", token, new_password=NEW_PASSWORD,
                   repeat_password=NEW_PASSWORD + "!")
    assert refused.status_code == 422
    body = html(refused)
    assert 'id="repeat_password-error">The two new passwords are not the same.' in body
    assert NEW_PASSWORD not in body   # not written back into the form
    short = post(client, f"/admin/users/{rektor.id}/password", token, new_password="kort", repeat_password="kort")
    assert short.status_code == 422 and 'id="new_password-error">At least 10 characters.' in html(short)

    done = post(client, f"/admin/users/{rektor.id}/password", token, new_password=NEW_PASSWORD,
                repeat_password=NEW_PASSWORD)
    assert done.status_code == 302
    page = html(client.get(f"/admin/users/{rektor.id}", headers=EN))
    assert "A new password is set for Rita Rektor." in page and "New password set" in page
    assert NEW_PASSWORD not in page
    assert sign_in_with_password(app.test_client(), rektor.email, NEW_PASSWORD).status_code == 302


def test_an_admin_is_not_offered_to_deactivate_themselves_or_set_their_password_here(client, db, admin):
    user, token = admin
    page = html(client.get(f"/admin/users/{user.id}", headers=EN))
    assert "You cannot deactivate your own account" in page and "Deactivate the account" not in page
    assert 'href="/account/password"' in page and "new_password" not in page
    refused = post(client, f"/admin/users/{user.id}/active", token, active="false")
    assert refused.status_code == 409 and "another administrator can" in html(refused)
    own = post(client, f"/admin/users/{user.id}/password", token, new_password=NEW_PASSWORD,
               repeat_password=NEW_PASSWORD)
    assert own.status_code == 409
    db.expire_all()
    assert user.active and user.password_hash is None


def test_a_deactivated_users_open_session_ends_at_their_next_request(client, app, db, admin, make, tree):
    _, token = admin
    leaving = make.user(("handler", "S1"))
    leaving.password_hash = None
    db.commit()
    post(client, f"/admin/users/{leaving.id}/password", token, new_password=NEW_PASSWORD,
         repeat_password=NEW_PASSWORD)
    theirs = app.test_client()
    assert sign_in_with_password(theirs, leaving.email, NEW_PASSWORD).status_code == 302
    assert theirs.get("/inbox").status_code == 200

    assert post(client, f"/admin/users/{leaving.id}/active", token, active="false").status_code == 302
    ended = theirs.get("/inbox")
    assert ended.status_code == 302 and "/login" in ended.location
    assert sign_in_with_password(theirs, leaving.email, NEW_PASSWORD).status_code == 401

    assert post(client, f"/admin/users/{leaving.id}/active", token, active="true").status_code == 302
    assert sign_in_with_password(theirs, leaving.email, NEW_PASSWORD).status_code == 302


def test_deactivation_shows_the_open_cases_left_to_delegate(client, db, admin, filing, people):
    _, token = admin
    filing.fire()
    filing.fire()
    page = html(client.get(f"/admin/users/{people.handler.user_id}", headers=EN))
    assert "2 open cases are assigned to the user." in page and "Skola Ett (S1): 2" in page
    response = post(client, f"/admin/users/{people.handler.user_id}/active", token, active="false")
    assert response.location.endswith("#account")
    page = html(client.get(f"/admin/users/{people.handler.user_id}", headers=EN))
    assert "is deactivated and can no longer sign in" in page
    assert "2 open cases are assigned to the user." in page and "ask the handlers of these units to delegate" in page
    assert "Reactivate the account of" in page


def test_the_users_list_shows_and_filters_who_is_active(client, admin, make, db):
    _, token = admin
    gone = make.user(("reporter", "S1"), name="Gunnar Gått")
    post(client, f"/admin/users/{gone.id}/active", token, active="false")
    inactive = html(client.get("/admin/users?status=inactive", headers=EN))
    assert "Gunnar Gått</a>" in inactive and "Ada Admin</a></th>" not in inactive
    assert "<td>Deactivated</td>" in inactive and '<option value="inactive" selected>' in inactive
    active = html(client.get("/admin/users?status=active", headers=EN))
    assert "Gunnar Gått</a>" not in active and "Ada Admin</a></th>" in active
    assert "Gunnar Gått" in html(client.get("/admin/users", headers=EN))


# ---- a unit's page --------------------------------------------------------------------------------

def test_the_tree_links_each_unit_and_says_which_are_closed(client, admin, tree):
    _, token = admin
    post(client, f"/admin/units/{tree['F1'].id}/active", token, active="false")
    page = html(client.get("/admin/units", headers=EN))
    assert f'href="/admin/units/{tree["S1"].id}">Skola Ett</a>' in page
    assert page.count("<td>Closed</td>") == 1   # the förskola, and no other


def test_a_unit_is_renamed_and_a_blank_name_is_shown_at_the_field(client, db, admin, tree):
    _, token = admin
    url = f"/admin/units/{tree['S1'].id}"
    blank = post(client, url, token, name="  ")
    assert blank.status_code == 422 and 'id="name-error">A name is required.' in html(blank)
    assert 'href="#name"' in html(blank)
    assert post(client, url, token, name="Engelbrektsskolan").status_code == 302
    page = html(client.get(url, headers=EN))
    assert "<h1>Engelbrektsskolan</h1>" in page and "Skola Ett</td><td>Engelbrektsskolan" in page


def test_closing_waits_for_the_units_under_it_and_reopening_for_the_one_above(client, db, admin, tree):
    _, token = admin
    gru = f"/admin/units/{tree['GRU'].id}"
    page = html(client.get(gru, headers=EN))
    assert "Close them first" in page and "Close Grundskoleavdelningen" not in page
    refused = post(client, f"{gru}/active", token, active="false")
    assert refused.status_code == 409 and "Skola Ett (S1), Skola Två (S2)" in html(refused)
    for code in ("S1", "S2", "GRU"):
        assert post(client, f"/admin/units/{tree[code].id}/active", token, active="false").status_code == 302
    page = html(client.get(gru, headers=EN))
    assert "Grundskoleavdelningen is closed." in page and "Reopen Grundskoleavdelningen" in page
    s1 = f"/admin/units/{tree['S1'].id}"
    assert "Reopen Grundskoleavdelningen first." in html(client.get(s1, headers=EN))
    assert post(client, f"{s1}/active", token, active="true").status_code == 409
    assert post(client, f"{gru}/active", token, active="true").status_code == 302
    assert post(client, f"{s1}/active", token, active="true").status_code == 302
    db.expire_all()
    assert (tree["GRU"].active, tree["S1"].active, tree["S2"].active) == (True, True, False)
    assert "<td>closed</td><td>open</td>" in html(client.get(s1, headers=EN))
