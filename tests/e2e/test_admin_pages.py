"""Admin pages in a real browser: every page and a form with errors axe-clean in Swedish and English."""
from __future__ import annotations

from datetime import datetime

import pytest

from kia.access import Actor
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from tests.conftest import TZ
from tests.e2e.conftest import check_page, sign_in

PAGES = ["/admin", "/admin/units", "/admin/users", "/admin/types", "/admin/types/new", "/admin/types/victimisation",
         "/admin/rules", "/admin/deadline-rules", "/admin/notifications", "/admin/mail", "/admin/access-log"]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_admin_pages(new_page, world, language):
    admin = world.user(("admin", "STHLM"), language=language)
    page = new_page(language=language)
    sign_in(page, admin)
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        check_page(page, f"admin{path.replace('/admin', '') or '-index'}-{language}")

    # A form sent back with messages at its fields stays accessible, and keeps what was typed.
    page.goto("/admin/units")
    page.fill("#name", "Dubblett")
    page.fill("#code", "S1")
    page.click("form[method=post] button[type=submit] >> nth=-1")
    assert page.locator("#code-error").is_visible()
    assert page.input_value("#name") == "Dubblett"
    check_page(page, f"admin-units-error-{language}")

    page.goto(f"/admin/users/{admin.id}")
    check_page(page, f"admin-user-{language}")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_event_type_forms(new_page, world, language):
    """A type added with a field row (its own button adds it), sent back with messages, then changed."""
    page = new_page(language=language)
    sign_in(page, world.user(("admin", "STHLM"), language=language))
    code = f"e2e_bus_{language}"
    page.goto("/admin/types/new")
    page.fill("#code", code)
    page.click("button[value=add_field]")
    page.fill("#fields-0-key", "seat")
    page.select_option("#fields-0-type", "choice")
    page.fill("#fields-0-choices", "front | Fram | Front\nBack | Bak")
    page.click("button.primary")   # no names, labels nor category yet
    assert page.locator("#error-summary").is_visible() and page.locator("#fields-0-choices-error").is_visible()
    assert page.input_value("#fields-0-key") == "seat" and page.input_value("#code") == code
    check_page(page, f"admin-type-new-error-{language}")

    page.fill("#name-sv", "Händelse på skolbuss")
    page.fill("#name-en", "School bus event")
    page.select_option("#category", "safety")
    page.fill("#fields-0-label-sv", "Plats")
    page.fill("#fields-0-label-en", "Seat")
    page.fill("#fields-0-choices", "front | Fram | Front\nback | Bak | Back")
    page.click("button.primary")
    assert page.url.endswith("/admin/types")
    page.goto(f"/admin/types/{code}")
    check_page(page, f"admin-type-{language}")

    # Once reported, what decided who reads the reports is shown, no longer offered.
    file_incident(world.session, Actor.for_user(world.user(("reporter", "S1"))), IncidentInput(
        type=code, org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30), description="Bråk på bussen.",
        persons=[PersonInput(role="affected", category="staff", gender="male")], fields={"seat": "back"}), TZ)
    page.goto(f"/admin/types/{code}")
    assert page.locator("input#confidential").count() == 0 and page.locator("#fixed-hint").is_visible()

    page.click("button[value=add_field]")
    page.fill("#fields-0-label-sv", "")
    page.fill("#new_fields-0-key", "line")
    page.click("button.primary")
    assert page.locator("#fields-0-label-sv-error").is_visible()
    assert page.input_value("#new_fields-0-key") == "line" and page.locator("#new_fields-0-type-error").is_visible()
    check_page(page, f"admin-type-error-{language}")
