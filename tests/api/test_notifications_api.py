"""Notification API: one's own in-app notifications (newest first, unread filter and count, cursor, mark
read), the digest preference, and for admins failed deliveries, resend and webhooks."""
from dataclasses import replace

import pytest
from sqlalchemy import select

from kia.outbox.models import Notification, NotificationKind, WebhookSubscription
from notifications.dispatcher import dispatch
from tests.notifications.conftest import NOW, file_victimisation, free_port, notify


@pytest.fixture
def handler(tree, make):
    return make.user(("handler", "S1"), language="en")


@pytest.fixture
def cases(db, make, handler):
    reporter = make.actor(("reporter", "S2"))   # no handler there: filing itself tells nobody
    return [file_victimisation(db, reporter) for _ in range(3)]


def test_inbox_newest_first_with_unread_count_and_cursor(api, db, handler, cases, make):
    other = make.user(("handler", "S1"))
    for case in cases:
        notify(db, case, NotificationKind.NEW_CASE, [handler, other])
    client = api.as_user(handler)

    first = client.get("/api/v1/notifications?limit=2").get_json()
    assert [n["case_number"] for n in first["items"]] == [cases[2].number, cases[1].number]
    assert first["unread_count"] == 3 and first["next_cursor"] is not None
    assert first["items"][0]["title"] == f"New case {cases[2].number}: Degrading treatment"   # his language
    assert first["items"][0]["link"].endswith(f"/cases/{cases[2].id}")
    rest = client.get(f"/api/v1/notifications?limit=2&cursor={first['next_cursor']}").get_json()
    assert [n["case_number"] for n in rest["items"]] == [cases[0].number] and rest["next_cursor"] is None

    newest = first["items"][0]["id"]
    read = client.post(f"/api/v1/notifications/{newest}/read")
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    again = client.post(f"/api/v1/notifications/{newest}/read").get_json()
    assert again["read_at"] == read.get_json()["read_at"]   # the first reading counts
    unread = client.get("/api/v1/notifications?unread=true").get_json()
    assert unread["unread_count"] == 2 and newest not in [n["id"] for n in unread["items"]]

    assert api.as_user(other).post(f"/api/v1/notifications/{newest}/read").status_code == 404
    assert client.get("/api/v1/notifications?limit=0").status_code == 400


def test_webhook_rows_are_not_in_anyones_inbox(api, db, handler, cases):
    db.add(WebhookSubscription(name="Fastighet", url="https://example.invalid/hook", secret="s"))
    db.flush()
    notify(db, cases[0], NotificationKind.ASSIGNED, [handler])
    client = api.as_user(handler)
    [item] = client.get("/api/v1/notifications").get_json()["items"]
    hook_row = db.scalar(select(Notification.id).where(Notification.webhook_id.is_not(None)))
    assert hook_row is not None and item["id"] != hook_row
    # A delivery record, not a user's to mark.
    assert client.post(f"/api/v1/notifications/{hook_row}/read").status_code == 404
    assert api.client.get("/api/v1/notifications").status_code == 401


def test_daily_digest_preference(api, handler):
    client = api.as_user(handler)
    url = "/api/v1/me/notification-preferences"
    assert client.get(url).get_json() == {"daily_digest": False}
    changed = api.client.put(url, headers=client.headers, json={"daily_digest": True})
    assert changed.status_code == 200 and changed.get_json() == {"daily_digest": True}
    assert client.get(url).get_json() == {"daily_digest": True}
    bad = api.client.put(url, headers=client.headers, json={"daily_digest": "often", "colour": "red"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"daily_digest", "colour"}
    assert api.client.put(url, headers=client.headers, data="x").status_code == 415


def test_failed_deliveries_and_resend(api, db, session_factory, settings, handler, cases, make):
    notify(db, cases[0], NotificationKind.ASSIGNED, [handler])
    down = replace(settings, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False,
                   notification_max_attempts=1)
    assert dispatch(session_factory, down, NOW).failed == 1

    city_admin = api.as_roles(("admin", "STHLM"))
    [failed] = city_admin.get("/api/v1/admin/notifications/failed").get_json()["items"]
    assert (failed["recipient"], failed["case_number"], failed["attempts"]) == (handler.email, cases[0].number, 1)
    assert "SMTP connection failed" in failed["last_error"]
    assert api.as_roles(("admin", "HAGALV")).get("/api/v1/admin/notifications/failed").get_json()["items"] == []
    assert api.as_roles(("admin", "HAGALV")).post(
        f"/api/v1/admin/notifications/{failed['id']}/resend").status_code == 404   # another subtree
    assert api.as_user(handler).get("/api/v1/admin/notifications/failed").status_code == 403
    assert api.as_roles(("admin", "STHLM"), scopes=["cases:read"]).get(
        "/api/v1/admin/notifications/failed").status_code == 403

    resent = city_admin.post(f"/api/v1/admin/notifications/{failed['id']}/resend")
    assert resent.status_code == 200
    assert (resent.get_json()["status"], resent.get_json()["attempts"]) == ("pending", 0)
    assert city_admin.post(f"/api/v1/admin/notifications/{failed['id']}/resend").status_code == 409
    assert city_admin.get("/api/v1/admin/notifications/failed").get_json()["items"] == []


def test_webhooks_secret_shown_once(api, tree):
    city_admin = api.as_roles(("admin", "STHLM"))
    created = city_admin.post("/api/v1/admin/webhooks", json={
        "name": "Ärendesystem", "url": "http://127.0.0.1:9/hook", "org_unit": "GRU", "kinds": ["new_case"]})
    assert created.status_code == 201
    hook = created.get_json()
    assert len(hook["secret"]) >= 32 and (hook["org_unit"], hook["kinds"]) == ("GRU", ["new_case"])
    [listed] = city_admin.get("/api/v1/admin/webhooks").get_json()
    assert "secret" not in listed and listed["id"] == hook["id"]

    def errors(body):
        answer = city_admin.post("/api/v1/admin/webhooks", json={"name": "x", **body})
        assert answer.status_code == 422
        return set(answer.get_json()["errors"])
    assert errors({"url": "https://h.example/h", "kinds": ["gossip"]}) == {"kinds[0]"}
    assert errors({"url": "http://example.org/h", "org_unit": "NOPE"}) == {"url", "org_unit"}
    assert api.as_roles(("admin", "UTBF")).get("/api/v1/admin/webhooks").status_code == 403

    url = f"/api/v1/admin/webhooks/{hook['id']}"
    assert api.client.delete(url, headers=city_admin.headers).status_code == 204
    assert api.client.delete(url, headers=city_admin.headers).status_code == 404


def test_documented_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/notifications", "/notifications/{notification_id}/read", "/me/notification-preferences",
            "/admin/notifications/failed", "/admin/notifications/{notification_id}/resend", "/admin/webhooks",
            "/admin/webhooks/{webhook_id}"} <= set(paths)
