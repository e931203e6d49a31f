"""Alarm types (data, like event types), alarms with their roll call, chat and checklist ticks, the events pushed to
connected clients, subscriptions of units above, and the yearly drill requirements with their reminders."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import Incident, IncidentType
from kia.orgs.models import OrgUnit, User


class AlarmType(Base):
    __tablename__ = "alarm_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # Shown to every receiver in the banner: what to do now (PDV: "Fly – Sök skydd – Larma" and the 112 prompt).
    instruction_sv: Mapped[str] = mapped_column(Text, default="")
    instruction_en: Mapped[str] = mapped_column(Text, default="")
    may_be_silent: Mapped[bool] = mapped_column(default=False)
    asks_roll_call: Mapped[bool] = mapped_column(default=True)
    # A confirm step before raising: accidental PDV alarms are the field's known failure.
    needs_confirm: Mapped[bool] = mapped_column(default=False)
    # The KIA event type an ended (non-drill) alarm is filed as, and the field values that event starts with.
    event_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"))
    event_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(default=0)   # order of the buttons on the start page
    active: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event_type: Mapped[IncidentType] = relationship(lazy="joined")
    checklist: Mapped[list[AlarmChecklistItem]] = relationship(
        back_populates="alarm_type", order_by="AlarmChecklistItem.position", cascade="all, delete-orphan")

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv

    def instruction(self, language: str) -> str:
        return self.instruction_en if language == "en" else self.instruction_sv


class AlarmChecklistItem(Base):
    """One step of a type's checklist for the responders (e.g. after a fire); retired, never deleted, once used."""

    __tablename__ = "alarm_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_type_id: Mapped[int] = mapped_column(ForeignKey("alarm_types.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text_sv: Mapped[str] = mapped_column(String(300))
    text_en: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)

    alarm_type: Mapped[AlarmType] = relationship(back_populates="checklist")


class Alarm(Base):
    """Never deleted: ended ones are the record of what happened (and a drill's proof that it was held)."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_org_unit_id_ended_at", "org_unit_id", "ended_at"),
        Index("ix_alarms_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_type_id: Mapped[int] = mapped_column(ForeignKey("alarm_types.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    location: Mapped[str] = mapped_column(String(200), default="")   # place/zone
    message: Mapped[str] = mapped_column(String(1000), default="")   # free text from the sender
    silent: Mapped[bool] = mapped_column(default=False)
    drill: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The event an ended non-drill alarm was filed as.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # When its e-mails and webhooks were queued: right after the raise's own commit, so the push to connected clients
    # waits for no outbox rows; an alarm a crash left without them is queued by the scheduler's next dispatch.
    notices_queued_at: Mapped[datetime | None]

    alarm_type: Mapped[AlarmType] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id], lazy="joined")
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    incident: Mapped[Incident | None] = relationship()
    answers: Mapped[list[RollCallAnswer]] = relationship(back_populates="alarm", order_by="RollCallAnswer.id")
    messages: Mapped[list[AlarmMessage]] = relationship(back_populates="alarm", order_by="AlarmMessage.id")
    ticks: Mapped[list[ChecklistTick]] = relationship(back_populates="alarm", order_by="ChecklistTick.id")

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class RollCallStatus(StrEnum):
    SAFE = "safe"
    NEED_HELP = "need_help"
    NOT_ON_SITE = "not_on_site"


class RollCallAnswer(Base):
    """A receiver's latest answer; answering again changes it (the answer's time says when)."""

    __tablename__ = "alarm_roll_calls"
    __table_args__ = (UniqueConstraint("alarm_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[RollCallStatus] = mapped_column(enum_column(RollCallStatus))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    alarm: Mapped[Alarm] = relationship(back_populates="answers")
    user: Mapped[User] = relationship(lazy="joined")


class AlarmMessage(Base):
    """The responders' thread on an alarm: text only, kept."""

    __tablename__ = "alarm_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alarm: Mapped[Alarm] = relationship(back_populates="messages")
    author: Mapped[User] = relationship(lazy="joined")


class ChecklistTick(Base):
    __tablename__ = "alarm_checklist_ticks"
    __table_args__ = (UniqueConstraint("alarm_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("alarm_checklist_items.id"))
    ticked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticked_at: Mapped[datetime] = mapped_column(default=utcnow)

    alarm: Mapped[Alarm] = relationship(back_populates="ticks")
    item: Mapped[AlarmChecklistItem] = relationship(lazy="joined")
    ticked_by: Mapped[User] = relationship(lazy="joined")


class AlarmEvent(Base):
    """What was pushed to connected clients, written in the change's own transaction: its id is the SSE event id, so
    a client that reconnects (Last-Event-ID) after a lost connection or a restart is sent what it missed."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))   # the SSE event name: alarm.raised, alarm.ended, …
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlarmSubscription(Base):
    """A user on a unit above the schools (safety officer, förvaltning) who receives the alarms of its subtree."""

    __tablename__ = "alarm_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class DrillRequirement(Base):
    """A unit must hold a drill of this alarm type every `every_months` (yearly by default)."""

    __tablename__ = "drill_requirements"
    __table_args__ = (UniqueConstraint("org_unit_id", "alarm_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    alarm_type_id: Mapped[int] = mapped_column(ForeignKey("alarm_types.id"))
    every_months: Mapped[int] = mapped_column(default=12)
    # When the first period starts (a unit without any drill yet is due one period after this).
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    alarm_type: Mapped[AlarmType] = relationship(lazy="joined")


class DrillStep(StrEnum):
    REMINDER = "reminder"     # 30 days before the due date: the rektor
    DUE = "due"               # at the due date: the rektor and the rektor's manager
    ESCALATED = "escalated"   # later: the administration's safety officers


class DrillReminder(Base):
    """One step of the ladder for one requirement and due date, taken once: the unique row claims it."""

    __tablename__ = "drill_reminders"
    __table_args__ = (UniqueConstraint("requirement_id", "due_at", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("drill_requirements.id"))
    due_at: Mapped[datetime]
    step: Mapped[DrillStep] = mapped_column(enum_column(DrillStep))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
