"""What a case change tells whom, queued in the change's own transaction (the outbox delivers it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kia.cases.models import Case
from kia.outbox.models import NotificationKind
from kia.outbox.services import Audience, case_payload, insert_rows, notification_rows, queue


def _event(case: Case, what: str, now: datetime) -> str:
    return f"{what}:{case.id}:{int(now.timestamp())}"


@dataclass
class NewCaseNotices:
    """The handler and everyone informed by routing hear of new cases (flushed: they have their ids).
    Who they are and their settings are read first; the rows are made at `queue`, so a filing can read
    before taking its registration number and write the notices, numbers in them, right after."""

    cases: list[Case]
    recipients: dict[int, list[int]]   # case id → user ids, the handler first
    audience: Audience

    @classmethod
    def load(cls, session: Session, routed: list[tuple[Case, list[int]]], also: int | None = None
             ) -> "NewCaseNotices":
        """`routed`: each new case with the ids routing informed of it (kia.routing.route_case). The user `also`
        (a filing's reporter) is read with the recipients (if active), and hears nothing for it."""
        recipients = {case.id: ([case.assignee_id] if case.assignee_id else []) + informed
                      for case, informed in routed}
        users = {u for ids in recipients.values() for u in ids} | ({also} if also is not None else set())
        return cls([case for case, _ in routed], recipients, Audience.load(session, users))

    def queue(self, session: Session, now: datetime) -> int:
        return insert_rows(session, [
            row for case in self.cases
            for row in notification_rows(self.audience, NotificationKind.NEW_CASE, f"new_case:{case.id}", case,
                                         self.recipients[case.id], case_payload(case), now)])


def notify_new_case(session: Session, case: Case, informed: list[int], now: datetime) -> int:
    """The handler and those routing informed hear of a new case (the case must have its id)."""
    return NewCaseNotices.load(session, [(case, informed)]).queue(session, now)


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
