"""Registerutdrag and the read log in API v1: the search by personal number (JSON or PDF, 422 for a bad number,
403 for other roles) and the auditor's review of the read log per case and per user."""
from __future__ import annotations

from tests.factories import victimisation_body

PROBLEM = "application/problem+json"
PUPIL = "20121212-1212"   # victimisation_body's pupil


def test_a_data_protection_officer_downloads_the_extract_as_json_and_pdf(api, tree):
    api.as_roles(("handler", "S1"))
    filed = api.as_roles(("reporter", "S1")).file(victimisation_body()).get_json()
    dpo = api.as_roles(("data_protection_officer", "UTBF"), language="en")
    response = dpo.post("/api/v1/subject-access", json={"personal_number": "121212-1212"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["personal_number"] == PUPIL and [r["incident"] for r in body["records"]] == [filed["number"]]
    assert body["records"][0]["person"]["name"] == "Elev 0"
    pdf = dpo.post("/api/v1/subject-access", json={"personal_number": PUPIL, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_a_bad_number_is_a_422_at_the_field_in_the_users_language(api, tree):
    dpo = api.as_roles(("data_protection_officer", "UTBF"), language="en")
    response = dpo.post("/api/v1/subject-access", json={"personal_number": "20121212-1213"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"] == {
        "personal_number": ["Not a valid personal identity number (personnummer or samordningsnummer)."]}
    swedish = api.as_roles(("data_protection_officer", "UTBF"))
    assert "personnummer" in swedish.post("/api/v1/subject-access", json={"personal_number": "x"}).get_json()[
        "errors"]["personal_number"][0]
    assert dpo.post("/api/v1/subject-access", json={}).status_code == 422


def test_other_roles_may_not_search(api, tree):
    for role in ("handler", "auditor", "principal_org", "analyst"):
        response = api.as_roles((role, "STHLM")).post("/api/v1/subject-access", json={"personal_number": PUPIL})
        assert response.status_code == 403, role


def test_an_auditor_reads_the_log_per_case_and_per_user(api, tree):
    handler = api.as_roles(("handler", "S1"))
    case_id = api.as_roles(("reporter", "S1")).file(victimisation_body()).get_json()["cases"][0]["id"]
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 200
    auditor = api.as_roles(("auditor", "UTBF"))
    per_case = auditor.get(f"/api/v1/access-log?case={case_id}").get_json()["items"]
    assert [(e["action"], e["case_id"]) for e in per_case] == [("read", case_id)]
    user_id = per_case[0]["user"]["id"]
    assert [e["action"] for e in auditor.get(f"/api/v1/access-log?user={user_id}").get_json()["items"]] == ["read"]
    assert api.as_roles(("auditor", "HAGALV")).get("/api/v1/access-log").get_json()["items"] == []
    assert api.as_roles(("data_protection_officer", "STHLM")).get("/api/v1/access-log").status_code == 403
