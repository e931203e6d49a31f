"""An alarm's deliveries as outbox rows, written in the raising (or ending) transaction: an e-mail to each receiver and
a POST to each webhook of the unit (the city's SMS/push gateway), sent by the dispatcher through the existing
channels (notifications/). Never in a digest. The payload names no person and carries no free text."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kia.alarms.models import Alarm
from kia.outbox.models import Channel, DeliveryStatus, NotificationKind
from kia.outbox.services import Audience, insert_rows
from kia.orgs.models import OrgUnit


def alarm_payload(alarm: Alarm, **extra: Any) -> dict[str, Any]:
    kind = alarm.alarm_type
    return {"alarm_id": alarm.id, "alarm_type": kind.code, "type_name": {"sv": kind.name_sv, "en": kind.name_en},
            "instruction": {"sv": kind.instruction_sv, "en": kind.instruction_en},
            "unit": alarm.org_unit.code, "unit_name": alarm.org_unit.name, "silent": alarm.silent,
            "drill": alarm.drill, "raised_at": alarm.raised_at.isoformat(),
            "ended_at": alarm.ended_at.isoformat() if alarm.ended_at else None, **extra}


def unit_rows(session: Session, kind: NotificationKind, event_key: str, unit: OrgUnit, user_ids: list[int],
              payload: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Rows for an event about a unit rather than a case: each active user by e-mail (and in the app), and the
    webhooks covering the unit that take this kind."""
    audience = Audience.load(session, user_ids)
    common = dict(kind=kind, case_id=None, payload=payload, status=DeliveryStatus.PENDING, attempts=0,
                  next_attempt_at=now, created_at=now, last_error="", digest=False)
    rows = [dict(common, dedupe_key=f"{event_key}:u{user.id}:email", user_id=user.id, webhook_id=None,
                 channel=Channel.EMAIL, language=user.language)
            for user in (audience.users[uid] for uid in dict.fromkeys(user_ids) if uid in audience.users)]
    rows += [dict(common, dedupe_key=f"{event_key}:w{hook.id}", user_id=None, webhook_id=hook.id,
                  channel=Channel.WEBHOOK, language="en") for hook in audience.webhooks_for_unit(unit, kind)]
    return rows


def queue_alarm_notices(session: Session, alarm: Alarm, kind: str, user_ids: list[int], now: datetime) -> int:
    """Queue "alarm" (raised) or "alarm_ended" for the receivers; returns how many rows were new."""
    notification_kind = NotificationKind(kind)
    rows = unit_rows(session, notification_kind, f"{kind}:{alarm.id}", alarm.org_unit, list(user_ids),
                     alarm_payload(alarm), now)
    return insert_rows(session, rows)
