"""Filing rules at the service level: cases, numbers, times, persons, type fields, nothing half-stored."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from kia.cases.models import Case, CaseState
from kia.errors import ValidationFailed
from kia.incidents.models import Incident, IncidentPerson, RegistrationCounter
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.outbox.models import Notification
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)


def threat(**overrides) -> IncidentInput:
    values = dict(type="threat_violence", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 30),
                  description="Elev hotade läraren.", fields=dict(THREAT_FIELDS),
                  persons=[PersonInput(role="affected", category="staff", gender="female")])
    values.update(overrides)
    return IncidentInput(**values)


def victimisation(pupils: int) -> IncidentInput:
    persons = [PersonInput(role="affected", category="pupil", gender="male", name=f"Elev {i}") for i in range(pupils)]
    persons.append(PersonInput(role="perpetrator", category="pupil", gender="male"))
    return threat(type="victimisation", persons=persons, fields={"classification": "degrading_treatment"})


def errors_of(excinfo) -> dict:
    return {path: [m.text for m in msgs] for path, msgs in excinfo.value.errors.items()}


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def reporter(tree, make):
    return make.actor(("reporter", "S1"))


def test_filing_creates_incident_with_one_received_case(db, reporter):
    incident, created = file_incident(db, reporter, threat(), TZ, now=NOW)
    assert created
    assert incident.number == "UTBF-2026-00001"
    assert [(c.number, c.state) for c in incident.cases] == [("UTBF-2026-00001-1", CaseState.RECEIVED)]
    assert incident.reporter_id == reporter.user_id
    assert incident.reported_at == NOW
    # Local time without offset is Stockholm time (CET in March: UTC+1).
    assert incident.occurred_at == datetime(2026, 3, 10, 8, 30, tzinfo=timezone.utc)
    assert incident.known_at == incident.occurred_at  # default: known when it happened


def test_numbers_run_per_administration_and_year(db, tree, make, reporter):
    preschool_staff = make.actor(("reporter", "F1"))
    first, _ = file_incident(db, reporter, threat(), TZ, now=NOW)
    second, _ = file_incident(db, reporter, threat(), TZ, now=NOW)
    other_admin, _ = file_incident(db, preschool_staff, threat(org_unit="F1"), TZ, now=NOW)
    next_year, _ = file_incident(db, reporter, threat(), TZ, now=datetime(2027, 1, 2, tzinfo=timezone.utc))
    assert [first.number, second.number, other_admin.number, next_year.number] == [
        "UTBF-2026-00001", "UTBF-2026-00002", "HAGALV-2026-00001", "UTBF-2027-00001"]


def test_the_hundred_thousandth_number_has_six_digits(db, tree, reporter):
    db.add(RegistrationCounter(administration_id=tree["UTBF"].id, year=2026, last_number=99_999))
    db.flush()
    incident, _ = file_incident(db, reporter, threat(), TZ, now=NOW)
    assert (incident.number, incident.cases[0].number) == ("UTBF-2026-100000", "UTBF-2026-100000-1")


def test_year_of_the_number_is_the_stockholm_year(db, reporter):
    # 23:30 UTC on New Year's Eve is already 00:30 on 1 January in Stockholm.
    incident, _ = file_incident(db, reporter, threat(), TZ, now=datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    assert incident.number.startswith("UTBF-2027-")


def test_victimisation_gets_one_case_per_affected_pupil(db, reporter):
    incident, _ = file_incident(db, reporter, victimisation(pupils=2), TZ, now=NOW)
    assert len(incident.cases) == 2
    assert [c.number for c in incident.cases] == [f"{incident.number}-1", f"{incident.number}-2"]
    assert {c.subject_person.name for c in incident.cases} == {"Elev 0", "Elev 1"}
    assert all(c.subject_person.role == "affected" for c in incident.cases)


def test_the_numbers_written_and_told_are_the_registration_numbers(db, make, reporter):
    """Written under a provisional number first and numbered last: nothing provisional is left or told."""
    make.user(("handler", "S1"))
    incident, _ = file_incident(db, reporter, victimisation(pupils=2), TZ, now=NOW)
    db.expire_all()
    stored = db.scalars(select(Case.number).where(Case.incident_id == incident.id).order_by(Case.id)).all()
    assert db.scalar(select(Incident.number).where(Incident.id == incident.id)) == "UTBF-2026-00001"
    assert stored == ["UTBF-2026-00001-1", "UTBF-2026-00001-2"]
    told = db.scalars(select(Notification.payload).where(Notification.case_id.in_(
        select(Case.id).where(Case.incident_id == incident.id)))).all()
    assert told and {p["case_number"] for p in told} == set(stored)


def test_victimisation_without_affected_pupil_is_refused_and_nothing_stored(db, reporter):
    before = (count(db, Incident), count(db, Case), count(db, IncidentPerson))
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, victimisation(pupils=0), TZ, now=NOW)
    assert "persons" in errors_of(excinfo)
    assert (count(db, Incident), count(db, Case), count(db, IncidentPerson)) == before


def test_refused_filing_does_not_use_up_a_number(db, reporter):
    with pytest.raises(ValidationFailed):
        file_incident(db, reporter, threat(fields={}), TZ, now=NOW)
    incident, _ = file_incident(db, reporter, threat(), TZ, now=NOW)
    assert incident.number == "UTBF-2026-00001"


@pytest.mark.parametrize("overrides, path", [
    (dict(type="no_such_type"), "type"),
    (dict(org_unit="NOPE"), "org_unit"),
    (dict(occurred_at=NOW + timedelta(hours=1)), "occurred_at"),
    (dict(known_at=datetime(2026, 3, 10, 9, 0)), "known_at"),             # before occurred_at
    (dict(known_at=NOW + timedelta(days=1)), "known_at"),                   # in the future
    (dict(description=" "), "description"),
    (dict(description="x" * 10_001), "description"),
    (dict(fields={**THREAT_FIELDS, "weapon": "bazooka"}), "fields.weapon"),
    (dict(fields={"weapon": "none", "police_report_made": "no"}), "fields.threat_kind"),
    (dict(fields={**THREAT_FIELDS, "colour": "red"}), "fields.colour"),
    (dict(fields={**THREAT_FIELDS, "injured": "yes"}), "fields.injured"),
    (dict(persons=[PersonInput(role="affected", category="pupil", gender="male",
                               personal_number="20121212-1213")]), "persons[0].personal_number"),
    (dict(anonymous=True), "anonymous"),                                    # threat_violence is not anonymous
])
def test_bad_input_names_the_field(db, reporter, overrides, path):
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, threat(**overrides), TZ, now=NOW)
    assert path in errors_of(excinfo)


def test_several_errors_are_reported_together(db, reporter):
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, reporter, threat(org_unit="NOPE", description="", fields={}), TZ, now=NOW)
    assert {"org_unit", "description", "fields.threat_kind", "fields.weapon"} <= set(errors_of(excinfo))


def test_filing_needs_a_role_on_the_unit_or_above(db, tree, make):
    other_school = make.actor(("reporter", "S2"))
    with pytest.raises(ValidationFailed) as excinfo:
        file_incident(db, other_school, threat(), TZ, now=NOW)
    assert "org_unit" in errors_of(excinfo)
    officer = make.actor(("safety_officer", "UTBF"))  # a role on an ancestor covers the subtree
    assert file_incident(db, officer, threat(), TZ, now=NOW)[1]


def test_field_values_are_normalised(db, reporter, make):
    it = make.actor(("reporter", "S1"))
    data = threat(type="data_breach", fields={
        "discovered_at": "2026-03-10T10:00", "data_categories": ["contact", "grades"],
        "people_affected": 28, "breach_kind": "confidentiality"}, persons=[])
    incident, _ = file_incident(db, it, data, TZ, now=NOW)
    assert incident.field_values["discovered_at"] == "2026-03-10T10:00:00+01:00"
    assert incident.field_values["people_affected"] == 28


def test_personal_number_is_stored_normalised(db, reporter):
    data = threat(persons=[PersonInput(role="affected", category="pupil", gender="female",
                                       personal_number="121212-1212")])
    incident, _ = file_incident(db, reporter, data, TZ, now=NOW)
    assert incident.persons[0].personal_number == "20121212-1212"


def test_anonymous_report_keeps_no_reporter(db, reporter):
    data = victimisation(pupils=1)
    data.anonymous = True
    incident, _ = file_incident(db, reporter, data, TZ, idempotency=("k1", "f"), now=NOW)
    assert incident.anonymous and incident.reporter_id is None
    # No idempotency row either: it would tie the report to its reporter.
    from kia.incidents.models import IdempotencyKey
    assert count(db, IdempotencyKey) == 0
