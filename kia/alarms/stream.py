"""Server-Sent Events for alarms: the text/event-stream a connected client reads (GET /api/v1/alarms/stream).

On connect the client is sent a `retry:` hint, then every open alarm it receives (event `alarm.open`, no id: a client
reconnecting after a restart sees them at once), then what it missed since its Last-Event-ID, then live events from
the broker as they come, with a heartbeat comment when nothing came for a while. Each live or replayed event has
`id: <AlarmEvent id>`, `event: <kind>` and `data: <JSON>` (kia.alarms.services.present_alarm under "alarm")."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from kia.access.alarms import AlarmAudience
from kia.alarms.broker import Subscription

RETRY_MS = 3000   # how long EventSource waits before it reconnects


def sse(data: dict[str, Any], event: str | None = None, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str))
    return "\n".join(lines) + "\n\n"


def heartbeat() -> str:
    return ": heartbeat\n\n"


def event_stream(subscription: Subscription, audience: AlarmAudience, opening: list[str], last_id: int,
                 heartbeat_seconds: float, max_seconds: float | None) -> Iterator[str]:
    """The stream after the opening chunks (snapshot and replay, built before: the generator touches no database).
    Messages with an id at or below `last_id` were in the replay and are skipped. Ends after `max_seconds` (None:
    never), and the client reconnects with its Last-Event-ID: a proxy's idle and total limits are thus never met."""
    try:
        yield f"retry: {RETRY_MS}\n\n"
        yield from opening
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while deadline is None or time.monotonic() < deadline:
            wait = heartbeat_seconds if deadline is None else max(0.0, min(heartbeat_seconds,
                                                                           deadline - time.monotonic()))
            message = subscription.get(timeout=wait)
            if message is None:
                if deadline is None or time.monotonic() < deadline:
                    yield heartbeat()
                continue
            if message["id"] <= last_id or not audience.receives(message["unit_path"]):
                continue
            last_id = message["id"]
            yield message.get("sse") or sse(message["data"], message["event"], message["id"])
    finally:
        subscription.close()
