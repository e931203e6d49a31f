"""The API of property owners (the key write-only) and of a case's fault reports, delivered to the real server."""
from notifications.dispatcher import dispatch
from tests.factories import incident_body
from tests.property.conftest import API_KEY, PLACE


def owner_body(url: str) -> dict:
    return {"name": "SISAB", "method": "open311", "endpoint_url": url, "api_key": API_KEY,
            "service_codes": {"default": "felanmalan"}, "units": ["GRU"]}


def test_an_admin_adds_and_changes_an_owner_and_never_reads_its_key(api, tree, open311):
    admin = api.as_roles(("admin", "STHLM"))
    created = admin.post("/api/v1/property-owners", json=owner_body(open311.url))
    assert created.status_code == 201, created.get_json()
    owner = created.get_json()
    assert owner["units"] == ["GRU"] and owner["api_key_set"] is True and "api_key" not in owner
    changed = admin.patch(f"/api/v1/property-owners/{owner['id']}", json={"units": ["GRU", "F1"]})
    assert changed.get_json()["units"] == ["F1", "GRU"]
    listed = admin.get("/api/v1/property-owners")
    assert API_KEY not in listed.get_data(as_text=True)
    assert admin.post("/api/v1/property-owners", json={"name": "X", "method": "fax"}).status_code == 422
    assert api.as_roles(("admin", "UTBF")).get("/api/v1/property-owners").status_code == 403


def test_a_handler_sends_a_fault_report_and_reads_its_status(api, tree, make, db, session_factory, settings,
                                                            open311):
    api.as_roles(("admin", "STHLM")).post("/api/v1/property-owners", json=owner_body(open311.url))
    handler = api.as_roles(("handler", "S1"))
    filed = api.as_roles(("reporter", "S1")).file(incident_body(type="fire", fields={"fire_kind": "arson"}))
    case_id = filed.get_json()["cases"][0]["id"]

    sent = handler.post(f"/api/v1/cases/{case_id}/fault-reports",
                        json={"place": PLACE, "description": "Sot på väggen.", "urgency": "low"})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["status"] == "queued"
    dispatch(session_factory, settings)

    [report] = handler.get(f"/api/v1/cases/{case_id}/fault-reports").get_json()["items"]
    assert (report["status"], report["service_request_id"]) == ("sent", "SR-1001")
    timeline = handler.get(f"/api/v1/cases/{case_id}/timeline").get_json()
    assert "fault_report_sent" in str(timeline)
    bad = handler.post(f"/api/v1/cases/{case_id}/fault-reports", json={"place": "", "description": "x"})
    assert bad.status_code == 422 and "place" in bad.get_json()["errors"]


def test_a_type_not_about_the_building_is_a_conflict(api, tree, open311):
    api.as_roles(("admin", "STHLM")).post("/api/v1/property-owners", json=owner_body(open311.url))
    filed = api.as_roles(("reporter", "S1")).file(incident_body())   # threat_violence
    case_id = filed.get_json()["cases"][0]["id"]
    answer = api.as_roles(("handler", "S1")).post(f"/api/v1/cases/{case_id}/fault-reports",
                                                   json={"place": PLACE, "description": "Fönster krossat."})
    assert answer.status_code == 409


def test_the_building_flag_is_on_for_building_types_and_an_admin_sets_it(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    types = {t["code"]: t["concerns_building"] for t in admin.get("/api/v1/incident-types").get_json()}
    assert {code for code, on in types.items() if on} == {"fire", "property_damage", "risk_observation"}
    changed = admin.patch("/api/v1/incident-types/near_miss", json={"concerns_building": True})
    assert changed.status_code == 200 and changed.get_json()["concerns_building"] is True
