"""Web reporting: the report form (type fields, persons without JavaScript, errors at the field, receipt),
anonymous reports and their follow-up, and one's own reports without the internal parts."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from kia.cases.models import Attachment, Case, TimelineEntry
from kia.feedback.models import ReporterMessage
from kia.incidents.models import Incident
from kia.orgs.services import create_user
from tests.web.test_login import PASSWORD, csrf_token, sign_in

THREAT = {"type": "threat_violence", "org_unit": "S1", "occurred_at.date": "2026-03-10", "occurred_at.time": "09:30",
          "known_at.date": "", "known_at.time": "", "location": "Korridor plan 2",
          "description": "Elev hotade läraren efter en tillsägelse.", "persons-count": "1",
          "persons[0].role": "affected", "persons[0].category": "staff", "persons[0].gender": "female",
          "fields.threat_kind": "verbal_threat", "fields.weapon": "none", "fields.police_report_made": "no",
          "idempotency_key": "form-1"}


@pytest.fixture
def staff(db, tree):
    return create_user(db, "maja.medarbetare@skola.stockholm.se", "Maja Medarbetare", PASSWORD, [("reporter", "S1")])


@pytest.fixture
def signed_in(client, staff):
    sign_in(client, staff.email, PASSWORD)
    return client


def post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/followup")}, **kwargs)


def page(response) -> str:
    return response.get_data(as_text=True)


def value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


# Swedish catalogues for the new pages come in one pass later: the header's existing "Sign out" tells the language.
@pytest.mark.parametrize("language, heading", [("sv", "Logga ut"), ("en", "Sign out")])
@pytest.mark.parametrize("url", ["/report", "/report?type=threat_violence&org_unit=S1", "/my-reports",
                                 "/anonymous", "/anonymous?type=risk_observation&org_unit=S2", "/followup"])
def test_each_page_renders_in_swedish_and_english(signed_in, url, language, heading):
    response = signed_in.get(url, headers={"Accept-Language": language})
    assert response.status_code == 200
    html = page(response)
    assert f'<html lang="{language}">' in html
    assert html.count("<h1") == 1
    assert heading in html
    assert "style=" not in html and "<script>" not in html   # the CSP allows neither


def test_step_one_offers_only_units_where_the_user_has_a_role_with_each_types_help(signed_in):
    html = page(signed_in.get("/report", headers={"Accept-Language": "en"}))
    assert 'value="S1"' in html and 'value="S2"' not in html
    assert "A staff member was threatened or attacked." in html
    refused = signed_in.get("/report?type=threat_violence&org_unit=S2")
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in page(refused)


def test_the_type_form_renders_the_types_own_fields(signed_in):
    html = page(signed_in.get("/report?type=victimisation&org_unit=S1", headers={"Accept-Language": "en"}))
    assert 'type="checkbox" id="fields-discrimination_grounds" name="fields.discrimination_grounds"' in html
    assert 'name="fields.by_staff" value="true"' in html            # boolean as yes/no radios
    assert 'id="serious"' not in html                                # kränkning: Skollagen, not AML 3:3a
    threat = page(signed_in.get("/report?type=threat_violence&org_unit=S1", headers={"Accept-Language": "en"}))
    assert 'id="serious"' in threat and 'name="serious.serious_threat" value="knife"' in threat


def test_filing_a_threat_from_the_form_creates_the_incident(signed_in, db, staff):
    response = post(signed_in, "/report", {**THREAT, "action": "file"})
    assert response.status_code == 200
    incident = db.scalar(select(Incident).where(Incident.reporter_id == staff.id))
    assert incident is not None
    assert incident.number in page(response)
    assert incident.description == THREAT["description"]
    assert incident.field_values == {"threat_kind": "verbal_threat", "weapon": "none", "police_report_made": "no"}
    assert [(p.role, p.category, p.gender) for p in incident.persons] == [("affected", "staff", "female")]
    assert incident.occurred_at.hour in (8, 9)   # 09:30 local is 08:30 UTC; the stored form depends on the database
    assert response.headers["Cache-Control"] == "no-store"
    # Sending the same form again (a reload of the receipt) shows the same report instead of a second one.
    again = post(signed_in, "/report", {**THREAT, "action": "file"})
    assert incident.number in page(again)
    assert len(db.scalars(select(Incident).where(Incident.reporter_id == staff.id)).all()) == 1


def test_errors_are_shown_at_the_field_and_everything_typed_is_kept(signed_in, db, staff):
    typed = {**THREAT, "fields.weapon": "", "persons[0].personal_number": "19121212-1213",
             "persons[0].name": "Åsa Öberg", "description": "Hot i <matsalen> & korridoren", "action": "file"}
    response = post(signed_in, "/report", typed, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = page(response)
    assert db.scalar(select(Incident).where(Incident.reporter_id == staff.id)) is None
    summary = html[html.index('role="alert"'):html.index("</div>", html.index('role="alert"'))]
    assert 'href="#fields-weapon"' in summary and 'href="#persons-0-personal_number"' in summary
    assert re.search(r'<fieldset class="group" aria-describedby="fields-weapon-error">', html)
    assert 'id="fields-weapon-error"' in html and "This field is required." in html
    assert re.search(r'id="persons-0-personal_number" name="persons\[0\].personal_number" type="text" '
                     r'value="19121212-1213"[^>]*aria-invalid="true" aria-describedby="persons-0-personal_number-error"',
                     html)
    assert value_of(html, "persons[0].name") == "Åsa Öberg"
    assert "Hot i &lt;matsalen&gt; &amp; korridoren</textarea>" in html
    assert re.search(r'name="fields.threat_kind" value="verbal_threat" checked', html)
    assert value_of(html, "occurred_at.date") == "2026-03-10" and value_of(html, "occurred_at.time") == "09:30"


def test_a_date_that_is_no_date_is_an_error_together_with_the_domains(signed_in):
    response = post(signed_in, "/report", {**THREAT, "occurred_at.date": "10/3", "description": " ", "action": "file"},
                    headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = page(response)
    assert 'href="#occurred_at"' in html and 'href="#description"' in html
    assert value_of(html, "occurred_at.date") == "10/3"


def test_persons_are_added_and_removed_without_javascript_keeping_what_was_typed(signed_in, db, staff):
    added = page(post(signed_in, "/report", {**THREAT, "persons[0].name": "Första", "action": "add_person"}))
    assert value_of(added, "persons-count") == "2"
    assert value_of(added, "persons[0].name") == "Första"
    assert 'id="persons-1-role"' in added
    assert value_of(added, "location") == THREAT["location"]
    two = {**THREAT, "persons-count": "2", "persons[0].name": "Första", "persons[1].role": "perpetrator",
           "persons[1].category": "pupil", "persons[1].gender": "male", "persons[1].class_name": "8B"}
    removed = page(post(signed_in, "/report", {**two, "action": "remove_person-0"}))
    assert value_of(removed, "persons-count") == "1"
    assert value_of(removed, "persons[0].class_name") == "8B"
    assert 'value="perpetrator" selected' in removed
    assert "Första" not in removed
    assert db.scalar(select(Incident).where(Incident.reporter_id == staff.id)) is None   # nothing filed yet


def test_a_person_without_a_role_is_an_error_at_that_select(signed_in):
    html = page(post(signed_in, "/report", {**THREAT, "persons[0].role": "", "action": "file"}))
    assert re.search(r'id="persons-0-role" name="persons\[0\].role" aria-invalid="true"', html)


def test_files_are_attached_to_the_first_case_and_a_refused_file_is_named_on_the_receipt(signed_in, db, staff):
    files = [(io.BytesIO(b"%PDF-1.4 test"), "polisanmalan.pdf"), (io.BytesIO(b"MZ\x90\x00\x03"), "virus.exe")]
    response = post(signed_in, "/report", {**THREAT, "action": "file", "attachments": files},
                    content_type="multipart/form-data", headers={"Accept-Language": "en"})
    html = page(response)
    assert response.status_code == 200
    incident = db.scalar(select(Incident).where(Incident.reporter_id == staff.id))
    stored = db.scalars(select(Attachment).where(Attachment.case_id == incident.cases[0].id)).all()
    assert [a.filename for a in stored] == ["polisanmalan.pdf"]
    assert "virus.exe" in html and "not accepted" in html


def test_a_positive_checklist_marks_the_case_serious_for_the_handler_to_check(signed_in, db, staff):
    post(signed_in, "/report", {**THREAT, "fields.weapon": "knife", "serious.serious_threat": "knife",
                                "action": "file"})
    case = db.scalar(select(Case).join(Case.incident).where(Incident.reporter_id == staff.id))
    assert case.serious
    assert case.serious_checklist["serious_threat"] == ["knife"] and case.serious_checklist["death"] is False
    assert db.scalar(select(TimelineEntry).where(TimelineEntry.case_id == case.id,
                                                 TimelineEntry.field == "serious")).note == "reporter"


def test_an_all_no_checklist_leaves_the_check_to_the_handler(signed_in, db, staff):
    post(signed_in, "/report", {**THREAT, "action": "file"})
    case = db.scalar(select(Case).join(Case.incident).where(Incident.reporter_id == staff.id))
    assert not case.serious and case.serious_checklist == {}


def test_a_form_without_the_csrf_token_is_refused(signed_in, db, staff):
    assert signed_in.post("/report", data={**THREAT, "action": "file"}).status_code == 400
    assert db.scalar(select(Incident).where(Incident.reporter_id == staff.id)) is None


def test_my_reports_show_status_and_public_parts_only(signed_in, db, staff, make):
    post(signed_in, "/report", {**THREAT, "persons[0].name": "Hemlig Person", "action": "file"})
    incident = db.scalar(select(Incident).where(Incident.reporter_id == staff.id))
    case = incident.cases[0]
    case.investigation = "INTERN UTREDNING"
    case.decision = "INTERNT BESLUT"
    db.commit()
    listing = page(signed_in.get("/my-reports", headers={"Accept-Language": "en"}))
    assert incident.number in listing and "Received" in listing
    detail = page(signed_in.get(f"/my-reports/{incident.id}", headers={"Accept-Language": "en"}))
    assert case.number in detail
    for internal in ("INTERN UTREDNING", "INTERNT BESLUT", "Hemlig Person", THREAT["description"]):
        assert internal not in detail
    other = make.user(("reporter", "S1"))
    theirs = Incident(number="X-1", incident_type=incident.incident_type, org_unit=incident.org_unit,
                      occurred_at=incident.occurred_at, known_at=incident.known_at, description="x",
                      reporter_id=other.id)
    db.add(theirs)
    db.commit()
    assert signed_in.get(f"/my-reports/{theirs.id}").status_code == 404


def test_pages_need_a_signed_in_user_except_the_anonymous_ones(client, tree):
    for url in ("/report", "/my-reports", "/account/password"):
        assert client.get(url).status_code == 302
    for url in ("/anonymous", "/followup"):
        assert client.get(url).status_code == 200


ANONYMOUS = {"type": "risk_observation", "org_unit": "S2", "occurred_at.date": "2026-03-10", "occurred_at.time": "",
             "location": "Trapphuset", "description": "Trasig ledstång i trapphuset.", "persons-count": "0",
             "fields.risk": "Någon kan falla i trappan.", "action": "file"}


def test_an_anonymous_report_end_to_end_with_its_follow_up_code(client, db, tree, make):
    assert "threat_violence" not in page(client.get("/anonymous"))   # only the types that allow it
    response = post(client, "/anonymous", ANONYMOUS, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    code = re.search(r'id="followup-code">([A-Z2-7-]+)<', page(response)).group(1)
    incident = db.scalar(select(Incident).where(Incident.description == ANONYMOUS["description"]))
    assert incident.anonymous and incident.reporter_id is None

    shown = post(client, "/followup", {"code": code.lower().replace("-", " "), "action": "show"},
                 headers={"Accept-Language": "en"})
    assert incident.number in page(shown) and "Received" in page(shown)
    written = post(client, "/followup", {"code": code, "action": "write", "body": "Det är trappan vid B-huset."})
    assert "Det är trappan vid B-huset." in page(written)
    message = db.scalar(select(ReporterMessage).where(ReporterMessage.incident_id == incident.id))
    assert message.from_reporter and message.author_id is None

    wrong = post(client, "/followup", {"code": "AAAA-BBBB", "action": "show"}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 404 and "No report has this follow-up code" in page(wrong)
    assert 'aria-invalid="true"' in page(wrong)


def test_an_anonymous_report_with_errors_keeps_the_text_and_does_not_use_up_the_hourly_allowance(client, db, tree,
                                                                                                  settings):
    for _ in range(settings.public_reports_per_hour + 1):
        response = post(client, "/anonymous", {**ANONYMOUS, "fields.risk": ""})
        assert response.status_code == 422
    assert ANONYMOUS["description"] in page(response)
    assert post(client, "/anonymous", ANONYMOUS).status_code == 200


def test_a_type_that_does_not_allow_anonymity_is_refused_on_the_anonymous_page(client, tree):
    assert post(client, "/anonymous", {**ANONYMOUS, "type": "threat_violence"}).status_code == 400


def test_the_anonymous_pages_are_rate_limited_per_client(client, tree, settings):
    for _ in range(settings.public_requests_per_minute):
        assert client.get("/anonymous").status_code == 200
    limited = client.get("/anonymous", headers={"Accept-Language": "en"})
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers and "Too many requests" in page(limited)


def test_staff_can_report_anonymously_and_get_a_code_instead_of_a_name(signed_in, db, staff):
    data = {**ANONYMOUS, "org_unit": "S1", "anonymous": "yes"}
    response = post(signed_in, "/report", data)
    assert response.status_code == 200
    assert re.search(r'id="followup-code">[A-Z2-7-]+<', page(response))
    incident = db.scalar(select(Incident).where(Incident.description == ANONYMOUS["description"]))
    assert incident.reporter_id is None and incident.anonymous
