"""The issue's scenarios end to end in Chromium, axe on every page visited and a screenshot of each."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, check_page, fill_threat, sign_in


def require_page(page, path: str):
    """Pages the other parts of the UI add: their scenario is skipped until the page exists."""
    response = page.goto(path)
    if response.status == 404:
        pytest.skip(f"{path} does not exist yet")
    return response


@pytest.mark.parametrize("language", ["sv", "en"])
def test_staff_member_reports_a_threat_from_a_phone(new_page, world, language):
    page = new_page(viewport=PHONE, language=language)
    sign_in(page, world.user(("reporter", "S1"), language=language))
    require_page(page, "/report")
    check_page(page, f"report-choose-phone-{language}")
    page.check("input[name=type][value=threat_violence]")
    page.select_option("#org_unit", "S1")
    page.click("button.primary")
    check_page(page, f"report-form-phone-{language}")

    fill_threat(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("button.primary[value=file]")

    assert page.locator("h1").count() == 1
    assert page.get_by_text("UTBF-").count() >= 1, page.content()[:2000]
    check_page(page, f"report-receipt-phone-{language}")

    page.goto("/my-reports")
    check_page(page, f"my-reports-phone-{language}")
