"""The notifications page: one's own, newest first, unread marked in text, mark one or all read, the header count."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string

from kia.orgs.models import User
from kia.outbox.models import NotificationKind
from tests.notifications.conftest import file_victimisation, notify
from tests.web.test_handling import EN, post, sign_in


@pytest.fixture
def handler(tree, make):
    return make.actor(("handler", "S1"))


@pytest.fixture
def cases(db, make, handler):
    reporter = make.actor(("reporter", "S2"))   # no handler there: filing itself tells nobody
    cases = [file_victimisation(db, reporter) for _ in range(2)]
    for case in cases:
        notify(db, case, NotificationKind.NEW_CASE, [db.get(User, handler.user_id)])
    return cases


def test_list_newest_first_with_unread_marked_and_links_to_cases(client, handler, cases):
    sign_in(client, handler)
    html = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "2 unread notifications" in html
    links = re.findall(r'<a href="/cases/(\d+)">[^<]*?(UTBF-[\d-]+)', html)   # in the recipient's language
    assert links == [(str(cases[1].id), cases[1].number), (str(cases[0].id), cases[0].number)]
    assert html.count(">Unread</strong>") == 2


def test_mark_one_then_all_read(client, make, handler, cases):
    sign_in(client, handler)
    html = client.get("/notifications", headers=EN).get_data(as_text=True)
    first = re.search(r'action="/notifications/(\d+)/read"', html).group(1)
    assert post(client, f"/notifications/{first}/read", {}).status_code == 302
    html = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "1 unread notification" in html and html.count(">Unread</strong>") == 1

    sign_in(client, make.actor(("handler", "S1")))   # someone else's notification does not exist for them
    assert post(client, f"/notifications/{first}/read", {}).status_code == 404

    sign_in(client, handler)
    assert post(client, "/notifications/read", {}).status_code == 302
    html = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "0 unread notifications" in html and ">Unread</strong>" not in html
    assert client.post("/notifications/read").status_code == 400   # no CSRF token


def test_unread_notifications_global_for_the_header(app, client, handler, cases):
    sign_in(client, handler)
    with client:
        client.get("/notifications")
        assert render_template_string("{{ unread_notifications() }}") == "2"
    with app.test_request_context():
        assert render_template_string("{{ unread_notifications() }}") == "0"   # not signed in
