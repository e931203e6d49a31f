"""The brokers for real: the in-process one, and Redis pub/sub (the server on 127.0.0.1:6379, as on CI) across two
broker instances, as two gunicorn workers hold them: a message one publishes reaches the subscribers of both."""
from __future__ import annotations

import os
import time
import uuid

import pytest

from kia.alarms.broker import InProcessBroker, RedisBroker, broker_for

REDIS_URL = os.environ.get("KIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_in_process_broker_fans_out_to_every_subscriber():
    broker = InProcessBroker()
    first, second = broker.subscribe(), broker.subscribe()
    broker.publish({"id": 1, "event": "alarm.raised"})
    assert first.get(timeout=1)["id"] == 1 and second.get(timeout=1)["id"] == 1
    first.close()
    broker.publish({"id": 2})
    assert second.get(timeout=1)["id"] == 2 and first.get(timeout=0.01) is None
    assert broker.subscriber_count == 1


def test_without_a_redis_url_the_broker_is_in_process():
    assert isinstance(broker_for(""), InProcessBroker)


def _redis_available() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def channel():
    if not _redis_available():
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (start it, or set KIA_TEST_REDIS_URL)")
    return f"kia:test:{uuid.uuid4().hex}"   # a channel of this test's own: other runs on the server do not mix in


def _wait_subscribed(broker: RedisBroker, listeners: int = 1) -> None:
    """Until Redis counts the brokers' listeners on the channel: a message published before would not reach them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if broker._redis.pubsub_numsub(broker.channel)[0][1] >= listeners:
            return
        time.sleep(0.02)
    raise AssertionError("the listeners never subscribed")


def test_redis_carries_a_message_to_the_subscribers_of_two_broker_instances(channel):
    worker_a, worker_b = RedisBroker(REDIS_URL, channel), RedisBroker(REDIS_URL, channel)
    try:
        _wait_subscribed(worker_a, listeners=2)
        on_a, on_b = worker_a.subscribe(), worker_b.subscribe()
        message = {"id": 41, "event": "alarm.raised", "alarm_id": 7, "unit_path": "/1/2/", "data": {"alarm": {}}}
        worker_a.publish(message)
        assert on_a.get(timeout=5) == message
        assert on_b.get(timeout=5) == message
        worker_b.publish(dict(message, id=42))
        assert on_a.get(timeout=5)["id"] == 42 and on_b.get(timeout=5)["id"] == 42
    finally:
        worker_a.close()
        worker_b.close()


def test_a_garbled_message_on_the_channel_is_ignored(channel):
    import redis

    broker = RedisBroker(REDIS_URL, channel)
    try:
        _wait_subscribed(broker)
        subscription = broker.subscribe()
        redis.Redis.from_url(REDIS_URL).publish(channel, b"not json")
        broker.publish({"id": 5})
        assert subscription.get(timeout=5) == {"id": 5}
    finally:
        broker.close()
