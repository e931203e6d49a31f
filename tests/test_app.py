"""App-wide behaviour: the client address behind a configured number of reverse proxies."""
from dataclasses import replace

from flask import request

from kia.app import create_app


def _client_address(settings, session_factory, headers):
    app = create_app(settings, session_factory=session_factory)
    app.add_url_rule("/_peer", "peer", lambda: request.remote_addr)
    return app.test_client().get("/_peer", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)


def test_forwarded_headers_are_ignored_without_trusted_proxies(settings, session_factory):
    assert _client_address(settings, session_factory, {"X-Forwarded-For": "203.0.113.9"}) == "10.0.0.2"


def test_one_trusted_proxy_gives_the_client_address(settings, session_factory):
    behind_proxy = replace(settings, trusted_proxies=1)
    # A client may send its own X-Forwarded-For; only the entry the proxy added is trusted.
    headers = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    assert _client_address(behind_proxy, session_factory, headers) == "203.0.113.9"


def test_the_servers_entry_point_serves_with_start_up_frozen_out_of_the_collectors_way(tmp_path, monkeypatch,
                                                                                      restore_logging):
    # What `gunicorn 'kia.wsgi:app'` imports: an app from the environment, start-up's objects frozen, so a full
    # collection no longer walks them in the middle of a request.
    import gc
    import importlib
    import sys

    monkeypatch.setenv("KIA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("KIA_DATABASE_URL", f"sqlite:///{tmp_path / 'kia.db'}")
    monkeypatch.delitem(sys.modules, "kia.wsgi", raising=False)
    try:
        wsgi = importlib.import_module("kia.wsgi")
        assert gc.get_freeze_count() > 1000
        assert wsgi.app.test_client().get("/login").status_code == 200
    finally:
        gc.unfreeze()
        sys.modules.pop("kia.wsgi", None)
