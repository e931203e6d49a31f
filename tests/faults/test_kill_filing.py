"""kill -9 during filing: gunicorn on PostgreSQL takes a few thousand filings over HTTP from several clients, each
with its own Idempotency-Key; twice in the run its master and workers are SIGKILLed together (a power cut to the
server, no graceful anything) and it is started again, and every request that got no answer is sent again.
Afterwards every filing answered 201 exists exactly once, so does every retried one, the registration numbers run
1..n in each administration without a gap or a duplicate, and no incident lacks its persons, cases, timeline or
deadlines: a filing is one transaction, and a number is taken inside it (kia/incidents/numbering.py)."""
from __future__ import annotations

import threading
import time

from bench.server import free_port, kill_gunicorn, server_env, start_gunicorn, stop_gunicorn
from tests.faults.filing import make_filings, send_all, stored_problems, tally

FILINGS, CLIENTS = 2000, 12
KILLS_AT = (FILINGS // 3, 2 * FILINGS // 3)   # after so many filings are acknowledged
SECONDS = 300   # the bound of the whole run: about a minute on a 2-core machine shared with other work


def test_filings_survive_kill_9_of_the_server(fault_database, tmp_path):
    url, data = fault_database
    filings = make_filings(data, FILINGS, "crash")
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    env = server_env(url, tmp_path)
    server = start_gunicorn(env, port, log_path, workers=2, threads=4)
    answered = threading.Semaphore(0)
    started = time.monotonic()
    clients = send_all(port, filings, CLIENTS, SECONDS, answered)
    kills = []
    try:
        done = 0
        for kill_at in KILLS_AT:
            while done < kill_at:
                assert answered.acquire(timeout=60), f"only {done} filings acknowledged: {log_path.read_text()[-2000:]}"
                done += 1
            kill_gunicorn(server)   # master and workers at once, while the clients keep sending
            kills.append(done)
            time.sleep(0.5)         # the clients' next tries are refused: nothing listens
            server = start_gunicorn(env, port, log_path, workers=2, threads=4)
        for client in clients:
            client.join(max(1.0, started + SECONDS - time.monotonic()))
    finally:
        stop_gunicorn(server)
    elapsed = time.monotonic() - started
    assert not any(client.is_alive() for client in clients), "the clients did not finish in time"

    figures = tally(filings)
    print(f"\nkill -9 during filing: {elapsed:.1f} s, killed after {kills} acknowledged; {figures}")
    assert figures["acknowledged"] == FILINGS, [f.problems or f.answers for f in filings if not f.acknowledged][:5]
    # The kills came mid-run: some tries were in the server's hands when it died.
    assert figures["tries that got no answer"] >= 1 and figures["connections refused (server down)"] >= 1
    assert stored_problems(url, filings) == []
