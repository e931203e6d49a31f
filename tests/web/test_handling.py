"""The inbox and case pages: scope, badges, filters, transitions and their guards, milestones, actions,
comments, the logged reveal of a personal number – through the Flask test client, as a browser posts."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from kia.auth.signed_in import session_id
from kia.cases.models import AccessLogEntry, ActionStatus, CaseAction, CaseState, Comment, MilestoneKind, TimelineEntry
from kia.db import utcnow
from kia.deadlines.escalation import sweep
from kia.deadlines.models import Obligation
from kia.orgs.models import User
from tests.cases.conftest import filing, people  # noqa: F401 – fixtures

EN = {"Accept-Language": "en"}


def sign_in(client, actor) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = session_id(actor.user_id, 0)   # a new user: no password set since
        session["_fresh"] = True
        session["two_factor_verified"] = True   # as after the second step (web.two_factor)


def page(client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def post(client, url: str, data: dict, **kwargs):
    with client.session_transaction() as session:
        token = session.setdefault("csrf", "test-csrf-token")
    return client.post(url, data={**data, "csrf_token": token}, headers=EN, **kwargs)


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<th scope=\"row\"><a href=\"/cases/\d+\">([^<]+)</a>", html)


def test_inbox_lists_only_cases_in_scope_with_badges(client, db, people, filing):
    threat = filing.threat()
    kränkning = filing.victimisation()[0]
    elsewhere = filing.threat(org_unit="S2", reporter=people.other_handler)
    threat.serious = True
    threat.next_due_at = utcnow() - timedelta(hours=1)
    db.commit()

    sign_in(client, people.safety_rep)
    html = page(client, "/inbox")
    assert rows(html) == [threat.number]   # the skyddsombud never sees a kränkning case, nor S2's
    assert "Overdue</span>" in html and "Serious</span>" in html
    assert '<th scope="col">' in html and 'role="region"' in html and 'tabindex="0"' in html
    assert "<strong>1</strong> open cases" in html and "<strong>1</strong> overdue" in html

    sign_in(client, people.handler)
    assert sorted(rows(page(client, "/inbox"))) == sorted([threat.number, kränkning.number])
    assert elsewhere.number not in page(client, "/inbox")


def test_inbox_filters_sort_and_empty_state(client, db, people, filing):
    threat = filing.threat()
    fire = filing.fire()
    closed = filing.in_state(filing.threat(), CaseState.CLOSED)
    sign_in(client, people.handler)

    assert sorted(rows(page(client, "/inbox"))) == sorted([threat.number, fire.number])   # default: open
    assert rows(page(client, "/inbox?state=closed")) == [closed.number]
    assert rows(page(client, "/inbox?type=fire")) == [fire.number]
    assert rows(page(client, "/inbox?state=&sort=number")) == sorted([threat.number, fire.number, closed.number])
    assert rows(page(client, "/inbox?org_unit=S2")) == []
    assert "No cases match the filter." in page(client, "/inbox?serious=1")
    fire.serious = True
    db.commit()
    assert rows(page(client, "/inbox?serious=1")) == [fire.number]
    threat.next_due_at = utcnow() - timedelta(minutes=5)
    db.commit()
    html = page(client, "/inbox?overdue=1")
    assert rows(html) == [threat.number] and html.count("Overdue</span>") == 1
    fire.assignee_id = people.other_handler.user_id   # delegated away: no longer "mine"
    db.commit()
    assert rows(page(client, "/inbox?assigned=me")) == [threat.number]

    bad = client.get("/inbox?type=nonsense", headers=EN)
    assert bad.status_code == 400 and "Unknown event type: nonsense." in bad.get_data(as_text=True)


def test_inbox_pages_with_the_cursor(client, people, filing, monkeypatch):
    monkeypatch.setattr("web.inbox.PAGE_SIZE", 2)
    numbers = sorted(filing.threat().number for _ in range(3))
    sign_in(client, people.handler)
    first = page(client, "/inbox?sort=number")
    assert rows(first) == numbers[:2] and "First page" not in first
    link = re.search(r'href="(/inbox\?[^"]*cursor=[^"]+)">Next page', first).group(1).replace("&amp;", "&")
    second = page(client, link)
    assert rows(second) == numbers[2:] and "First page" in second and "Next page" not in second


def test_case_page_is_404_for_a_safety_rep_on_a_victimisation_case(client, people, filing):
    case = filing.victimisation()[0]
    sign_in(client, people.safety_rep)
    assert client.get(f"/cases/{case.id}").status_code == 404
    sign_in(client, people.handler)
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_transition_buttons_only_for_allowed_states_and_handlers(client, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    html = page(client, f"/cases/{case.id}")
    assert re.findall(r'name="to" value="(\w+)"', html) == ["acknowledged", "rejected"]

    sign_in(client, people.safety_rep)   # reads it, may not handle it
    html = page(client, f"/cases/{case.id}")
    assert 'name="to"' not in html and "You may read this case but not change it." in html
    assert post(client, f"/cases/{case.id}/transition", {"to": "acknowledged"}).status_code == 403


def test_closing_without_summary_shows_the_error_at_the_field_and_keeps_the_text(client, db, people, filing):
    case = filing.in_state(filing.threat(), CaseState.INVESTIGATING)
    sign_in(client, people.handler)
    response = post(client, f"/cases/{case.id}/transition", {"to": "closed", "decision": "Inga fler åtgärder"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html.split('id="transition-closed-closing_summary-error"')[1].split("</textarea>")[0]
    assert "Summarise the case for the reporter before closing it." in field and 'aria-invalid="true"' in field
    assert ">Inga fler åtgärder</textarea>" in html   # what was typed is kept
    db.refresh(case)
    assert case.state == CaseState.INVESTIGATING

    response = post(client, f"/cases/{case.id}/transition",
                    {"to": "closed", "decision": "Inga fler åtgärder", "closing_summary": "Utrett."})
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case.id}#workflow")
    db.refresh(case)
    assert case.state == CaseState.CLOSED
    assert "The case has moved." in page(client, f"/cases/{case.id}")


def test_a_transition_not_allowed_is_a_message_not_a_crash(client, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    response = post(client, f"/cases/{case.id}/transition", {"to": "closed"})
    assert response.status_code == 409
    assert "A case that is received cannot move to closed." in response.get_data(as_text=True)


def test_personal_number_is_masked_and_revealing_it_is_logged(client, db, people, filing):
    case = filing.victimisation()[0]
    sign_in(client, people.handler)
    html = page(client, f"/cases/{case.id}")
    assert "20121212-****" in html and "20121212-1212" not in html and "Elev 0" in html
    person = case.incident.persons[0]
    response = post(client, f"/cases/{case.id}/persons/{person.id}/reveal", {})
    assert response.status_code == 200 and "20121212-1212" in response.get_data(as_text=True)
    entries = db.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case.id)).all()
    assert [e.action for e in entries if e.user_id == people.handler.user_id].count("reveal_personal_number") == 1
    assert "20121212-1212" not in page(client, f"/cases/{case.id}")   # once: masked again


def test_readers_without_personal_data_see_no_names_and_cannot_reveal(client, db, people, filing):
    case = filing.threat()
    sign_in(client, people.safety_rep)
    html = page(client, f"/cases/{case.id}")
    assert "Anna Lärare" not in html and "Show personal number" not in html
    reporter = db.get(User, people.reporter.user_id)
    assert reporter.name not in html and re.search(r"<td>The reporter</td>\s*<td>Case opened</td>", html)
    person = case.incident.persons[0]
    assert post(client, f"/cases/{case.id}/persons/{person.id}/reveal", {}).status_code == 403


def test_milestone_action_and_comment_round_trip(client, db, people, filing):
    case = filing.in_state(filing.threat(), CaseState.INVESTIGATING)
    sign_in(client, people.handler)
    url = f"/cases/{case.id}"

    assert post(client, url + "/milestones", {"kind": "police_report_made", "at": "2026-03-10T12:00",
                                              "reference": "K-12345"}).status_code == 302
    html = page(client, url)
    assert "Police report made: 2026-03-10 12:00 (reference K-12345)" in html
    assert 'name="kind" value="police_report_made"' not in html   # no button for a recorded one
    bad = post(client, url + "/milestones", {"kind": "support_offered", "at": "igår"})
    assert bad.status_code == 422 and "Give the date and time as YYYY-MM-DD HH:MM." in bad.get_data(as_text=True)

    due = (utcnow() + timedelta(days=7)).date().isoformat()
    assert post(client, url + "/actions", {"what": "Samtal med eleven", "responsible": people.handler.user_id,
                                           "due_date": due}).status_code == 302
    action = db.scalar(select(CaseAction).where(CaseAction.case_id == case.id))
    assert action.what == "Samtal med eleven" and "Samtal med eleven" in page(client, url)
    assert post(client, url + f"/actions/{action.id}", {"status": "done",
                                                        "follow_up_note": "Genomfört"}).status_code == 302
    db.refresh(action)
    assert action.status == ActionStatus.DONE and action.follow_up_note == "Genomfört"

    empty = post(client, url + "/comments", {"body": "  "})
    assert empty.status_code == 422 and "Write something." in empty.get_data(as_text=True)
    assert post(client, url + "/comments", {"body": "Ringde vårdnadshavaren."}).status_code == 302
    assert db.scalar(select(Comment.body).where(Comment.case_id == case.id)) == "Ringde vårdnadshavaren."
    html = page(client, url)
    assert "Ringde vårdnadshavaren." in html and "Comment written" in html   # and in the timeline
    db.refresh(case)
    assert case.milestone(MilestoneKind.POLICE_REPORT_MADE).reference == "K-12345"


def test_attachment_upload_and_download_through_the_case(client, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    response = post(client, f"/cases/{case.id}/attachments",
                    {"file": (__import__("io").BytesIO(b"%PDF-1.4 test"), "protokoll.pdf")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    link = re.search(r'href="(/cases/\d+/attachments/\d+)">protokoll.pdf', page(client, f"/cases/{case.id}")).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    assert download.headers["Content-Type"] == "application/pdf"
    post(client, f"/cases/{case.id}/attachments", {"file": (__import__("io").BytesIO(b"Klass 8B\n"), "notes.txt")},
         content_type="multipart/form-data")
    text_link = re.search(r'href="(/cases/\d+/attachments/\d+)">notes.txt', page(client, f"/cases/{case.id}")).group(1)
    assert client.get(text_link).headers["Content-Type"] == "text/plain; charset=utf-8"   # one charset
    sign_in(client, people.other_handler)
    assert client.get(link).status_code == 404


def test_posts_need_the_csrf_token(client, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    assert client.post(f"/cases/{case.id}/comments", data={"body": "x"}).status_code == 400


@pytest.mark.parametrize("url", ["/inbox", "/cases/1"])
def test_pages_need_sign_in(client, url):
    assert client.get(url).status_code == 302


def test_the_handler_answers_the_anonymous_reporter_on_the_case_page(client, db, people, settings):
    from kia.feedback.limits import ClientGuard
    from kia.feedback.services import file_anonymous_report, followup
    from kia.incidents.services import IncidentInput
    from tests.conftest import TZ

    guard = ClientGuard(db, settings, "198.51.100.23", now=utcnow())
    receipt = file_anonymous_report(db, IncidentInput(
        type="risk_observation", org_unit="S1", occurred_at=utcnow() - timedelta(hours=2),
        description="Trasig belysning i trapphuset.", fields={"risk": "Mörkt i trappan"}), TZ, guard)
    from kia.cases.models import Case

    case_id = db.scalar(select(Case.id).where(Case.number == receipt.cases[0].number))
    sign_in(client, people.handler)
    html = page(client, f"/cases/{case_id}")
    assert "Messages with the anonymous reporter" in html
    response = post(client, f"/cases/{case_id}/messages", {"body": "Tack, vaktmästaren lagar den i dag."})
    assert response.status_code == 302
    assert "Tack, vaktmästaren lagar den i dag." in page(client, f"/cases/{case_id}")
    thread = followup(db, receipt.follow_up_code, guard).messages
    assert [(m.body, m.from_reporter) for m in thread] == [("Tack, vaktmästaren lagar den i dag.", False)]
    # An empty message is refused at the field, and a colleague on another school gets a 404.
    assert post(client, f"/cases/{case_id}/messages", {"body": " "}).status_code == 422
    sign_in(client, people.other_handler)
    assert post(client, f"/cases/{case_id}/messages", {"body": "Hej"}).status_code == 404


def test_a_named_report_has_no_reporter_thread(client, db, people, filing):
    case = filing.threat()
    sign_in(client, people.handler)
    assert "Messages with the anonymous reporter" not in page(client, f"/cases/{case.id}")


def timeline_rows(html: str) -> list[tuple[str, str]]:
    """(what, change) of each timeline row, tags and surrounding space removed."""
    body = html[html.index('<table class="timeline">'):]
    body = body[:body.index("</table>")]
    cells = re.findall(r"<tr><th scope=\"row\">.*?</th><td>.*?</td>\s*<td>(.*?)</td>\s*<td class=\"text\">(.*?)</td></tr>",
                       body, re.S)
    return [tuple(unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()) for c in row) for row in cells]


def test_the_case_page_says_fields_people_and_changes_in_words(client, db, people, filing):
    case = filing.threat()
    handler = db.get(User, people.handler.user_id)
    sign_in(client, people.handler)
    url = f"/cases/{case.id}"
    html = page(client, url)
    # The type's own fields by their labels and the chosen values' labels, not keys and codes.
    assert "<dt>Kind of threat or violence</dt><dd class=\"text\">Verbal threat</dd>" in html
    assert "<dt>Weapon</dt><dd class=\"text\">None</dd>" in html and "threat_kind" not in html
    assert "<td>Female</td>" in html
    safety_rep = db.get(User, people.safety_rep.user_id)
    assert timeline_rows(html) == [("Case opened", "Received"), ("Assigned to a handler", handler.name),
                                   ("Informed", f"{safety_rep.name}, Safety representative (skyddsombud)")]
    swedish = client.get(url, headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "<dt>Typ av hot/våld</dt><dd class=\"text\">Verbalt hot</dd>" in swedish

    due = (utcnow() + timedelta(days=7)).date()
    post(client, url + "/actions", {"what": "Samtal med eleven", "responsible": people.handler.user_id,
                                    "due_date": due.isoformat()})
    action = db.scalar(select(CaseAction).where(CaseAction.case_id == case.id))
    post(client, url + f"/actions/{action.id}", {"status": "done", "follow_up_note": "Genomfört"})
    post(client, url + "/transition", {"to": "acknowledged"})
    rows_now = timeline_rows(page(client, url))
    assert ("Action added", f"Samtal med eleven – {handler.name}, due {due.isoformat()}") in rows_now
    assert ("Action changed: Samtal med eleven (status)", "Planned → Done") in rows_now
    assert ("State changed", "Received → Acknowledged") in rows_now


def test_a_deadline_step_names_its_obligation_in_the_timeline(client, db, people, filing):
    case = filing.threat()
    obligation = db.scalar(select(Obligation).where(Obligation.case_id == case.id))
    sweep(db, obligation.next_step_at + timedelta(minutes=1))   # the reminder, halfway
    sweep(db, obligation.due_at + timedelta(minutes=1))
    sign_in(client, people.handler)
    steps = [row for row in timeline_rows(page(client, f"/cases/{case.id}")) if row[0].startswith("Deadline step")]
    name = obligation.rule.name_en
    assert steps == [(f"Deadline step: {name}", "Reminder sent"),
                     (f"Deadline step: {name}", "Due: the handler and their manager told")]


def test_a_timeline_entry_of_an_unexpected_shape_is_shown_as_stored(client, db, people, filing):
    # The timeline is history: an entry an older writer made differently must not take the case page down.
    case = filing.threat()
    db.add(TimelineEntry(case_id=case.id, kind="action_added", field="actions[999]", new={"what": "Samtal"}))
    db.add(TimelineEntry(case_id=case.id, kind="milestone_recorded", field="police_report_made", new={"at": "igår"}))
    db.commit()
    sign_in(client, people.handler)
    rows = timeline_rows(page(client, f"/cases/{case.id}"))
    assert ("Action added", "{'what': 'Samtal'}") in rows
    assert ("Milestone recorded: Police report made", "{'at': 'igår'}") in rows
