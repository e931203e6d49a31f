"""The case page's felanmälan and the admin pages of property owners, as a browser posts them."""
from sqlalchemy import select

from kia.access import Actor
from kia.property.models import FaultReport, PropertyOwner
from kia.property.services import poll_fault_reports
from notifications.dispatcher import dispatch
from tests.property.conftest import API_KEY, PLACE, file_building_case
from tests.web.test_handling import page, post, sign_in


def test_a_handler_sends_a_fault_report_from_the_case_page(client, db, make, session_factory, settings, open311,
                                                          sisab, handler):
    case = file_building_case(db, make)
    sign_in(client, Actor.for_user(handler))
    html = page(client, f"/cases/{case.id}")
    assert "Fault report to the property owner" in html and "Goes to SISAB" in html

    missing = post(client, f"/cases/{case.id}/fault-reports", {"place": "", "description": "", "urgency": "normal"})
    assert missing.status_code == 422 and "Say where in the building." in missing.get_data(as_text=True)
    sent = post(client, f"/cases/{case.id}/fault-reports",
                {"place": PLACE, "description": "Fönster krossat.", "urgency": "urgent"})
    assert sent.status_code == 302
    dispatch(session_factory, settings)

    html = page(client, f"/cases/{case.id}")
    assert PLACE in html and "SR-1001" in html and "Received by the owner" in html
    assert "Fault report received by the property owner" in html          # the timeline says so in words
    open311.set_status("SR-1001", "closed", "Glaset bytt.")
    poll_fault_reports(session_factory)
    html = page(client, f"/cases/{case.id}")
    assert "closed by the owner, Glaset bytt." in html and "Done (closed by the owner)" in html
    assert db.scalar(select(FaultReport.service_request_id)) == "SR-1001"


def test_a_case_not_about_the_building_has_no_fault_report(client, db, make, sisab, handler):
    case = file_building_case(db, make, "near_miss")
    sign_in(client, Actor.for_user(handler))
    assert "Fault report to the property owner" not in page(client, f"/cases/{case.id}")


def test_the_admin_adds_and_changes_an_owner_and_the_key_is_never_shown(client, db, tree, make, open311):
    sign_in(client, make.actor(("admin", "STHLM")))
    added = post(client, "/admin/property-owners/new", {
        "name": "SISAB", "method": "open311", "endpoint_url": open311.url, "api_key": API_KEY,
        "service_codes": "default = felanmalan\nfire = brand", "units": "GRU, F1", "email": ""})
    assert added.status_code == 302, added.get_data(as_text=True)
    owner = db.scalar(select(PropertyOwner))
    assert owner.service_codes == {"default": "felanmalan", "fire": "brand"} and owner.api_key == API_KEY
    assert "SISAB" in page(client, "/admin/property-owners")
    form = page(client, f"/admin/property-owners/{owner.id}")
    assert API_KEY not in form and "fire = brand" in form

    saved = post(client, f"/admin/property-owners/{owner.id}", {
        "name": "SISAB AB", "method": "open311", "endpoint_url": open311.url, "api_key": "",
        "service_codes": "default = felanmalan", "units": "GRU", "email": "", "active": "on"})
    assert saved.status_code == 302
    db.refresh(owner)
    assert (owner.name, owner.api_key, [u.org_unit.code for u in owner.units]) == ("SISAB AB", API_KEY, ["GRU"])

    wrong = post(client, "/admin/property-owners/new", {"name": "", "method": "email", "email": "nej",
                                                        "units": "NOPE"})
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "No such org unit." in text and "A name is required." in text


def test_an_event_types_building_flag_is_set_on_its_admin_page(client, db, tree, make):
    sign_in(client, make.actor(("admin", "STHLM")))
    html = page(client, "/admin/types/threat_violence")
    assert 'name="concerns_building"' in html
