"""One event, many cases: related cases of another type (numbered on, validated, routed) and manual links."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kia.cases.models import CaseLink, CaseWatcher, MilestoneKind
from kia.cases.related import (
    RelatedCaseInput, add_related_case, link_case_by_number, link_cases, related_case_form, related_case_types,
    unlink_cases,
)
from kia.access import cases_shown_with
from kia.cases.services import NAMES_ANOTHER_CASE, read_timeline, related_cases
from kia.deadlines.models import Obligation
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.outbox.models import Notification, NotificationKind
from kia.incidents.services import PersonInput
from tests.cases.conftest import errors_of, timeline
from tests.conftest import TZ

INJURY = {"injury_kind": "bruise", "body_part": "arm_hand"}
PUPIL = PersonInput(role="affected", category="pupil", gender="male", name="Elev Ett")


def test_a_pupil_injury_from_a_threat_event_continues_the_numbering(db, filing, people):
    threat = filing.threat()
    injury = add_related_case(db, people.handler, threat.id,
                              RelatedCaseInput(type="pupil_injury", persons=[PUPIL], fields=INJURY), TZ)
    victimisation = add_related_case(db, people.handler, threat.id, RelatedCaseInput(
        type="victimisation", persons=[1], fields={"classification": "harassment"}), TZ)
    number = threat.incident.number
    assert [threat.number, injury.number, victimisation.number] == [f"{number}-1", f"{number}-2", f"{number}-3"]
    assert injury.incident_id == threat.incident_id and injury.field_values == INJURY
    assert [p.name for p in threat.incident.persons] == ["Anna Lärare", "Elev Ett"]
    assert victimisation.subject_person.name == "Elev Ett"
    assert timeline(db, threat, "related_case_added") == [
        ("related_case_added", "related_cases", None, injury.number, people.handler.user_id, ""),
        ("related_case_added", "related_cases", None, victimisation.number, people.handler.user_id, "")]
    kinds = [k for k, *_ in timeline(db, injury)]
    assert kinds[0] == "case_created" and "created_from" in kinds and "assigned" in kinds


def test_a_related_case_is_routed_by_its_own_type(db, filing, people):
    fire = filing.fire()
    threat = add_related_case(db, people.handler, fire.id, RelatedCaseInput(
        type="threat_violence", fields={"threat_kind": "verbal_threat", "weapon": "none",
                                        "police_report_made": "no"}), TZ)
    assert threat.assignee_id == people.handler.user_id
    informed = db.scalars(select(CaseWatcher.user_id).where(CaseWatcher.case_id == threat.id)).all()
    assert informed == [people.safety_rep.user_id]   # a work-environment case; the fire case informs nobody
    assert timeline(db, threat, "assigned")
    # Opened like a filed case: the handler told by KIA, and its deadlines running.
    assert threat.milestone(MilestoneKind.PRINCIPAL_NOTIFIED) is not None
    assert db.scalars(select(Obligation).where(Obligation.case_id == threat.id)).all()
    assert threat.next_due_at is not None
    told = db.scalars(select(Notification.user_id).where(Notification.kind == NotificationKind.NEW_CASE,
                                                         Notification.case_id == threat.id)).all()
    assert set(told) == {people.handler.user_id, people.safety_rep.user_id}


def test_the_new_types_fields_and_rules_are_checked(db, filing, people):
    threat = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        add_related_case(db, people.handler, threat.id, RelatedCaseInput(
            type="pupil_injury", persons=[7, PersonInput(role="affected", category="pupil", gender="male",
                                                         personal_number="20121212-1213")],
            fields={"injury_kind": "bruise", "colour": "blue"}), TZ)
    assert set(errors_of(excinfo)) == {"persons[0]", "persons[1].personal_number", "fields.body_part",
                                       "fields.colour"}
    with pytest.raises(ValidationFailed) as excinfo:   # kränkning: exactly one affected pupil
        add_related_case(db, people.handler, threat.id, RelatedCaseInput(
            type="victimisation", persons=[0], fields={"classification": "harassment"}), TZ)
    assert list(errors_of(excinfo)) == ["persons"]
    with pytest.raises(ValidationFailed) as excinfo:
        add_related_case(db, people.handler, threat.id, RelatedCaseInput(type="nope"), TZ)
    assert list(errors_of(excinfo)) == ["type"]
    assert len(threat.incident.cases) == 1 and len(threat.incident.persons) == 1   # nothing half-stored


def test_one_case_per_type_and_per_pupil(db, filing, people):
    threat = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        add_related_case(db, people.handler, threat.id, RelatedCaseInput(
            type="threat_violence", fields={"threat_kind": "verbal_threat", "weapon": "none",
                                            "police_report_made": "no"}), TZ)
    assert list(errors_of(excinfo)) == ["type"]
    first = filing.victimisation(pupils=1)[0]
    with pytest.raises(ValidationFailed):
        add_related_case(db, people.handler, first.id, RelatedCaseInput(
            type="victimisation", persons=[0], fields={"classification": "harassment"}), TZ)
    second_pupil = add_related_case(db, people.handler, first.id, RelatedCaseInput(
        type="victimisation", persons=[PUPIL], fields={"classification": "harassment"}), TZ)
    assert second_pupil.subject_person.name == "Elev Ett"


def test_who_may_add_a_related_case(db, filing, people):
    threat = filing.threat()
    with pytest.raises(Forbidden):
        add_related_case(db, people.safety_rep, threat.id, RelatedCaseInput(type="pupil_injury"), TZ)
    with pytest.raises(NotFound):
        add_related_case(db, people.other_handler, threat.id, RelatedCaseInput(type="pupil_injury"), TZ)
    with pytest.raises(Forbidden):   # may handle the threat case, but a kränkning case is the rektor's
        add_related_case(db, people.safety_officer, threat.id, RelatedCaseInput(
            type="victimisation", persons=[PUPIL], fields={"classification": "harassment"}), TZ)


# ---- links and what a case shows beside it ------------------------------------------------------

def test_cases_of_one_incident_and_linked_cases_show_each_other(db, filing, people):
    threat = filing.threat()
    injury = add_related_case(db, people.handler, threat.id,
                              RelatedCaseInput(type="pupil_injury", persons=[PUPIL], fields=INJURY), TZ)
    fire = filing.fire()
    assert link_cases(db, people.handler, fire.id, threat.id) == threat
    assert [(r.case, r.relation) for r in related_cases(db, people.handler, threat)] == [
        (injury, "same_incident"), (fire, "linked")]
    assert [(r.case, r.relation) for r in related_cases(db, people.handler, fire)] == [(threat, "linked")]
    link = db.scalar(select(CaseLink))
    assert (link.case_id, link.linked_case_id) == (threat.id, fire.id)   # stored as an ordered pair
    assert timeline(db, threat, "linked")[0][3] == fire.number
    assert timeline(db, fire, "linked")[0][3] == threat.number


def test_related_cases_are_limited_to_what_the_reader_may_see(db, filing, people):
    threat = filing.threat()
    secret = add_related_case(db, people.handler, threat.id, RelatedCaseInput(
        type="victimisation", persons=[PUPIL], fields={"classification": "harassment"}), TZ)
    assert [r.case for r in related_cases(db, people.handler, threat)] == [secret]
    assert related_cases(db, people.safety_rep, threat) == []   # never a kränkning case


def test_the_timeline_and_the_incident_name_only_cases_the_reader_may_read(db, filing, people):
    threat, fire = filing.threat(), filing.fire()
    secret = add_related_case(db, people.handler, threat.id, RelatedCaseInput(
        type="victimisation", persons=[PUPIL], fields={"classification": "harassment"}), TZ)
    link_cases(db, people.handler, threat.id, fire.id)

    def named(actor):
        return [(e.field, e.new) for e in read_timeline(db, actor, threat.id)[1] if e.field in NAMES_ANOTHER_CASE]

    assert named(people.handler) == [("related_cases", secret.number), ("links", fire.number)]
    assert named(people.safety_officer) == [("links", fire.number)]      # no kränkning case
    assert named(people.safety_rep) == []                                # work environment only
    assert [c.number for c in cases_shown_with(people.handler, threat.incident)] == [threat.number, secret.number]
    for reader in (people.reporter, people.safety_rep, people.safety_officer):
        assert [c.number for c in cases_shown_with(reader, threat.incident)] == [threat.number]


def test_links_need_both_cases_visible(db, filing, people, make):
    threat = filing.threat()
    fire = filing.fire()
    other_school = filing.file("fire", {"fire_kind": "fire"}, [], org_unit="S2",
                               reporter=make.actor(("reporter", "S2")))[0]
    with pytest.raises(NotFound):
        link_cases(db, people.handler, threat.id, other_school.id)
    with pytest.raises(NotFound):
        link_cases(db, people.other_handler, other_school.id, threat.id)
    with pytest.raises(Forbidden):
        link_cases(db, people.safety_rep, threat.id, fire.id)


def test_link_rules_and_unlinking(db, filing, people):
    threat, fire = filing.threat(), filing.fire()
    with pytest.raises(ValidationFailed):
        link_cases(db, people.handler, threat.id, threat.id)
    link_cases(db, people.handler, threat.id, fire.id)
    with pytest.raises(Conflict):
        link_cases(db, people.handler, fire.id, threat.id)
    unlink_cases(db, people.handler, fire.id, threat.id)
    assert related_cases(db, people.handler, threat) == []
    assert timeline(db, threat, "unlinked")[0][2] == fire.number
    with pytest.raises(NotFound):
        unlink_cases(db, people.handler, fire.id, threat.id)


def test_cases_of_one_incident_are_not_linked_by_hand(db, filing, people):
    first, second = filing.victimisation(pupils=2)
    with pytest.raises(ValidationFailed):
        link_cases(db, people.handler, first.id, second.id)


# ---- for the case page: a link by the case's number, the types on offer ---------------------------

def test_a_link_by_number_never_tells_an_unknown_case_from_one_out_of_sight(db, filing, people, make):
    threat, fire = filing.threat(), filing.fire()
    other_school = filing.file("fire", {"fire_kind": "fire"}, [], org_unit="S2",
                               reporter=make.actor(("reporter", "S2")))[0]
    for number in (other_school.number, "UTBF-2026-99999-1", ""):
        with pytest.raises(ValidationFailed) as excinfo:
            link_case_by_number(db, people.handler, threat.id, number)
        assert list(errors_of(excinfo)) == ["case"]
    assert link_case_by_number(db, people.handler, threat.id, f" {fire.number.lower()} ") == fire
    assert timeline(db, fire, "linked")[0][3] == threat.number
    with pytest.raises(Forbidden):   # a reader of the case: before any number is looked up
        link_case_by_number(db, people.safety_rep, threat.id, "UTBF-2026-99999-1")


def test_the_types_on_offer_for_a_related_case(db, filing, people):
    threat = filing.threat()
    offered = {t.code for t in related_case_types(db, people.handler, threat)}
    assert "threat_violence" not in offered and {"pupil_injury", "victimisation"} <= offered
    # A säkerhetssamordnare handles the threat case, but never a kränkning case.
    by_officer = {t.code for t in related_case_types(db, people.safety_officer, threat)}
    assert "pupil_injury" in by_officer and "victimisation" not in by_officer
    with pytest.raises(Forbidden):
        related_case_form(db, people.safety_rep, threat.id)
    case, types = related_case_form(db, people.handler, threat.id)
    assert case == threat and {t.code for t in types} == offered
