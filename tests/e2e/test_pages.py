"""The pages everyone meets: sign-in and the start page, in Swedish and English, axe-clean."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, axe_violations, check_page, sign_in


@pytest.mark.parametrize("language", ["sv", "en"])
def test_login_and_start_page(new_page, world, language):
    page = new_page(language=language)
    page.goto("/login")
    assert page.locator("h1").count() == 1
    check_page(page, f"login-{language}")

    page.fill("input[name=email]", "nobody@test.kia.se")
    page.fill("input[name=password]", "wrong-password")
    page.click("form:has(input[name=password]) [type=submit]")
    assert page.locator(".error").count() == 1
    check_page(page, f"login-error-{language}")

    user = world.user(("reporter", "S1"), language=language)
    sign_in(page, user)
    assert "/login" not in page.url
    assert page.get_by_text(user.name).count() >= 1
    check_page(page, f"start-{language}")


def test_start_page_on_a_phone(new_page, world):
    page = new_page(viewport=PHONE)
    sign_in(page, world.user(("reporter", "S1")))
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    check_page(page, "start-phone-sv")


def test_axe_finds_what_it_should(new_page):
    """The harness itself: a field without a label is reported, so a clean page means something."""
    page = new_page()
    page.goto("/login")
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=x>')")
    assert "label" in {v["id"] for v in axe_violations(page)}
