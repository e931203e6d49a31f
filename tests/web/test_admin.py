"""Admin pages: city-wide admins only (403 for others, as the API), CSRF on every form, the services' rules
and messages at the fields."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from kia.cases.models import AccessLogEntry, Case
from kia.orgs.models import OrgUnit, Role
from kia.orgs.services import user_by_email
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind
from notifications.channels.email import mail_folder
from tests.factories import incident_body

CONFIG_PAGES = ["/admin/units", "/admin/users", "/admin/types", "/admin/types/new", "/admin/types/fire",
                "/admin/rules", "/admin/mail"]
ANY_ADMIN_PAGES = ["/admin", "/admin/notifications", "/admin/access-log"]
EN = {"Accept-Language": "en"}


def sign_in(client, user) -> str:
    """Signs `user` in and returns the session's CSRF token for the forms."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["two_factor_verified"] = True   # as after the second step (web.two_factor)
        session["csrf"] = "test-csrf-token"
    return "test-csrf-token"


@pytest.fixture
def admin(client, make, tree):
    user = make.user(("admin", "STHLM"), language="en")
    return user, sign_in(client, user)


def html(response) -> str:
    return response.get_data(as_text=True)


def test_signed_out_are_sent_to_sign_in(client, tree):
    for page in CONFIG_PAGES + ANY_ADMIN_PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.location, page


@pytest.mark.parametrize("roles", [(("handler", "STHLM"),), (("analyst", "STHLM"),), (("reporter", "S1"),)])
def test_others_are_forbidden(client, make, tree, roles):
    sign_in(client, make.user(*roles))
    for page in CONFIG_PAGES + ANY_ADMIN_PAGES:
        assert client.get(page).status_code == 403, page


def test_an_administration_admin_reviews_its_log_and_failures_but_not_configuration(client, make, tree):
    sign_in(client, make.user(("admin", "UTBF")))
    for page in ANY_ADMIN_PAGES:
        assert client.get(page).status_code == 200, page
    for page in CONFIG_PAGES:
        assert client.get(page).status_code == 403, page


def test_every_page_renders_with_one_h1(client, admin):
    for page in CONFIG_PAGES + ANY_ADMIN_PAGES:
        response = client.get(page, headers=EN)
        assert response.status_code == 200, page
        assert html(response).count("<h1") == 1, page


def test_every_form_carries_the_csrf_token_and_a_post_without_it_is_refused(client, admin):
    user, token = admin
    for page in CONFIG_PAGES + ANY_ADMIN_PAGES + [f"/admin/users/{user.id}"]:
        body = html(client.get(page))
        assert body.count('method="post"') == body.count(f'name="csrf_token" value="{token}"'), page
    assert client.post("/admin/units", data={"code": "NEW", "name": "Ny", "kind": "unit", "parent": "GRU"}
                       ).status_code == 400


def test_units_tree_and_adding_one(client, admin, db):
    _, token = admin
    page = html(client.get("/admin/units", headers=EN))
    assert page.index("Stockholms stad") < page.index("Utbildningsförvaltningen") < page.index("Skola Ett")
    response = client.post("/admin/units", data={"csrf_token": token, "code": "s3", "name": "Skola Tre",
                                                 "kind": "unit", "parent": "GRU"})
    assert response.status_code == 302
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == "S3"))
    assert unit.parent.code == "GRU" and unit.path.startswith(unit.parent.path)
    assert "Unit S3 added." in html(client.get("/admin/units", headers=EN))


def test_a_unit_with_a_taken_code_is_shown_at_the_field(client, admin):
    _, token = admin
    response = client.post("/admin/units", headers=EN, data={"csrf_token": token, "code": "S1", "name": "Dubblett",
                                                             "kind": "unit", "parent": "GRU"})
    assert response.status_code == 422
    body = html(response)
    assert 'id="code-error">The code is already in use.' in body
    assert 'aria-describedby="code-error"' in body and 'value="Dubblett"' in body  # nothing typed is lost


def test_create_a_user_then_add_and_remove_a_role(client, admin, db):
    _, token = admin
    response = client.post("/admin/users", data={"csrf_token": token, "name": "Ny Rektor", "email": "Ny@Test.kia.se",
                                                 "password": "", "language": "sv", "role": "handler", "unit": "S2"})
    assert response.status_code == 302
    user = user_by_email(db, "ny@test.kia.se")
    assert [(m.role, m.org_unit.code) for m in user.memberships] == [(Role.HANDLER, "S2")]
    assert user.password_hash is None

    assert client.post(f"/admin/users/{user.id}/memberships",
                       data={"csrf_token": token, "role": "safety_rep", "unit": "S1"}).status_code == 302
    again = client.post(f"/admin/users/{user.id}/memberships", headers=EN,
                        data={"csrf_token": token, "role": "safety_rep", "unit": "S1"})
    assert again.status_code == 422 and "already holds this role" in html(again)
    db.expire_all()
    membership = next(m for m in user.memberships if m.role == Role.SAFETY_REP)
    assert client.post(f"/admin/users/{user.id}/memberships/{membership.id}/remove",
                       data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert [m.role for m in user.memberships] == [Role.HANDLER]
    assert client.get("/admin/users/999999").status_code == 404


def test_user_errors_are_shown_at_their_fields(client, admin):
    _, token = admin
    response = client.post("/admin/users", headers=EN, data={
        "csrf_token": token, "name": "", "email": "not-an-address", "password": "short", "language": "sv",
        "role": "handler", "unit": "NOPE"})
    assert response.status_code == 422
    body = html(response)
    for field in ("name", "email", "password", "unit"):
        assert f'id="{field}-error"' in body, field




def test_failed_notifications_are_listed_and_sent_again(client, admin, db, make):
    _, token = admin
    recipient = make.user(("handler", "S1"))
    row = Notification(dedupe_key="test-failed-1", user_id=recipient.id, channel=Channel.EMAIL,
                       kind=next(iter(NotificationKind)), status=DeliveryStatus.FAILED, attempts=10,
                       last_error="connection refused")
    db.add(row)
    db.commit()
    page = html(client.get("/admin/notifications", headers=EN))
    assert recipient.email in page and "connection refused" in page
    assert client.post(f"/admin/notifications/{row.id}/resend", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    # Sent again already: a second press says so instead of queuing it twice.
    assert client.post(f"/admin/notifications/{row.id}/resend", data={"csrf_token": token}).status_code == 302
    assert "Only a failed notification" in html(client.get("/admin/notifications", headers=EN))


def test_local_mail_folder_is_listed_and_read(client, admin, settings):
    folder = mail_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = "20261120T101500123456Z-abc.eml"
    (folder / name).write_bytes(b"Subject: Nytt arende UTBF-2026-00001\r\nTo: rektor@test.kia.se\r\n"
                                b"Date: Fri, 20 Nov 2026 10:15:00 +0000\r\nMessage-ID: <x@kia>\r\n\r\nSe arendet.\r\n")
    assert "Nytt arende UTBF-2026-00001" in html(client.get("/admin/mail"))
    message = client.get(f"/admin/mail/{name}")
    assert message.status_code == 200 and "Se arendet." in html(message)
    assert client.get("/admin/mail/..%2Fsecret_key").status_code == 404
    assert client.get("/admin/mail/nope.eml").status_code == 404


def test_access_log_lists_reads(client, admin, db, api):
    api.as_roles(("reporter", "S1")).file(incident_body())
    case = db.scalar(select(Case).order_by(Case.id.desc()))
    reader = api.make.user(("handler", "S1"), name="Läsande Rektor")
    db.add(AccessLogEntry(case_id=case.id, user_id=reader.id, action="read", at=datetime.now(timezone.utc)))
    db.commit()
    page = html(client.get("/admin/access-log", headers=EN))
    assert "Läsande Rektor" in page and case.number in page
    assert "Läsande Rektor" not in html(client.get(f"/admin/access-log?case_id={case.id + 1}"))
