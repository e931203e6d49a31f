"""Changing an event type: what may change, what is refused once reports exist, retiring a field."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from kia.deadlines.admin import set_deadline_rule_active
from kia.deadlines.models import DeadlineRule
from kia.errors import Forbidden, NotFound, ValidationFailed
from kia.incidents.models import Incident, IncidentType
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.incidents.type_changes import change_incident_type, get_incident_type, incident_type_in_use
from kia.incidents.types import create_incident_type
from tests.conftest import TZ

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)
BUS = {"code": "bus_event", "name": {"sv": "Händelse på skolbuss", "en": "School bus event"}, "category": "safety",
       "fields": [
           {"key": "line", "type": "text", "label": {"sv": "Linje", "en": "Line"}, "required": True},
           {"key": "seat", "type": "choice", "label": {"sv": "Plats", "en": "Seat"}, "sensitive": True,
            "choices": [{"value": "front", "sv": "Fram", "en": "Front"}, {"value": "back", "sv": "Bak", "en": "Back"}]},
       ]}


@pytest.fixture
def admin(tree, make):
    return make.actor(("admin", "STHLM"))


@pytest.fixture
def reporter(tree, make):
    return make.actor(("reporter", "S1"))


@pytest.fixture
def bus(db, admin) -> IncidentType:
    return create_incident_type(db, admin, BUS)


def report(type_code="bus_event", **fields) -> IncidentInput:
    return IncidentInput(type=type_code, org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30),
                         description="Något hände på bussen.", fields=fields,
                         persons=[PersonInput(role="affected", category="staff", gender="female")])


def errors_of(excinfo) -> dict:
    return {path: [m.text for m in msgs] for path, msgs in excinfo.value.errors.items()}


def refused(db, admin, changes, code="bus_event") -> dict:
    """The messages (as msgids) by path of a change that must be refused."""
    with pytest.raises(ValidationFailed) as excinfo:
        change_incident_type(db, admin, code, changes)
    return errors_of(excinfo)


@pytest.mark.parametrize("roles", [(("admin", "UTBF"),), (("handler", "STHLM"),), (("reporter", "S1"),)])
def test_only_an_admin_of_the_whole_organisation_reviews_or_changes_a_type(db, make, bus, roles):
    actor = make.actor(*roles)
    with pytest.raises(Forbidden):
        get_incident_type(db, actor, "bus_event")
    with pytest.raises(Forbidden):
        change_incident_type(db, actor, "bus_event", {"active": False})
    db.refresh(bus)
    assert bus.active


def test_an_unknown_type_is_not_found(db, admin):
    with pytest.raises(NotFound):
        get_incident_type(db, admin, "no_such_type")
    with pytest.raises(NotFound):
        change_incident_type(db, admin, "no_such_type", {"active": False})


def test_names_and_help_change_and_a_language_not_given_keeps_its_text(db, admin, bus):
    change_incident_type(db, admin, "bus_event", {"name": {"en": " Event on a school bus "},
                                                  "help": {"sv": "Även på väg till skolan."}})
    db.refresh(bus)
    assert (bus.name_sv, bus.name_en) == ("Händelse på skolbuss", "Event on a school bus")
    assert (bus.help_sv, bus.help_en) == ("Även på väg till skolan.", "")
    assert refused(db, admin, {"name": {"sv": " ", "en": "x" * 121}}) == {
        "name.sv": ["A name is required."], "name.en": ["At most %(n)s characters."]}


def test_a_type_switched_off_cannot_be_reported_but_its_incidents_stay(db, admin, reporter, bus):
    incident, _ = file_incident(db, reporter, report(line="4"), TZ, now=NOW)
    change_incident_type(db, admin, "bus_event", {"active": False})
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, report(line="4"), TZ, now=NOW)
    assert "type" in errors_of(excinfo)
    db.rollback()
    assert db.get(Incident, incident.id).incident_type.code == "bus_event"
    change_incident_type(db, admin, "bus_event", {"active": True, "allows_anonymous": True})
    db.refresh(bus)
    assert bus.active and bus.allows_anonymous
    assert file_incident(db, reporter, report(line="5"), TZ, now=NOW)[1]


def test_flags_must_be_yes_or_no(db, admin, bus):
    assert refused(db, admin, {"active": "no", "fields": [{"key": "line", "required": 1}]}) == {
        "active": ["Give yes or no."], "fields[0].required": ["Give yes or no."]}


@pytest.mark.parametrize("name, value", [("confidential", True), ("case_per_affected_pupil", True),
                                         ("category", "pupil")])
def test_what_decides_access_cases_and_statistics_is_fixed_once_reports_exist(db, admin, reporter, bus, name, value):
    assert not incident_type_in_use(db, bus)
    change_incident_type(db, admin, "bus_event", {name: value})   # no reports yet: a mistake can be put right
    change_incident_type(db, admin, "bus_event", {name: BUS.get(name, False)})
    file_incident(db, reporter, report(line="4"), TZ, now=NOW)
    assert incident_type_in_use(db, bus)
    errors = refused(db, admin, {name: value})
    assert list(errors) == [name] and "once reports" in errors[name][0]
    change_incident_type(db, admin, "bus_event", {name: BUS.get(name, False)})   # the same value is no change


def test_kränkande_behandling_stays_confidential_with_one_case_per_pupil(db, admin, make):
    pupil = PersonInput(role="affected", category="pupil", gender="female")
    file_incident(db, make.actor(("reporter", "S1")), IncidentInput(
        type="victimisation", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30), description="Utfrysning.",
        persons=[pupil], fields={"classification": "degrading_treatment"}), TZ, now=NOW)
    assert set(refused(db, admin, {"confidential": False, "case_per_affected_pupil": False},
                       code="victimisation")) == {"confidential", "case_per_affected_pupil"}


def test_field_labels_and_flags_change(db, admin, bus):
    change_incident_type(db, admin, "bus_event", {"fields": [
        {"key": "line", "label": {"en": "Bus line"}, "required": False, "sensitive": True},
        {"key": "seat", "sensitive": False, "type": "choice"}]})
    db.refresh(bus)
    line, seat = bus.fields
    assert (line.label_sv, line.label_en, line.required, line.sensitive) == ("Linje", "Bus line", False, True)
    assert not seat.sensitive   # no reports yet: nobody has given a value as sensitive


def test_a_sensitive_field_stays_sensitive_once_reports_exist(db, admin, reporter, bus):
    file_incident(db, reporter, report(line="4", seat="back"), TZ, now=NOW)
    errors = refused(db, admin, {"fields": [{"key": "seat", "sensitive": False}]})
    assert list(errors) == ["fields[0].sensitive"]
    change_incident_type(db, admin, "bus_event", {"fields": [{"key": "line", "sensitive": True}]})   # more is fine


def test_key_and_kind_never_change_and_only_the_types_fields_are_named(db, admin, bus):
    assert refused(db, admin, {"fields": [{"key": "line", "type": "number"}, {"key": "colour", "required": True},
                                          {"key": "line", "required": True}]}) == {
        "fields[0].type": ["A field's kind cannot change: stored reports hold values of its kind."],
        "fields[1].key": ["The event type has no field %(key)s (new ones go under new_fields)."],
        "fields[2].key": ["The key is used twice."]}


def test_choices_are_added_and_relabelled_but_never_removed(db, admin, reporter, bus):
    file_incident(db, reporter, report(line="4", seat="back"), TZ, now=NOW)
    seat = {"key": "seat", "choices": [{"value": "front", "sv": "Längst fram", "en": "At the front"},
                                       {"value": "back", "sv": "Bak", "en": "Back"},
                                       {"value": "middle", "sv": "Mitten", "en": "Middle"}]}
    change_incident_type(db, admin, "bus_event", {"fields": [seat]})
    db.refresh(bus)
    assert bus.fields[1].choice_values == ["front", "back", "middle"]
    assert bus.fields[1].choices[0] == {"value": "front", "sv": "Längst fram", "en": "At the front"}
    assert file_incident(db, reporter, report(line="4", seat="middle"), TZ, now=NOW)[1]

    errors = refused(db, admin, {"fields": [{"key": "seat", "choices": seat["choices"][1:]}]})
    assert errors == {"fields[0].choices": ["A choice cannot be removed, since stored reports may hold it: "
                                            "%(values)s."]}
    # A value typed wrong is named where it is, not also as a choice removed.
    wrong = [{"value": "Front", "sv": "Fram", "en": "Front"}, *seat["choices"][1:]]
    assert refused(db, admin, {"fields": [{"key": "seat", "choices": wrong}]}) == {
        "fields[0].choices[0].value": ["A value is lower-case letters, digits and _."]}
    assert refused(db, admin, {"fields": [{"key": "line", "choices": [{"value": "a", "sv": "A", "en": "A"}]}]}) == {
        "fields[0].choices": ["Only a choice field has choices."]}


def test_new_fields_are_added_after_the_others_and_checked_as_when_a_type_is_added(db, admin, reporter, bus):
    assert refused(db, admin, {"new_fields": [
        {"key": "line", "type": "text", "label": {"sv": "Linje", "en": "Line"}},
        {"key": "driver", "type": "colour", "label": {"sv": "", "en": "Driver"}},
        {"key": "stop", "type": "choice", "label": {"sv": "Hållplats", "en": "Stop"}, "choices": []}]}) == {
        "new_fields[0].key": ["The event type has a field with this key already."],
        "new_fields[1].type": ["Unknown field type."], "new_fields[1].label.sv": ["A label is required."],
        "new_fields[2].choices": ["A choice field needs at least one choice."]}
    change_incident_type(db, admin, "bus_event", {"new_fields": [
        {"key": "late", "type": "boolean", "label": {"sv": "Försenad", "en": "Late"}, "required": True}]})
    db.refresh(bus)
    assert [(f.key, f.position) for f in bus.fields] == [("line", 0), ("seat", 1), ("late", 2)]
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, report(line="4"), TZ, now=NOW)
    assert errors_of(excinfo) == {"fields.late": ["This field is required."]}


def test_nothing_changes_when_any_part_is_refused(db, admin, bus):
    refused(db, admin, {"name": {"en": "Renamed"}, "active": False,
                        "fields": [{"key": "line", "label": {"sv": "Ny"}}, {"key": "seat", "type": "text"}],
                        "new_fields": [{"key": "ok", "type": "text", "label": {"sv": "Ok", "en": "Ok"}}]})
    db.expire_all()
    bus = db.scalar(select(IncidentType).where(IncidentType.code == "bus_event"))
    assert (bus.name_en, bus.active, bus.fields[0].label_sv, len(bus.fields)) == ("School bus event", True, "Linje", 2)


def test_a_retired_field_leaves_new_reports_and_its_old_values_stay(db, admin, reporter, bus):
    old, _ = file_incident(db, reporter, report(line="4", seat="back"), TZ, now=NOW)
    change_incident_type(db, admin, "bus_event", {"fields": [{"key": "line", "retired": True}]})
    db.refresh(bus)
    assert [f.key for f in bus.current_fields] == ["seat"] and [f.key for f in bus.fields] == ["line", "seat"]
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, report(line="5"), TZ, now=NOW)
    assert errors_of(excinfo) == {"fields.line": ["This field is no longer in use: leave it out of new reports."]}
    db.rollback()
    new, _ = file_incident(db, reporter, report(seat="front"), TZ, now=NOW)   # no longer required either
    assert new.field_values == {"seat": "front"}
    assert db.get(Incident, old.id).field_values == {"line": "4", "seat": "back"}

    change_incident_type(db, admin, "bus_event", {"fields": [{"key": "line", "retired": False}]})
    db.refresh(bus)
    assert [f.key for f in bus.current_fields] == ["line", "seat"]


def test_a_field_a_deadline_rule_counts_from_is_not_retired(db, admin):
    # IMY's 72 hours count from discovered_at: retired, new breaches would count from when the school knew.
    with pytest.raises(ValidationFailed) as excinfo:
        change_incident_type(db, admin, "data_breach", {"fields": [{"key": "discovered_at", "retired": True}]})
    assert list(excinfo.value.errors) == ["fields[0].retired"]
    assert excinfo.value.errors["fields[0].retired"][0].params == {"rules": "report_to_imy"}


def test_a_rule_switched_off_meanwhile_is_not_switched_on_to_count_from_a_retired_field(db, admin):
    imy = db.scalar(select(DeadlineRule).where(DeadlineRule.code == "report_to_imy"))
    set_deadline_rule_active(db, admin, imy.id, False)
    change_incident_type(db, admin, "data_breach", {"fields": [{"key": "discovered_at", "retired": True}]})
    with pytest.raises(ValidationFailed) as excinfo:
        set_deadline_rule_active(db, admin, imy.id, True)
    assert list(excinfo.value.errors) == ["start_field"]
    db.rollback()
    assert db.get(DeadlineRule, imy.id).active is False
