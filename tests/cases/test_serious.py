"""The serious-event check (AML 3:3a): which types it applies to, what a positive answer does, and that the
mark is lifted only with a reason."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from kia.cases.milestones import MilestoneInput, record_milestone
from kia.cases.models import CaseState, CaseWatcher
from kia.cases.serious import check_applies, check_serious
from kia.cases.workflow import TransitionInput, transition
from kia.errors import Conflict, Forbidden, ValidationFailed
from kia.incidents.models import IncidentType
from tests.cases.conftest import errors_of, timeline
from tests.conftest import TZ

NO = {"death": False, "serious_injury": [], "several_hurt": False, "serious_near_miss": False, "serious_threat": []}


def answers(**yes) -> dict:
    return {**NO, **yes}


def watchers(db, case) -> set[tuple[int, str]]:
    return set(db.execute(select(CaseWatcher.user_id, CaseWatcher.reason).where(CaseWatcher.case_id == case.id)))


def test_it_applies_to_work_environment_types_and_to_pupil_injuries_but_not_to_kränkning_or_fire(db):
    applies = {t.code for t in db.scalars(select(IncidentType)) if check_applies(t)}
    assert applies == {"threat_violence", "accident", "near_miss", "serious_near_miss", "risk_observation",
                       "commuting_accident", "occupational_illness", "pupil_injury"}


def test_a_positive_answer_marks_the_case_serious_and_informs_the_safety_officer(db, people, filing):
    case = filing.threat()
    check_serious(db, people.handler, case.id, answers(serious_threat=["knife"]), tz=TZ)
    assert case.serious
    assert case.serious_checklist == answers(serious_threat=["knife"])
    assert (people.safety_officer.user_id, "safety_officer") in watchers(db, case)
    fields = [(f, old, new) for _, f, old, new, _, _ in timeline(db, case, "field_changed")]
    assert fields == [("serious_checklist", {}, answers(serious_threat=["knife"])), ("serious", False, True)]


def test_all_no_leaves_the_case_as_it_was_and_keeps_the_answers(db, people, filing):
    case = filing.pupil_injury()
    check_serious(db, people.handler, case.id, dict(NO), tz=TZ)
    assert not case.serious and case.serious_checklist == NO
    assert people.safety_officer.user_id not in {uid for uid, _ in watchers(db, case)}


def test_answers_can_be_corrected_but_the_mark_is_lifted_only_with_a_reason(db, people, filing):
    case = filing.pupil_injury()
    check_serious(db, people.handler, case.id, answers(serious_injury=["fracture"]), tz=TZ)
    check_serious(db, people.handler, case.id, answers(serious_injury=["burn", "fracture"]), tz=TZ)
    assert case.serious and case.serious_checklist["serious_injury"] == ["fracture", "burn"]
    with pytest.raises(ValidationFailed) as excinfo:
        check_serious(db, people.handler, case.id, dict(NO), tz=TZ)
    assert list(errors_of(excinfo)) == ["clear_reason"]
    assert case.serious

    check_serious(db, people.handler, case.id, dict(NO), clear_reason="Röntgen visade ingen fraktur.", tz=TZ)
    assert not case.serious and case.serious_checklist == NO
    assert timeline(db, case, "field_changed")[-1] == (
        "field_changed", "serious", True, False, people.handler.user_id, "Röntgen visade ingen fraktur.")


def test_a_clear_reason_without_a_mark_to_lift_is_refused(db, people, filing):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        check_serious(db, people.handler, case.id, answers(death=True), clear_reason="?", tz=TZ)
    assert list(errors_of(excinfo)) == ["clear_reason"]


@pytest.mark.parametrize("given, paths", [
    ({}, {f"answers.{q}" for q in NO}),
    (answers(death="yes"), {"answers.death"}),
    (answers(serious_injury=["fracture", "papercut"]), {"answers.serious_injury"}),
    (answers(serious_threat=True), {"answers.serious_threat"}),
    ({**NO, "flood": True}, {"answers.flood"}),
])
def test_incomplete_or_unknown_answers_are_field_errors(db, people, filing, given, paths):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        check_serious(db, people.handler, case.id, given, tz=TZ)
    assert set(errors_of(excinfo)) == paths
    assert not case.serious and case.serious_checklist == {}


def test_types_it_does_not_apply_to_are_a_conflict(db, people, filing):
    with pytest.raises(Conflict):
        check_serious(db, people.handler, filing.fire().id, answers(death=True), tz=TZ)
    with pytest.raises(Conflict):
        check_serious(db, people.handler, filing.victimisation()[0].id, answers(death=True), tz=TZ)


def test_a_closed_case_is_not_checked_and_readers_may_not_check(db, people, filing):
    closed = filing.in_state(filing.threat(), CaseState.CLOSED)
    with pytest.raises(Conflict):
        check_serious(db, people.handler, closed.id, answers(death=True), tz=TZ)
    with pytest.raises(Forbidden):
        check_serious(db, people.safety_rep, filing.threat().id, answers(death=True), tz=TZ)
    assert not closed.serious


def test_marking_serious_brings_the_report_to_arbetsmiljoverket_due_and_recording_it_meets_it(db, people, filing):
    case = filing.threat()
    transition(db, people.handler, case.id, TransitionInput(to="acknowledged"), TZ)
    assert case.next_due_at is None
    check_serious(db, people.handler, case.id, answers(several_hurt=True), tz=TZ)
    assert case.next_due_at == case.incident.known_at + timedelta(hours=24)   # AML 3:3a: within a day
    record_milestone(db, people.handler, case.id, MilestoneInput(kind="reported_to_av"), TZ)
    assert case.next_due_at is None
