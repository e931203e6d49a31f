"""Event types (listing, adding one as admin, then filing with it), org units, the OpenAPI document."""
import pytest
from openapi_spec_validator import validate as validate_openapi

from kia.incidents.builtin_types import BUILTIN_CODES

NEW_TYPE = {
    "code": "school_refusal_threat",
    "name": {"sv": "Hot om skolvägran", "en": "Threatened school refusal"},
    "category": "pupil",
    "confidential": True,
    "fields": [
        {"key": "severity", "type": "choice", "label": {"sv": "Allvarlighet", "en": "Severity"}, "required": True,
         "choices": [{"value": "low", "sv": "Låg", "en": "Low"}, {"value": "high", "sv": "Hög", "en": "High"}]},
        {"key": "days_absent", "type": "number", "label": {"sv": "Frånvarodagar", "en": "Days absent"}},
        {"key": "since", "type": "date", "label": {"sv": "Sedan", "en": "Since"}},
    ],
}


def test_incident_types_list_the_builtins_with_fields(api, tree):
    types = api.as_roles(("reporter", "S1")).get("/api/v1/incident-types").get_json()
    assert {t["code"] for t in types} == set(BUILTIN_CODES)
    victimisation = next(t for t in types if t["code"] == "victimisation")
    assert victimisation["name"] == {"sv": "Kränkande behandling", "en": "Degrading treatment"}
    assert victimisation["category"] == "pupil" and victimisation["case_per_affected_pupil"]
    grounds = next(f for f in victimisation["fields"] if f["key"] == "discrimination_grounds")
    assert grounds["type"] == "multichoice" and len(grounds["choices"]) == 7
    breach = next(t for t in types if t["code"] == "data_breach")
    assert {f["key"] for f in breach["fields"]} >= {"discovered_at", "data_categories", "people_affected"}


def test_admin_adds_a_type_that_staff_can_then_file(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    response = admin.post("/api/v1/incident-types", json=NEW_TYPE)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fields"][0]["choices"][1] == {"value": "high", "sv": "Hög", "en": "High"}

    staff = api.as_roles(("reporter", "S1"), language="en")
    body = {"type": "school_refusal_threat", "org_unit": "S1", "occurred_at": "2026-03-10T09:00",
            "description": "Eleven säger att hen inte kommer tillbaka.", "fields": {"severity": "extreme"}}
    refused = staff.file(body)
    assert refused.status_code == 422 and "fields.severity" in refused.get_json()["errors"]
    body["fields"] = {"severity": "high", "days_absent": 4, "since": "2026-03-01"}
    filed = staff.file(body)
    assert filed.status_code == 201 and filed.get_json()["fields"]["since"] == "2026-03-01"


@pytest.mark.parametrize("change, path", [
    ({"code": "Bad Code"}, "code"),
    ({"code": "fire"}, "code"),
    ({"name": {"sv": "", "en": "x"}}, "name.sv"),
    ({"category": "weather"}, "category"),
    ({"fields": [{"key": "a", "type": "colour", "label": {"sv": "a", "en": "a"}}]}, "fields[0].type"),
    ({"fields": [{"key": "a", "type": "choice", "label": {"sv": "a", "en": "a"}, "choices": []}]},
     "fields[0].choices"),
    ({"fields": [{"key": "a", "type": "text", "label": {"sv": "a", "en": "a"}},
                 {"key": "a", "type": "text", "label": {"sv": "b", "en": "b"}}]}, "fields[1].key"),
])
def test_invalid_type_definitions_are_refused(api, tree, change, path):
    response = api.as_roles(("admin", "STHLM")).post("/api/v1/incident-types", json={**NEW_TYPE, **change})
    assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize("role, scopes, status", [
    (("admin", "UTBF"), ["admin"], 403),          # admin of a subtree only
    (("handler", "STHLM"), ["admin"], 403),       # not an admin
    (("admin", "STHLM"), ["incidents:write"], 403),  # token without the admin scope
])
def test_only_organisation_admins_add_types(api, tree, role, scopes, status):
    response = api.as_roles(role, scopes=scopes).post("/api/v1/incident-types", json=NEW_TYPE)
    assert response.status_code == status


def test_org_units_are_the_tree_with_parent_codes(api, tree):
    units = api.as_roles(("reporter", "S1")).get("/api/v1/org-units").get_json()
    by_code = {u["code"]: u for u in units}
    assert by_code["S1"]["parent_code"] == "GRU" and by_code["S1"]["kind"] == "unit"
    assert by_code["STHLM"]["parent_code"] is None
    assert by_code["HAGALV"]["kind"] == "administration"


def test_reference_data_needs_authentication(client, tree):
    assert client.get("/api/v1/incident-types").status_code == 401
    assert client.get("/api/v1/org-units").status_code == 401


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(spec)  # raises on any violation of the OpenAPI 3 schema
    assert spec["openapi"].startswith("3.")
    assert {"/incidents", "/incidents/{incident_id}", "/incident-types", "/org-units"} <= set(spec["paths"])
    incident_in = spec["components"]["schemas"]["IncidentIn"]
    assert {"type", "org_unit", "occurred_at", "description"} <= set(incident_in["required"])
    person = spec["components"]["schemas"]["PersonIn"]
    assert person["properties"]["role"]["enum"] == ["affected", "perpetrator", "witness"]
    assert "422" in spec["paths"]["/incidents"]["post"]["responses"]


def test_api_docs_page_lists_every_operation(client):
    page = client.get("/api/docs").get_data(as_text=True)
    for operation in ("POST /incidents", "GET /incidents/{incident_id}", "GET /org-units"):
        assert operation in page


# ---- changing a type: PATCH /incident-types/{code} -------------------------------------------------------

@pytest.fixture
def refusal_type(api, tree):
    """NEW_TYPE added by an admin; returns that admin's client."""
    admin = api.as_roles(("admin", "STHLM"), language="en")
    assert admin.post("/api/v1/incident-types", json={**NEW_TYPE, "allows_anonymous": True}).status_code == 201
    return admin


def test_admin_changes_a_type_retires_a_field_and_adds_one(api, refusal_type):
    staff = api.as_roles(("reporter", "S1"))
    body = {"type": "school_refusal_threat", "org_unit": "S1", "occurred_at": "2026-03-10T09:00",
            "description": "Eleven säger att hen inte kommer tillbaka.", "fields": {"severity": "high", "days_absent": 4}}
    old = staff.file(body).get_json()

    response = refusal_type.patch("/api/v1/incident-types/school_refusal_threat", json={
        "name": {"en": "Threat of school refusal"},
        "fields": [{"key": "days_absent", "retired": True},
                   {"key": "severity", "label": {"sv": "Allvarsgrad"}, "choices": [
                       {"value": "low", "sv": "Låg", "en": "Low"}, {"value": "high", "sv": "Hög", "en": "High"},
                       {"value": "acute", "sv": "Akut", "en": "Acute"}]}],
        "new_fields": [{"key": "guardians_told", "type": "boolean", "label": {"sv": "Vårdnadshavare informerade",
                                                                            "en": "Guardians told"}}]})
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["name"] == {"sv": "Hot om skolvägran", "en": "Threat of school refusal"}
    by_key = {f["key"]: f for f in changed["fields"]}
    assert [f["key"] for f in changed["fields"]] == ["severity", "days_absent", "since", "guardians_told"]
    assert by_key["days_absent"]["retired"] and not by_key["since"]["retired"]
    assert by_key["severity"]["label"] == {"sv": "Allvarsgrad", "en": "Severity"}
    assert [c["value"] for c in by_key["severity"]["choices"]] == ["low", "high", "acute"]

    # The listing marks the retired field; the public one, for report forms, leaves it out.
    listed = next(t for t in staff.get("/api/v1/incident-types").get_json() if t["code"] == "school_refusal_threat")
    assert {f["key"]: f["retired"] for f in listed["fields"]}["days_absent"] is True
    public = next(t for t in api.client.get("/api/v1/public/incident-types").get_json()
                  if t["code"] == "school_refusal_threat")
    assert "days_absent" not in {f["key"] for f in public["fields"]}

    refused = staff.file({**body, "fields": {"severity": "acute", "days_absent": 5}})
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["fields.days_absent"]
    assert staff.file({**body, "fields": {"severity": "acute"}}).status_code == 201
    # The older incident keeps, and shows, its value.
    assert staff.get(f"/api/v1/incidents/{old['id']}").get_json()["fields"]["days_absent"] == 4


def test_refused_changes_are_problems_with_a_message_per_field(api, refusal_type):
    api.as_roles(("reporter", "S1")).file({
        "type": "school_refusal_threat", "org_unit": "S1", "occurred_at": "2026-03-10T09:00",
        "description": "Eleven stannar hemma.", "fields": {"severity": "low"}})
    response = refusal_type.patch("/api/v1/incident-types/school_refusal_threat", json={
        "confidential": False,
        "fields": [{"key": "severity", "type": "text", "label": {"sv": " "},
                    "choices": [{"value": "low", "sv": "Låg", "en": "Low"}]}],
        "new_fields": [{"key": "since", "type": "date", "label": {"sv": "Sedan", "en": "Since"}}]})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) == {"confidential", "fields[0].type", "fields[0].label.sv", "fields[0].choices",
                           "new_fields[0].key"}
    assert errors["fields[0].choices"] == ["A choice cannot be removed, since stored reports may hold it: high."]
    swedish = api.as_roles(("admin", "STHLM")).patch("/api/v1/incident-types/school_refusal_threat",
                                                    json={"fields": [{"key": "severity", "label": {"sv": ""}}]})
    assert swedish.get_json()["errors"] == {"fields[0].label.sv": ["En etikett krävs."]}


@pytest.mark.parametrize("body, path", [({"code": "renamed"}, "code"), ({"fields": [{"label": {"sv": "x"}}]},
                                                                      "fields[0].key"),
                                        ({"active": "maybe"}, "active")])
def test_a_patch_of_the_wrong_shape_is_refused(refusal_type, body, path):
    response = refusal_type.patch("/api/v1/incident-types/school_refusal_threat", json=body)
    assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize("role, scopes", [(("admin", "UTBF"), ["admin"]), (("handler", "STHLM"), ["admin"]),
                                          (("admin", "STHLM"), ["incidents:write"])])
def test_only_organisation_admins_change_types(api, tree, role, scopes):
    response = api.as_roles(role, scopes=scopes).patch("/api/v1/incident-types/fire", json={"active": False})
    assert response.status_code == 403
    assert api.as_roles(("reporter", "S1")).get("/api/v1/incident-types?include_inactive=1").status_code == 200
    fire = next(t for t in api.as_roles(("reporter", "S1")).get("/api/v1/incident-types").get_json()
                if t["code"] == "fire")
    assert fire["active"]


def test_changing_an_unknown_type_is_not_found(api, tree):
    response = api.as_roles(("admin", "STHLM")).patch("/api/v1/incident-types/no_such_type", json={"active": False})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_a_type_switched_off_is_no_longer_listed_nor_reported(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    assert admin.patch("/api/v1/incident-types/fire", json={"active": False}).get_json()["active"] is False
    staff = api.as_roles(("reporter", "S1"))
    assert "fire" not in {t["code"] for t in staff.get("/api/v1/incident-types").get_json()}
    assert "fire" in {t["code"] for t in staff.get("/api/v1/incident-types?include_inactive=1").get_json()}
    refused = staff.file({"type": "fire", "org_unit": "S1", "occurred_at": "2026-03-10T09:00",
                          "description": "Brand i papperskorg."})
    assert refused.status_code == 422 and "type" in refused.get_json()["errors"]


def test_openapi_documents_the_patch(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    patch = spec["paths"]["/incident-types/{code}"]["patch"]
    assert {"200", "403", "404", "422"} <= set(patch["responses"])
    assert {"fields", "new_fields", "active"} <= set(spec["components"]["schemas"]["IncidentTypePatchIn"]["properties"])
    assert "retired" in spec["components"]["schemas"]["FieldDefinitionOut"]["properties"]
