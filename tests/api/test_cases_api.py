"""The case API: the inbox, one case as each role may see it, transitions, milestones, the investigation,
the serious check, the timeline and the access log – status codes and problem+json per field."""
import pytest

from kia.auth.tokens import SCOPES
from tests.factories import incident_body, victimisation_body

PROBLEM = "application/problem+json"
CLOSING = {"closing_summary": "Samtal hållet.", "decision": "Avslutas."}
NO = {"death": False, "serious_injury": [], "several_hurt": False, "serious_near_miss": False, "serious_threat": []}


@pytest.fixture
def users(tree, make):
    return {"handler": make.user(("handler", "S1"), name="Rektor Rut"),
            "reporter": make.user(("reporter", "S1"), name="Personal Per"),
            "safety_rep": make.user(("safety_rep", "S1")), "admin": make.user(("admin", "STHLM"))}


@pytest.fixture
def clients(api, users):
    return {role: api.as_user(user, language="en") for role, user in users.items()}


@pytest.fixture
def threat_id(clients) -> int:
    return clients["reporter"].file(incident_body()).get_json()["cases"][0]["id"]


@pytest.fixture
def victimisation_ids(clients) -> list[int]:
    return [c["id"] for c in clients["reporter"].file(victimisation_body(pupils=2)).get_json()["cases"]]


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    return response.get_json()


# ---- reading ------------------------------------------------------------------------------------

def test_the_inbox_needs_the_cases_read_scope(api, users, threat_id):
    limited = api.as_user(users["handler"], scopes=["incidents:read"])
    problem_of(limited.get("/api/v1/cases"), 403)
    problem_of(limited.get(f"/api/v1/cases/{threat_id}"), 403)


def test_a_reporter_lists_no_cases(clients, threat_id):
    assert clients["reporter"].get("/api/v1/cases").get_json() == {"items": [], "next_cursor": None}
    problem_of(clients["reporter"].get(f"/api/v1/cases/{threat_id}"), 404)


def test_the_inbox_filters_sorts_and_pages(clients, threat_id, victimisation_ids):
    handler = clients["handler"]
    first = handler.get("/api/v1/cases?state=open&sort=number&limit=2").get_json()
    assert [c["id"] for c in first["items"]] == [threat_id, victimisation_ids[0]]
    second = handler.get(f"/api/v1/cases?state=open&sort=number&limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["id"] for c in second["items"]] == [victimisation_ids[1]] and second["next_cursor"] is None
    item = first["items"][0]
    assert item["state"] == "received" and item["type"] == "threat_violence" and item["org_unit"] == "S1"
    assert item["assignee"]["name"] == "Rektor Rut" and item["overdue"] is False
    only = handler.get("/api/v1/cases?state=received,acknowledged&type=victimisation&assigned=me").get_json()
    assert [c["id"] for c in only["items"]] == victimisation_ids
    assert handler.get("/api/v1/cases?serious=true").get_json()["items"] == []


@pytest.mark.parametrize("query, field", [
    ("state=done", "state"), ("type=nope", "type"), ("org_unit=NOPE", "org_unit"), ("assigned=you", "assigned"),
    ("serious=maybe", "serious"), ("overdue=perhaps", "overdue"), ("sort=colour", "sort"), ("limit=0", "limit"),
    ("cursor=xyz", "cursor"),
])
def test_bad_inbox_parameters_are_400_per_field(clients, threat_id, query, field):
    problem = problem_of(clients["handler"].get(f"/api/v1/cases?{query}"), 400)
    assert list(problem["errors"]) == [field]


def test_one_case_with_its_incident_milestones_related_cases_and_watchers(clients, victimisation_ids):
    body = clients["handler"].get(f"/api/v1/cases/{victimisation_ids[0]}").get_json()
    assert body["subject"] == {"role": "affected", "category": "pupil", "gender": "female", "name": "Elev 0",
                               "class_name": None, "personal_number": "20121212-****"}
    assert body["incident"]["description"] and "cases" not in body["incident"]
    assert body["incident"]["reporter"]["name"] == "Personal Per"
    assert [(r["id"], r["relation"]) for r in body["related"]] == [(victimisation_ids[1], "same_incident")]
    assert [m["kind"] for m in body["milestones"]] == ["principal_notified"]   # KIA told the rektor at filing
    assert body["may_handle"] is True and body["next_states"] == ["acknowledged", "rejected"]
    assert body["serious_check_applies"] is False and body["actions"] == []
    assert isinstance(body["watchers"], list)


def test_a_safety_rep_reads_the_threat_case_without_personal_data_and_never_a_victimisation_case(
        clients, threat_id, victimisation_ids):
    safety_rep = clients["safety_rep"]
    body = safety_rep.get(f"/api/v1/cases/{threat_id}").get_json()
    assert body["incident"]["reporter"] is None
    assert body["may_handle"] is False and body["next_states"] == []
    assert body["serious_check_applies"] is True
    problem_of(safety_rep.get(f"/api/v1/cases/{victimisation_ids[0]}"), 404)
    problem_of(safety_rep.get(f"/api/v1/cases/{victimisation_ids[0]}/timeline"), 404)
    assert [c["id"] for c in safety_rep.get("/api/v1/cases").get_json()["items"]] == [threat_id]


# ---- changing -----------------------------------------------------------------------------------

def test_transitions_200_409_and_422(clients, threat_id):
    handler, url = clients["handler"], f"/api/v1/cases/{threat_id}/transitions"
    assert handler.post(url, json={"to": "acknowledged", "comment": "Tittar på det."}).get_json()["state"] == \
        "acknowledged"
    problem = problem_of(handler.post(url, json={"to": "closed", **CLOSING}), 409)
    assert problem["detail"] == "A case that is acknowledged cannot move to closed."
    assert handler.post(url, json={"to": "investigating"}).status_code == 200
    problem = problem_of(handler.post(url, json={"to": "closed"}), 422)
    assert set(problem["errors"]) == {"closing_summary", "decision"}
    assert problem["errors"]["decision"] == ["State the decision before closing the case."]
    problem_of(handler.post(url, json={"to": "closed", "colour": "red"}), 422)
    closed = handler.post(url, json={"to": "closed", **CLOSING}).get_json()
    assert closed["state"] == "closed" and closed["closed_at"]


def test_readers_get_403_and_strangers_404_on_changes(api, tree, clients, threat_id):
    stranger = api.as_roles(("handler", "S2"))
    for client, status in ((clients["safety_rep"], 403), (stranger, 404)):
        problem_of(client.post(f"/api/v1/cases/{threat_id}/transitions", json={"to": "acknowledged"}), status)
        problem_of(client.patch(f"/api/v1/cases/{threat_id}", json={"investigation": "x"}), status)
        problem_of(client.post(f"/api/v1/cases/{threat_id}/milestones", json={"kind": "support_offered"}), status)
        problem_of(client.put(f"/api/v1/cases/{threat_id}/serious-check", json={"answers": NO}), status)


def test_changes_need_the_cases_write_scope(api, users, threat_id):
    reader = api.as_user(users["handler"], scopes=[s for s in SCOPES if s != "cases:write"])
    problem_of(reader.post(f"/api/v1/cases/{threat_id}/transitions", json={"to": "acknowledged"}), 403)


def test_milestones_201_then_409(clients, threat_id):
    url = f"/api/v1/cases/{threat_id}/milestones"
    response = clients["handler"].post(url, json={"kind": "police_report_made", "at": "2026-03-10T12:00",
                                                  "reference": "K-55-26"})
    assert response.status_code == 201
    assert response.get_json()["at"] == "2026-03-10T12:00:00+01:00"
    assert response.get_json()["recorded_by"]["name"] == "Rektor Rut"
    problem_of(clients["handler"].post(url, json={"kind": "police_report_made"}), 409)
    problem = problem_of(clients["handler"].post(url, json={"kind": "told_the_press"}), 422)
    assert list(problem["errors"]) == ["kind"]


def test_the_investigation_and_its_timeline(clients, threat_id):
    handler = clients["handler"]
    response = handler.patch(f"/api/v1/cases/{threat_id}", json={"investigation": "Samtal med eleven."})
    assert response.status_code == 200
    problem_of(handler.patch(f"/api/v1/cases/{threat_id}", json={}), 422)
    items = handler.get(f"/api/v1/cases/{threat_id}/timeline").get_json()["items"]
    assert "case_created" in [i["kind"] for i in items]
    change = items[-1]
    assert (change["kind"], change["field"], change["old"], change["new"]) == (
        "field_changed", "investigation", "", "Samtal med eleven.")
    assert change["actor"]["name"] == "Rektor Rut"


def test_the_reporter_is_hidden_in_the_timeline_from_those_who_may_not_see_who_reported(clients, threat_id):
    def case_created(client) -> dict:
        items = client.get(f"/api/v1/cases/{threat_id}/timeline").get_json()["items"]
        return next(i for i in items if i["kind"] == "case_created")

    hidden = case_created(clients["safety_rep"])
    assert hidden["actor"] is None and hidden["by_reporter"] is True   # who, not that it was the reporter
    shown = case_created(clients["handler"])
    assert shown["actor"]["name"] == "Personal Per" and shown["by_reporter"] is True
    items = clients["handler"].get(f"/api/v1/cases/{threat_id}/timeline").get_json()["items"]
    assert all(i["by_reporter"] is False for i in items if i["kind"] == "assigned")   # routing: the system


def test_a_rektor_who_reported_and_handles_is_named_for_the_handling_only(clients, users):
    # Their handling names them (they are the handler anyway); their filing stays the reporter's, so the two
    # are never tied together for a reader who may not see who reported.
    case_id = clients["handler"].file(incident_body()).get_json()["cases"][0]["id"]
    assert clients["handler"].post(f"/api/v1/cases/{case_id}/transitions", json={"to": "acknowledged"}).status_code == 200
    items = clients["safety_rep"].get(f"/api/v1/cases/{case_id}/timeline").get_json()["items"]
    created = next(i for i in items if i["kind"] == "case_created")
    moved = next(i for i in items if i["kind"] == "state_changed")
    assert created["actor"] is None and created["by_reporter"] is True
    assert moved["actor"]["name"] == "Rektor Rut" and moved["by_reporter"] is False


def test_the_serious_check(clients, threat_id):
    url = f"/api/v1/cases/{threat_id}/serious-check"
    body = clients["handler"].put(url, json={"answers": {**NO, "serious_threat": ["firearm"]}}).get_json()
    assert body == {"serious": True, "answers": {**NO, "serious_threat": ["firearm"]}}
    assert [c["id"] for c in clients["handler"].get("/api/v1/cases?serious=true").get_json()["items"]] == [threat_id]
    problem = problem_of(clients["handler"].put(url, json={"answers": NO}), 422)
    assert list(problem["errors"]) == ["clear_reason"]
    problem = problem_of(clients["handler"].put(url, json={"answers": {"death": "no"}}), 422)
    assert "answers.death" in problem["errors"] and "answers.serious_threat" in problem["errors"]
    cleared = clients["handler"].put(url, json={"answers": NO, "clear_reason": "Leksakspistol."}).get_json()
    assert cleared["serious"] is False


# ---- the access log -----------------------------------------------------------------------------

def test_every_read_is_in_the_access_log(clients, users, threat_id, victimisation_ids):
    clients["handler"].get(f"/api/v1/cases/{threat_id}")
    clients["handler"].get(f"/api/v1/cases/{victimisation_ids[0]}")
    clients["handler"].get(f"/api/v1/cases/{victimisation_ids[0]}/timeline")
    body = clients["admin"].get("/api/v1/access-log").get_json()
    assert [(i["case_id"], i["user"]["name"], i["action"]) for i in body["items"]] == [
        (victimisation_ids[0], "Rektor Rut", "read_timeline"), (victimisation_ids[0], "Rektor Rut", "read"),
        (threat_id, "Rektor Rut", "read")]
    assert body["next_cursor"] is None
    only = clients["admin"].get(f"/api/v1/access-log?case={threat_id}").get_json()
    assert [(i["case_id"], i["action"]) for i in only["items"]] == [(threat_id, "read")]


def test_only_admins_review_the_access_log(clients):
    problem_of(clients["handler"].get("/api/v1/access-log"), 403)
    problem_of(clients["admin"].get("/api/v1/access-log?limit=0"), 400)


def test_every_case_path_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/cases", "/cases/{case_id}", "/cases/{case_id}/transitions", "/cases/{case_id}/milestones",
            "/cases/{case_id}/serious-check", "/cases/{case_id}/timeline", "/access-log"} <= set(paths)
    assert set(paths["/cases/{case_id}"]) >= {"get", "patch"}
