"""`kia run` and `kia serve`: their address from KIA_HOST/KIA_PORT, and the banner printed once the server listens."""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from kia.config import Settings
from tests.test_cli import DEMO_ADMIN, demo_database, demo_kia, kia  # noqa: F401 – the fixtures, built by `kia`


def test_host_port_and_log_format_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KIA_INSTANCE_PATH", str(tmp_path))
    for name in ("KIA_HOST", "KIA_PORT", "KIA_BASE_URL", "KIA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.host, default.port, default.base_url, default.log_format) == (
        "127.0.0.1", 5000, "http://127.0.0.1:5000", "text")

    monkeypatch.setenv("KIA_HOST", "0.0.0.0")
    monkeypatch.setenv("KIA_PORT", "5077")
    monkeypatch.setenv("KIA_LOG_FORMAT", "JSON")
    chosen = Settings.from_env()
    # The links in e-mails follow the port; a browser on this machine reaches every interface at 127.0.0.1.
    assert (chosen.host, chosen.port, chosen.base_url, chosen.log_format) == (
        "0.0.0.0", 5077, "http://127.0.0.1:5077", "json")
    monkeypatch.setenv("KIA_BASE_URL", "https://kia.example.se/")
    assert Settings.from_env().base_url == "https://kia.example.se"

    for name, value, message in (("KIA_PORT", "70000", "KIA_PORT"), ("KIA_LOG_FORMAT", "xml", "KIA_LOG_FORMAT")):
        with monkeypatch.context() as bad:
            bad.setenv(name, value)
            with pytest.raises(ValueError, match=message):
                Settings.from_env()


def test_the_banner_says_where_kia_is_where_mail_goes_and_how_to_sign_in(db, settings, tree):
    from kia.cli import ready_banner
    from kia.demo import DEMO_ADMIN, DEMO_PASSWORD
    from kia.orgs.services import create_user

    served = dataclasses.replace(settings, host="127.0.0.1", port=5077)
    without_demo = ready_banner(served, db)
    assert without_demo[:2] == ["KIA is running at http://127.0.0.1:5077/", "API docs: http://127.0.0.1:5077/api/docs"]
    assert without_demo[2] == f"E-mails are written to {settings.instance_path / 'mail'}/ (no KIA_SMTP_HOST)"
    assert "see README" in without_demo[3] and DEMO_PASSWORD not in without_demo[3]

    create_user(db, DEMO_ADMIN, "Ada Admin", DEMO_PASSWORD, [("admin", "STHLM")])
    with_demo = ready_banner(dataclasses.replace(served, smtp_host="smtp.example.se", smtp_port=25), db)
    assert with_demo[2] == "E-mails are sent through smtp.example.se:25"
    assert with_demo[3] == f"Sign in as {DEMO_ADMIN} / {DEMO_PASSWORD} (see README for the other roles)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_kia_run_takes_its_port_from_kia_port_and_prints_the_banner_once_serving(demo_kia):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KIA_SECRET_KEY", "KIA_HOST", "KIA_LOG_FORMAT")}
    env.update(KIA_INSTANCE_PATH=str(demo_kia.instance), KIA_DATABASE_URL=demo_kia.url, KIA_PORT=str(port))
    stderr_path = demo_kia.instance / "stderr.txt"
    with open(stderr_path, "w") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "kia.cli", "run", "--workers", "1"], env=env,
                                  cwd=demo_kia.instance, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  start_new_session=True)
    lines: list[str] = []
    banner_seen = threading.Event()

    def read_stdout():
        for line in server.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Sign in"):
                banner_seen.set()

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    try:
        assert banner_seen.wait(90), (lines, stderr_path.read_text())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as response:
            assert response.status == 200
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    reader.join(10)
    banner = [line for line in lines if line and not line.startswith(("-", '"'))]
    assert banner[:4] == [f"KIA is running at http://127.0.0.1:{port}/", f"API docs: http://127.0.0.1:{port}/api/docs",
                          "E-mails are written to mail/ (no KIA_SMTP_HOST)",
                          f"Sign in as {DEMO_ADMIN} / kia-demo-2026 (see README for the other roles)"]
    assert sum(line.startswith("KIA is running") for line in lines) == 1
    assert '"GET /login" 200' in "\n".join(lines)   # the access log: no client address, no query string
    logged = stderr_path.read_text()
    assert "Running job" not in logged and "executed successfully" not in logged


def test_the_wsgi_module_loads_in_a_fresh_interpreter(tmp_path, database_url):
    """What gunicorn does first: import kia.wsgi with nothing else imported (a statement built at import time
    that needs every model once broke this while every in-process test passed)."""
    env = {**os.environ, "KIA_INSTANCE_PATH": str(tmp_path), "KIA_DATABASE_URL": database_url,
           "KIA_SECRET_KEY": "x" * 32}
    loaded = subprocess.run([sys.executable, "-c", "import kia.wsgi; print(kia.wsgi.app.name)"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
