"""Two-factor sign-in in a real browser: an admin's forced enrolment with the QR code and the key, the recovery codes,
then a sign-in with the code pyotp computes from that key; every page axe-clean, in Swedish and English."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.e2e.conftest import PASSWORD, check_page, enrol_second_factor


def _code_after(totp: pyotp.TOTP, used: str) -> str:
    """A code of a later time step than `used` (a code is accepted once): the next step's, which the server
    accepts a step early."""
    return totp.at(time.time() + 30) if totp.now() == used else totp.now()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_an_admin_enrols_then_signs_in_with_a_code(new_page, world, language):
    admin = world.user(("admin", "STHLM"), language=language)
    page = new_page(language=language)
    page.goto("/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) [type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/two-factor/enrol")   # forced, before anything else
    assert page.locator(".qr-code svg").count() == 1
    check_page(page, f"two-factor-enrol-{language}")

    page.goto("/admin")
    assert page.url.endswith("/two-factor/enrol")   # admin pages wait for it

    page.fill("#code", "000000" if pyotp.TOTP(page.inner_text("#totp-secret")).now() != "000000" else "111111")
    page.click("form:has(#code) [type=submit]")
    assert page.locator("#code-error").is_visible()
    check_page(page, f"two-factor-enrol-error-{language}")

    secret = page.inner_text("#totp-secret").strip()
    totp = pyotp.TOTP(secret)
    used = totp.now()
    enrol_second_factor(page)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", code) for code in codes)
    check_page(page, f"two-factor-recovery-codes-{language}")
    assert page.goto("/admin").status == 200

    page.click("[data-sign-out] [type=submit]")
    page.wait_for_load_state()
    page.goto("/login?next=/admin/users")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) [type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/two-factor/verify")
    check_page(page, f"two-factor-verify-{language}")
    page.fill("#code", used)   # the code enrolment took: refused
    page.click("form:has(#code) [type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/two-factor/verify") and page.locator("#code-error").is_visible()
    check_page(page, f"two-factor-verify-error-{language}")
    page.fill("#code", _code_after(totp, used))
    page.click("form:has(#code) [type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/users")

    page.goto("/account/two-factor")
    check_page(page, f"two-factor-settings-{language}")
