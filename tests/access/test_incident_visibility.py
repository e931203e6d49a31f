"""Who sees which incident: each role of DOMAIN.md against each kind of incident, via the API.
Out of scope is a 404, never a 403, on the list and on the single record."""
import pytest

from tests.factories import incident_body, victimisation_body

FIRE = dict(type="fire", fields={"fire_kind": "false_alarm"}, persons=[])
BREACH = dict(type="data_breach", persons=[], fields={
    "discovered_at": "2026-03-10T10:00", "data_categories": ["contact"], "people_affected": 3,
    "breach_kind": "confidentiality"})


@pytest.fixture
def incidents(api, tree):
    """Filed by the principal organiser of UTBF and by preschool staff in the other administration."""
    filer = api.as_roles(("principal_org", "UTBF"))
    preschool = api.as_roles(("reporter", "F1"))

    def file(client, **overrides):
        response = client.file(incident_body(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return {
        "threat_s1": file(filer),
        "victimisation_s1": filer.file(victimisation_body()).get_json()["id"],
        "fire_s1": file(filer, **FIRE),
        "breach_g1": file(filer, org_unit="G1", **BREACH),
        "threat_f1": file(preschool, org_unit="F1"),
    }


EXPECTED = {
    ("handler", "S1"): {"threat_s1", "victimisation_s1", "fire_s1"},
    ("principal_org", "UTBF"): {"threat_s1", "victimisation_s1", "fire_s1", "breach_g1"},
    ("safety_officer", "UTBF"): {"threat_s1", "fire_s1", "breach_g1"},
    ("safety_rep", "S1"): {"threat_s1"},
    ("safety_rep", "STHLM"): {"threat_s1", "threat_f1"},
    ("handler", "HAGALV"): {"threat_f1"},
    ("reporter", "S1"): set(),
    ("analyst", "STHLM"): set(),
    ("admin", "STHLM"): set(),
}


@pytest.mark.parametrize("role", EXPECTED, ids=lambda r: f"{r[0]}@{r[1]}")
def test_each_role_sees_exactly_its_incidents(api, incidents, role):
    client = api.as_roles(role)
    listed = {item["id"] for item in client.get("/api/v1/incidents?limit=200").get_json()["items"]}
    expected_ids = {incidents[name] for name in EXPECTED[role]}
    assert listed == expected_ids
    for name, incident_id in incidents.items():
        status = client.get(f"/api/v1/incidents/{incident_id}").status_code
        assert status == (200 if name in EXPECTED[role] else 404), name


def test_reporter_sees_own_report_even_of_a_confidential_type(api, tree):
    staff = api.as_roles(("reporter", "S1"))
    colleague = api.as_roles(("reporter", "S1"))
    own = staff.file(victimisation_body()).get_json()["id"]
    assert staff.get(f"/api/v1/incidents/{own}").status_code == 200
    assert colleague.get(f"/api/v1/incidents/{own}").status_code == 404


def test_roles_on_several_units_add_up(api, incidents):
    client = api.as_roles(("safety_rep", "S1"), ("handler", "HAGALV"))
    listed = {item["id"] for item in client.get("/api/v1/incidents").get_json()["items"]}
    assert listed == {incidents["threat_s1"], incidents["threat_f1"]}


def test_personal_data_only_for_the_handler_chain(api, tree):
    filer = api.as_roles(("reporter", "S1"))
    body = incident_body(persons=[{"role": "affected", "category": "staff", "gender": "female",
                                   "name": "Lena Lärare", "personal_number": "811218-9876"}],
                         fields={"threat_kind": "death_threat", "weapon": "knife", "police_report_made": "yes",
                                 "police_report_number": "K123456-26"})
    incident_id = filer.file(body).get_json()["id"]

    rep = api.as_roles(("safety_rep", "S1")).get(f"/api/v1/incidents/{incident_id}").get_json()
    assert rep["persons"][0]["name"] is None and rep["persons"][0]["personal_number"] is None
    assert "police_report_number" not in rep["fields"] and rep["fields"]["weapon"] == "knife"
    assert rep["reporter"] is None

    handler = api.as_roles(("handler", "S1")).get(f"/api/v1/incidents/{incident_id}").get_json()
    assert handler["persons"][0]["name"] == "Lena Lärare"
    assert handler["persons"][0]["personal_number"] == "19811218-****"
    assert handler["fields"]["police_report_number"] == "K123456-26"
    assert handler["reporter"]["name"]


def test_anonymous_report_hides_the_reporter_and_gives_a_follow_up_code(api, client, tree):
    filer = api.as_roles(("reporter", "S1"))
    response = filer.file(victimisation_body(anonymous=True))
    assert response.status_code == 201
    receipt = response.get_json()
    assert receipt["number"].startswith("UTBF-") and len(receipt["follow_up_code"]) >= 32
    handler = api.as_roles(("handler", "S1"))
    incident = handler.get("/api/v1/incidents").get_json()["items"][0]
    assert incident["anonymous"] is True and incident["reporter"] is None
    # The filer is not recorded, so the report is not theirs to read as a named reporter …
    assert filer.get(f"/api/v1/incidents/{incident['id']}").status_code == 404
    # … but the code gives them its status, as for any anonymous reporter.
    followup = client.post("/api/v1/public/followup", json={"code": receipt["follow_up_code"]})
    assert followup.status_code == 200 and followup.get_json()["report"]["number"] == receipt["number"]


def test_staff_cannot_file_for_a_unit_where_they_hold_no_role(api, tree):
    response = api.as_roles(("reporter", "S2")).file(incident_body(org_unit="S1"))
    assert response.status_code == 422 and "org_unit" in response.get_json()["errors"]


@pytest.mark.parametrize("role", [("analyst", "STHLM"), ("admin", "STHLM"), ("reporter", "GRU")])
def test_a_role_on_an_ancestor_covers_filing_in_the_subtree(api, tree, role):
    assert api.as_roles(role).file(incident_body(org_unit="S1")).status_code == 201
