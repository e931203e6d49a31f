"""Admin pages in a real browser: every page and a form with errors axe-clean in Swedish and English."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kia.deadlines.models import DeadlineRule
from tests.e2e.conftest import check_page, sign_in

PAGES = ["/admin", "/admin/units", "/admin/users", "/admin/types", "/admin/types/new", "/admin/rules",
         "/admin/notifications", "/admin/mail", "/admin/access-log"]


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
