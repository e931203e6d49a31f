"""Legal hold: a case under appeal, police investigation or an open request (a registerutdrag, a request for a
public document) is held from gallring by its handlers; nothing of its event is erased while the hold stands."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from kia.access import Actor, legal_hold_visibility
from kia.cases.lookup import handled_case
from kia.cases.models import Case
from kia.cases.timeline import record
from kia.db import utcnow
from kia.errors import N_, Conflict, FieldErrors, Msg
from kia.incidents.models import Incident
from kia.retention.models import HoldReason, LegalHold


def _lock_incident(session: Session, case: Case) -> Incident:
    # Gallring locks the events it erases and reads their holds again under the lock: taking the same lock here
    # first means a hold is either seen by a run or placed after it (and then refused below).
    return session.scalars(select(Incident).where(Incident.id == case.incident_id).with_for_update(of=Incident)
                           .execution_options(populate_existing=True)).one()


def hold_of(session: Session, case: Case) -> LegalHold | None:
    return session.scalar(select(LegalHold).where(LegalHold.case_id == case.id))


def place_hold(session: Session, actor: Actor, case_id: int, reason: str,
               now: datetime | None = None) -> LegalHold:
    """Hold the case (or change the reason of its hold); open or closed, as closed cases are what gallring takes."""
    case = handled_case(session, actor, case_id)
    errors = FieldErrors()
    held_for = errors.member("reason", HoldReason, reason)
    if held_for is None and "reason" not in errors.errors:
        errors.add("reason", N_("Choose why the case is held."))
    errors.raise_if_any()
    if _lock_incident(session, case).anonymised_at is not None:
        raise Conflict(Msg(N_("The personal data of this case has already been erased (gallrad).")))
    hold = hold_of(session, case)
    if hold is None:
        hold = LegalHold(case_id=case.id, reason=held_for, held_by_id=actor.user_id, held_at=now or utcnow())
        session.add(hold)
        record(session, case, actor.user_id, "legal_hold_placed", field="legal_hold", new=held_for)
    elif hold.reason != held_for:
        record(session, case, actor.user_id, "legal_hold_placed", field="legal_hold", old=hold.reason, new=held_for)
        hold.reason, hold.held_by_id, hold.held_at = held_for, actor.user_id, now or utcnow()
    session.commit()
    return hold


def lift_hold(session: Session, actor: Actor, case_id: int) -> None:
    """Lift the case's hold, if it has one: gallring takes its event again when its time has run out."""
    case = handled_case(session, actor, case_id)
    hold = hold_of(session, case)
    if hold is not None:
        record(session, case, actor.user_id, "legal_hold_lifted", field="legal_hold", old=hold.reason)
        session.delete(hold)
    session.commit()


def list_legal_holds(session: Session, actor: Actor, limit: int = 1000) -> list[LegalHold]:
    """The holds standing on cases in the admin's subtree, the oldest first: what gallring will not take."""
    return list(session.scalars(
        select(LegalHold).join(Case, Case.id == LegalHold.case_id).where(legal_hold_visibility(actor))
        .options(contains_eager(LegalHold.case).joinedload(Case.org_unit), joinedload(LegalHold.held_by))
        .order_by(LegalHold.held_at, LegalHold.id).limit(limit)))
