"""The case page's related cases: link a case by its number (unknown and out-of-sight numbers alike refused),
remove a link, and add a case of another type for the same event – for those who handle the case only."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kia.cases.models import Case, CaseLink
from kia.incidents.services import PersonInput
from tests.cases.conftest import filing, people, timeline  # noqa: F401 – fixtures
from tests.factories import THREAT_FIELDS
from tests.web.test_handling import EN, page, post, sign_in


@pytest.fixture
def fight(filing) -> Case:
    """A threat case whose event also hurt a pupil: a staff member, the affected pupil and the one who hit."""
    return filing.file("threat_violence", dict(THREAT_FIELDS), [
        PersonInput(role="affected", category="staff", gender="female", name="Anna Lärare"),
        PersonInput(role="affected", category="pupil", gender="male", name="Elev Ett", class_name="7A"),
        PersonInput(role="perpetrator", category="pupil", gender="male")])[0]


def text(response) -> str:
    return response.get_data(as_text=True)


def test_only_those_who_handle_the_case_get_the_forms(client, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    html = page(client, f"/cases/{case.id}")
    assert f'action="/cases/{case.id}/links"' in html and f'action="/cases/{case.id}/related-cases/new"' in html
    assert '<label for="link-case">Link to a case of another event' in html
    assert 'aria-describedby="link-case-hint"' in html

    sign_in(client, people.safety_rep)   # reads the threat case, may not change it
    html = page(client, f"/cases/{case.id}")
    assert "/links" not in html and "/related-cases" not in html
    assert post(client, f"/cases/{case.id}/links", {"case": case.number}).status_code == 403
    assert client.get(f"/cases/{case.id}/related-cases/new").status_code == 403
    assert post(client, f"/cases/{case.id}/related-cases", {"type": "fire"}).status_code == 403
    sign_in(client, people.other_handler)   # another school: the case does not exist for them
    assert client.get(f"/cases/{case.id}/related-cases/new").status_code == 404


def test_link_by_number_then_remove_the_link(client, db, people, filing):
    case, other = filing.threat(), filing.threat()
    sign_in(client, people.handler)
    response = post(client, f"/cases/{case.id}/links", {"case": f"  {other.number.lower()} "})
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case.id}#related")
    html = page(client, f"/cases/{case.id}")
    assert "The cases are linked." in html
    assert re.search(rf'>{other.number}</a> – [^<]+\(linked\)', html)
    assert f"Remove the link<span class=\"visually-hidden\"> to {other.number}</span>" in html
    assert re.search(rf'>{case.number}</a> – [^<]+\(linked\)', page(client, f"/cases/{other.id}"))
    assert [e[3] for e in timeline(db, case, "linked")] == [other.number]

    assert post(client, f"/cases/{case.id}/links/{other.id}/remove", {}).status_code == 302
    html = page(client, f"/cases/{case.id}")
    assert "The link is removed." in html and f">{other.number}</a>" not in html   # the timeline keeps it
    assert db.scalar(select(CaseLink.id).where(CaseLink.case_id.in_([case.id, other.id]))) is None
    assert post(client, f"/cases/{case.id}/links/{other.id}/remove", {}).status_code == 404


def test_an_unknown_number_and_one_out_of_sight_get_the_same_message(client, people, filing):
    case = filing.threat()
    elsewhere = filing.threat(org_unit="S2", reporter=people.other_handler)   # S1's rektor cannot see it
    sign_in(client, people.handler)
    answers = []
    for number in ("UTBF-2026-99999-1", elsewhere.number):
        response = post(client, f"/cases/{case.id}/links", {"case": number})
        assert response.status_code == 422
        html = text(response)
        error = re.search(r'<p class="error" id="link-case-error">(.*?)</p>', html, re.S).group(1)
        assert "No case you may read has this number." in error
        assert f'value="{number}" aria-describedby="link-case-hint link-case-error" aria-invalid="true"' in html
        answers.append(error)
    assert answers[0] == answers[1]


@pytest.mark.parametrize("which, status, message", [
    ("empty", 422, "Give the number of the case, e.g. UTBF-2026-00042-1."),
    ("itself", 422, "A case cannot be linked to itself."),
    ("same_event", 422, "Cases of one event are linked already."),
    ("twice", 409, "These cases are linked already."),
])
def test_links_that_make_no_sense_are_refused_at_the_field(client, people, filing, which, status, message):
    first, second = filing.victimisation(pupils=2)
    other = filing.threat()
    sign_in(client, people.handler)
    number = {"empty": " ", "itself": first.number, "same_event": second.number, "twice": other.number}[which]
    if which == "twice":
        assert post(client, f"/cases/{first.id}/links", {"case": number}).status_code == 302
    response = post(client, f"/cases/{first.id}/links", {"case": number})
    assert response.status_code == status and message in text(response)
    assert f'value="{number}"' in text(response)   # what was typed is kept


def test_the_case_page_offers_the_types_not_there_yet(client, people, fight):
    sign_in(client, people.handler)
    html = page(client, f"/cases/{fight.id}")
    offered = re.findall(r'<option value="(\w+)">', html.split('id="related-type"')[1].split("</select>")[0])
    assert "victimisation" in offered and "pupil_injury" in offered and "threat_violence" not in offered


def test_add_a_related_case_for_the_pupil(client, db, people, fight):
    sign_in(client, people.handler)
    url = f"/cases/{fight.id}/related-cases"
    html = page(client, url + "/new?type=victimisation")
    assert '<option value="victimisation" selected>' in html
    assert re.search(r'<label for="persons-1">Affected, Pupil: Elev Ett \(7A\)</label>', html)
    assert 'name="fields.classification"' in html

    # Nothing chosen: messages at the persons and at the type's own field; the ticks made are kept.
    response = post(client, url, {"type": "victimisation", "persons": ["2"],
                                  "fields.discrimination_grounds": ["age"]})
    assert response.status_code == 422
    html = text(response)
    assert 'id="persons-error"' in html and "Choose the one affected pupil this case is about." in html
    assert 'id="fields-classification-error"' in html
    assert re.search(r'id="persons-2" name="persons" value="2" checked', html)
    assert re.search(r'name="fields.discrimination_grounds" value="age" checked', html)
    assert db.scalar(select(Case.id).where(Case.incident_id == fight.incident_id, Case.id != fight.id)) is None

    response = post(client, url, {"type": "victimisation", "persons": ["1"], "fields.classification": "harassment"})
    assert response.status_code == 302
    added = db.scalar(select(Case).where(Case.incident_id == fight.incident_id, Case.id != fight.id))
    assert response.location.endswith(f"/cases/{added.id}")
    assert added.number == fight.number[:-1] + "2" and added.subject_person.name == "Elev Ett"
    added_page = page(client, f"/cases/{added.id}")
    assert f"Case {added.number} is added for the same event." in added_page
    assert re.search(rf'>{added.number}</a> – [^<]+\(same event\)', page(client, f"/cases/{fight.id}"))
    # The event's values by the event's type, the case's own by its type.
    assert '<dt>Kind of threat or violence</dt><dd class="text">Verbal threat</dd>' in added_page
    assert 'About this case</h3>' in added_page
    assert '<dt>Classification</dt><dd class="text">Harassment</dd>' in added_page


def test_a_type_not_on_offer_is_an_error_at_the_type(client, people, fight):
    sign_in(client, people.handler)
    for code in ("nonsense", "threat_violence", ""):   # unknown, already there, none chosen
        response = client.get(f"/cases/{fight.id}/related-cases/new?type={code}", headers=EN)
        assert response.status_code == 422, code
        assert 'id="type-error"' in text(response) and 'action="/cases/' not in text(response).split("</form>")[1]
    again = post(client, f"/cases/{fight.id}/related-cases", {"type": "threat_violence"})
    assert again.status_code == 422 and "The event already has a case of this type." in text(again)


def test_the_related_case_page_is_in_swedish(client, people, fight):
    sign_in(client, people.handler)
    html = client.get(f"/cases/{fight.id}/related-cases/new?type=pupil_injury",
                      headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Lägg till ett relaterat ärende" in html and "Vem det nya ärendet gäller" in html
