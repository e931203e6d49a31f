"""The workflow: every default transition allowed, every other refused (409), the guards, per-type workflows,
who may move a case, and the timeline each move leaves."""
from datetime import date

import pytest
from sqlalchemy import select

from kia.cases.models import ActionStatus, CaseAction, CaseState, Milestone, MilestoneKind
from kia.cases.workflow import DEFAULT_TRANSITIONS, TransitionInput, ensure_default_workflow, next_states, transition
from kia.cases.workflow_models import WorkflowTransition
from kia.db import utcnow
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.incidents.models import IncidentType
from tests.cases.conftest import errors_of, timeline
from tests.conftest import TZ

S = CaseState
ALL_PAIRS = [(a, b) for a in CaseState for b in CaseState if a != b]
CLOSING = dict(closing_summary="Samtal hållet, rutin ses över.", decision="Ärendet avslutas.")


def guard_fields(target: CaseState) -> dict:
    """What a plain (not serious, no planned actions) threat case needs to reach `target`."""
    return CLOSING if target == S.CLOSED else {"rejection_reason": "Felregistrerat."} if target == S.REJECTED else {}


def test_the_default_workflow_is_seeded_once(db):
    rows = db.execute(select(WorkflowTransition.from_state, WorkflowTransition.to_state)
                      .where(WorkflowTransition.incident_type_id.is_(None))).all()
    assert set(rows) == set(DEFAULT_TRANSITIONS) and len(rows) == 12
    assert ensure_default_workflow(db) == 0


@pytest.mark.parametrize("source, target", DEFAULT_TRANSITIONS, ids=lambda s: s.value)
def test_each_default_transition_is_allowed(db, people, filing, source, target):
    case = filing.in_state(filing.threat(), source)
    data = TransitionInput(to=target.value, comment="Nu så.", **guard_fields(target))
    transition(db, people.handler, case.id, data, TZ)
    db.expire_all()
    assert case.state == target
    assert timeline(db, case, "state_changed") == [
        ("state_changed", "state", source.value, target.value, people.handler.user_id, "Nu så.")]


@pytest.mark.parametrize("source, target", [p for p in ALL_PAIRS if p not in DEFAULT_TRANSITIONS],
                         ids=lambda s: s.value)
def test_every_other_transition_is_a_conflict(db, people, filing, source, target):
    case = filing.in_state(filing.threat(), source)
    with pytest.raises(Conflict):
        transition(db, people.handler, case.id, TransitionInput(to=target.value, **guard_fields(target)), TZ)
    db.expire_all()
    assert case.state == source and timeline(db, case, "state_changed") == []


def test_a_type_with_transitions_of_its_own_uses_only_those(db, people, filing):
    threat_type = db.scalar(select(IncidentType).where(IncidentType.code == "threat_violence"))
    db.add(WorkflowTransition(incident_type_id=threat_type.id, from_state=S.RECEIVED, to_state=S.INVESTIGATING))
    db.commit()
    case, fire = filing.threat(), filing.fire()
    assert next_states(db, case) == [S.INVESTIGATING]
    with pytest.raises(Conflict):
        transition(db, people.handler, case.id, TransitionInput(to="acknowledged"), TZ)
    transition(db, people.handler, case.id, TransitionInput(to="investigating"), TZ)
    assert case.state == S.INVESTIGATING
    assert next_states(db, fire) == [S.ACKNOWLEDGED, S.REJECTED]   # other types keep the defaults


def test_an_unknown_state_is_a_field_error(db, people, filing):
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, filing.threat().id, TransitionInput(to="done"), TZ)
    assert list(errors_of(excinfo)) == ["to"]


# ---- guards ---------------------------------------------------------------------------------------

def test_closing_needs_a_summary_and_a_decision(db, people, filing):
    case = filing.in_state(filing.threat(), S.INVESTIGATING)
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, TransitionInput(to="closed", closing_summary="  "), TZ)
    assert set(errors_of(excinfo)) == {"closing_summary", "decision"}
    assert case.state == S.INVESTIGATING


def _action(db, case, people, status: ActionStatus) -> CaseAction:
    action = CaseAction(case=case, what="Se över larmrutinen", responsible_id=people.handler.user_id,
                        due_date=date(2026, 4, 1), status=status, created_by_id=people.handler.user_id)
    db.add(action)
    db.commit()
    return action


def test_closing_with_planned_actions_needs_a_reason(db, people, filing):
    case = filing.in_state(filing.threat(), S.FOLLOW_UP)
    _action(db, case, people, ActionStatus.DONE)
    _action(db, case, people, ActionStatus.PLANNED)
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert list(errors_of(excinfo)) == ["open_actions_reason"]
    transition(db, people.handler, case.id, TransitionInput(to="closed", open_actions_reason="Följs i SAM.",
                                                             **CLOSING), TZ)
    assert case.state == S.CLOSED and case.open_actions_reason == "Följs i SAM."


def test_done_and_cancelled_actions_need_no_reason(db, people, filing):
    case = filing.in_state(filing.threat(), S.FOLLOW_UP)
    _action(db, case, people, ActionStatus.DONE)
    _action(db, case, people, ActionStatus.CANCELLED)
    transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert case.state == S.CLOSED


def _milestone(db, case, kind: MilestoneKind) -> None:
    db.add(Milestone(case=case, kind=kind, at=utcnow()))
    db.commit()


@pytest.mark.parametrize("target", [S.CLOSED, S.REJECTED])
def test_a_victimisation_case_cannot_end_before_the_huvudman_is_notified_and_it_is_investigated(
        db, people, filing, target):
    case = filing.in_state(filing.victimisation()[0], S.INVESTIGATING)
    data = TransitionInput(to=target.value, **guard_fields(target))
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, data, TZ)
    assert set(errors_of(excinfo)) == {"milestones.principal_org_notified", "investigation"}

    _milestone(db, case, MilestoneKind.PRINCIPAL_ORG_NOTIFIED)
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, data, TZ)
    assert set(errors_of(excinfo)) == {"investigation"}

    case.investigation = "Samtal med eleven och vårdnadshavare den 12 mars."
    db.commit()
    transition(db, people.handler, case.id, data, TZ)
    assert case.state == target


def test_other_types_have_no_huvudman_guard(db, people, filing):
    case = filing.in_state(filing.threat(), S.INVESTIGATING)
    transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert case.state == S.CLOSED


def test_a_serious_case_cannot_close_before_it_is_reported_to_arbetsmiljoverket(db, people, filing):
    case = filing.in_state(filing.threat(), S.INVESTIGATING)
    case.serious = True
    db.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert list(errors_of(excinfo)) == ["milestones.reported_to_av"]
    _milestone(db, case, MilestoneKind.REPORTED_TO_AV)
    transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert case.state == S.CLOSED


def test_rejecting_needs_a_reason(db, people, filing):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, TransitionInput(to="rejected"), TZ)
    assert list(errors_of(excinfo)) == ["rejection_reason"]
    transition(db, people.handler, case.id, TransitionInput(to="rejected", rejection_reason="Dubblett av 00041."), TZ)
    assert case.state == S.REJECTED and case.rejection_reason == "Dubblett av 00041."
    assert case.closed_at is None


def test_texts_for_another_target_state_are_refused(db, people, filing):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        transition(db, people.handler, case.id, TransitionInput(to="acknowledged", decision="Avslutas",
                                                                 rejection_reason="Nej"), TZ)
    assert set(errors_of(excinfo)) == {"decision", "rejection_reason"}


# ---- close, reopen, timeline ------------------------------------------------------------------------

def test_closing_records_the_texts_and_reopening_clears_them(db, people, filing):
    case = filing.in_state(filing.threat(), S.INVESTIGATING)
    transition(db, people.handler, case.id, TransitionInput(to="closed", **CLOSING), TZ)
    assert case.closed_at is not None and case.closing_summary == CLOSING["closing_summary"]
    changes = [(f, old, new) for _, f, old, new, _, _ in timeline(db, case, "field_changed")]
    assert changes == [("closing_summary", "", CLOSING["closing_summary"]), ("decision", "", CLOSING["decision"])]

    transition(db, people.handler, case.id, TransitionInput(to="investigating", comment="Ny uppgift."), TZ)
    assert case.state == S.INVESTIGATING and case.closed_at is None
    assert case.closing_summary == "" and case.decision == ""
    changes = [(f, old, new) for _, f, old, new, _, _ in timeline(db, case, "field_changed")][2:]
    assert changes == [("closing_summary", CLOSING["closing_summary"], ""), ("decision", CLOSING["decision"], "")]


# ---- who may move a case ----------------------------------------------------------------------------

def test_out_of_scope_is_not_found(db, people, filing):
    case = filing.threat()
    with pytest.raises(NotFound):
        transition(db, people.other_handler, case.id, TransitionInput(to="acknowledged"), TZ)


def test_a_reader_who_may_not_handle_is_forbidden(db, people, filing):
    threat, victimisation = filing.threat(), filing.victimisation()[0]
    with pytest.raises(Forbidden):
        transition(db, people.safety_rep, threat.id, TransitionInput(to="acknowledged"), TZ)
    with pytest.raises(Forbidden):   # the huvudman follows kränkning cases but the rektor handles them
        transition(db, people.principal_org, victimisation.id, TransitionInput(to="acknowledged"), TZ)
    assert threat.state == victimisation.state == S.RECEIVED


def test_the_safety_officer_handles_non_confidential_cases_but_not_victimisation(db, people, filing):
    threat, victimisation = filing.threat(), filing.victimisation()[0]
    transition(db, people.safety_officer, threat.id, TransitionInput(to="acknowledged"), TZ)
    assert threat.state == S.ACKNOWLEDGED
    with pytest.raises(NotFound):
        transition(db, people.safety_officer, victimisation.id, TransitionInput(to="acknowledged"), TZ)


def test_acknowledging_meets_the_acknowledgement_deadline(db, people, filing):
    case = filing.threat()
    assert case.next_due_at is not None   # acknowledged by the handler within 2 working days
    transition(db, people.handler, case.id, TransitionInput(to="acknowledged"), TZ)
    assert case.next_due_at is None


def test_the_assignee_may_move_a_case_outside_their_roles(db, people, filing, make):
    case = filing.threat()
    delegate = make.actor(("reporter", "S1"))
    case.assignee_id = delegate.user_id
    db.commit()
    transition(db, delegate, case.id, TransitionInput(to="acknowledged"), TZ)
    assert case.state == S.ACKNOWLEDGED
