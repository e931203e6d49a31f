"""PostgreSQL restarts under load. The machine's PostgreSQL is shared with the rest of the suite, so it is not
restarted: the outage is made real from the client's side instead. gunicorn and `kia scheduler` reach the database
through a TCP proxy owned by the test (tests/faults/proxy.py), which for the outage resets every connection and
refuses new ones, together with pg_terminate_backend of the connections to the test's own database – what a restart
does to clients: SQLSTATE 57P01 on open connections, refused connects until it is back.

While it lasts, every request that needs the database is answered 503 problem+json (the web pages a 503 page), never
a 500 or a dropped connection; once it is back the server files again at once (the pool's pre-ping replaces the dead
connections), nothing is half-stored, every filing sent again with its Idempotency-Key is stored exactly once, and
the scheduler, which met the outage too, delivers notifications again."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.ingest_clients import sign_in
from bench.server import REPO_ROOT, free_port, server_env, start_gunicorn, stop_gunicorn
from kia.db import make_engine
from tests.faults.filing import make_filings, send_all, stored_problems, tally
from tests.faults.proxy import OutageProxy

FILINGS, CLIENTS = 600, 6
BEFORE, OUTAGE = 3.0, 6.0   # seconds of load before the outage, and its length
SECONDS = 120               # the bound of the whole run


class Reader(threading.Thread):
    """A client that reads while the filings go on: the API's incident list with a token, and a signed-in web page,
    each answer kept with the time it came."""

    def __init__(self, port: int, token: str, cookie: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.token, self.cookie, self.stop = port, token, cookie, stop
        self.answers: list[tuple[float, str, int, str, bytes]] = []   # at, path, status, content type, body
        self.lost = 0

    def run(self) -> None:
        requests = [("/api/v1/incidents?limit=5", {"Authorization": f"Bearer {self.token}"}),
                    ("/my-reports", {"Cookie": self.cookie})]
        connection = None
        while not self.stop.is_set():
            for path, headers in requests:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException):
                    self.lost += 1
                    connection.close()
                    connection = None
                    continue
                self.answers.append((time.monotonic(), path, response.status,
                                     response.getheader("Content-Type", ""), body))
            time.sleep(0.05)


def _terminate_backends(url: str) -> int:
    """pg_terminate_backend of every other connection to the test's database: 57P01 to each, as a restart does."""
    database = make_url(url).database
    admin = make_engine(url, pool_size=1, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :database AND pid <> pg_backend_pid()"), {"database": database}).scalar_one()
    admin.dispose()
    return ended


def _sent_notifications(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        sent = connection.execute(text("SELECT count(*) FROM notifications WHERE status = 'sent'")).scalar_one()
    engine.dispose()
    return sent


def test_the_server_and_the_scheduler_survive_a_database_restart(fault_database, tmp_path):
    url, data = fault_database
    database = make_url(url)
    proxy = OutageProxy((database.host, database.port or 5432)).start()
    through_proxy = database.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = server_env(through_proxy, tmp_path)
    port, log_path, scheduler_log = free_port(), tmp_path / "gunicorn.log", tmp_path / "scheduler.log"
    server = start_gunicorn(env, port, log_path, workers=2, threads=4)
    scheduler = subprocess.Popen([sys.executable, "-m", "kia.cli", "scheduler"], cwd=REPO_ROOT, env=env,
                                 stdout=scheduler_log.open("w"), stderr=subprocess.STDOUT)
    stop_reading = threading.Event()
    try:
        web = sign_in(port, data.reporters[0], next(iter(data.types)))
        reader = Reader(port, data.reporters[0].token, "; ".join(f"{k}={v}" for k, v in web.cookies.items()),
                        stop_reading)
        reader.start()
        filings = make_filings(data, FILINGS, "outage")
        clients = send_all(port, filings, CLIENTS, SECONDS)
        time.sleep(BEFORE)
        down_at = time.monotonic()
        # As a restart: the server ends its sessions (57P01 reaches each client), then nothing answers until it is up.
        terminated = _terminate_backends(url)
        proxy.outage()
        time.sleep(OUTAGE)
        sent_before = _sent_notifications(url)
        proxy.back()
        back_at = time.monotonic()
        for client in clients:
            client.join(max(1.0, down_at + SECONDS - time.monotonic()))
        assert not any(client.is_alive() for client in clients), "the clients did not finish in time"
        # The scheduler met the outage too: it delivers again once the database is back.
        deadline = time.monotonic() + 30
        while _sent_notifications(url) <= sent_before and time.monotonic() < deadline:
            time.sleep(0.5)
        delivered_after = _sent_notifications(url) - sent_before
        stop_reading.set()
        reader.join(10)
        assert scheduler.poll() is None, scheduler_log.read_text()[-3000:]
    finally:
        stop_reading.set()
        scheduler.terminate()
        scheduler.wait(15)
        stop_gunicorn(server)
        proxy.stop()

    unavailable = [answer for client in clients for answer in client.unavailable]
    during = [a for a in reader.answers if down_at <= a[0] <= back_at]
    statuses = sorted({status for _, _, status, _, _ in reader.answers})
    figures = tally(filings) | {
        "backends terminated": terminated, "filings answered 503": len(unavailable),
        "reads during the outage": len(during), "of them 503": sum(a[2] == 503 for a in during),
        "read statuses": statuses, "notifications delivered after": delivered_after}
    print(f"\ndatabase outage of {OUTAGE:.0f} s under load: {figures}")

    # The server answered throughout: no try lost, no 500, every 503 a problem in the request's language.
    assert figures["tries that got no answer"] == 0 and reader.lost == 0
    assert set(statuses) <= {200, 503}, [a[1:4] for a in reader.answers if a[2] not in (200, 503)][:5]
    assert unavailable and figures["of them 503"] >= 2
    for _, content_type, body in unavailable:
        assert content_type == "application/problem+json"
        assert json.loads(body)["status"] == 503 and "databas" in json.loads(body)["detail"]
    assert {path for _, path, status, _, _ in during if status == 503} == {"/api/v1/incidents?limit=5", "/my-reports"}
    page = next(a for a in during if a[1] == "/my-reports" and a[2] == 503)
    assert page[3].startswith("text/html") and "databas" in page[4].decode()
    # Back at once: the first answers after the outage are good ones again.
    assert any(status == 200 and at > back_at for at, _, status, _, _ in reader.answers)
    assert figures["acknowledged"] == FILINGS
    assert stored_problems(url, filings) == []
    assert delivered_after > 0, scheduler_log.read_text()[-3000:]
    assert "database unavailable" in scheduler_log.read_text()
