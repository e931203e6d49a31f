"""Moving a case through its workflow: which transitions a type allows (data), and the guards on closing
and rejecting that keep the legal obligations from being skipped."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.lookup import handled_case
from kia.cases.models import ActionStatus, Case, CaseState, MilestoneKind
from kia.cases.timeline import change_field, record
from kia.cases.workflow_models import WorkflowTransition
from kia.db import utcnow
from kia.deadlines.services import sync_obligations
from kia.errors import N_, Conflict, FieldErrors, Msg
from kia.incidents.models import IncidentType

S = CaseState
DEFAULT_TRANSITIONS: tuple[tuple[CaseState, CaseState], ...] = (
    (S.RECEIVED, S.ACKNOWLEDGED), (S.RECEIVED, S.REJECTED),
    (S.ACKNOWLEDGED, S.INVESTIGATING), (S.ACKNOWLEDGED, S.REJECTED),
    (S.INVESTIGATING, S.ACTIONS), (S.INVESTIGATING, S.FOLLOW_UP), (S.INVESTIGATING, S.CLOSED),
    (S.INVESTIGATING, S.REJECTED),
    (S.ACTIONS, S.FOLLOW_UP),
    (S.FOLLOW_UP, S.ACTIONS), (S.FOLLOW_UP, S.CLOSED),
    (S.CLOSED, S.INVESTIGATING),   # reopen
)
MAX_TEXT_LENGTH = 10_000
# The texts a transition may carry, and the target state each belongs to.
CLOSING_FIELDS = ("closing_summary", "decision", "open_actions_reason")
FIELD_TARGET = {"closing_summary": S.CLOSED, "decision": S.CLOSED, "open_actions_reason": S.CLOSED,
                "rejection_reason": S.REJECTED}


def ensure_default_workflow(session: Session) -> int:
    """Seed the default transitions once. Only when there are none at all: a default an admin removed
    must not come back with the next upgrade."""
    if session.scalar(select(WorkflowTransition.id).where(WorkflowTransition.incident_type_id.is_(None)).limit(1)):
        return 0
    session.add_all(WorkflowTransition(incident_type_id=None, from_state=a, to_state=b)
                    for a, b in DEFAULT_TRANSITIONS)
    session.commit()
    return len(DEFAULT_TRANSITIONS)


def transitions_of(session: Session, incident_type_id: int) -> set[tuple[CaseState, CaseState]]:
    """The type's own transitions if it has any, else the defaults (never a mix of the two)."""
    rows = session.execute(select(WorkflowTransition.incident_type_id, WorkflowTransition.from_state,
                                  WorkflowTransition.to_state)
                           .where(or_(WorkflowTransition.incident_type_id == incident_type_id,
                                      WorkflowTransition.incident_type_id.is_(None)))).all()
    own = {(a, b) for type_id, a, b in rows if type_id is not None}
    return own or {(a, b) for type_id, a, b in rows if type_id is None}


def next_states(session: Session, case: Case) -> list[CaseState]:
    allowed = {b for a, b in transitions_of(session, case.incident_type_id) if a == case.state}
    return [state for state in CaseState if state in allowed]


# ---- guards -------------------------------------------------------------------------------------

def needs_principal_org_notice(incident_type: IncidentType) -> bool:
    """Kränkande behandling (Skollagen 6:10): the rektor must tell the huvudman before the case ends.
    A type that opens one case per affected pupil is shaped by that law, so that flag is the criterion:
    an admin who adds a second kränkning type (say, sexual harassment) gets the guard without code."""
    return incident_type.case_per_affected_pupil


@dataclass
class TransitionInput:
    to: str
    comment: str = ""
    closing_summary: str = ""
    decision: str = ""
    open_actions_reason: str = ""
    rejection_reason: str = ""


def _texts(data: TransitionInput) -> dict[str, str]:
    return {name: getattr(data, name).strip() for name in FIELD_TARGET}


def _check_texts(data: TransitionInput, target: CaseState, errors: FieldErrors) -> dict[str, str]:
    texts = _texts(data)
    for name, text in texts.items():
        if text and FIELD_TARGET[name] != target:
            errors.add(name, N_("Only given when the case moves to %(state)s."), state=FIELD_TARGET[name].value)
        elif len(text) > MAX_TEXT_LENGTH:
            errors.add(name, N_("At most %(n)s characters."), n=MAX_TEXT_LENGTH)
    if len(data.comment) > MAX_TEXT_LENGTH:
        errors.add("comment", N_("At most %(n)s characters."), n=MAX_TEXT_LENGTH)
    return texts


def _check_obligations(case: Case, errors: FieldErrors) -> None:
    """What must have happened before a case may end, closed or rejected."""
    if needs_principal_org_notice(case.incident_type):
        if case.milestone(MilestoneKind.PRINCIPAL_ORG_NOTIFIED) is None:
            errors.add("milestones.principal_org_notified",
                       N_("Record that the principal organiser (huvudman) has been notified first."))
        if not case.investigation.strip():
            errors.add("investigation", N_("Document the investigation first."))


def _check_closing(case: Case, texts: dict[str, str], errors: FieldErrors) -> None:
    if not texts["closing_summary"]:
        errors.add("closing_summary", N_("Summarise the case for the reporter before closing it."))
    if not texts["decision"]:
        errors.add("decision", N_("State the decision before closing the case."))
    if any(a.status == ActionStatus.PLANNED for a in case.actions) and not texts["open_actions_reason"]:
        errors.add("open_actions_reason",
                   N_("Some actions are still planned: explain why the case closes before they are done."))
    if case.serious and case.milestone(MilestoneKind.REPORTED_TO_AV) is None:
        errors.add("milestones.reported_to_av",
                   N_("A serious event must be reported to Arbetsmiljöverket before the case closes."))
    _check_obligations(case, errors)


def _check_rejecting(case: Case, texts: dict[str, str], errors: FieldErrors) -> None:
    if not texts["rejection_reason"]:
        errors.add("rejection_reason", N_("Give the reason the case is rejected."))
    _check_obligations(case, errors)


def transition(session: Session, actor: Actor, case_id: int, data: TransitionInput, tz: ZoneInfo,
               now: datetime | None = None) -> Case:
    """Move the case to `data.to`: 404 out of scope, 403 for a reader, 409 when its workflow does not
    allow the move from the current state, 422 with a message per field when a guard is not met."""
    case = handled_case(session, actor, case_id)
    errors = FieldErrors()
    target = errors.convert("to", CaseState, data.to, N_("Unknown state: %(state)s."), state=data.to)
    errors.raise_if_any()
    if (case.state, target) not in transitions_of(session, case.incident_type_id):
        raise Conflict(Msg(N_("A case that is %(current)s cannot move to %(target)s."),
                           {"current": case.state.value, "target": target.value}))
    texts = _check_texts(data, target, errors)
    if target == S.CLOSED:
        _check_closing(case, texts, errors)
    elif target == S.REJECTED:
        _check_rejecting(case, texts, errors)
    errors.raise_if_any()

    now = now or utcnow()
    record(session, case, actor.user_id, "state_changed", field="state", old=case.state, new=target,
           note=data.comment.strip())
    reopened = case.state == S.CLOSED
    case.state = target
    for name, text in texts.items():
        if FIELD_TARGET[name] == target and text:
            change_field(session, case, actor.user_id, name, text)
    if reopened:
        # The reporter reads the closing summary: a reopened case has none until it closes again
        # (the timeline keeps the old texts).
        for name in CLOSING_FIELDS:
            change_field(session, case, actor.user_id, name, "")
    case.closed_at = now if target == S.CLOSED else None
    sync_obligations(session, case, tz, now)   # acknowledging meets an obligation; ending the case drops them
    session.commit()
    return case
