"""Two real gunicorn servers on one database with KIA_REDIS_URL: an alarm raised on one reaches a client connected to
the other over Redis; that server is killed mid-alarm (SIGKILL) and restarted, and its client, reconnecting with its
Last-Event-ID, is sent the open alarm at once. On SQLite (one file) or PostgreSQL (a database of its own)."""
from __future__ import annotations

import http.client
import json
import queue
import threading

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.server import free_port, kill_gunicorn, server_env, start_gunicorn, stop_gunicorn
from kia import migrate
from kia.auth.tokens import create_token
from kia.db import make_engine, recreate_postgres_database
from kia.orgs.services import create_org_unit, create_user
from kia.seed import ensure_reference_data
from tests.alarms.test_broker import REDIS_URL, _redis_available
from tests.conftest import POSTGRES_URL


@pytest.fixture
def served_database(tmp_path) -> tuple[str, dict[str, str]]:
    """A database of the servers' own (they commit through their own connections), with S1's teacher and rektor."""
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        url = url.set(database=f"{url.database}_servers").render_as_string(hide_password=False)
        recreate_postgres_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'servers.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_reference_data(session)
        city = create_org_unit(session, "STHLM", "Stockholms stad", "city")
        utbf = create_org_unit(session, "UTBF", "Utbildningsförvaltningen", "administration", city)
        create_org_unit(session, "S1", "Skola Ett", "unit", utbf)
        tokens = {name: create_token(session, create_user(session, f"{name}@test.kia.se", name, None,
                                                          [(role, "S1")]), ["alarms:raise", "alarms:read"])[1]
                  for name, role in (("teacher", "reporter"), ("rektor", "handler"))}
    engine.dispose()
    return url, tokens


class StreamReader:
    """A client of GET /api/v1/alarms/stream on its own thread; the parsed events come out of `events`."""

    def __init__(self, port: int, token: str, last_event_id: int | None = None):
        self.events: queue.Queue[dict] = queue.Queue()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/api/v1/alarms/stream", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200 and self.response.getheader("Content-Type").startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "data" in fields:
                        self.events.put({"id": int(fields["id"]) if "id" in fields else None,
                                         "event": fields.get("event"), "data": json.loads(fields["data"])})
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass   # the server went away, or the client closed the connection
        self.events.put({"event": "closed"})

    def next(self, timeout: float = 10) -> dict:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.connection.close()


def _post(port: int, token: str, path: str, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, body=json.dumps(body),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return answer


def test_redis_fan_out_across_two_servers_and_a_restart_mid_alarm(served_database, tmp_path):
    if not _redis_available():
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    url, tokens = served_database
    ports = {"a": free_port(), "b": free_port()}
    env = server_env(url, tmp_path / "instance", KIA_REDIS_URL=REDIS_URL, KIA_ALARM_HEARTBEAT_SECONDS="1")
    servers = {name: start_gunicorn(env, port, tmp_path / f"{name}.log", workers=1, threads=8)
               for name, port in ports.items()}
    client = None
    try:
        client = StreamReader(ports["b"], tokens["rektor"])
        status, alarm = _post(ports["a"], tokens["teacher"], "/api/v1/alarms", {"type": "brand", "org_unit": "S1"})
        assert status == 201, alarm
        raised = client.next()
        assert raised["event"] == "alarm.raised" and raised["data"]["alarm"]["id"] == alarm["id"]
        client.close()

        kill_gunicorn(servers["b"])   # mid-alarm: nothing is finished or flushed
        servers["b"] = start_gunicorn(env, ports["b"], tmp_path / "b.log", workers=1, threads=8)
        client = StreamReader(ports["b"], tokens["rektor"], last_event_id=raised["id"])
        opened = client.next()
        assert opened["event"] == "alarm.open" and opened["data"]["alarm"]["id"] == alarm["id"]
        status, _ = _post(ports["a"], tokens["teacher"], f"/api/v1/alarms/{alarm['id']}/roll-call",
                          {"status": "safe"})
        assert status == 200
        answered = client.next()
        assert answered["event"] == "alarm.roll_call" and answered["data"]["alarm"]["roll_call"]["safe"] == 1
    finally:
        if client is not None:
            client.close()
        for server in servers.values():
            stop_gunicorn(server)
