"""Queue notifications in the caller's transaction: one in-app and one e-mail row per recipient, one row
per matching webhook. Each row's dedupe key is unique, so queueing the same event twice adds nothing."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kia.cases.models import Case
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind, WebhookSubscription
from kia.orgs.models import OrgUnit, User

# Deadline steps cannot wait for a digest; the rest can, for users who chose one.
URGENT = {NotificationKind.REMINDER, NotificationKind.OVERDUE, NotificationKind.ESCALATED,
          NotificationKind.ANONYMOUS_MESSAGE}


def case_payload(case: Case, **extra: Any) -> dict[str, Any]:
    """What a notification may say about a case: never names, personal numbers or free text."""
    return {
        "case_id": case.id, "case_number": case.number, "incident_id": case.incident_id,
        "type": case.incident_type.code,
        "type_name": {"sv": case.incident_type.name_sv, "en": case.incident_type.name_en},
        "unit": case.org_unit.code, "unit_name": case.org_unit.name, "state": str(case.state),
        **extra,
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(Notification.__table__).values(rows)
                 .on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(Notification.__table__.c.id))
    # RETURNING counts the rows really added; drivers disagree on rowcount for INSERT … ON CONFLICT.
    return len(session.execute(statement).all())


def queue(session: Session, kind: NotificationKind, event_key: str, case: Case, user_ids: list[int],
          payload: dict[str, Any], now: datetime) -> int:
    """Queue `kind` for each user (in-app + e-mail) and for the webhooks covering the case's unit.
    `event_key` names the event (e.g. "escalation:42:due"); returns how many rows were new."""
    users = session.scalars(select(User).where(User.id.in_(set(user_ids)), User.active.is_(True))).all() \
        if user_ids else []
    common = dict(kind=kind, case_id=case.id, payload=payload, status=DeliveryStatus.PENDING,
                  attempts=0, next_attempt_at=now, created_at=now, last_error="")
    rows = []
    for user in users:
        rows.append(dict(common, dedupe_key=f"{event_key}:u{user.id}:in_app", user_id=user.id,
                         channel=Channel.IN_APP, language=user.language, digest=False))
        rows.append(dict(common, dedupe_key=f"{event_key}:u{user.id}:email", user_id=user.id,
                         channel=Channel.EMAIL, language=user.language,
                         digest=user.daily_digest and kind not in URGENT))
    for hook in _webhooks_for(session, case.org_unit, kind):
        rows.append(dict(common, dedupe_key=f"{event_key}:w{hook.id}", webhook_id=hook.id,
                         channel=Channel.WEBHOOK, language="en", digest=False))
    return _insert_ignoring_duplicates(session, rows)


def _webhooks_for(session: Session, unit: OrgUnit, kind: NotificationKind) -> list[WebhookSubscription]:
    hooks = session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.active.is_(True),
        or_(WebhookSubscription.org_unit_id.is_(None), WebhookSubscription.org_unit_id.in_(unit.ancestor_ids)),
    )).all()
    return [h for h in hooks if not h.kinds.split() or str(kind) in h.kinds.split()]
