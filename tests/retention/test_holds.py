"""Legal hold: a handler holds a case (open or closed) from gallring with a reason, through the API or the case page;
it is shown on the case, gallring passes the event by, and once lifted takes it. Others may not."""
from __future__ import annotations

from sqlalchemy import select

from kia.cases.models import TimelineEntry
from kia.incidents.models import Incident
from kia.retention.gallring import run_gallring
from kia.retention.models import LegalHold
from tests.factories import victimisation_body
from tests.retention.conftest import GALLRING_AT
from tests.web.test_handling import post, sign_in

HOLD = "/api/v1/cases/{}/legal-hold"


def test_a_handler_holds_and_lifts_a_case_and_the_case_shows_it(api, tree, make, db):
    handler_user = make.user(("handler", "S1"))
    handler = api.as_user(handler_user)
    case_id = api.as_roles(("reporter", "S1")).file(victimisation_body()).get_json()["cases"][0]["id"]
    assert handler.get(f"/api/v1/cases/{case_id}").get_json()["legal_hold"] is None
    response = handler.put(HOLD.format(case_id), json={"reason": "police_investigation"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reason"] == "police_investigation"
    shown = handler.get(f"/api/v1/cases/{case_id}").get_json()["legal_hold"]
    assert shown["reason"] == "police_investigation" and shown["held_by"]["id"] == handler_user.id
    assert handler.put(HOLD.format(case_id), json={"reason": "appeal"}).get_json()["reason"] == "appeal"
    assert handler.request("DELETE", HOLD.format(case_id)).status_code == 204
    assert handler.get(f"/api/v1/cases/{case_id}").get_json()["legal_hold"] is None
    kinds = [(e.kind, e.old, e.new) for e in db.scalars(select(TimelineEntry).where(
        TimelineEntry.case_id == case_id, TimelineEntry.field == "legal_hold").order_by(TimelineEntry.id))]
    assert kinds == [("legal_hold_placed", None, "police_investigation"),
                     ("legal_hold_placed", "police_investigation", "appeal"), ("legal_hold_lifted", "appeal", None)]


def test_a_bad_reason_is_a_422_and_a_reporter_may_not_hold(api, tree, make):
    make.user(("handler", "S1"))
    reporter = api.as_roles(("reporter", "S1"))
    case_id = reporter.file(victimisation_body()).get_json()["cases"][0]["id"]
    handler = api.as_roles(("handler", "S1"))
    response = handler.put(HOLD.format(case_id), json={"reason": "because"})
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]
    assert reporter.put(HOLD.format(case_id), json={"reason": "appeal"}).status_code in (403, 404)
    assert api.as_roles(("handler", "S2")).put(HOLD.format(case_id), json={"reason": "appeal"}).status_code == 404


def test_a_held_event_is_passed_by_and_taken_once_the_hold_is_lifted(api, make, db, session_factory, scenario):
    from kia.orgs.models import User

    holder = api.as_user(db.get(User, db.scalar(select(LegalHold.held_by_id)
                                                .where(LegalHold.case_id == scenario.held_case))))
    run_gallring(session_factory, GALLRING_AT, scenario.store)
    incident_id = db.scalar(select(Incident.id).where(Incident.cases.any(id=scenario.held_case)))
    db.expire_all()
    assert db.get(Incident, incident_id).anonymised_at is None
    assert holder.request("DELETE", HOLD.format(scenario.held_case)).status_code == 204
    result = run_gallring(session_factory, GALLRING_AT, scenario.store)
    assert result.counts["victimisation"]["anonymised"] == 1
    db.expire_all()
    assert db.get(Incident, incident_id).anonymised_at is not None
    # Erased, it can no longer be held: there is nothing left to keep.
    response = holder.put(HOLD.format(scenario.held_case), json={"reason": "appeal"})
    assert response.status_code == 409


def test_the_case_page_shows_the_hold_and_its_handler_places_and_lifts_it(client, api, tree, make, db):
    from kia.access import Actor

    handler = make.user(("handler", "S1"))
    case_id = api.as_roles(("reporter", "S1")).file(victimisation_body()).get_json()["cases"][0]["id"]
    sign_in(client, Actor.for_user(handler))
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Inte undantaget" in html and 'name="reason"' in html
    response = post(client, f"/cases/{case_id}/legal-hold", {"reason": "open_request"})
    assert response.status_code == 302
    html = client.get(f"/cases/{case_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Held from gallring</strong>: Open request" in html and "Lift the hold" in html
    assert post(client, f"/cases/{case_id}/legal-hold", {"reason": "nonsense"}).status_code == 422
    assert post(client, f"/cases/{case_id}/legal-hold/lift", {}).status_code == 302
    assert db.scalar(select(LegalHold).where(LegalHold.case_id == case_id)) is None
