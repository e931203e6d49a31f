"""Outbox rows (one per recipient: a user, or a webhook) and webhook subscriptions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.orgs.models import User


class Channel(StrEnum):
    EMAIL = "email"        # to a user: shown in the app (read_at) and sent by e-mail (status)
    WEBHOOK = "webhook"


class NotificationKind(StrEnum):
    NEW_CASE = "new_case"
    ASSIGNED = "assigned"
    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    CLOSED = "closed"                      # to the reporter
    ANONYMOUS_MESSAGE = "anonymous_message"
    ALARM = "alarm"                        # raised: to every receiver, never in a digest
    ALARM_ENDED = "alarm_ended"            # "all clear"
    DRILL_REMINDER = "drill_reminder"      # the year's drill is due within 30 days
    DRILL_OVERDUE = "drill_overdue"
    DRILL_ESCALATED = "drill_escalated"


# About a unit (an alarm, a drill due) rather than a case: their payload names no case.
UNIT_KINDS = frozenset({NotificationKind.ALARM, NotificationKind.ALARM_ENDED, NotificationKind.DRILL_REMINDER,
                        NotificationKind.DRILL_OVERDUE, NotificationKind.DRILL_ESCALATED})


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"      # gave up after the maximum attempts; an admin can send it again


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per event and recipient: a duplicate insert is refused, so nothing goes out twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    # Never secret details (pupil names, personal numbers): numbers, type, unit, due time, a link.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    digest: Mapped[bool] = mapped_column(default=False)   # waits for the recipient's daily digest
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship()


class WebhookSubscription(Base):
    """A system that receives JSON POSTs signed with HMAC-SHA256 of the body under its secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
    kinds: Mapped[str] = mapped_column(String(300), default="")   # space-separated; empty = all
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
