"""Numbers no column can hold, in bodies and query strings: an id past the id columns' range (PostgreSQL's INTEGER)
or past what SQLite binds is a 422 at its field (a 400 in a query), never a 500, on both databases; other whole
numbers of a body are checked against their own range before they reach a column; and the OpenAPI document says
each range."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest

from kia.db import MAX_ID, utcnow
from tests.api.test_case_work_api import PROBLEM, TOMORROW, send
from tests.conftest import TZ
from tests.factories import incident_body

TOO_LARGE = (2**31, 2**63, 10**40)
ID_RANGE = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}
NOW = utcnow().astimezone(TZ)


@pytest.fixture
def rektor_user(api, tree):
    return api.make.user(("handler", "S1"), name="Rektor Rut")


@pytest.fixture
def rektor(api, rektor_user):
    return api.as_user(rektor_user, language="en")


@pytest.fixture
def case_id(api, rektor_user) -> int:
    return api.as_roles(("reporter", "S1")).file(incident_body()).get_json()["cases"][0]["id"]


@pytest.fixture
def action_id(rektor, rektor_user, case_id) -> int:
    created = rektor.post(f"/api/v1/cases/{case_id}/actions",
                          json={"what": "Samtal", "responsible": rektor_user.id, "due_date": TOMORROW})
    assert created.status_code == 201
    return created.get_json()["id"]


@pytest.fixture
def admin(api, tree):
    return api.as_roles(("admin", "STHLM"), language="en")


def refused_at(response, field: str, status: int = 422) -> list[str]:
    assert response.status_code == status and response.mimetype == PROBLEM, (response.status_code, response.data)
    errors = response.get_json()["errors"]
    assert list(errors) == [field], errors
    return errors[field]


# What a handler sends: (method, path, body with the value at the field, the field's path in the errors).
HANDLER_BODIES = [
    ("POST", "/cases/{case}/assignment", lambda n: {"user": n}, "user"),
    ("POST", "/cases/{case}/actions", lambda n: {"what": "Samtal", "responsible": n, "due_date": TOMORROW},
     "responsible"),
    ("PATCH", "/cases/{case}/actions/{action}", lambda n: {"responsible": n}, "responsible"),
    ("POST", "/cases/{case}/links", lambda n: {"case": n}, "case"),
    ("POST", "/substitutes", lambda n: {"substitute": n, "starts_at": NOW.isoformat(),
                                        "ends_at": (NOW + timedelta(days=1)).isoformat()}, "substitute"),
    ("POST", "/cases/{case}/related-cases", lambda n: {"type": "fire", "persons": [n], "fields": {"fire_kind": "fire"}},
     "persons[0]"),
]


@pytest.mark.parametrize("value", TOO_LARGE)
@pytest.mark.parametrize("method, path, body, field", HANDLER_BODIES, ids=[b[-1] for b in HANDLER_BODIES])
def test_an_id_no_row_can_have_in_a_body_is_a_422_at_its_field(rektor, case_id, action_id, method, path, body,
                                                                field, value):
    url = "/api/v1" + path.format(case=case_id, action=action_id)
    refused_at(send(rektor, method, url, json=body(value)), field)


def test_the_range_is_said_in_the_message_and_its_ends_are_ids(rektor, rektor_user, case_id):
    url = f"/api/v1/cases/{case_id}/assignment"
    assert refused_at(rektor.post(url, json={"user": MAX_ID + 1}), "user") == [f"Must be from 1 to {MAX_ID}."]
    assert refused_at(rektor.post(url, json={"user": 0}), "user") == [f"Must be from 1 to {MAX_ID}."]
    assert refused_at(rektor.post(url, json={"user": MAX_ID}), "user") == ["No such user."]
    swedish = rektor.post(url, json={"user": 2**63}, headers={"Accept-Language": "sv"})
    assert refused_at(swedish, "user") == [f"Ska vara från 1 till {MAX_ID}."]
    assert rektor.post(url, json={"user": rektor_user.id}).status_code == 200


# What an admin sends: ids, and whole numbers a column holds (the services check their ranges, before any query).
ADMIN_BODIES = [
    ("POST", "/routing-rules", lambda n: {"role": "handler", "purpose": "handle", "priority": n}, "priority"),
    ("POST", "/deadline-rules", lambda n: {"code": "big", "name_sv": "Stor", "name_en": "Big", "start": "known_at",
                                           "due_hours": n, "met_by_state": "closed"}, "due_hours"),
    ("POST", "/deadline-rules", lambda n: {"code": "big", "name_sv": "Stor", "name_en": "Big", "start": "known_at",
                                           "due_working_days": n, "met_by_state": "closed"}, "due_working_days"),
    ("POST", "/deadline-rules", lambda n: {"code": "big", "name_sv": "Stor", "name_en": "Big", "start": "known_at",
                                           "due_hours": 1, "met_by_state": "closed", "escalate_after_hours": n},
     "escalate_after_hours"),
]


@pytest.mark.parametrize("value", TOO_LARGE)
@pytest.mark.parametrize("method, path, body, field", ADMIN_BODIES, ids=[b[-1] for b in ADMIN_BODIES])
def test_a_number_too_large_for_its_column_is_a_422_at_its_field(admin, method, path, body, field, value):
    refused_at(send(admin, method, "/api/v1" + path, json=body(value)), field)


@pytest.mark.parametrize("value", TOO_LARGE)
def test_a_changed_rule_with_a_number_too_large_is_a_422_at_its_field(admin, value):
    routing = admin.get("/api/v1/routing-rules").get_json()[0]["id"]
    refused_at(send(admin, "PATCH", f"/api/v1/routing-rules/{routing}", json={"priority": value}), "priority")
    deadlines = admin.get("/api/v1/deadline-rules").get_json()
    refused_at(send(admin, "PATCH", f"/api/v1/deadline-rules/{deadlines[0]['id']}", json={"due_hours": value}),
               "due_hours")
    # PUT takes GET's answer back, ids and all: the ids are ignored, but one no row can have is refused.
    refused_at(admin.put("/api/v1/deadline-rules", json=[{**deadlines[0], "id": value}, *deadlines[1:]]), "[0].id")


@pytest.mark.parametrize("value", [*TOO_LARGE, 0, -1])
def test_an_id_no_row_can_have_in_a_query_is_a_400_at_its_parameter(api, admin, value):
    handler = api.as_roles(("handler", "S1"))
    refused_at(admin.get(f"/api/v1/access-log?case={value}"), "case", 400)
    refused_at(admin.get(f"/api/v1/access-log?user={value}"), "user", 400)
    refused_at(admin.get(f"/api/v1/access-log?cursor={value}"), "cursor", 400)
    refused_at(admin.get(f"/api/v1/admin/notifications/failed?cursor={value}"), "cursor", 400)
    refused_at(handler.get(f"/api/v1/notifications?cursor={value}"), "cursor", 400)


def cursor_of(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    cursor_of("due", "2026-03-10T09:00:00+00:00", 2**63), cursor_of("number", "UTBF-2026-00001-1", 10**40),
    cursor_of("number", 2**63, 1), cursor_of("due", "2026-03-10T09:00:00", 1),
])
def test_a_forged_case_cursor_is_a_400(rektor, case_id, cursor):
    sort = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[0]
    refused_at(rektor.get(f"/api/v1/cases?sort={sort}&cursor={cursor}"), "cursor", 400)


@pytest.mark.parametrize("cursor", [cursor_of("2026-03-10T09:00:00+00:00", 2**63),
                                    cursor_of("2026-03-10T09:00:00", 1)])
def test_a_forged_incident_cursor_is_a_400(api, rektor, case_id, cursor):
    refused_at(rektor.get(f"/api/v1/incidents?cursor={cursor}"), "cursor", 400)
    reporter = api.as_roles(("reporter", "S1"))
    refused_at(reporter.get(f"/api/v1/my/incidents?cursor={cursor}"), "cursor", 400)


def test_a_number_field_holds_a_large_number_but_not_infinity(api, tree):
    staff = api.as_roles(("reporter", "S1"))
    fire = {"type": "fire", "fields": {"fire_kind": "fire", "damage_estimate_sek": 10**400}}
    filed = staff.file(incident_body(**fire))
    assert filed.status_code == 201, filed.get_json()
    stored = staff.get(f"/api/v1/incidents/{filed.get_json()['id']}").get_json()
    assert stored["fields"]["damage_estimate_sek"] == 10**400
    for value in ("NaN", "Infinity", "-Infinity"):   # what Python's JSON reads, though JSON has no such numbers
        body = json.dumps(incident_body(**fire)).replace(str(10**400), value)
        refused = staff.post("/api/v1/incidents", data=body, content_type="application/json")
        refused_at(refused, "fields.damage_estimate_sek")


def integer_properties(spec: dict, schema: dict, seen: set[str]):
    """(name, property) of every integer a request body takes, through references, lists and nesting."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from integer_properties(spec, spec["components"]["schemas"][name], seen)
        return
    for part in schema.get("allOf", []) + schema.get("oneOf", []):
        yield from integer_properties(spec, part, seen)
    if "items" in schema:
        yield from integer_properties(spec, schema["items"], seen)
    for key, prop in schema.get("properties", {}).items():
        if prop.get("type") == "integer":
            yield key, prop
        yield from integer_properties(spec, prop, seen)


def bounded(schema: dict) -> bool:
    return "enum" in schema or ("minimum" in schema and "maximum" in schema)


def test_the_openapi_document_states_the_range_of_every_id_and_integer_it_takes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and schema.get("type") == "integer":
                    if {key: schema.get(key) for key in ID_RANGE} != ID_RANGE:
                        unbounded.append(f"{method} {path} {parameter['name']}")
                elif schema.get("type") == "integer" and not bounded(schema):
                    unbounded.append(f"{method} {path} {parameter['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            unbounded += [f"{method} {path} body {name}" for name, prop in integer_properties(spec, body, set())
                          if not bounded(prop)]
    assert unbounded == []
    access_log = {p["name"]: p["schema"] for p in spec["paths"]["/access-log"]["get"]["parameters"]}
    assert all(access_log[name] == ID_RANGE for name in ("case", "user", "cursor"))
    link = spec["components"]["schemas"]["LinkIn"]["properties"]["case"]
    assert (link["minimum"], link["maximum"], link["format"]) == (1, MAX_ID, "int32")


def test_every_id_in_an_api_path_is_documented_with_its_range(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    undocumented = []
    for rule in app.url_map.iter_rules():
        names = re.findall(r"<id:(\w+)>", rule.rule)
        if not rule.rule.startswith("/api/v1/") or not names:
            continue
        path = re.sub(r"<id:(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = spec["paths"].get(path, {}).get(method.lower(), {})
            documented = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"}
            undocumented += [f"{method} {path} {name}" for name in names if documented.get(name) != ID_RANGE]
    assert undocumented == []
