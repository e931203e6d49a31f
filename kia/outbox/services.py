"""Queue notifications in the caller's transaction: one row per user (shown in the app, sent by e-mail),
one per matching webhook. Each row's dedupe key is unique, so queueing the same event twice adds nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kia.cases.models import Case
from kia.db import bulk_insert
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind, WebhookSubscription
from kia.orgs.models import OrgUnit, User
from kia.reference import reference_data

# Deadline steps cannot wait for a digest; the rest can, for users who chose one.
URGENT = {NotificationKind.REMINDER, NotificationKind.OVERDUE, NotificationKind.ESCALATED,
          NotificationKind.ANONYMOUS_MESSAGE, NotificationKind.ALARM, NotificationKind.ALARM_ENDED,
          NotificationKind.DRILL_REMINDER, NotificationKind.DRILL_OVERDUE, NotificationKind.DRILL_ESCALATED}


def case_payload(case: Case, **extra: Any) -> dict[str, Any]:
    """What a notification may say about a case: never names, personal numbers or free text."""
    return {
        "case_id": case.id, "case_number": case.number, "incident_id": case.incident_id,
        "type": case.incident_type.code,
        "type_name": {"sv": case.incident_type.name_sv, "en": case.incident_type.name_en},
        "unit": case.org_unit.code, "unit_name": case.org_unit.name, "state": str(case.state),
        **extra,
    }


_ACTIVE_USERS = select(User).where(User.id.in_(bindparam("ids", expanding=True)), User.active.is_(True))


@dataclass
class Audience:
    """Recipients' settings and the webhooks, loaded once for many notifications."""

    users: dict[int, User]
    webhooks: list[WebhookSubscription]

    @classmethod
    def load(cls, session: Session, user_ids: Iterable[int]) -> "Audience":
        ids = set(user_ids)
        users = session.scalars(_ACTIVE_USERS, {"ids": list(ids)}).all() if ids else []
        return cls({u.id: u for u in users}, reference_data(session).webhooks)

    def webhooks_for(self, case: Case, kind: NotificationKind) -> list[WebhookSubscription]:
        return self.webhooks_for_unit(case.org_unit, kind)

    def webhooks_for_unit(self, unit: OrgUnit, kind: NotificationKind) -> list[WebhookSubscription]:
        """The webhooks of the unit or a unit above it (or of the whole organisation) that take this kind."""
        if not self.webhooks:
            return []
        ancestors = set(unit.ancestor_ids)
        return [h for h in self.webhooks
                if (h.org_unit_id is None or h.org_unit_id in ancestors)
                and (not h.kinds.split() or str(kind) in h.kinds.split())]


def notification_rows(audience: Audience, kind: NotificationKind, event_key: str, case: Case,
                      user_ids: list[int], payload: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The outbox rows for one event; `event_key` names it (e.g. "escalation:42:due")."""
    common = dict(kind=kind, case_id=case.id, payload=payload, status=DeliveryStatus.PENDING,
                  attempts=0, next_attempt_at=now, created_at=now, last_error="")
    rows = []
    for user in (audience.users[uid] for uid in dict.fromkeys(user_ids) if uid in audience.users):
        rows.append(dict(common, dedupe_key=f"{event_key}:u{user.id}:email", user_id=user.id, webhook_id=None,
                         channel=Channel.EMAIL, language=user.language,
                         digest=user.daily_digest and kind not in URGENT))
    for hook in audience.webhooks_for(case, kind):
        rows.append(dict(common, dedupe_key=f"{event_key}:w{hook.id}", user_id=None, webhook_id=hook.id,
                         channel=Channel.WEBHOOK, language="en", digest=False))
    return rows


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any whose dedupe key exists; returns how many were new."""
    return bulk_insert(session, Notification.__table__, rows, skip_existing=("dedupe_key",))


def queue(session: Session, kind: NotificationKind, event_key: str, case: Case, user_ids: list[int],
          payload: dict[str, Any], now: datetime) -> int:
    """Queue one event for each user (in the app and by e-mail) and for the webhooks covering the case's unit."""
    audience = Audience.load(session, user_ids)
    return insert_rows(session, notification_rows(audience, kind, event_key, case, user_ids, payload, now))
