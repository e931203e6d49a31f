"""A real Open311 GeoReport v2 server in the test process (a small Flask app served by werkzeug in a thread), a
property owner for it, and building cases filed through the real service."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from kia.access import Actor
from kia.incidents.services import IncidentInput, file_incident
from kia.property.owners import create_owner
from kia.property.services import FaultReportInput, send_fault_report
from tests.conftest import TZ

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
API_KEY = "sisab-hemlig-nyckel-4711"
PLACE = "Hus B, plan 2, korridoren vid sal 204"
FAULT = "Branddörren mot trapphuset går inte igen."


@dataclass
class Open311Server:
    """What KIA calls: POST /requests.json (form-encoded, api_key required), GET /requests/{id}.json and
    GET /tokens/{token}.json. It keeps the requests it made and every POST it got; `fail_next` answers that many
    POSTs with 500 (`lose_answer`: after making the request, as when the answer is lost on the way), `refuse_next`
    with 400. An Idempotency-Key seen before returns the request made for it."""

    posts: list[dict] = field(default_factory=list)
    requests: dict[str, dict] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    fail_next: int = 0
    lose_answer: bool = False
    refuse_next: int = 0
    tokens: bool = False                # answer with a token, the id given at GET /tokens/{token}.json
    url: str = ""

    def app(self) -> Flask:
        app = Flask("open311-test")
        numbers = itertools.count(1001)
        lock = threading.Lock()

        @app.post("/georeport/v2/requests.json")
        def post_request():
            form = request.form.to_dict()
            with lock:
                self.posts.append({"form": form, "idempotency_key": request.headers.get("Idempotency-Key"),
                                   "content_type": request.content_type})
                if form.get("api_key") != API_KEY:
                    return jsonify([{"code": 403, "description": "Invalid api_key"}]), 403
                if self.refuse_next:
                    self.refuse_next -= 1
                    return jsonify([{"code": 400, "description": "service_code unknown"}]), 400
                if not form.get("service_code") or not form.get("description") or not (
                        form.get("address_string") or form.get("lat") and form.get("long")):
                    return jsonify([{"code": 400, "description": "missing a required field"}]), 400
                if self.fail_next and not self.lose_answer:
                    self.fail_next -= 1
                    return jsonify([{"code": 500, "description": "down"}]), 500
                key = request.headers.get("Idempotency-Key")
                request_id = self.by_key.get(key) if key else None
                if request_id is None:
                    request_id = f"SR-{next(numbers)}"
                    self.requests[request_id] = {"service_request_id": request_id, "status": "open",
                                                 "status_notes": "", "service_code": form["service_code"],
                                                 "description": form["description"], "token": f"T-{request_id}"}
                    if key:
                        self.by_key[key] = request_id
                if self.fail_next:
                    self.fail_next -= 1
                    return jsonify([{"code": 500, "description": "answer lost"}]), 500
            if self.tokens:
                return jsonify([{"token": self.requests[request_id]["token"]}])
            return jsonify([{"service_request_id": request_id, "service_notice": "Tack, vi återkommer."}])

        @app.get("/georeport/v2/requests/<request_id>.json")
        def get_request(request_id):
            found = self.requests.get(request_id)
            if found is None:
                return jsonify([{"code": 404, "description": "no such request"}]), 404
            return jsonify([{k: found[k] for k in ("service_request_id", "status", "status_notes", "service_code",
                                                   "description")}])

        @app.get("/georeport/v2/tokens/<token>.json")
        def get_token(token):
            for found in self.requests.values():
                if found["token"] == token:
                    return jsonify([{"service_request_id": found["service_request_id"], "token": token}])
            return jsonify([{"code": 404, "description": "no such token"}]), 404

        return app

    def set_status(self, request_id: str, status: str, notes: str = "") -> None:
        self.requests[request_id].update(status=status, status_notes=notes)


@pytest.fixture
def open311():
    server_state = Open311Server()
    server = make_server("127.0.0.1", 0, server_state.app(), threaded=True)
    server_state.url = f"http://127.0.0.1:{server.server_port}/georeport/v2"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def city_admin(tree, make) -> Actor:
    return make.actor(("admin", "STHLM"))


@pytest.fixture
def handler(tree, make):
    return make.user(("handler", "S1"))


@pytest.fixture
def sisab(db, city_admin, open311):
    """The owner of the compulsory schools' buildings (GRU and below), by Open311."""
    return create_owner(db, city_admin, {
        "name": "SISAB", "method": "open311", "endpoint_url": open311.url, "api_key": API_KEY,
        "service_codes": {"default": "felanmalan", "fire": "brand"}, "units": ["GRU"]})


def file_building_case(db, make, type_code: str = "fire", unit: str = "S1"):
    fields = {"fire": {"fire_kind": "fire"}, "property_damage": {"damage_kind": "vandalism"},
              "near_miss": {"possible_consequence": "Någon kunde ha halkat."}}.get(type_code, {})
    data = IncidentInput(type=type_code, org_unit=unit, occurred_at=datetime(2026, 3, 10, 8, 30),
                         description="Rök i korridoren, branddörren stängde inte.", fields=fields)
    incident, _ = file_incident(db, make.actor(("reporter", unit)), data, TZ, now=NOW)
    return incident.cases[0]


def send(db, handler, case, now: datetime = NOW, **overrides):
    data = FaultReportInput(**{"place": PLACE, "description": FAULT, "urgency": "urgent", **overrides})
    return send_fault_report(db, Actor.for_user(handler), case.id, data, now)
