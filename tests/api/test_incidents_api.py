"""POST/GET /api/v1/incidents: status codes, problem+json per field, idempotency, pagination, filters."""
import pytest

from tests.factories import incident_body, victimisation_body

PROBLEM = "application/problem+json"


@pytest.fixture
def staff(api, tree):
    return api.as_roles(("reporter", "S1"), language="en")


def test_filing_returns_201_location_and_the_incident(staff):
    response = staff.file(incident_body())
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert body["number"].startswith("UTBF-") and body["number"].endswith("-00001")
    assert body["type"] == "threat_violence" and body["org_unit"] == "S1"
    assert body["occurred_at"] == "2026-03-10T09:30:00+01:00"   # shown in Stockholm time
    assert body["cases"] == [{"id": body["cases"][0]["id"], "number": body["number"] + "-1",
                              "state": "received", "type": "threat_violence"}]
    assert staff.get(response.headers["Location"]).get_json() == body


def test_victimisation_with_two_pupils_gives_two_cases(staff):
    body = staff.file(victimisation_body(pupils=2)).get_json()
    assert [c["number"] for c in body["cases"]] == [body["number"] + "-1", body["number"] + "-2"]


def test_personal_numbers_are_masked_in_output(staff):
    body = staff.file(victimisation_body()).get_json()
    assert body["persons"][0]["personal_number"] == "20121212-****"


@pytest.mark.parametrize("body, path", [
    (incident_body(type="nope"), "type"),
    (incident_body(org_unit="NOPE"), "org_unit"),
    (incident_body(fields={"threat_kind": "verbal_threat", "police_report_made": "no"}), "fields.weapon"),
    (incident_body(fields={"threat_kind": "verbal_threat", "weapon": "bazooka", "police_report_made": "no"}),
     "fields.weapon"),
    (incident_body(fields={"threat_kind": "verbal_threat", "weapon": "none", "police_report_made": "no",
                           "mood": "bad"}), "fields.mood"),
    (incident_body(occurred_at="2099-01-01T10:00"), "occurred_at"),
    (incident_body(known_at="2026-03-10T08:00"), "known_at"),
    (incident_body(persons=[{"role": "affected", "category": "pupil", "gender": "male",
                             "personal_number": "20121212-1213"}]), "persons[0].personal_number"),
    (incident_body(persons=[{"role": "victim", "category": "pupil"}]), "persons[0].role"),
    (incident_body(persons=[{"role": "affected", "category": "pupil", "gender": "x"}]), "persons[0].gender"),
    (incident_body(description="x" * 10_001), "description"),
    (incident_body(occurred_at="yesterday"), "occurred_at"),
    ({**incident_body(), "colour": "red"}, "colour"),
    ({k: v for k, v in incident_body().items() if k != "description"}, "description"),
])
def test_bad_input_is_a_problem_with_a_message_for_the_field(staff, body, path):
    response = staff.file(body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == 422
    assert path in problem["errors"], problem
    assert all(isinstance(m, str) and m for m in problem["errors"][path])
    assert staff.get("/api/v1/incidents").get_json()["items"] == []   # nothing stored


def test_victimisation_without_affected_pupil_is_refused(staff):
    body = victimisation_body(pupils=0)
    response = staff.file(body)
    assert response.status_code == 422 and "persons" in response.get_json()["errors"]


def test_messages_are_swedish_by_default_and_english_on_request(api, tree):
    swedish = api.as_roles(("reporter", "S1"))
    english = api.as_roles(("reporter", "S1"), language="en")
    body = incident_body(org_unit="NOPE")
    sv = swedish.file(body).get_json()
    en = english.file(body).get_json()
    assert en["errors"]["org_unit"] == ["Unknown org unit: NOPE."]
    assert sv["errors"]["org_unit"] != en["errors"]["org_unit"]
    assert "NOPE" in sv["errors"]["org_unit"][0]


def test_body_over_one_mebibyte_is_413(staff):
    response = staff.file(incident_body(description="x" * (1024 * 1024)))
    assert response.status_code == 413 and response.mimetype == PROBLEM


def test_non_json_body_is_415(staff):
    response = staff.post("/api/v1/incidents", data="type=fire", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.mimetype == PROBLEM


def test_malformed_json_is_400(staff):
    response = staff.post("/api/v1/incidents", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.mimetype == PROBLEM


def test_missing_or_invalid_token_is_401(client, tree):
    assert client.post("/api/v1/incidents", json=incident_body()).status_code == 401
    response = client.get("/api/v1/incidents", headers={"Authorization": "Bearer kia_wrong"})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/incidents", headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_scopes_are_enforced(api, tree):
    reader = api.as_roles(("reporter", "S1"), scopes=["incidents:read"])
    assert reader.file(incident_body()).status_code == 403
    writer = api.as_roles(("reporter", "S1"), scopes=["incidents:write"])
    assert writer.file(incident_body()).status_code == 201
    assert writer.get("/api/v1/incidents").status_code == 403


def test_revoked_and_expired_tokens_are_refused(client, make, tree, db):
    from datetime import timedelta

    from kia.auth.tokens import create_token
    from kia.db import utcnow

    user = make.user(("reporter", "S1"))
    token, secret = create_token(db, user, ["incidents:read"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/incidents", headers=headers).status_code == 200
    token.revoked_at = utcnow()
    db.commit()
    assert client.get("/api/v1/incidents", headers=headers).status_code == 401
    _, expired = create_token(db, user, ["incidents:read"], expires_at=utcnow() - timedelta(seconds=1))
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    _, live = create_token(db, user, ["incidents:read"], expires_at=utcnow() + timedelta(hours=1))
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {live}"}).status_code == 200
    user.active = False
    db.commit()
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {live}"}).status_code == 401


def test_a_token_speaks_for_every_role_of_its_user_and_for_a_user_with_none(api, make, tree):
    for unit in ("S1", "S2"):
        assert api.as_roles(("reporter", unit)).file(incident_body(org_unit=unit)).status_code == 201
    both = api.as_roles(("handler", "S1"), ("handler", "S2"), scopes=["incidents:read"])
    assert sorted(i["org_unit"] for i in both.get("/api/v1/incidents").get_json()["items"]) == ["S1", "S2"]
    one = api.as_roles(("handler", "S2"), scopes=["incidents:read"])
    assert [i["org_unit"] for i in one.get("/api/v1/incidents").get_json()["items"]] == ["S2"]
    nobody = api.as_user(make.user(), scopes=["incidents:read"])
    response = nobody.get("/api/v1/incidents")
    assert response.status_code == 200 and response.get_json()["items"] == []


def test_idempotent_retry_returns_the_first_incident_and_stores_nothing(staff):
    first = staff.file(incident_body(), headers={"Idempotency-Key": "report-42"})
    retry = staff.file(incident_body(), headers={"Idempotency-Key": "report-42"})
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(staff.get("/api/v1/incidents").get_json()["items"]) == 1


def test_same_key_with_another_body_is_a_conflict(staff):
    assert staff.file(incident_body(), headers={"Idempotency-Key": "k"}).status_code == 201
    response = staff.file(incident_body(location="Annan plats"), headers={"Idempotency-Key": "k"})
    assert response.status_code == 409 and response.mimetype == PROBLEM


def test_idempotency_keys_are_per_user(api, tree):
    one = api.as_roles(("reporter", "S1"))
    two = api.as_roles(("reporter", "S1"))
    a = one.file(incident_body(), headers={"Idempotency-Key": "same"}).get_json()
    b = two.file(incident_body(), headers={"Idempotency-Key": "same"})
    assert b.status_code == 201 and b.get_json()["id"] != a["id"]


def test_invalid_idempotency_key_is_400(staff):
    assert staff.file(incident_body(), headers={"Idempotency-Key": "x" * 201}).status_code == 400


def test_cursor_pagination_walks_every_incident_once(staff):
    filed = {staff.file(incident_body(occurred_at=f"2026-03-{day:02d}T10:00", known_at=None)).get_json()["id"]
             for day in range(1, 8)}
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/incidents?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = staff.get(url).get_json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == filed
    occurred = [staff.get(f"/api/v1/incidents/{i}").get_json()["occurred_at"] for i in seen]
    assert occurred == sorted(occurred, reverse=True)


def test_filters_by_type_subtree_and_time(api, tree):
    officer = api.as_roles(("safety_officer", "UTBF"))
    officer.file(incident_body(org_unit="S1", occurred_at="2026-02-01T10:00", known_at=None))
    officer.file(incident_body(org_unit="G1", occurred_at="2026-03-01T10:00", known_at=None))
    officer.file(incident_body(type="fire", org_unit="S2", fields={"fire_kind": "false_alarm"},
                               occurred_at="2026-03-05T10:00", known_at=None, persons=[]))

    def numbers(query):
        response = officer.get("/api/v1/incidents?" + query)
        assert response.status_code == 200, response.get_json()
        return sorted(i["org_unit"] for i in response.get_json()["items"])

    assert numbers("org_unit=GRU") == ["S1", "S2"]
    assert numbers("org_unit=UTBF&type=threat_violence") == ["G1", "S1"]
    assert numbers("from=2026-02-15T00:00:00%2B01:00") == ["G1", "S2"]
    assert numbers("to=2026-03-02T00:00:00%2B01:00") == ["G1", "S1"]


@pytest.mark.parametrize("query, param", [
    ("type=nope", "type"), ("org_unit=NOPE", "org_unit"), ("cursor=%%%", "cursor"),
    ("limit=0", "limit"), ("limit=201", "limit"), ("from=tomorrow", "from"),
])
def test_bad_query_parameters_are_400(staff, query, param):
    response = staff.get("/api/v1/incidents?" + query)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert param in response.get_json()["errors"]


def test_unknown_incident_is_404_problem(staff):
    response = staff.get("/api/v1/incidents/999999")
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_unknown_api_path_is_404_problem(staff):
    response = staff.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == PROBLEM
