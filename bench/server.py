"""gunicorn on PostgreSQL for the benchmarks and the fault tests (tests/faults): started on a free port, ready once a
worker answers, stopped gracefully or killed with SIGKILL (master and workers, its own process group)."""
from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KIA_APP = "kia.wsgi:app"
UNLIMITED = str(10**9)   # the public API's rate limits, for load that is not one client's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a server of tests or benchmarks: its database, its own instance folder and secret."""
    return dict(os.environ, KIA_DATABASE_URL=database_url, KIA_SECRET_KEY=secrets.token_urlsafe(32),
                KIA_INSTANCE_PATH=str(instance), KIA_SESSION_COOKIE_SECURE="0",
                KIA_PUBLIC_REQUESTS_PER_MINUTE=UNLIMITED, KIA_PUBLIC_REPORTS_PER_HOUR=UNLIMITED, **extra)


def start_gunicorn(env: dict[str, str], port: int, log_path: Path, workers: int, threads: int,
                   app: str = KIA_APP, keep_alive: int = 30, worker_connections: int = 1000) -> subprocess.Popen:
    """gunicorn (gthread) serving `app` on 127.0.0.1:`port`, returned once a worker answers a request."""
    command = [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
               "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
               "--worker-connections", str(worker_connections),
               "--keep-alive", str(keep_alive), "--log-level", "warning", app]
    # Its own process group, so that kill_gunicorn reaches the master and every worker at once.
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_path.open("a"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        try:  # any answer means a worker has loaded the app, not just that the port is bound
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            probe.request("GET", "/login")
            probe.getresponse().read()
            probe.close()
            return server
        except OSError:
            time.sleep(0.2)
    kill_gunicorn(server)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()  # the master stops its workers gracefully on SIGTERM
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill_gunicorn(server)


def kill_gunicorn(server: subprocess.Popen) -> None:
    """SIGKILL to the master and its workers together: nothing is finished, flushed or rolled back by them."""
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()
