"""Felanmälan in Chromium: the case page's fault report form and the property owners' admin pages, axe-clean in
Swedish and English; the form is found by its labels, so it is labelled."""
from __future__ import annotations

from datetime import datetime

import pytest

from kia.access import Actor
from kia.incidents.services import IncidentInput, file_incident
from kia.property.models import PropertyOwner
from kia.property.owners import create_owner
from tests.conftest import TZ
from tests.e2e.conftest import check_page, sign_in
from tests.e2e.test_handling import tr


@pytest.fixture(scope="module")
def owner(world) -> PropertyOwner:
    admin = Actor.for_user(world.user(("admin", "STHLM")))
    return create_owner(world.session, admin, {"name": "SISAB (e2e)", "method": "email",
                                               "email": "felanmalan@sisab.example.se", "units": ["GRU"]})


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_handler_sends_a_fault_report(new_page, world, owner, language):
    handler = world.user(("handler", "S1"), language=language)
    data = IncidentInput(type="property_damage", org_unit="S1", occurred_at=datetime(2026, 3, 10, 7, 45),
                         description="Krossad ruta i entrén.", fields={"damage_kind": "vandalism"})
    incident, _ = file_incident(world.session, Actor.for_user(world.user(("reporter", "S1"))), data, TZ)
    page = new_page(language=language)
    sign_in(page, handler)
    page.goto(f"/cases/{incident.cases[0].id}")
    check_page(page, f"case-fault-report-{language}")

    page.get_by_label(tr(language, "Place in the building")).fill("Entrén, plan 1")
    page.get_by_label(tr(language, "What is wrong")).fill("Rutan i ytterdörren är krossad.")
    page.get_by_label(tr(language, "Urgency")).select_option("urgent")
    page.get_by_role("button", name=tr(language, "Send the fault report")).click()
    page.wait_for_load_state()
    assert page.get_by_text(tr(language, "The fault report is on its way to the property owner.")).is_visible()
    assert page.get_by_role("cell", name="Entrén, plan 1", exact=True).is_visible()
    check_page(page, f"case-fault-report-sent-{language}")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_property_owner_admin_pages(new_page, world, owner, language):
    page = new_page(language=language)
    sign_in(page, world.user(("admin", "STHLM"), language=language))
    for path, name in (("/admin/property-owners", "list"), ("/admin/property-owners/new", "new"),
                       (f"/admin/property-owners/{owner.id}", "owner")):
        assert page.goto(path).status == 200, path
        check_page(page, f"admin-property-owners-{name}-{language}")
    # Sent back with messages at the fields: still accessible, what was typed kept.
    page.goto("/admin/property-owners/new")
    page.fill("#name", "Ny ägare")
    page.select_option("#method", "email")
    page.fill("#units", "FINNS_INTE")
    page.get_by_role("button", name=tr(language, "Save"), exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#units-error").is_visible() and page.input_value("#name") == "Ny ägare"
    check_page(page, f"admin-property-owners-error-{language}")
