"""The report form's draft on a phone (web/static/draft.js) as the server sees it: the form's idempotency key makes
a resent form one report, in the same store as the API's Idempotency-Key, and the pages name the draft to keep
or to delete."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from kia.incidents.models import IdempotencyKey, Incident
from kia.orgs.services import create_user
from tests.web.test_login import PASSWORD, sign_in
from tests.web.test_reporting import THREAT, page, post, signed_in, staff, value_of  # noqa: F401 – fixtures

FORM = "/report?type=threat_violence&org_unit=S1"


def filed(db, staff) -> int:
    return db.scalar(select(func.count()).select_from(Incident).where(Incident.reporter_id == staff.id))


def attribute(html: str, name: str) -> str:
    return re.search(rf'{name}="([^"]*)"', html).group(1)


def test_two_posts_with_the_forms_key_file_one_incident_and_show_the_same_receipt(signed_in, db, staff):
    key = value_of(page(signed_in.get(FORM)), "idempotency_key")
    assert key and len(key) >= 16   # made at render, unguessable
    first = post(signed_in, "/report", {**THREAT, "idempotency_key": key, "action": "file"})
    # The connection dropped before the receipt arrived; the draft is sent again when it is back, a word changed.
    again = post(signed_in, "/report", {**THREAT, "idempotency_key": key, "description": "Ändrad.", "action": "file"})
    number = db.scalar(select(Incident.number).where(Incident.reporter_id == staff.id))
    assert number in page(first) and number in page(again)
    assert first.status_code == again.status_code == 200
    assert filed(db, staff) == 1
    # The same store as the API's Idempotency-Key header: one key of this user's, naming the incident.
    stored = db.scalars(select(IdempotencyKey).where(IdempotencyKey.user_id == staff.id)).all()
    assert [k.key for k in stored] == [key]


def test_another_form_with_its_own_key_is_another_report(signed_in, db, staff):
    for _ in range(2):
        key = value_of(page(signed_in.get(FORM)), "idempotency_key")
        post(signed_in, "/report", {**THREAT, "idempotency_key": key, "action": "file"})
    assert filed(db, staff) == 2


def test_a_blank_form_takes_the_draft_and_a_form_sent_back_does_not(signed_in):
    blank = page(signed_in.get(FORM))
    assert attribute(blank, "data-draft-restore") == "1"
    sent_back = page(post(signed_in, "/report", {**THREAT, "action": "add_person"}))
    assert attribute(sent_back, "data-draft-restore") == "0"
    assert attribute(blank, "data-draft") == attribute(sent_back, "data-draft")
    # The help text says where the draft is kept and when it goes.
    assert "sparas i den här webbläsaren på den här enheten" in blank
    assert '<script src="/static/draft.js" defer></script>' in blank   # a file of our own: the CSP allows it


def test_the_receipt_names_the_draft_it_filed(signed_in):
    name = attribute(page(signed_in.get(FORM)), "data-draft")
    receipt = page(post(signed_in, "/report", {**THREAT, "action": "file"}))
    assert attribute(receipt, "data-draft-filed") == name


def test_each_user_and_the_anonymous_page_have_their_own_draft(signed_in, db, staff):
    client = signed_in
    mine = attribute(page(client.get(FORM)), "data-draft")
    other = create_user(db, "olle.annan@skola.stockholm.se", "Olle Annan", PASSWORD, [("reporter", "S1")])
    post(client, "/logout", {})
    sign_in(client, other.email, PASSWORD)
    theirs = attribute(page(client.get(FORM)), "data-draft")
    public = attribute(page(client.get("/anonymous?type=risk_observation&org_unit=S1")), "data-draft")
    assert len({mine, theirs, public}) == 3
    assert str(staff.id) in mine and str(other.id) in theirs


def test_the_draft_script_is_served_as_javascript(client):
    response = client.get("/static/draft.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
