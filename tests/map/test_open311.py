"""KIA's read-only Open311 GeoReport v2 API: off by default, only non-confidential types, anonymised requests at
their unit's coordinates (never the event's point, a name or a text), and only where a unit, type and tertial had
at least the threshold of events."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from kia.app import create_app
from kia.cases.models import Case, CaseState
from kia.config import Settings
from kia.db import utcnow
from kia.incidents.models import Incident
from tests.conftest import TZ
from tests.factories import incident_body, victimisation_body

FIELDS = {"service_request_id", "status", "service_code", "service_name", "requested_datetime", "address", "lat",
          "long"}
S1_AT = (59.345410, 18.073380)


@pytest.fixture
def placed(db, tree):
    tree["S1"].latitude, tree["S1"].longitude = S1_AT
    db.commit()


def _recent(days_ago: float) -> str:
    return (utcnow() - timedelta(days=days_ago)).astimezone(TZ).replace(tzinfo=None, microsecond=0).isoformat()


@pytest.fixture
def filed(api, placed, db):
    """Six threats at S1 reported now (published: 6 ≥ 5), two fires (withheld), a kränkning (confidential)."""
    reporter = api.as_roles(("reporter", "S1"))
    ids = {"threat": [], "fire": [], "victimisation": []}
    for i in range(6):
        body = incident_body(occurred_at=_recent(1), known_at=_recent(1), latitude=59.346001, longitude=18.074002,
                             description=f"Hemlig beskrivning {i}")
        ids["threat"].append(reporter.file(body).get_json()["id"])
    for _ in range(2):
        ids["fire"].append(reporter.file(incident_body(type="fire", fields={"fire_kind": "fire"}, occurred_at=_recent(1),
                                                       known_at=_recent(1))).get_json()["id"])
    for _ in range(6):
        ids["victimisation"].append(reporter.file(victimisation_body(occurred_at=_recent(1),
                                                                     known_at=_recent(1))).get_json()["id"])
    assert all(ids.values()) and None not in sum(ids.values(), [])
    return ids


def test_off_by_default(settings, session_factory):
    assert Settings.from_env(instance_path=settings.instance_path, secret_key="x").open311_enabled is False
    app = create_app(dataclasses.replace(settings, open311_enabled=False), session_factory=session_factory)
    for path in ("/open311/v2/services.json", "/open311/v2/requests.json", "/open311/v2/requests/1.json"):
        response = app.test_client().get(path)
        assert response.status_code == 404 and response.get_json()[0]["code"] == 404, path


def test_services_are_the_non_confidential_active_types(client, tree):
    services = client.get("/open311/v2/services.json").get_json()
    codes = {s["service_code"] for s in services}
    assert "threat_violence" in codes and "fire" in codes and "victimisation" not in codes
    assert set(services[0]) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


def test_requests_are_anonymised_at_the_units_coordinates(client, filed):
    response = client.get("/open311/v2/requests.json")
    assert response.status_code == 200
    requests = response.get_json()
    assert sorted(int(r["service_request_id"]) for r in requests) == sorted(filed["threat"])
    for r in requests:
        assert set(r) == FIELDS
        assert (r["lat"], r["long"]) == S1_AT and r["address"] == "Skola Ett" and r["status"] == "open"
        assert r["service_code"] == "threat_violence" and r["requested_datetime"].endswith(("T00:00:00+01:00",
                                                                                              "T00:00:00+02:00"))
    text = response.get_data(as_text=True)
    assert "Hemlig" not in text and "59.346001" not in text and "8B" not in text


def test_fewer_than_the_threshold_and_confidential_ones_are_withheld_also_one_by_one(client, filed):
    assert client.get(f"/open311/v2/requests/{filed['threat'][0]}.json").get_json()[0]["service_code"] == \
        "threat_violence"
    for withheld in (filed["fire"][0], filed["victimisation"][0], 999999):
        response = client.get(f"/open311/v2/requests/{withheld}.json")
        assert response.status_code == 404 and response.get_json() == [{"code": 404,
                                                                         "description": "No such service request."}]
    # A narrow window does not single out a withheld event: the tertial is counted, not the window.
    assert client.get("/open311/v2/requests.json?service_code=fire").get_json() == []


def test_filters_status_service_and_dates(client, db, filed):
    db.execute(update(Case).where(Case.incident_id == filed["threat"][0]).values(state=CaseState.CLOSED))
    db.commit()
    closed = client.get("/open311/v2/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [str(filed["threat"][0])]
    assert len(client.get("/open311/v2/requests.json?status=open&service_code=threat_violence").get_json()) == 5
    assert client.get("/open311/v2/requests.json?service_code=accident").get_json() == []
    old = (utcnow() - timedelta(days=60)).isoformat()
    older = (utcnow() - timedelta(days=30)).isoformat()
    assert client.get("/open311/v2/requests.json", query_string={"start_date": old, "end_date": older}
                      ).get_json() == []
    assert len(client.get("/open311/v2/requests.json", query_string={"start_date": older}).get_json()) == 6
    for bad in ({"start_date": "igår"}, {"status": "pending"},
                {"start_date": (utcnow() - timedelta(days=200)).isoformat()}):
        response = client.get("/open311/v2/requests.json", query_string=bad)
        assert response.status_code == 400 and response.get_json()[0]["code"] == 400, bad


def test_an_unplaced_unit_publishes_nothing(client, db, filed, tree):
    tree["S1"].latitude = tree["S1"].longitude = None
    db.commit()
    assert client.get("/open311/v2/requests.json").get_json() == []
    assert db.get(Incident, filed["threat"][0]) is not None
