"""The auditor's read log and the data protection officer's registerutdrag in a real browser: axe-clean in Swedish
and English, the bad number's message at its field, reachable from the header by keyboard."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, sign_in


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_read_log_and_the_registerutdrag_pages(new_page, world, language):
    page = new_page(language=language)
    sign_in(page, world.user(("auditor", "UTBF"), ("data_protection_officer", "UTBF"), language=language))
    page.focus("a[href='/admin/access-log']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/access-log")
    check_page(page, f"read-log-{language}")
    page.fill("#user_id", "1")
    page.click("form[action='/admin/access-log'] button[type=submit]")
    assert "user_id=1" in page.url
    check_page(page, f"read-log-filtered-{language}")

    page.goto("/admin/subject-access")
    check_page(page, f"subject-access-{language}")
    page.fill("#personal_number", "20121212-1213")
    page.click("form[action='/admin/subject-access'] button[type=submit]")
    assert page.locator("#personal_number-error").is_visible()
    assert page.input_value("#personal_number") == ""   # the number typed is not sent back
    check_page(page, f"subject-access-error-{language}")
    with page.expect_download() as download:
        page.fill("#personal_number", "20121212-1212")
        page.check("input[name=format][value=json]")
        page.click("form[action='/admin/subject-access'] button[type=submit]")
    assert download.value.suggested_filename == "registerutdrag.json"
