"""Webhooks: a JSON POST signed with HMAC-SHA256 of the body under the subscription's secret."""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from kia.outbox.models import Notification, WebhookSubscription
from notifications.channels import DeliveryFailed, DeliveryRefused

TIMEOUT = 5   # seconds
SIGNATURE_HEADER = "X-KIA-Signature"
TIMESTAMP_HEADER = "X-KIA-Timestamp"
DELIVERY_HEADER = "X-KIA-Delivery"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would send the signed body somewhere the admin never configured: treat it as an error.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subject_of(kind: str) -> str:
    """What the payload is about, as the body's key: an alarm (for the SMS/push gateway), a drill, else a case."""
    if kind.startswith("alarm"):
        return "alarm"
    return "drill" if kind.startswith("drill") else "case"


def body_for(row: Notification, now: datetime) -> bytes:
    """The delivery key lets a receiver drop a repeat; the timestamp is inside the signed body against replays."""
    document: dict[str, Any] = {"delivery": row.dedupe_key, "kind": str(row.kind),
                                "timestamp": int(now.timestamp()), subject_of(str(row.kind)): row.payload}
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def post(subscription: WebhookSubscription | None, row: Notification, now: datetime) -> None:
    if subscription is None or not subscription.active:
        raise DeliveryRefused("webhook subscription inactive or removed")
    body = body_for(row, now)
    request = urllib.request.Request(subscription.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "KIA-webhook/1",
        SIGNATURE_HEADER: signature(body, subscription.secret),
        TIMESTAMP_HEADER: str(int(now.timestamp())), DELIVERY_HEADER: row.dedupe_key})
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"webhook not reachable: {type(reason).__name__}: {reason}"[:300]) from error
    if not 200 <= status < 300:
        raise DeliveryFailed(f"webhook answered HTTP {status}")
