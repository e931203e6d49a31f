"""Ids and numbers typed into (or forged in) the web UI's forms and links that no column can hold: a message at the
field or the list without the bad filter, never a 500, on SQLite and PostgreSQL alike. (A path's id is in
tests/test_id_routes.py.)"""
from __future__ import annotations

import pytest

from kia.db import MAX_ID
from tests.api.test_id_range_api import TOO_LARGE, cursor_of
from tests.cases.conftest import filing, people  # noqa: F401 – fixtures
from tests.web.test_handling import EN, post, sign_in

# Past any id, past SQLite's integers, past what Python turns into a number, and a digit int() does not read.
NO_IDS = [str(n) for n in TOO_LARGE] + ["9" * 5000, "²"]


@pytest.mark.parametrize("value", NO_IDS)
def test_a_responsible_or_delegate_no_user_can_be_is_a_message_at_the_select(client, people, filing, value):
    case = filing.threat()
    sign_in(client, people.handler)
    added = post(client, f"/cases/{case.id}/actions",
                 {"what": "Samtal", "responsible": value, "due_date": "2031-01-01"})
    assert added.status_code == 422 and "Choose a person." in added.get_data(as_text=True)
    delegated = post(client, f"/cases/{case.id}/delegate", {"user": value})
    assert delegated.status_code == 422 and "Choose a person." in delegated.get_data(as_text=True)


@pytest.mark.parametrize("value", NO_IDS)
def test_a_person_no_event_has_is_a_message_at_the_persons(client, people, filing, value):
    case = filing.threat()
    sign_in(client, people.handler)
    response = post(client, f"/cases/{case.id}/related-cases",
                    {"type": "fire", "persons": [value], "fields.fire_kind": "fire"})
    assert response.status_code == 422
    assert "The event has no person with this number." in response.get_data(as_text=True)


@pytest.mark.parametrize("value", NO_IDS)
def test_a_cursor_or_filter_no_row_can_have_is_left_out_of_the_list(client, people, filing, value):
    filing.threat()
    sign_in(client, people.handler)
    assert client.get(f"/notifications?cursor={value}", headers=EN).status_code == 200
    sign_in(client, people.admin)
    assert client.get(f"/admin/notifications?cursor={value}", headers=EN).status_code == 200
    log = client.get(f"/admin/access-log?case_id={value}&cursor={value}", headers=EN)
    assert log.status_code == 200 and f'max="{MAX_ID}"' in log.get_data(as_text=True)


@pytest.mark.parametrize("sort, value, last_id", [("due", "2026-03-10T09:00:00+00:00", 2**63), ("number", 2**63, 1),
                                                  ("due", "2026-03-10T09:00:00", 1)])
def test_a_forged_inbox_cursor_is_a_400_page(client, people, filing, sort, value, last_id):
    sign_in(client, people.handler)
    cursor = cursor_of(sort, value, last_id)
    assert client.get(f"/inbox?sort={sort}&cursor={cursor}", headers=EN).status_code == 400


@pytest.mark.parametrize("cursor", [cursor_of("2026-03-10T09:00:00+00:00", 10**40), cursor_of("2026-03-10T09:00", 1)])
def test_a_forged_cursor_of_ones_own_reports_is_a_400_page(client, people, cursor):
    sign_in(client, people.reporter)
    assert client.get(f"/my-reports?cursor={cursor}", headers=EN).status_code == 400


@pytest.mark.parametrize("typed", ["nan", "inf", "-Infinity", "1" + "0" * 400])
def test_a_number_field_takes_a_large_number_but_not_infinity(client, people, typed):
    sign_in(client, people.reporter)
    form = {"type": "fire", "org_unit": "S1", "occurred_at.date": "2026-03-10", "occurred_at.time": "09:30",
            "description": "Det brann i papperskorgen.", "persons-count": "0", "fields.fire_kind": "fire",
            "fields.damage_estimate_sek": typed, "idempotency_key": f"form-{typed[:8]}", "action": "file"}
    response = post(client, "/report", form)
    if typed.startswith("1"):
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 422 and "Must be a number." in response.get_data(as_text=True)
