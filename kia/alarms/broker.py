"""Fan-out of alarm events to the clients connected to this process: an in-process broker (one process, SQLite), or
Redis pub/sub when KIA_REDIS_URL is set, so every gunicorn worker on every host pushes to its own clients.

The broker is only the doorbell: every event is a row (kia.alarms.models.AlarmEvent) committed before it is
published, and a client that missed a message (a lost connection, a restart, Redis away) is sent it from the
database when it reconnects with Last-Event-ID. A message is a JSON-able dict:
{"id": <AlarmEvent id>, "event": "alarm.raised", "alarm_id": 7, "unit_path": "/1/2/5/", "data": {…}, "sse": "…"}
("sse": the event as the stream sends it, made once by the publisher)."""
from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "kia:alarms"
# A client that stops reading (a stalled connection) must not hold the process's memory: past this many waiting
# messages its queue drops the newest, and the client catches up from the database when it reconnects.
QUEUE_LIMIT = 1000


class Subscription:
    """One connected client's queue of messages. `get` waits at most `timeout` seconds (None: nothing came)."""

    def __init__(self, broker: "LocalFanout"):
        self._broker = broker
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(QUEUE_LIMIT)
        self.dropped = 0

    def put(self, message: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._broker.unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class Broker(Protocol):
    def publish(self, message: dict[str, Any]) -> None:
        """Send `message` to every subscriber of every process sharing this broker (call it after the commit)."""

    def subscribe(self) -> Subscription:
        """A new subscription for one connected client; close it when the client goes."""

    def close(self) -> None:
        """Stop (the Redis listener thread and connections)."""


class LocalFanout:
    """This process's subscribers; a message handed to `deliver` goes to each one's queue."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def deliver(self, message: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.put(message)


class InProcessBroker(LocalFanout):
    """For one process (`kia run`, SQLite, the tests): publishing is delivering."""

    def publish(self, message: dict[str, Any]) -> None:
        self.deliver(message)

    def close(self) -> None:
        pass


class RedisBroker(LocalFanout):
    """Publishes on a Redis channel; one listener thread per process reads it and fills the local queues, so a
    thousand clients on a worker share one Redis connection."""

    def __init__(self, url: str, channel: str = CHANNEL):
        import redis

        super().__init__()
        self.channel = channel
        self._redis = redis.Redis.from_url(url, health_check_interval=30)
        self._pubsub = self._redis.pubsub()
        self._pubsub.subscribe(**{channel: self._on_message})
        # Wait for Redis to confirm: a message published once this broker is in use must reach it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            confirmation = self._pubsub.get_message(timeout=0.5)
            if confirmation is not None and confirmation["type"] == "subscribe":
                break
        self._thread = self._pubsub.run_in_thread(sleep_time=1.0, daemon=True,
                                                  exception_handler=self._on_listener_error)

    def _on_message(self, raw: dict[str, Any]) -> None:
        try:
            message = json.loads(raw["data"])
        except (TypeError, ValueError):
            log.warning("alarm broker: a message on %s that is not JSON was ignored", self.channel)
            return
        self.deliver(message)

    @staticmethod
    def _on_listener_error(error: BaseException, pubsub, thread) -> None:
        # redis-py reconnects on the next read; the clients catch up from the database when they reconnect.
        log.warning("alarm broker: Redis listener error (%s); reconnecting", type(error).__name__)

    def publish(self, message: dict[str, Any]) -> None:
        try:
            self._redis.publish(self.channel, json.dumps(message, default=str))
        except Exception as error:   # the event is committed: clients get it from the database on reconnect
            log.warning("alarm broker: publishing to Redis failed (%s)", type(error).__name__)

    def close(self) -> None:
        self._thread.stop()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._redis.close()


def channel_for(database_url: str) -> str:
    """The channel of one installation: pub/sub channels are global to a Redis server, so two KIAs sharing one (a
    test and a production instance, two test runs) must not hear each other's alarms. Every worker of an
    installation has the same database URL."""
    return f"{CHANNEL}:{hashlib.sha256(database_url.encode()).hexdigest()[:16]}"


def broker_for(redis_url: str | None, database_url: str = "") -> InProcessBroker | RedisBroker:
    """Redis when a URL is set, else the in-process broker."""
    return RedisBroker(redis_url, channel_for(database_url)) if redis_url else InProcessBroker()
