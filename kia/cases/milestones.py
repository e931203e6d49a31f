"""Documenting the investigation: milestones (who was told, what was reported, when) and the investigation text."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.lookup import handled_case, open_handled_case
from kia.cases.models import Case, Milestone, MilestoneKind
from kia.cases.timeline import change_field, record
from kia.db import utcnow
from kia.deadlines.services import sync_obligations
from kia.errors import N_, Conflict, FieldErrors, Msg
from kia.incidents.services import CLOCK_SKEW

MAX_REFERENCE_LENGTH = 200
# An investigation report is longer than the other case texts.
MAX_INVESTIGATION_LENGTH = 50_000


@dataclass
class MilestoneInput:
    kind: str
    at: datetime | None = None         # default now; without an offset: local time
    reference: str = ""                # K-number, Arbetsmiljöverket's case number, …


def _already_recorded(kind: MilestoneKind) -> Conflict:
    return Conflict(Msg(N_("The milestone %(kind)s is already recorded on this case."), {"kind": kind.value}))


def record_milestone(session: Session, actor: Actor, case_id: int, data: MilestoneInput, tz: ZoneInfo,
                     now: datetime | None = None) -> Milestone:
    """Record that something happened, once per kind and case (409 for a second time). It may be
    recorded after the fact, also on a closed case, but never in the future or before the event."""
    now = now or utcnow()
    case = handled_case(session, actor, case_id)
    errors = FieldErrors()
    kind = errors.convert("kind", MilestoneKind, data.kind, N_("Unknown milestone: %(kind)s."), kind=data.kind)
    errors.raise_if_any()
    at = now if data.at is None else data.at if data.at.tzinfo else data.at.replace(tzinfo=tz)
    if at > now + CLOCK_SKEW:
        errors.add("at", N_("This time cannot be in the future."))
    elif at < case.incident.occurred_at:
        errors.add("at", N_("This cannot have happened before the event itself."))
    reference = data.reference.strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        errors.add("reference", N_("At most %(n)s characters."), n=MAX_REFERENCE_LENGTH)
    errors.raise_if_any()
    if case.milestone(kind) is not None:
        raise _already_recorded(kind)

    milestone = Milestone(case=case, kind=kind, at=at, reference=reference, recorded_by_id=actor.user_id,
                          recorded_at=now)
    session.add(milestone)
    record(session, case, actor.user_id, "milestone_recorded", field=kind.value,
           new={"at": at.isoformat(), "reference": reference})
    sync_obligations(session, case, tz, now)   # the milestone may meet an obligation or start one
    try:
        session.commit()
    except IntegrityError:
        # The case row is locked while we check, so only a concurrent writer without the lock gets here.
        session.rollback()
        raise _already_recorded(kind) from None
    return milestone


def update_case(session: Session, actor: Actor, case_id: int, investigation: str) -> Case:
    """Write the investigation text (old → new in the timeline). A closed or rejected case is the
    documented record: reopen it to change it."""
    case = open_handled_case(session, actor, case_id)
    if len(investigation) > MAX_INVESTIGATION_LENGTH:
        errors = FieldErrors()
        errors.add("investigation", N_("At most %(n)s characters."), n=MAX_INVESTIGATION_LENGTH)
        errors.raise_if_any()
    change_field(session, case, actor.user_id, "investigation", investigation.strip())
    session.commit()
    return case
