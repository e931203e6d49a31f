"""The handler's side in Chromium: inbox, case page and notifications axe-clean in both languages, and the
issue's scenarios (b)–(d): a threat handled to closing, a victimisation of two pupils with the huvudman
step, an anonymous reporter who gets an answer. Elements are found by their accessible names, which also
proves the forms are labelled; the names go through the app's own catalogue, so a translation keeps them."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest
from babel.support import Translations

from kia.access import Actor
from kia.auth.tokens import create_token
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from tests.conftest import TZ
from tests.e2e.conftest import check_page, sign_in
from tests.factories import THREAT_FIELDS

TRANSLATIONS = Path(__file__).parents[2] / "kia" / "translations"


@lru_cache
def _catalogue(language: str):
    return Translations.load(str(TRANSLATIONS), [language])


def tr(language: str, message: str, **values) -> str:
    """The text the page shows for `message` in `language` (English is the source language)."""
    text = message if language == "en" else _catalogue(language).gettext(message)
    return text % values if values else text


def exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def file_threat(world, reporter) -> str:
    """The threat case the rektor handles, filed by a staff member of S1 before the browser opens."""
    data = IncidentInput(type="threat_violence", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30),
                         description="Elev hotade läraren efter en tillsägelse.", location="Korridor plan 2",
                         fields=dict(THREAT_FIELDS),
                         persons=[PersonInput(role="affected", category="staff", gender="female", name="Anna Lärare")])
    incident, _ = file_incident(world.session, Actor.for_user(reporter), data, TZ)
    return incident.cases[0].number


def open_case_from_inbox(page, number: str, type_code: str | None = None) -> None:
    page.goto("/inbox" + (f"?type={type_code}" if type_code else ""))
    page.get_by_role("link", name=number, exact=True).click()
    page.wait_for_load_state()


def state_is(page, language: str, state: str) -> None:
    status = page.locator("p.case-status strong")
    assert status.inner_text().strip() == tr(language, state)


def timeline_has(page, language: str, kind: str, text: str | None = None) -> None:
    """A timeline row of the given kind (its label), with `text` in the row when given."""
    rows = page.get_by_role("region", name=tr(language, "Timeline")).get_by_role("row")
    row = rows.filter(has_text=tr(language, kind))
    if text:
        row = row.filter(has_text=text)
    assert row.count() >= 1, f"no timeline row {kind!r} {text or ''}"


def transition_form(page, language: str, move: str):
    return page.get_by_role("form", name=tr(language, move), exact=True)


def move(page, language: str, to: str, **texts: str) -> None:
    """Press the transition button `to` (its label), after filling the given fields of its form."""
    form = transition_form(page, language, to)
    for label, value in texts.items():
        form.get_by_label(tr(language, label)).fill(value)
    form.get_by_role("button", name=tr(language, to), exact=True).click()
    page.wait_for_load_state()


def record_milestone(page, language: str, milestone: str, reference: str = "") -> None:
    """Open the milestone's disclosure (its summary names it), fill it in and record it."""
    name = tr(language, milestone)
    summary = page.locator("summary").filter(has_text=exactly(tr(language, "Record: %(milestone)s", milestone=name)))
    summary.click()
    form = summary.locator("xpath=..").get_by_role("group").or_(summary.locator("xpath=../form"))
    if reference:
        form.get_by_label(tr(language, "Reference (e.g. K-number)")).fill(reference)
    form.get_by_role("button", name=tr(language, "Record %(milestone)s", milestone=name), exact=True).click()
    page.wait_for_load_state()


# ---- the handler's pages in both languages ----------------------------------------------------

@pytest.mark.parametrize("language", ["sv", "en"])
def test_handler_pages(new_page, world, language):
    handler = world.user(("handler", "S1"), language=language)
    number = file_threat(world, world.user(("reporter", "S1")))   # after the handler: they are notified
    page = new_page(language=language)
    sign_in(page, handler)

    assert page.goto("/inbox").status == 200
    check_page(page, f"inbox-{language}")
    page.goto("/inbox?state=nonsense")
    check_page(page, f"inbox-error-{language}")

    open_case_from_inbox(page, number)
    assert re.search(r"/cases/\d+$", page.url)
    check_page(page, f"case-{language}")

    # A refused move: the messages at the fields are accessible too. The closing texts are `required`,
    # so the browser stops an empty form; without that check the server answers at the fields.
    move(page, language, "Acknowledge")
    move(page, language, "Start investigating")
    transition_form(page, language, "Close the case").evaluate("form => { form.noValidate = true; }")
    move(page, language, "Close the case")
    assert page.get_by_label(tr(language, "Decision")).get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").count() >= 1
    check_page(page, f"case-errors-{language}")

    assert page.goto("/notifications").status == 200
    check_page(page, f"notifications-{language}")


# ---- one event, many cases: a link to another case, and a related case for the pupil -------------

@pytest.mark.parametrize("language", ["sv", "en"])
def test_rektor_links_a_case_and_adds_one_for_the_pupil(new_page, world, language):
    rektor = world.user(("handler", "S1"), language=language)
    reporter = world.user(("reporter", "S1"))
    other = file_threat(world, reporter)
    data = IncidentInput(type="threat_violence", org_unit="S1", occurred_at=datetime(2026, 3, 12, 12, 0),
                         description="Bråk i matsalen; en lärare och en elev skadades.", fields=dict(THREAT_FIELDS),
                         persons=[PersonInput(role="affected", category="staff", gender="male", name="Bo Lärare"),
                                  PersonInput(role="affected", category="pupil", gender="female", name="Elev Ett")])
    number = file_incident(world.session, Actor.for_user(reporter), data, TZ)[0].cases[0].number
    page = new_page(language=language)
    sign_in(page, rektor)
    open_case_from_inbox(page, number)

    # A number that is no case the rektor may read: the message at the field, the number kept.
    link_field = page.get_by_label(tr(language, "Link to a case of another event"))
    link_field.fill("UTBF-2026-99999-1")
    page.get_by_role("button", name=tr(language, "Link the cases")).click()
    page.wait_for_load_state()
    link_field = page.get_by_label(tr(language, "Link to a case of another event"))
    assert link_field.get_attribute("aria-invalid") == "true" and link_field.input_value() == "UTBF-2026-99999-1"
    check_page(page, f"related-link-error-{language}")
    link_field.fill(other)
    page.get_by_role("button", name=tr(language, "Link the cases")).click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name=other, exact=True).count() == 1
    timeline_has(page, language, "Linked", other)

    page.get_by_label(tr(language, "Add a case of another type for this event")).select_option("victimisation")
    page.get_by_role("button", name=tr(language, "Continue"), exact=True).click()
    page.wait_for_load_state()
    check_page(page, f"related-new-{language}")
    page.get_by_role("button", name=tr(language, "Add the case")).click()   # nobody chosen, no classification
    page.wait_for_load_state()
    assert page.get_by_role("alert").count() >= 1
    check_page(page, f"related-new-errors-{language}")
    page.get_by_role("group", name=tr(language, "Whom the new case concerns")).get_by_label(re.compile("Elev Ett")).check()
    page.get_by_label("Harassment" if language == "en" else "Trakasserier", exact=True).check()
    page.get_by_role("button", name=tr(language, "Add the case")).click()
    page.wait_for_load_state()

    added = number[:-1] + "2"
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"{tr(language, 'Case')} {added}")
    assert tr(language, "Case %(number)s is added for the same event.", number=added) in page.content()
    assert page.get_by_role("link", name=number, exact=True).count() == 1   # the threat case, same event
    check_page(page, f"related-added-{language}")


# ---- (b) the rektor acknowledges, investigates, adds an action and closes ---------------------

@pytest.mark.parametrize("language", ["sv", "en"])
def test_rektor_handles_a_threat_to_closing(new_page, world, language):
    rektor = world.user(("handler", "S1"), name=f"Rektor {language.upper()}", language=language)
    number = file_threat(world, world.user(("reporter", "S1")))
    page = new_page(language=language)
    sign_in(page, rektor)

    page.goto("/inbox")
    check_page(page, f"b-inbox-{language}")
    open_case_from_inbox(page, number)
    state_is(page, language, "Received")
    # The opening entry (kind case_created: web/labels.py TIMELINE has no label for it yet).
    assert page.get_by_role("region", name=tr(language, "Timeline")).locator("tbody tr").count() >= 1
    check_page(page, f"b-case-received-{language}")

    move(page, language, "Acknowledge")
    state_is(page, language, "Acknowledged")
    timeline_has(page, language, "State changed", tr(language, "Received") + " → " + tr(language, "Acknowledged"))
    check_page(page, f"b-case-acknowledged-{language}")

    move(page, language, "Start investigating")
    state_is(page, language, "Investigating")
    timeline_has(page, language, "State changed", tr(language, "Investigating"))
    check_page(page, f"b-case-investigating-{language}")

    record_milestone(page, language, "Investigation started")
    milestones = page.locator("#milestones + ul")
    assert tr(language, "Investigation started") in milestones.inner_text()
    timeline_has(page, language, "Milestone recorded")
    check_page(page, f"b-case-milestone-{language}")

    due = (date.today() + timedelta(days=14)).isoformat()
    action = page.get_by_role("group", name=tr(language, "Add an action"))
    action.get_by_label(tr(language, "What is to be done")).fill("Samtal med eleven och vårdnadshavare.")
    action.get_by_label(tr(language, "Responsible"), exact=True).select_option(label=rektor.name)
    action.get_by_label(tr(language, "Due date")).fill(due)
    action.get_by_role("button", name=tr(language, "Add the action")).click()
    page.wait_for_load_state()
    actions = page.get_by_role("region", name=tr(language, "Actions"), exact=True)
    row = actions.get_by_role("row").filter(has_text="Samtal med eleven")
    assert row.count() == 1 and rektor.name in row.inner_text()
    assert tr(language, "Planned") in row.inner_text()
    timeline_has(page, language, "Action added")
    check_page(page, f"b-case-action-{language}")

    move(page, language, "Close the case", **{
        "Summary for the reporter": "Händelsen är utredd och åtgärder är beslutade.",
        "Decision": "Samtal med eleven; uppföljning om två veckor.",
        "Why the case closes with actions still planned": "Samtalet följs upp i elevhälsan.",
    })
    state_is(page, language, "Closed")
    timeline_has(page, language, "State changed", tr(language, "Closed"))
    closing = page.get_by_role("region", name=tr(language, "Handling")).locator("dl.facts")
    assert "Händelsen är utredd och åtgärder är beslutade." in closing.inner_text()
    assert "Samtalet följs upp i elevhälsan." in closing.inner_text()
    assert transition_form(page, language, "Close the case").count() == 0
    check_page(page, f"b-case-closed-{language}")

    # Closed, the case waits for gallring; under appeal its rektor holds it, and the page says so.
    hold = page.get_by_role("region", name=tr(language, "Gallring"))
    hold.get_by_label(tr(language, "Hold from gallring because of")).select_option("appeal")
    hold.get_by_role("button", name=tr(language, "Hold from gallring")).click()
    page.wait_for_load_state()
    held = page.get_by_role("region", name=tr(language, "Gallring"))
    assert tr(language, "Held from gallring") in held.inner_text()
    assert tr(language, "Appeal (överklagande)") in held.inner_text()
    timeline_has(page, language, "Held from gallring", tr(language, "Appeal (överklagande)"))
    check_page(page, f"b-case-held-{language}")


# ---- (c) a victimisation of two pupils: two cases, and the huvudman step before closing ---------

def test_victimisation_of_two_pupils(new_page, world):
    language = "sv"
    staff = world.user(("reporter", "S1"), language=language)
    rektor = world.user(("handler", "S1"), language=language)
    page = new_page(language=language)
    sign_in(page, staff)

    page.goto("/report")
    page.get_by_label("Kränkande behandling", exact=True).check()
    page.get_by_label(tr(language, "Where: which unit?")).select_option(label="Skola Ett")
    page.get_by_role("button", name=tr(language, "Continue")).click()
    page.wait_for_load_state()

    when = page.locator("#occurred_at-group")
    when.get_by_label(tr(language, "Date"), exact=True).fill("2026-03-10")
    when.get_by_label(tr(language, "Time"), exact=True).fill("10:15")
    page.get_by_label(tr(language, "Where did it happen?")).fill("Skolgården")
    page.get_by_label(tr(language, "What happened?")).fill("Två elever blev kallade kränkande saker på rasten.")
    page.get_by_role("group", name=re.compile("^Bedömning")).get_by_label("Trakasserier", exact=True).check()
    page.get_by_role("button", name=tr(language, "Add a person")).click()
    page.wait_for_load_state()
    for n, name in ((1, "Elev Ett"), (2, "Elev Två")):
        person = page.get_by_role("group", name=tr(language, "Person %(n)s", n=n), exact=True)
        person.get_by_label(tr(language, "Role in the event")).select_option("affected")
        person.get_by_label(tr(language, "Who is it?")).select_option("pupil")
        person.get_by_label(tr(language, "Gender")).select_option("female")
        person.get_by_label(tr(language, "Name"), exact=False).first.fill(name)
    check_page(page, "c-report-form-sv")
    page.get_by_role("button", name=tr(language, "Send the report")).click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", level=1).inner_text() == tr(language, "Report received")
    assert page.locator("p.receipt strong").count() == 1      # one incident, one registration number
    cases_line = page.get_by_text(re.compile("^" + re.escape(tr(language, "Cases")) + ":")).inner_text()
    numbers = [n.strip() for n in cases_line.split(":", 1)[1].split(",")]
    assert len(numbers) == 2, cases_line
    check_page(page, "c-receipt-sv")

    handler_page = new_page(language=language)
    sign_in(handler_page, rektor)
    handler_page.goto("/inbox")
    handler_page.get_by_label(tr(language, "Type"), exact=True).select_option("victimisation")
    handler_page.get_by_role("button", name=tr(language, "Show"), exact=True).click()
    handler_page.wait_for_load_state()
    for number in numbers:
        assert handler_page.get_by_role("link", name=number, exact=True).count() == 1
    check_page(handler_page, "c-inbox-sv")

    handler_page.get_by_role("link", name=numbers[0], exact=True).click()
    handler_page.wait_for_load_state()
    move(handler_page, language, "Acknowledge")
    move(handler_page, language, "Start investigating")
    closing = {"Summary for the reporter": "Utrett; eleven har fått stöd.", "Decision": "Ingen vidare åtgärd."}
    move(handler_page, language, "Close the case", **closing)
    alert = handler_page.locator(".error-summary")
    assert tr(language, "Record that the principal organiser (huvudman) has been notified first.") in alert.inner_text()
    assert tr(language, "Document the investigation first.") in alert.inner_text()
    state_is(handler_page, language, "Investigating")
    check_page(handler_page, "c-case-refused-sv")

    record_milestone(handler_page, language, "Principal organiser (huvudman) notified", reference="UTBF-2026-17")
    timeline_has(handler_page, language, "Milestone recorded")
    handler_page.get_by_label(tr(language, "What the investigation found")).fill(
        "Samtal med de inblandade; händelsen bekräftad.")
    handler_page.get_by_role("button", name=tr(language, "Save the investigation")).click()
    handler_page.wait_for_load_state()
    timeline_has(handler_page, language, "Changed", tr(language, "Investigation"))
    move(handler_page, language, "Close the case", **closing)
    state_is(handler_page, language, "Closed")
    check_page(handler_page, "c-case-closed-sv")


# ---- (d) an anonymous reporter gets an answer -------------------------------------------------

def test_anonymous_reporter_gets_an_answer(new_page, world, live_server):
    language = "sv"
    rektor = world.user(("handler", "S1"), language=language)
    page = new_page(language=language)

    page.goto("/anonymous")
    check_page(page, "d-anonymous-choose-sv")
    page.get_by_label("Riskobservation", exact=True).check()
    page.get_by_label(tr(language, "Where: which unit?")).select_option(label="Skola Ett")
    page.get_by_role("button", name=tr(language, "Continue")).click()
    page.wait_for_load_state()
    when = page.locator("#occurred_at-group")
    when.get_by_label(tr(language, "Date"), exact=True).fill("2026-03-11")
    page.get_by_label(tr(language, "What happened?")).fill("Trasigt räcke i trapphuset.")
    page.get_by_label(re.compile("^Risken")).fill("Någon kan falla i trappan.")
    page.get_by_role("button", name=tr(language, "Remove person %(n)s", n=1)).click()
    page.wait_for_load_state()
    check_page(page, "d-anonymous-form-sv")
    page.get_by_role("button", name=tr(language, "Send the report")).click()
    page.wait_for_load_state()

    code_box = page.get_by_role("region", name=tr(language, "Your follow-up code"))
    code = code_box.locator("p.code").inner_text().strip()
    assert len(code) >= 8
    cases_line = page.get_by_text(re.compile("^" + re.escape(tr(language, "Cases")) + ":")).inner_text()
    number = cases_line.split(":", 1)[1].strip()
    check_page(page, "d-anonymous-receipt-sv")
    # Shown once: the follow-up page does not show it again, and nothing about it is in its URL.
    page.goto("/followup")
    assert code not in page.content()

    handler_page = new_page(language=language)
    sign_in(handler_page, rektor)
    open_case_from_inbox(handler_page, number, "risk_observation")
    case_id = int(handler_page.url.rsplit("/", 1)[1])
    # The case page has no way to write to the reporter: the handler answers through the API.
    token = create_token(world.session, rektor, ["cases:read", "cases:write"], name="e2e")[1]
    headers = {"Authorization": f"Bearer {token}"}
    case = handler_page.request.get(f"{live_server}/api/v1/cases/{case_id}", headers=headers)
    assert case.ok, case.text()
    incident_id = case.json()["incident"]["id"]
    answer = "Tack! Vaktmästaren lagar räcket i veckan."
    sent = handler_page.request.post(f"{live_server}/api/v1/incidents/{incident_id}/messages",
                                     headers=headers, data={"body": answer})
    assert sent.status == 201, sent.text()

    page.goto("/followup")
    page.get_by_label(tr(language, "Follow-up code")).fill(code)
    page.get_by_role("button", name=tr(language, "Show"), exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text(answer).count() == 1
    check_page(page, "d-followup-answer-sv")
