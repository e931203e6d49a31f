"""The deadline rules on /admin/rules and their own pages: add one, change one, switch one off and on – real form
controls, messages at the fields with what was typed kept, city-wide admins only, CSRF on every form."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kia.cases.models import CaseState, MilestoneKind
from kia.deadlines.models import DeadlineRule, DeadlineStart
from tests.web.test_admin import EN, html, sign_in

SV = {"Accept-Language": "sv"}
# Kränkande behandling: the guardians informed within two working days of when the school knew.
ADD = {"code": "guardians_informed", "name_sv": "Vårdnadshavare informerade", "name_en": "Guardians informed",
       "type": "victimisation", "category": "", "start": "known_at", "start_field": "", "start_milestone": "",
       "due": "2", "due_unit": "working_days", "met_by": "milestone", "met_by_milestone": "guardians_informed",
       "met_by_state": "", "escalate_after_hours": "24"}


@pytest.fixture
def admin(client, make, tree):
    return make.user(("admin", "STHLM"), language="en")


@pytest.fixture
def token(client, admin) -> str:
    return sign_in(client, admin)


def post(client, url: str, token: str, data: dict, headers=EN):
    return client.post(url, data={**data, "csrf_token": token}, headers=headers)


def rule(db, code: str) -> DeadlineRule | None:
    db.expire_all()   # changed by the app's own session
    return db.scalar(select(DeadlineRule).where(DeadlineRule.code == code))


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(DeadlineRule))


def test_each_rule_has_an_edit_link_and_a_switch_and_the_page_a_form_to_add_one(client, db, token):
    page = html(client.get("/admin/rules", headers=EN))
    imy = rule(db, "report_to_imy")
    row = page.split(f'id="deadline-rule-{imy.id}"')[1].split("</tr>")[0]
    assert "Report to the Data Protection Authority (IMY)" in row and "72 hours" in row
    assert "At a date or time given in the report" in row and "discovered_at" in row and "Reported to IMY" in row
    assert f'href="/admin/deadline-rules/{imy.id}">Edit<span class="visually-hidden"> Report to the Data' in row
    assert f'action="/admin/deadline-rules/{imy.id}/active"' in row and "Switch off" in row
    assert "State: Acknowledged" in page and "the same working day" in page   # labels, not enum values
    form = page.split('id="add-deadline-rule"')[1]
    assert '<legend>The time starts</legend>' in form and '<legend>The deadline is met when</legend>' in form
    assert '<label for="deadline-type">Event type</label>' in form and '<option value="">Any type</option>' in form
    assert 'id="deadline-start-known_at" name="start" value="known_at" checked' in form
    assert '<div class="conditional">' in form and '<label for="deadline-start_milestone">' in form
    assert 'id="deadline-due_unit" name="due_unit" value="hours" checked' in form and 'value="24"' in form


def test_adding_a_rule(client, db, token, admin):
    before = count(db)
    response = post(client, "/admin/deadline-rules", token, {**ADD, "only_serious": "on"})
    assert response.status_code == 302 and response.location.endswith("/admin/rules#deadlines")
    added = rule(db, "guardians_informed")
    assert (added.name_sv, added.incident_type.code, added.category, added.only_serious, added.start,
            added.due_hours, added.due_working_days, added.met_by_milestone, added.met_by_state,
            added.escalate_after_hours, added.active) == (
        "Vårdnadshavare informerade", "victimisation", None, True, DeadlineStart.KNOWN_AT, None, 2,
        MilestoneKind.GUARDIANS_INFORMED, None, 24, True)
    assert (added.changed_by_id, added.needs_resync, count(db)) == (admin.id, True, before + 1)
    page = html(client.get("/admin/rules", headers=EN))
    assert "Deadline rule “Guardians informed” added. Open cases are recomputed by the scheduler&#39;s next sweep." in page
    assert f'id="deadline-rule-{added.id}"' in page


def test_only_the_chosen_start_and_met_by_are_used(client, db, token):
    # Every input is sent whichever radio button is chosen (they are only hidden): the others' are ignored.
    response = post(client, "/admin/deadline-rules", token, {
        **ADD, "type": "data_breach", "start": "field", "start_field": "discovered_at",
        "start_milestone": "support_offered", "due": "72", "due_unit": "hours", "met_by": "state",
        "met_by_milestone": "reported_to_imy", "met_by_state": "closed"})
    assert response.status_code == 302
    added = rule(db, "guardians_informed")
    assert (added.start, added.start_field, added.start_milestone, added.due_hours, added.due_working_days,
            added.met_by_milestone, added.met_by_state) == (DeadlineStart.FIELD, "discovered_at", None, 72, None,
                                                            None, CaseState.CLOSED)


def test_errors_are_shown_at_their_fields_with_a_summary_and_what_was_typed_is_kept(client, db, token):
    before = count(db)
    response = post(client, "/admin/deadline-rules", token, {
        **ADD, "name_sv": " ", "start": "field", "start_field": "discovered_at", "due": "lots",
        "met_by": "state", "met_by_state": "", "escalate_after_hours": "-3"})
    assert response.status_code == 422
    page = html(response)
    assert "<title>Error: Rules – KIA</title>" in page
    summary = page.split('id="deadline-error-summary"')[1].split("</div>")[0]
    assert "The deadline rule was not added: see the messages at the fields." in summary
    links = [line.split('"')[1] for line in summary.split('<a href=')[1:]]
    assert links == ["#deadline-name_sv", "#deadline-start_field", "#deadline-due", "#deadline-met_by",
                     "#deadline-escalate_after_hours"]   # in the form's order
    assert 'id="deadline-name_sv-error">A name is required.' in page
    assert 'id="deadline-start_field-error">The event type has no date or time field discovered_at.' in page
    assert 'id="deadline-due-error">Give a whole number from 0 to 260.' in page   # working days
    assert 'id="deadline-met_by-error">Choose the milestone or the state that meets the obligation.' in page
    assert 'aria-describedby="deadline-due-hint deadline-due-error"' in page
    assert 'aria-describedby="deadline-met_by-error"' in page   # the fieldset
    # Nothing typed is lost: texts, the chosen type, the radio buttons.
    assert 'value="lots"' in page and 'value="discovered_at"' in page and 'value="-3"' in page
    assert 'value="Guardians informed"' in page and '<option value="victimisation" selected>' in page
    assert 'value="field" checked' in page and 'value="state" checked' in page
    assert page.count('value="test-csrf-token"') == page.count('method="post"')
    # The routing form beside it is not blamed.
    assert 'id="error-summary"' not in page and "The rule was not added" not in page
    assert count(db) == before


def test_changing_a_rule_on_its_page(client, db, token, admin):
    imy = rule(db, "report_to_imy")
    page = html(client.get(f"/admin/deadline-rules/{imy.id}", headers=EN))
    assert "<h1>Change the deadline rule “Report to the Data Protection Authority (IMY)”</h1>" in page
    assert "Code: report_to_imy." in page and "A default rule, not changed since it was installed." in page
    assert '<option value="data_breach" selected>' in page and 'value="field" checked' in page
    assert 'name="start_field" type="text" value="discovered_at"' in page and 'name="due" type="number" value="72"' in page
    assert 'id="deadline-met_by" name="met_by" value="milestone" checked' in page
    assert '<option value="reported_to_imy" selected>' in page and 'id="deadline-active" name="active" checked' in page

    response = post(client, f"/admin/deadline-rules/{imy.id}", token, {
        **ADD, "code": "", "name_en": "Report to IMY", "type": "data_breach", "start": "field",
        "start_field": "discovered_at", "due": "48", "due_unit": "hours", "met_by_milestone": "reported_to_imy",
        "active": "on"})
    assert response.status_code == 302 and response.location.endswith("/admin/rules#deadlines")
    changed = rule(db, "report_to_imy")
    assert (changed.code, changed.name_en, changed.due_hours, changed.changed_by_id, changed.needs_resync) == (
        "report_to_imy", "Report to IMY", 48, admin.id, True)
    assert "Deadline rule “Report to IMY” saved." in html(client.get("/admin/rules", headers=EN))
    assert f"Last changed by {admin.name}" in html(client.get(f"/admin/deadline-rules/{imy.id}", headers=EN))


def test_a_refused_change_keeps_what_was_typed_and_changes_nothing(client, db, token):
    imy = rule(db, "report_to_imy")
    response = post(client, f"/admin/deadline-rules/{imy.id}", token, {
        **ADD, "name_en": "Renamed", "type": "data_breach", "start": "milestone", "start_milestone": "",
        "due": "", "active": "on"})
    assert response.status_code == 422
    page = html(response)
    assert "The rule was not saved: see the messages at the fields." in page
    assert 'id="deadline-start_milestone-error">A rule starting at a milestone names the milestone.' in page
    assert 'id="deadline-due-error">Give the time allowed, in hours or in working days.' in page
    assert 'value="Renamed"' in page and 'value="milestone" checked' in page
    assert "<h1>Change the deadline rule “Report to the Data Protection Authority (IMY)”</h1>" in page
    assert (rule(db, "report_to_imy").name_en, rule(db, "report_to_imy").due_hours) == (
        "Report to the Data Protection Authority (IMY)", 72)


def test_switching_a_rule_off_and_on(client, db, token):
    fk = rule(db, "report_to_fk")
    assert post(client, f"/admin/deadline-rules/{fk.id}/active", token, {"active": "false"}).status_code == 302
    assert rule(db, "report_to_fk").active is False
    page = html(client.get("/admin/rules", headers=EN))
    assert "Deadline rule “Report to the Social Insurance Agency” switched off." in page
    row = page.split(f'id="deadline-rule-{fk.id}"')[1].split("</tr>")[0]   # still listed: never deleted
    assert "Switch on" in row and '<input type="hidden" name="active" value="true">' in row
    assert post(client, f"/admin/deadline-rules/{fk.id}/active", token, {"active": "true"}).status_code == 302
    assert rule(db, "report_to_fk").active is True


def test_a_rule_that_no_longer_holds_is_switched_off_but_not_on_as_it_stands(client, db, token):
    # Stored before today's checks (an older PUT took a type and a category together).
    fk = rule(db, "report_to_fk")
    fk.category = fk.incident_type.category
    db.commit()
    assert post(client, f"/admin/deadline-rules/{fk.id}/active", token, {"active": "false"}).status_code == 302
    assert rule(db, "report_to_fk").active is False
    response = post(client, f"/admin/deadline-rules/{fk.id}/active", token, {"active": "true"})
    page = html(response)
    assert response.status_code == 422 and "Give an event type or a category, not both." in page
    assert 'value="Report to the Social Insurance Agency"' in page   # the rule's own values, to correct
    assert rule(db, "report_to_fk").active is False


def test_an_unknown_rule_is_404(client, token):
    assert client.get("/admin/deadline-rules/999999").status_code == 404
    assert post(client, "/admin/deadline-rules/999999", token, ADD).status_code == 404
    assert post(client, "/admin/deadline-rules/999999/active", token, {"active": "false"}).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(client, db, token):
    fk = rule(db, "report_to_fk")
    for url, data in (("/admin/deadline-rules", ADD), (f"/admin/deadline-rules/{fk.id}", {**ADD, "due": "1"}),
                      (f"/admin/deadline-rules/{fk.id}/active", {"active": "false"})):
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    assert rule(db, "guardians_informed") is None
    assert (rule(db, "report_to_fk").active, rule(db, "report_to_fk").due_working_days) == (True, 5)


def test_other_admins_may_not_and_the_signed_out_are_sent_to_sign_in(client, db, make, tree):
    fk = rule(db, "report_to_fk")
    pages = (("/admin/deadline-rules", ADD), (f"/admin/deadline-rules/{fk.id}", ADD),
             (f"/admin/deadline-rules/{fk.id}/active", {"active": "false"}))
    assert "/login" in client.get(f"/admin/deadline-rules/{fk.id}").location
    token = sign_in(client, make.user(("admin", "UTBF")))
    assert client.get(f"/admin/deadline-rules/{fk.id}").status_code == 403
    for url, data in pages:
        assert post(client, url, token, data).status_code == 403, url
    assert rule(db, "report_to_fk").active and rule(db, "guardians_informed") is None


def test_the_json_page_is_gone(client, token):
    assert client.get("/admin/deadline-rules").status_code == 405
    assert "Deadline rules (JSON)" not in html(client.get("/admin/rules", headers=EN))


def test_the_pages_are_in_swedish_by_default(client, db, token):
    imy = rule(db, "report_to_imy")
    page = html(client.get(f"/admin/deadline-rules/{imy.id}", headers=SV))
    assert "<h1>Ändra fristregeln ”Anmälan till IMY”</h1>" in page
    assert "Fristen börjar löpa" in page and "Arbetsdagar" in page and "Anmält till IMY" in page
    error = post(client, "/admin/deadline-rules", token, {**ADD, "due": ""}, headers=SV)
    assert 'id="deadline-due-error">Ange fristen i timmar eller i arbetsdagar.' in html(error)
