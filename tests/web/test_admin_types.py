"""Event type admin pages: adding a type with field rows (added and removed without JavaScript), changing one,
messages at the fields with nothing typed lost, and what the report form and case page then show."""
from __future__ import annotations

import html as html_module
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from kia.incidents.models import IncidentType
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from tests.conftest import TZ
from tests.web.test_admin import EN, html, sign_in

TYPE = {"code": "bus_event", "category": "safety", "name.sv": "Händelse på skolbuss", "name.en": "School bus event",
        "help.sv": "", "help.en": "", "active": "on"}
SEAT = {"fields[0].key": "seat", "fields[0].type": "choice", "fields[0].label.sv": "Plats",
        "fields[0].label.en": "Seat", "fields[0].sensitive": "on",
        "fields[0].choices": "front | Fram | Front\n\nback | Bak | Back"}


@pytest.fixture
def token(client, make, tree):
    return sign_in(client, make.user(("admin", "STHLM"), language="en"))


def post(client, url, token, data, action="save"):
    return client.post(url, headers=EN, data={"csrf_token": token, "action": action, **data})


def value_of(body: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', body)
    return html_module.unescape(match.group(1)) if match else None


def textarea(body: str, name: str) -> str | None:
    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', body)
    return html_module.unescape(match.group(1)) if match else None


def bus_type(db) -> IncidentType:
    db.expire_all()
    return db.scalar(select(IncidentType).where(IncidentType.code == "bus_event"))


def add_bus_type(client, token):
    assert post(client, "/admin/types/new", token, {**TYPE, "fields-count": "1", **SEAT}).status_code == 302


def test_the_list_links_each_type_to_its_page(client, token):
    body = html(client.get("/admin/types", headers=EN))
    assert 'href="/admin/types/threat_violence"' in body and 'href="/admin/types/new"' in body


def test_field_rows_are_added_and_removed_without_javascript_and_keep_what_was_typed(client, token):
    body = html(client.get("/admin/types/new", headers=EN))
    assert 'name="fields-count" value="0"' in body and 'name="fields[0].key"' not in body
    assert "<textarea" not in body   # no JSON to type

    added = post(client, "/admin/types/new", token, {**TYPE, "fields-count": "0"}, action="add_field")
    body = html(added)
    assert added.status_code == 200 and 'name="fields-count" value="1"' in body
    assert value_of(body, "code") == "bus_event" and value_of(body, "fields[0].key") == ""
    assert '<select id="fields-0-type" name="fields[0].type"' in body and "Field 1" in body

    two = {**TYPE, "fields-count": "2", **SEAT, "fields[1].key": "late", "fields[1].type": "boolean",
           "fields[1].label.sv": "Försenad", "fields[1].label.en": "Late"}
    body = html(post(client, "/admin/types/new", token, two, action="add_field"))
    assert 'name="fields-count" value="3"' in body and value_of(body, "fields[1].label.sv") == "Försenad"
    assert textarea(body, "fields[0].choices") == "front | Fram | Front\n\nback | Bak | Back"

    body = html(post(client, "/admin/types/new", token, two, action="remove_field-0"))
    assert 'name="fields-count" value="1"' in body
    assert value_of(body, "fields[0].key") == "late" and value_of(body, "fields[0].label.en") == "Late"
    assert 'value="remove_field-0"' in body and 'value="remove_field-1"' not in body


def test_a_type_is_added_with_its_field_rows(client, token, db):
    response = post(client, "/admin/types/new", token, {
        **TYPE, "allows_anonymous": "on", "fields-count": "2", **SEAT, "fields[1].key": "line",
        "fields[1].type": "text", "fields[1].label.sv": "Linje", "fields[1].label.en": "Line",
        "fields[1].required": "on", "fields[1].choices": ""})
    assert response.status_code == 302 and response.location.endswith("/admin/types")
    added = bus_type(db)
    assert added.allows_anonymous and added.active and not added.confidential
    seat, line = added.fields
    assert (seat.key, seat.kind, seat.sensitive, seat.required) == ("seat", "choice", True, False)
    assert seat.choices == [{"value": "front", "sv": "Fram", "en": "Front"}, {"value": "back", "sv": "Bak", "en": "Back"}]
    assert (line.key, line.kind, line.required, line.choices) == ("line", "text", True, [])
    assert "Event type bus_event added." in html(client.get("/admin/types", headers=EN))


def test_errors_are_at_their_fields_and_in_the_summary_and_nothing_typed_is_lost(client, token):
    response = post(client, "/admin/types/new", token, {
        **TYPE, "code": "fire", "name.sv": "", "category": "", "fields-count": "2",
        "fields[0].key": "Seat", "fields[0].type": "choice", "fields[0].label.sv": "Plats", "fields[0].label.en": "",
        "fields[0].choices": "front | Fram | Front\nBack | Bak\n", "fields[1].key": "note", "fields[1].type": "text",
        "fields[1].label.sv": "Not", "fields[1].label.en": "Note", "fields[1].choices": "x | y | z"})
    assert response.status_code == 422
    body = html(response)
    for path in ("code", "name-sv", "category", "fields-0-key", "fields-0-label-en", "fields-0-choices",
                 "fields-1-choices"):
        assert f'id="{path}-error"' in body, path
        assert f'href="#{path}"' in body, path   # the summary links to the input
    assert 'aria-describedby="fields-0-choices-error fields-0-choices-hint"' in body
    assert "Line 2, the value: A value is lower-case letters, digits and _." in body
    assert "Line 2, the English label: A label is required." in body
    assert "Field 1, Label in English: A label is required." in body
    assert "Only a choice field has choices." in body
    assert value_of(body, "fields[0].label.sv") == "Plats" and value_of(body, "name.en") == "School bus event"
    assert textarea(body, "fields[0].choices") == "front | Fram | Front\nBack | Bak"


def test_a_type_is_changed_its_field_retired_a_choice_and_a_field_added(client, token, db, make):
    add_bus_type(client, token)
    page = client.get("/admin/types/bus_event", headers=EN)
    body = html(page)
    assert page.status_code == 200 and body.count("<h1") == 1
    assert value_of(body, "fields[0].key") == "seat" and 'name="fields[0].type"' not in body   # the kind stays
    assert textarea(body, "fields[0].choices") == "front | Fram | Front\nback | Bak | Back"
    assert 'name="confidential"' in body   # no reports yet: still offered

    change = {**TYPE, "name.en": "Event on a school bus", "fields-count": "1", "fields[0].key": "seat",
              "fields[0].label.sv": "Sittplats", "fields[0].label.en": "Seat", "fields[0].retired": "on",
              "fields[0].choices": "front | Fram | Front\nback | Bak | Back\nmiddle | Mitten | Middle",
              "new_fields-count": "0"}
    body = html(post(client, "/admin/types/bus_event", token, change, action="add_field"))
    assert 'name="new_fields-count" value="1"' in body and "New field 1" in body
    assert value_of(body, "name.en") == "Event on a school bus"
    response = post(client, "/admin/types/bus_event", token, {
        **change, "new_fields-count": "1", "new_fields[0].key": "line", "new_fields[0].type": "text",
        "new_fields[0].label.sv": "Linje", "new_fields[0].label.en": "Line"})
    assert response.status_code == 302
    changed = bus_type(db)
    assert changed.name_en == "Event on a school bus"
    seat, line = changed.fields
    assert (seat.label_sv, seat.retired, seat.sensitive) == ("Sittplats", True, False)
    assert seat.choice_values == ["front", "back", "middle"] and line.key == "line"
    listing = html(client.get("/admin/types", headers=EN))
    assert "Event type bus_event saved." in listing and "no (retired)" in listing


def test_once_reports_exist_choices_stay_and_access_settings_are_only_shown(client, token, db, make):
    add_bus_type(client, token)
    file_incident(db, make.actor(("reporter", "S1")), IncidentInput(
        type="bus_event", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30), description="Bråk på bussen.",
        persons=[PersonInput(role="affected", category="staff", gender="male")], fields={"seat": "back"}), TZ)
    body = html(client.get("/admin/types/bus_event", headers=EN))
    assert 'name="confidential"' not in body and 'name="category"' not in body
    assert "Reports of this type exist" in body

    response = post(client, "/admin/types/bus_event", token, {
        **TYPE, "category": "", "fields-count": "1", "fields[0].key": "seat", "fields[0].label.sv": "Plats",
        "fields[0].label.en": "Seat", "fields[0].choices": "front | Fram | Front", "new_fields-count": "0"})
    assert response.status_code == 422
    body = html(response)
    assert 'id="fields-0-choices-error"' in body and "cannot be removed" in body and "back" in body
    assert textarea(body, "fields[0].choices") == "front | Fram | Front"   # as typed
    assert 'id="fields-0-sensitive-error"' in body   # unticked: refused, since values were given as sensitive
    assert bus_type(db).fields[0].sensitive


def test_unknown_types_are_404_and_every_post_needs_the_csrf_token(client, token):
    assert client.get("/admin/types/no_such_type").status_code == 404
    assert post(client, "/admin/types/no_such_type", token, {"fields-count": "0"}).status_code == 404
    assert client.post("/admin/types/fire", data={"active": "on"}).status_code == 400
    assert client.post("/admin/types/new", data={**TYPE, "fields-count": "0"}).status_code == 400


def test_others_may_not_change_types(client, make, tree):
    sign_in(client, make.user(("admin", "UTBF")))
    assert client.get("/admin/types/fire").status_code == 403
    assert client.post("/admin/types/fire", data={"csrf_token": "test-csrf-token"}).status_code == 403


def test_a_retired_field_leaves_the_report_form_and_its_value_stays_on_the_case(client, token, db, make):
    add_bus_type(client, token)
    reporter = make.user(("reporter", "S1"), ("handler", "S1"))
    incident, _ = file_incident(db, make.actor(("reporter", "S1")), IncidentInput(
        type="bus_event", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30), description="Bråk på bussen.",
        persons=[PersonInput(role="affected", category="staff", gender="male")], fields={"seat": "back"}), TZ)
    assert post(client, "/admin/types/bus_event", token, {
        **TYPE, "fields-count": "1", "fields[0].key": "seat", "fields[0].label.sv": "Plats",
        "fields[0].label.en": "Seat", "fields[0].sensitive": "on", "fields[0].retired": "on",
        "fields[0].choices": SEAT["fields[0].choices"], "new_fields-count": "0"}).status_code == 302

    sign_in(client, reporter)
    form = html(client.get("/report?type=bus_event&org_unit=S1", headers=EN))
    assert "About the event" not in form and 'name="fields.seat"' not in form
    case = html(client.get(f"/cases/{incident.cases[0].id}", headers=EN))
    assert "<dt>Seat</dt><dd class=\"text\">Back</dd>" in case   # a retired field still shows, by its label
