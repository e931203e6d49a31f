"""What a case change tells whom, queued in the change's own transaction (the outbox delivers it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.cases.models import Case, CaseWatcher
from kia.outbox.models import NotificationKind
from kia.outbox.services import case_payload, queue


def _event(case: Case, what: str, now: datetime) -> str:
    return f"{what}:{case.id}:{int(now.timestamp())}"


def notify_new_case(session: Session, case: Case, now: datetime) -> int:
    """The handler and everyone informed by routing hear of a new case (the case must have its id)."""
    watchers = list(session.scalars(select(CaseWatcher.user_id).where(CaseWatcher.case_id == case.id)))
    recipients = ([case.assignee_id] if case.assignee_id else []) + watchers
    return queue(session, NotificationKind.NEW_CASE, f"new_case:{case.id}", case, recipients,
                 case_payload(case), now)


def notify_assigned(session: Session, case: Case, now: datetime) -> int:
    """The new händelseansvarig hears that the case is theirs."""
    if case.assignee_id is None:
        return 0
    return queue(session, NotificationKind.ASSIGNED, _event(case, f"assigned:u{case.assignee_id}", now), case,
                 [case.assignee_id], case_payload(case), now)


def notify_closed(session: Session, case: Case, now: datetime) -> int:
    """A named reporter hears that their report's case is closed (anonymous ones read it with their code)."""
    reporter_id = case.incident.reporter_id
    if reporter_id is None:
        return 0
    return queue(session, NotificationKind.CLOSED, _event(case, "closed", now), case, [reporter_id],
                 case_payload(case), now)
