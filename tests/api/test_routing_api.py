"""GET, POST and PATCH /api/v1/routing-rules: admins of the whole organisation, problem+json at the fields, the
fallback kept, and a new case routed by the changed rules."""
from __future__ import annotations

import pytest

from kia.cases.models import Case
from tests.factories import incident_body

RULES = "/api/v1/routing-rules"


@pytest.fixture
def admin(api, tree):
    return api.as_roles(("admin", "STHLM"), language="en")


def fallback_id(admin) -> int:
    return next(r["id"] for r in admin.get(RULES).get_json()
                if (r["purpose"], r["role"], r["type"], r["category"], r["org_unit"], r["only_serious"])
                == ("handle", "handler", None, None, None, False))


def assignee_of_new_case(db, reporter) -> int:
    case_id = reporter.file(incident_body()).get_json()["cases"][0]["id"]
    return db.get(Case, case_id).assignee_id


def test_the_list_shows_the_defaults(admin):
    response = admin.get(RULES)
    assert response.status_code == 200
    rules = response.get_json()
    assert {(r["purpose"], r["role"]) for r in rules} >= {("handle", "handler"), ("inform", "safety_rep")}
    assert all(r["changed_by"] is None and r["changed_at"] is None for r in rules)   # seeded, never changed


@pytest.mark.parametrize("roles, scopes", [((("admin", "UTBF"),), None), ((("handler", "STHLM"),), None),
                                           ((("admin", "STHLM"),), ["cases:read"])])
def test_others_are_forbidden(api, tree, roles, scopes):
    other = api.as_roles(*roles, **({"scopes": scopes} if scopes else {}))
    assert other.get(RULES).status_code == 403
    assert other.post(RULES, json={"role": "handler", "purpose": "handle", "type": "fire"}).status_code == 403
    assert other.patch(f"{RULES}/1", json={"priority": 1}).status_code == 403


def test_add_then_change_a_rule_and_a_new_case_follows_it(api, db, admin, tree, make):
    officer = make.user(("safety_officer", "UTBF"))
    principal = make.user(("principal_org", "UTBF"))
    handler = make.user(("handler", "S1"))
    reporter = api.as_roles(("reporter", "S1"))

    created = admin.post(RULES, json={"type": "threat_violence", "org_unit": "GRU", "role": "safety_officer",
                                      "purpose": "handle", "priority": 2})
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["type"], rule["org_unit"], rule["category"], rule["only_serious"], rule["active"]) == (
        "threat_violence", "GRU", None, False, True)
    assert rule["changed_by"]["name"] and rule["changed_at"]
    assert assignee_of_new_case(db, reporter) == officer.id

    changed = admin.patch(f"{RULES}/{rule['id']}", json={"role": "principal_org"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "principal_org"
    assert changed.get_json()["priority"] == 2   # what was not sent is kept
    assert assignee_of_new_case(db, reporter) == principal.id

    off = admin.patch(f"{RULES}/{rule['id']}", json={"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert assignee_of_new_case(db, reporter) == handler.id


@pytest.mark.parametrize("body, path", [
    ({"type": "no_such_type", "role": "handler", "purpose": "handle"}, "type"),
    ({"org_unit": "NOPE", "role": "handler", "purpose": "handle"}, "org_unit"),
    ({"category": "weather", "role": "handler", "purpose": "handle"}, "category"),
    ({"role": "janitor", "purpose": "handle"}, "role"),
    ({"role": "handler", "purpose": "escalate"}, "purpose"),
    ({"role": "analyst", "purpose": "handle"}, "role"),
    ({"role": "handler"}, "purpose"),                       # required by the schema
    ({"role": "handler", "purpose": "handle", "colour": "red"}, "colour"),   # unknown keys are refused
])
def test_invalid_rules_are_problems_at_the_field(admin, body, path):
    response = admin.post(RULES, json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert path in response.get_json()["errors"], response.get_json()


def test_messages_in_swedish_by_default(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    response = admin.post(RULES, json={"type": "nope", "role": "handler", "purpose": "handle"})
    assert response.get_json()["errors"]["type"] == ["Okänd händelsetyp: nope."]


def test_the_last_fallback_is_kept(admin):
    rule_id = fallback_id(admin)
    response = admin.patch(f"{RULES}/{rule_id}", json={"active": False})
    assert response.status_code == 409
    assert "last rule that gives every case to the nearest rektor" in response.get_json()["detail"]
    assert admin.patch(f"{RULES}/{rule_id}", json={"priority": 1}).status_code == 200


def test_an_unknown_rule_and_a_body_that_is_no_object(admin):
    assert admin.patch(f"{RULES}/999999", json={"priority": 1}).status_code == 404
    assert admin.post(RULES, json=[]).status_code == 400
    assert admin.post(RULES, data="role=handler").status_code == 415


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/routing-rules"]) == {"get", "post"}
    assert set(spec["paths"]["/routing-rules/{rule_id}"]) == {"patch"}
    assert set(spec["components"]["schemas"]["RoutingRuleIn"]["required"]) == {"role", "purpose"}
    assert "required" not in spec["components"]["schemas"]["RoutingRulePatchIn"]
