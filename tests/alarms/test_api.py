"""The alarm API end to end over HTTP (the Flask app, a real database): raise, receive, roll call, chat, checklist,
end into an event with its case, the SSE stream (snapshot, live events, Last-Event-ID), problem+json errors, and the
alarm types' admin."""
from __future__ import annotations

import dataclasses
import json

import pytest

from kia.app import create_app


@pytest.fixture
def staff(api, make, tree):
    return {"teacher": api.as_user(make.user(("reporter", "S1"), name="Lärare Ett")),
            "rektor": api.as_user(make.user(("handler", "S1"), name="Rektor Ett")),
            "other": api.as_user(make.user(("reporter", "S2"), name="Lärare Två"))}


def events(text: str) -> list[dict]:
    """The SSE text as a list of {"id", "event", "data"} (comments and the retry hint left out)."""
    parsed = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if line and not line.startswith(":") and ":" in line:
                name, _, value = line.partition(": ")
                fields[name] = value
        if "data" in fields:
            parsed.append({"id": int(fields["id"]) if "id" in fields else None, "event": fields.get("event"),
                           "data": json.loads(fields["data"])})
    return parsed


def test_the_whole_flow_ends_in_an_event_with_its_case(staff):
    raised = staff["teacher"].post("/api/v1/alarms", json={"type": "brand", "org_unit": "S1", "location": "Aulan"})
    assert raised.status_code == 201, raised.get_json()
    alarm = raised.get_json()
    assert raised.headers["Location"].endswith(f"/api/v1/alarms/{alarm['id']}")
    assert alarm["type_name"] == {"sv": "Brand", "en": "Fire"} and alarm["roll_call"]["unanswered"] == 2
    url = f"/api/v1/alarms/{alarm['id']}"

    mine = staff["rektor"].get("/api/v1/alarms").get_json()
    assert [a["id"] for a in mine] == [alarm["id"]]
    assert staff["other"].get("/api/v1/alarms").get_json() == []
    assert staff["other"].get(url).status_code == 404

    assert staff["rektor"].post(f"{url}/roll-call", json={"status": "safe"}).get_json()["status"] == "safe"
    assert staff["teacher"].post(f"{url}/messages", json={"body": "Alla ute"}).status_code == 201
    detail = staff["rektor"].get(url).get_json()
    assert detail["may_end"] and detail["checklist"] and detail["roll_call"]["safe"] == 1
    tick = staff["rektor"].post(f"{url}/checklist", json={"item": detail["checklist"][0]["id"]})
    assert tick.status_code == 200 and tick.get_json()["ticked_by"]["name"] == "Rektor Ett"
    roll_call = staff["teacher"].get(f"{url}/roll-call").get_json()
    assert [p["name"] for p in roll_call["unanswered"]] == ["Lärare Ett"]
    assert [m["body"] for m in staff["rektor"].get(f"{url}/messages").get_json()] == ["Alla ute"]

    ended = staff["rektor"].post(f"{url}/end")
    assert ended.status_code == 200, ended.get_json()
    incident_id = ended.get_json()["incident_id"]
    incident = staff["rektor"].get(f"/api/v1/incidents/{incident_id}").get_json()
    assert incident["type"] == "fire" and incident["location"] == "Aulan" and len(incident["cases"]) == 1
    assert "Alla ute" in incident["description"]
    assert staff["rektor"].get("/api/v1/alarms").get_json() == []
    assert [a["id"] for a in staff["rektor"].get("/api/v1/alarms?include_ended=1").get_json()] == [alarm["id"]]
    again = staff["teacher"].post(f"{url}/end")
    assert again.status_code == 409 and again.content_type == "application/problem+json"


def test_bad_input_is_problem_json(staff, api, make):
    unknown = staff["teacher"].post("/api/v1/alarms", json={"type": "meteor", "org_unit": "S1"})
    assert unknown.status_code == 422 and unknown.content_type == "application/problem+json"
    assert set(unknown.get_json()["errors"]) == {"type"}
    pdv = staff["teacher"].post("/api/v1/alarms", json={"type": "pdv", "org_unit": "S1"}, headers={
        "Accept-Language": "en"})
    assert pdv.get_json()["errors"] == {"confirm": ["Confirm that you are raising this alarm."]}
    first = staff["teacher"].post("/api/v1/alarms", json={"type": "hot", "org_unit": "S1"}).get_json()
    joined = staff["rektor"].post("/api/v1/alarms", json={"type": "hot", "org_unit": "S1"})
    assert joined.status_code == 409 and joined.headers["Location"].endswith(f"/alarms/{first['id']}")
    assert staff["teacher"].post("/api/v1/alarms", json={"type": "hot", "org_unit": "S1", "bogus": 1}
                                 ).status_code == 422
    answer = staff["teacher"].post(f"/api/v1/alarms/{first['id']}/roll-call", json={"status": "maybe"})
    assert answer.status_code == 422
    read_only = api.as_user(make.user(("reporter", "S1")), scopes=["alarms:read"])
    assert read_only.post("/api/v1/alarms", json={"type": "brand", "org_unit": "S1"}).status_code == 403
    colleague = api.as_user(make.user(("reporter", "S1")))
    assert colleague.post(f"/api/v1/alarms/{first['id']}/end").status_code == 403


def test_the_stream_sends_open_alarms_on_connect_and_what_was_missed(staff):
    alarm = staff["teacher"].post("/api/v1/alarms", json={"type": "brand", "org_unit": "S1"}).get_json()
    first = staff["rektor"].get("/api/v1/alarms/stream")
    assert first.status_code == 200 and first.mimetype == "text/event-stream"
    assert first.headers["Cache-Control"] == "no-store"
    text = first.get_data(as_text=True)
    assert text.startswith("retry: ")
    opened = events(text)
    assert [(e["event"], e["data"]["alarm"]["id"]) for e in opened] == [("alarm.open", alarm["id"])]
    assert events(staff["other"].get("/api/v1/alarms/stream").get_data(as_text=True)) == []

    staff["rektor"].post(f"/api/v1/alarms/{alarm['id']}/roll-call", json={"status": "need_help"})
    since = staff["teacher"].get("/api/v1/alarms/stream", headers={"Last-Event-ID": "1"}).get_data(as_text=True)
    replayed = [e for e in events(since) if e["id"] is not None]
    assert [e["event"] for e in replayed][-1] == "alarm.roll_call"
    assert replayed[-1]["data"]["answer"]["status"] == "need_help"
    last = replayed[-1]["id"]
    caught_up = staff["teacher"].get(f"/api/v1/alarms/stream?last_event_id={last}").get_data(as_text=True)
    assert [e["event"] for e in events(caught_up)] == ["alarm.open"]


def test_the_stream_pushes_live_events_and_heartbeats(settings, session_factory, api, make, tree):
    live = create_app(dataclasses.replace(settings, alarm_stream_seconds=30, alarm_heartbeat_seconds=0.05),
                      session_factory=session_factory)
    client = live.test_client()
    from tests.factories import ApiClient

    live_api = ApiClient(client, make)
    teacher = live_api.as_user(make.user(("reporter", "S1")))
    rektor = live_api.as_user(make.user(("handler", "S1")))
    response = rektor.get("/api/v1/alarms/stream", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    assert next(chunks) == b": heartbeat\n\n"   # nothing open, nothing happening
    alarm = teacher.post("/api/v1/alarms", json={"type": "inrymning", "org_unit": "S1", "silent": True}).get_json()
    chunk = next(chunks)
    while chunk.startswith(b":"):
        chunk = next(chunks)
    [pushed] = events(chunk.decode())
    assert pushed["event"] == "alarm.raised" and pushed["data"]["alarm"]["id"] == alarm["id"]
    assert pushed["data"]["alarm"]["silent"] and pushed["data"]["alarm"]["raised_by"]["id"]
    teacher.post(f"/api/v1/alarms/{alarm['id']}/end")
    chunk = next(chunks)
    while chunk.startswith(b":"):
        chunk = next(chunks)
    assert events(chunk.decode())[0]["event"] == "alarm.ended"
    response.close()
    assert live.extensions["kia"].broker.subscriber_count == 0


def test_alarm_types_admin(api, make, tree):
    admin = api.as_roles(("admin", "STHLM"))
    created = admin.post("/api/v1/alarm-types", json={
        "code": "gasol", "name": {"sv": "Gasläcka", "en": "Gas leak"}, "event_type": "serious_near_miss",
        "instruction": {"sv": "Utrym och ring 112.", "en": "Evacuate and call 112."},
        "event_fields": {"possible_consequence": "Explosion"},
        "checklist": [{"text": {"sv": "Gasen avstängd", "en": "Gas shut off"}}]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["checklist"][0]["text"]["sv"] == "Gasen avstängd"
    step = created.get_json()["checklist"][0]["id"]
    changed = admin.patch("/api/v1/alarm-types/gasol", json={
        "name": {"sv": "Gasläckage"}, "may_be_silent": True,
        "checklist": [{"text": {"sv": "Fönster öppnade", "en": "Windows opened"}}]})
    assert changed.status_code == 200 and changed.get_json()["name"] == {"sv": "Gasläckage", "en": "Gas leak"}
    assert [s["text"]["en"] for s in changed.get_json()["checklist"]] == ["Windows opened"]
    assert step not in [s["id"] for s in changed.get_json()["checklist"]]   # retired, not deleted
    codes = [t["code"] for t in api.as_roles(("reporter", "S1")).get("/api/v1/alarm-types").get_json()]
    assert codes[:5] == ["brand", "hot", "inrymning", "utrymning", "pdv"] and "gasol" in codes
    bad = admin.post("/api/v1/alarm-types", json={"code": "x y", "name": {"sv": "", "en": "X"},
                                                  "event_type": "victimisation"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"code", "name.sv", "event_type"}
    assert api.as_roles(("admin", "UTBF")).patch("/api/v1/alarm-types/gasol", json={"active": False}
                                                 ).status_code == 403


def test_subscriptions_bring_the_alarms_of_units_below(api, make, tree, staff):
    officer = api.as_user(make.user(("safety_officer", "UTBF")))
    assert officer.put("/api/v1/alarm-subscriptions", json={"org_units": ["UTBF"]}).status_code == 200
    assert [u["code"] for u in officer.get("/api/v1/alarm-subscriptions").get_json()] == ["UTBF"]
    assert officer.put("/api/v1/alarm-subscriptions", json={"org_units": ["HAGALV"]}).status_code == 422
    alarm = staff["teacher"].post("/api/v1/alarms", json={"type": "brand", "org_unit": "S1"}).get_json()
    assert [a["id"] for a in officer.get("/api/v1/alarms").get_json()] == [alarm["id"]]
    officer.put("/api/v1/alarm-subscriptions", json={"org_units": []})
    assert officer.get("/api/v1/alarms").get_json() == []
