"""Admin pages in a real browser: every page and a form with errors axe-clean in Swedish and English."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, sign_in

PAGES = ["/admin", "/admin/units", "/admin/users", "/admin/types", "/admin/types/new", "/admin/rules",
         "/admin/deadline-rules", "/admin/notifications", "/admin/mail", "/admin/access-log"]


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
