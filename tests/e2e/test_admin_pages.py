"""Admin pages in a real browser: every page and a form with errors axe-clean in Swedish and English."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from kia.access import Actor
from kia.deadlines.models import DeadlineRule
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.orgs.models import OrgUnit
from kia.orgs.services import create_org_unit
from tests.conftest import TZ
from tests.e2e.conftest import check_page, sign_in

PAGES = ["/admin", "/admin/units", "/admin/users", "/admin/types", "/admin/types/new", "/admin/types/victimisation",
         "/admin/rules", "/admin/notifications", "/admin/mail", "/admin/access-log", "/admin/retention",
         "/admin/legal-holds", "/admin/subject-access"]


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

    # A retention rule below the legal minimum: the message at its field, accessible.
    page.goto("/admin/retention")
    page.fill("#months-victimisation", "3")
    page.evaluate("document.querySelector('#months-victimisation').removeAttribute('min')")
    page.click("#rule-victimisation button[type=submit]")
    assert page.locator("#months-victimisation-error").is_visible()
    check_page(page, f"admin-retention-error-{language}")


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


@pytest.mark.parametrize("language", ["sv", "en"])
def test_deadline_rule_pages(new_page, world, language):
    admin = world.user(("admin", "STHLM"), language=language)
    imy = world.session.scalar(select(DeadlineRule.id).where(DeadlineRule.code == "report_to_imy"))
    world.session.commit()   # the read's transaction ends: on SQLite it would hold up the server's writes
    page = new_page(language=language)
    sign_in(page, admin)
    assert page.goto(f"/admin/deadline-rules/{imy}").status == 200
    # The field key shows under the start chosen (a field), the start's milestone select does not.
    assert page.is_visible("#deadline-start_field") and not page.is_visible("#deadline-start_milestone")
    check_page(page, f"admin-deadline-rule-{language}")

    # The add form on the rules page, sent back with messages: a start at a milestone without one.
    page.goto("/admin/rules")
    page.fill("#deadline-code", f"guardians_{language}")
    page.fill("#deadline-name_sv", "Vårdnadshavare informerade")
    assert not page.is_visible("#deadline-start_milestone")
    page.check("#deadline-start-milestone")
    assert page.is_visible("#deadline-start_milestone")   # revealed by CSS alone: the page has no script
    page.fill("#deadline-due", "2")
    page.check("#deadline-due_unit-working_days")
    page.click("form[action='/admin/deadline-rules'] button[type=submit]")
    assert page.locator("#deadline-error-summary").is_visible()
    assert page.locator("#deadline-start_milestone-error").is_visible()
    assert page.locator("#deadline-name_en-error").is_visible()
    assert page.input_value("#deadline-name_sv") == "Vårdnadshavare informerade"
    assert page.is_checked("#deadline-start-milestone") and page.is_checked("#deadline-due_unit-working_days")
    check_page(page, f"admin-rules-deadline-error-{language}")
    page.click("#deadline-error-summary a[href='#deadline-start_milestone']")
    assert page.evaluate("document.activeElement.id") == "deadline-start_milestone"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_user_page_forms(new_page, world, language):
    """A user corrected with a form sent back first, a password refused, then the account deactivated."""
    page = new_page(language=language)
    sign_in(page, world.user(("admin", "STHLM"), language=language))
    rektor = world.user(("handler", "S1"), name=f"Rita Rektor {language}")
    page.goto("/admin/users?q=" + rektor.email)
    page.click(f"a[href='/admin/users/{rektor.id}']")
    check_page(page, f"admin-user-page-{language}")

    # Another user's address: what the browser's own checks of the inputs cannot know.
    details, taken = f"form[action='/admin/users/{rektor.id}']", world.user(("reporter", "S1")).email
    page.fill("#name", f"Rita Rektorsson {language}")
    page.fill("#email", taken)
    page.select_option("#language", "en")
    page.click(f"{details} button[type=submit]")
    assert page.locator("#error-summary").is_visible() and page.locator("#email-error").is_visible()
    assert page.input_value("#email") == taken and page.input_value("#language") == "en"
    assert page.input_value("#name") == f"Rita Rektorsson {language}"
    check_page(page, f"admin-user-error-{language}")
    page.click("#error-summary a[href='#email']")
    assert page.evaluate("document.activeElement.id") == "email"

    page.fill("#email", rektor.email)
    page.click(f"{details} button[type=submit]")
    assert page.locator("h1").inner_text() == f"Rita Rektorsson {language}"

    page.fill("#new_password", "ett-nytt-lösenord")
    page.fill("#repeat_password", "ett-annat-lösenord")
    page.click("form[action$='/password'] button[type=submit]")
    assert page.locator("#repeat_password-error").is_visible() and page.input_value("#new_password") == ""
    check_page(page, f"admin-user-password-error-{language}")

    page.click("form[action$='/active'] button[type=submit]")
    assert page.locator("[role=status]").is_visible()
    assert page.locator("form[action$='/active'] input[name=active]").get_attribute("value") == "true"
    check_page(page, f"admin-user-deactivated-{language}")
    page.goto("/admin/users?status=inactive")
    assert page.locator(f"a[href='/admin/users/{rektor.id}']").is_visible()
    check_page(page, f"admin-users-inactive-{language}")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_unit_page_forms(new_page, world, language):
    """A unit of its own (the shared tree stays open for the other browser tests): renamed after a form sent
    back, then closed."""
    code = f"E2E-CLOSE-{language.upper()}"
    unit = create_org_unit(world.session, code, f"Skola att stänga {language}", "unit", world.session.scalar(
        select(OrgUnit).where(OrgUnit.code == "GRU")))
    page = new_page(language=language)
    sign_in(page, world.user(("admin", "STHLM"), language=language))
    page.goto("/admin/units")
    page.click(f"a[href='/admin/units/{unit.id}']")
    check_page(page, f"admin-unit-page-{language}")

    page.fill("#name", " ")
    page.click(f"form[action='/admin/units/{unit.id}'] button[type=submit]")
    assert page.locator("#name-error").is_visible() and page.locator("#error-summary").is_visible()
    check_page(page, f"admin-unit-error-{language}")
    page.fill("#name", f"Nytt namn {language}")
    page.click(f"form[action='/admin/units/{unit.id}'] button[type=submit]")
    assert page.locator("h1").inner_text() == f"Nytt namn {language}"

    page.click("form[action$='/active'] button[type=submit]")
    assert page.locator("h1 .badge").is_visible()
    check_page(page, f"admin-unit-closed-{language}")
