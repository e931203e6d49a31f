"""/my/incidents (a reporter's own reports, public parts only) and the handlers' side of the message thread."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from kia.cases.models import Case, CaseAction, CaseState, CaseWatcher, Comment, Milestone, MilestoneKind
from kia.feedback.models import ReporterMessage
from tests.conftest import TZ
from tests.factories import incident_body
from tests.feedback.support import risk_body

INTERNAL = ("Intern utredning", "Internt beslut", "Intern kommentar", "Hemlig åtgärd", "Fel kanal",
            "Rektor Rut", "Kalle Elevsson", "8B", "K-1234")


@pytest.fixture
def rektor(api, tree):
    return api.make.user(("handler", "S1"), name="Rektor Rut")


@pytest.fixture
def staff(api, tree):
    return api.as_roles(("reporter", "S1"), language="en")


@pytest.fixture
def filed(staff, rektor, db):
    """A threat report by `staff`, then everything a handler records that the reporter must not see."""
    body = incident_body(persons=[
        {"role": "affected", "category": "staff", "gender": "female"},
        {"role": "perpetrator", "category": "pupil", "gender": "male", "name": "Kalle Elevsson", "class_name": "8B"}])
    number = staff.file(body).get_json()["number"]
    case = db.scalar(select(Case).where(Case.number == number + "-1"))
    assert case.assignee_id == rektor.id
    case.state, case.investigation, case.decision = CaseState.INVESTIGATING, "Intern utredning", "Internt beslut"
    case.closing_summary = "Ett utkast"   # shown only once closed
    db.add_all([Comment(case_id=case.id, author_id=rektor.id, body="Intern kommentar"),
                CaseAction(case=case, what="Hemlig åtgärd", responsible_id=rektor.id, due_date=date(2026, 4, 1),
                           created_by_id=rektor.id),
                CaseWatcher(case_id=case.id, user_id=rektor.id, reason="handler"),
                Milestone(case=case, kind=MilestoneKind.POLICE_REPORT_MADE, at=case.created_at, reference="K-1234")])
    db.commit()
    return case


def test_reporter_sees_the_public_parts_of_own_reports_only(staff, filed):
    response = staff.get("/api/v1/my/incidents")
    assert response.status_code == 200
    incident = filed.incident
    expected = {
        "id": incident.id, "number": incident.number, "type": "threat_violence",
        "type_name": {"sv": "Hot och våld mot anställd", "en": "Threat or violence against staff"},
        "org_unit": "S1", "org_unit_name": "Skola Ett", "occurred_at": "2026-03-10T09:30:00+01:00",
        "reported_at": incident.reported_at.astimezone(TZ).isoformat(),
        "cases": [{"number": filed.number, "type": "threat_violence", "state": "investigating",
                   "closed_at": None, "closing_summary": None}],
    }
    assert response.get_json() == {"items": [expected], "next_cursor": None}
    assert staff.get(f"/api/v1/my/incidents/{incident.id}").get_json() == expected
    text = response.get_data(as_text=True)
    assert not [word for word in INTERNAL + ("Ett utkast",) if word in text]


def test_once_closed_the_reporter_reads_the_summary_but_not_the_decision(staff, filed, db):
    filed.state, filed.closed_at = CaseState.CLOSED, datetime(2026, 3, 20, 15, 0, tzinfo=timezone.utc)
    filed.closing_summary = "Vi har pratat med eleven och vårdnadshavarna."
    db.commit()
    case = staff.get(f"/api/v1/my/incidents/{filed.incident_id}").get_json()["cases"][0]
    assert case == {"number": filed.number, "type": "threat_violence", "state": "closed",
                    "closed_at": "2026-03-20T16:00:00+01:00",
                    "closing_summary": "Vi har pratat med eleven och vårdnadshavarna."}


def test_a_rejected_case_keeps_its_reason_internal(staff, filed, db):
    filed.state, filed.rejection_reason, filed.closing_summary = CaseState.REJECTED, "Fel kanal", ""
    db.commit()
    case = staff.get(f"/api/v1/my/incidents/{filed.incident_id}").get_json()["cases"][0]
    assert (case["state"], case["closing_summary"]) == ("rejected", None)
    assert "Fel kanal" not in str(case)


def test_reports_of_others_are_not_found_even_for_their_handler(api, staff, filed, rektor):
    url = f"/api/v1/my/incidents/{filed.incident_id}"
    colleague = api.as_roles(("reporter", "S1"))
    assert colleague.get(url).status_code == 404
    assert colleague.get("/api/v1/my/incidents").get_json() == {"items": [], "next_cursor": None}
    handler = api.as_user(rektor)
    assert handler.get(f"/api/v1/incidents/{filed.incident_id}").status_code == 200   # reads it as handler
    assert handler.get(url).status_code == 404


def test_own_reports_need_a_sign_in_and_the_read_scope(api, client, tree):
    assert client.get("/api/v1/my/incidents").status_code == 401
    assert api.as_roles(("reporter", "S1"), scopes=["cases:read"]).get("/api/v1/my/incidents").status_code == 403


# ---- the handlers' side of the thread -----------------------------------------------------------

@pytest.fixture
def anonymous_incident(client, tree, db):
    number = client.post("/api/v1/public/incidents", json=risk_body()).get_json()["number"]
    return db.scalar(select(Case).where(Case.number == number + "-1")).incident_id


@pytest.mark.parametrize("roles", [("handler", "S2"), ("handler", "G1"), ("safety_rep", "S1"),
                                   ("reporter", "S1"), ("principal_org", "HAGALV")])
def test_only_handlers_of_its_cases_reach_the_thread(api, anonymous_incident, db, roles):
    other = api.as_roles(roles)
    url = f"/api/v1/incidents/{anonymous_incident}/messages"
    assert other.get(url).status_code == 404
    assert other.post(url, json={"body": "Hej"}).status_code == 404
    assert db.scalar(select(ReporterMessage)) is None


def test_handlers_above_the_unit_and_the_assignee_reach_it(api, anonymous_incident):
    url = f"/api/v1/incidents/{anonymous_incident}/messages"
    for roles in (("handler", "GRU"), ("safety_officer", "UTBF")):
        assert api.as_roles(roles).get(url).status_code == 200


def test_a_named_report_has_no_thread_to_write_to(staff, filed, rektor, api):
    handler = api.as_user(rektor, language="en")
    url = f"/api/v1/incidents/{filed.incident_id}/messages"
    assert handler.get(url).get_json() == {"anonymous_followup": False, "messages": []}
    refused = handler.post(url, json={"body": "Hej"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"


def test_writing_needs_the_cases_write_scope(api, anonymous_incident):
    reader = api.as_roles(("handler", "S1"), scopes=["cases:read"])
    url = f"/api/v1/incidents/{anonymous_incident}/messages"
    assert reader.get(url).status_code == 200
    assert reader.post(url, json={"body": "Hej"}).status_code == 403
