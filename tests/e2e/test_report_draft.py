"""The report form's draft in Chromium under the app's own CSP (no bypass): kept while typing, restored on a
reload, sent by itself when the connection is back, filed once, and gone from the browser after the filing."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from kia.incidents.models import Incident
from tests.e2e.conftest import check_page, fill_threat, sign_in
from tests.e2e.test_phone import SMALL_PHONE

FORM = "/report?type=threat_violence&org_unit=S1"
DRAFTS = "() => Object.keys(localStorage).filter(k => k.startsWith('kia-draft:'))"


@pytest.fixture
def visitor(browser, live_server):
    """A phone whose pages run under the CSP the app sends (the other browser tests bypass it for axe)."""
    context = browser.new_context(base_url=live_server, viewport=SMALL_PHONE, locale="sv",
                                  extra_http_headers={"Accept-Language": "sv"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def phone(visitor, world):
    sign_in(visitor, world.user(("reporter", "S1")))
    return visitor


def filed(e2e_engine, description: str) -> int:
    with e2e_engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Incident).where(Incident.description == description))


def start(page) -> str:
    """A blank form typed in; returns its unique description."""
    page.goto(FORM)
    fill_threat(page)
    description = f"Hot i korridoren {uuid.uuid4().hex[:8]}"
    page.fill("#description", description)
    return description


def test_a_reload_restores_the_draft_with_its_person_rows_and_key(phone):
    description = start(phone)
    phone.fill("#persons-0-personal_number", "20100101-1234")
    phone.click("button[value=add_person]")   # the server sends the form back with a second row
    phone.select_option("select[name='persons[1].role']", "witness")
    phone.fill("#persons-1-name", "Kim Vittne")
    key = phone.input_value("input[name=idempotency_key]")
    assert phone.is_visible("#draft-hint")

    phone.goto(FORM)   # a blank form again, as after a lost page: what was typed comes back
    assert phone.is_visible("#draft-status")
    assert phone.input_value("#description") == description
    assert phone.input_value("#persons-0-personal_number") == "20100101-1234"
    assert phone.input_value("select[name='persons[1].role']") == "witness"
    assert phone.input_value("#persons-1-name") == "Kim Vittne"
    assert phone.input_value("input[name='persons-count']") == "2"
    assert phone.locator("fieldset.person legend").all_inner_texts() == ["Person 1", "Person 2"]
    remove = phone.locator("button[value^='remove_person-']")
    assert remove.evaluate_all("bs => bs.map(b => [b.value, b.textContent])") == [
        ["remove_person-0", "Ta bort person 1"], ["remove_person-1", "Ta bort person 2"]]
    assert phone.is_checked("input[name='fields.weapon'][value=none]")
    assert phone.input_value("input[name=idempotency_key]") == key   # a resend is still the same report
    assert phone.evaluate("() => document.scrollingElement.scrollWidth") <= SMALL_PHONE["width"]


def test_sent_while_offline_it_is_filed_once_when_the_connection_is_back(phone, e2e_engine):
    description = start(phone)
    phone.context.set_offline(True)
    phone.click("button[value=add_person]")   # needs the server: refused here, the page stays
    assert "kan inte läggas till" in phone.locator("#draft-status").inner_text()
    assert phone.locator("fieldset.person").count() == 1
    phone.click("button.primary[value=file]")
    status = phone.locator("#draft-status")
    assert "ingen anslutning" in status.inner_text()
    assert filed(e2e_engine, description) == 0
    assert len(phone.evaluate(DRAFTS)) == 1   # kept on the phone meanwhile

    with phone.expect_navigation():
        phone.context.set_offline(False)   # `online`: the script sends it
    assert phone.locator("h1").inner_text() == "Rapporten är mottagen"
    assert filed(e2e_engine, description) == 1
    assert phone.evaluate(DRAFTS) == []   # personal identity numbers do not stay in the browser


def test_a_filing_whose_answer_was_lost_is_sent_again_and_filed_once(phone, e2e_engine):
    """The report reached the server but the receipt never came back (the phone left the Wi-Fi): the next visit
    says so, and sending again shows the first report's receipt."""
    description = start(phone)

    def lose_the_answer(route):
        route.fetch()    # the server files it…
        route.abort()    # …and the phone never hears

    phone.route("**/report", lambda route: lose_the_answer(route) if route.request.method == "POST"
                else route.continue_())
    phone.click("button.primary[value=file]")
    phone.wait_for_timeout(500)
    assert filed(e2e_engine, description) == 1
    phone.unroute("**/report")

    phone.goto(FORM)
    assert "kanske inte kom fram" in phone.locator("#draft-status").inner_text()
    assert phone.input_value("#description") == description
    phone.click("button.primary[value=file]")
    assert phone.locator("h1").inner_text() == "Rapporten är mottagen"
    assert filed(e2e_engine, description) == 1
    assert phone.evaluate(DRAFTS) == []


def test_signing_out_deletes_the_drafts(phone):
    start(phone)
    assert len(phone.evaluate(DRAFTS)) == 1
    phone.click("form[data-sign-out] button")
    phone.wait_for_load_state()
    assert phone.evaluate(DRAFTS) == []


def test_the_restored_form_with_its_notice_is_axe_clean_on_a_phone(new_page, world):
    page = new_page(viewport=SMALL_PHONE)
    sign_in(page, world.user(("reporter", "S1")))
    start(page)
    page.goto(FORM)
    assert page.is_visible("#draft-status") and page.is_visible("#draft-hint")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= SMALL_PHONE["width"]
    check_page(page, "phone-360-report-form-draft-restored")


def test_an_anonymous_report_sent_offline_is_filed_once_with_its_code_and_the_draft_goes(visitor, e2e_engine):
    visitor.goto("/anonymous?type=risk_observation&org_unit=S1")
    description = f"Trasig brandvarnare {uuid.uuid4().hex[:8]}"
    visitor.fill("#occurred_at", "2026-03-10")
    visitor.fill("#description", description)
    visitor.fill("#fields-risk", "Brandvarnaren piper inte.")
    for key, value in {"role": "witness", "category": "staff", "gender": "unknown"}.items():
        visitor.select_option(f"select[name='persons[0].{key}']", value)
    visitor.context.set_offline(True)
    visitor.click("button.primary[value=file]")
    assert "ingen anslutning" in visitor.locator("#draft-status").inner_text()
    with visitor.expect_navigation():
        visitor.context.set_offline(False)
    assert visitor.locator("#followup-code").count() == 1
    assert filed(e2e_engine, description) == 1
    assert visitor.evaluate(DRAFTS) == []


def test_an_anonymous_report_whose_answer_was_lost_does_not_promise_to_be_filed_once(visitor):
    form = "/anonymous?type=risk_observation&org_unit=S1"
    visitor.goto(form)
    visitor.fill("#description", "Halt golv vid entrén.")
    # What the script keeps when a filing's answer never came (see the signed-in test above).
    visitor.evaluate("() => { const k = document.querySelector('form[data-draft]').dataset.draft;"
                     " const d = JSON.parse(localStorage.getItem(k)); d.sending = true;"
                     " localStorage.setItem(k, JSON.stringify(d)); }")
    visitor.goto(form)
    text = visitor.locator("#draft-status").inner_text()
    assert "kanske inte kom fram" in text and "två gånger" in text and "bara en gång" not in text
    assert visitor.input_value("#description") == "Halt golv vid entrén."
