"""Webhooks against a real HTTP server on 127.0.0.1: signed JSON the receiver can verify, retried on a
non-2xx answer or when nobody listens, sent once."""
import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from kia.errors import ValidationFailed
from kia.outbox.models import Channel, DeliveryStatus, NotificationKind
from notifications import admin
from notifications.channels.webhook import SIGNATURE_HEADER
from notifications.dispatcher import dispatch
from tests.notifications.conftest import NOW, PUPIL_NAME, PUPIL_NUMBER, file_victimisation, free_port, notify, rows_of


@pytest.fixture
def city_admin(tree, make):
    return make.actor(("admin", "STHLM"))


def verify(secret: str, headers, body: bytes) -> bool:
    """What a receiving system does: recompute the HMAC and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers[SIGNATURE_HEADER])


def test_signed_delivery_the_receiver_verifies(db, session_factory, settings, receiver, city_admin, reporter):
    case = file_victimisation(db, reporter)   # first: filing's own notices are not this test's
    hook, secret = admin.create_webhook(db, city_admin, "Ärendesystem", receiver.url, org_unit="GRU",
                                        kinds=["new_case"])
    notify(db, case, NotificationKind.NEW_CASE, [])
    notify(db, case, NotificationKind.CLOSED, [])   # not a kind the hook asked for

    assert dispatch(session_factory, settings, NOW).sent == 1
    assert dispatch(session_factory, settings, NOW + timedelta(hours=1)).sent == 0
    [(headers, body)] = receiver.requests
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"new_case", b"closed"))
    document = json.loads(body)
    assert document["kind"] == "new_case" and document["case"]["case_number"] == case.number
    assert document["delivery"] == f"test:new_case:{case.id}:w{hook.id}"
    assert headers["X-KIA-Timestamp"] == str(document["timestamp"])
    assert PUPIL_NAME not in body.decode() and PUPIL_NUMBER not in body.decode()


def test_non_2xx_and_no_listener_are_retried(db, session_factory, settings, receiver, city_admin, reporter):
    case = file_victimisation(db, reporter)
    admin.create_webhook(db, city_admin, "Flaky", receiver.url)
    notify(db, case, NotificationKind.NEW_CASE, [])
    receiver.statuses = [500, 302]   # a redirect is not followed: it is an error too

    assert dispatch(session_factory, settings, NOW).retried == 1
    [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.WEBHOOK]
    assert row.last_error == "webhook answered HTTP 500"
    assert dispatch(session_factory, settings, row.next_attempt_at).retried == 1
    assert rows_of(db, "test:")[-1].last_error == "webhook answered HTTP 302"
    assert dispatch(session_factory, settings, NOW + timedelta(hours=1)).sent == 1
    assert len(receiver.requests) == 3
    assert rows_of(db, "test:")[-1].status == DeliveryStatus.SENT


def test_unreachable_receiver_is_retried(db, session_factory, settings, city_admin, reporter):
    case = file_victimisation(db, reporter)
    admin.create_webhook(db, city_admin, "Down", f"http://127.0.0.1:{free_port()}/hook")
    notify(db, case, NotificationKind.NEW_CASE, [])
    assert dispatch(session_factory, settings, NOW).retried == 1
    [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.WEBHOOK]
    assert row.last_error.startswith("webhook not reachable")


@pytest.mark.parametrize("url", ["http://example.org/hook", "ftp://127.0.0.1/x", "https://user:pw@example.org/h",
                                 "not a url"])
def test_webhook_addresses_are_https_or_this_machine(db, city_admin, url):
    with pytest.raises(ValidationFailed) as error:
        admin.create_webhook(db, city_admin, "Hook", url)
    assert "url" in error.value.errors
