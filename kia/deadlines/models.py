"""Deadline rules (data an admin changes), the obligations they give each case, and escalation steps."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.cases.models import Case, CaseAction, CaseState, MilestoneKind
from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import Category, IncidentType
from kia.orgs.models import User


class DeadlineStart(StrEnum):
    OCCURRED_AT = "occurred_at"
    KNOWN_AT = "known_at"          # when the school learned of it
    REPORTED_AT = "reported_at"
    FIELD = "field"                # a datetime field of the type, e.g. data_breach.discovered_at
    MILESTONE = "milestone"        # e.g. from investigation started


class ObligationStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"        # the rule was disabled or no longer applies, or the case ended


class EscalationStep(StrEnum):
    REMINDER = "reminder"          # to the handler, before the due time
    DUE = "due"                    # at the due time, to the handler and the handler's manager
    ESCALATED = "escalated"        # after a grace period, to the safety officers (and huvudman)


class DeadlineRule(Base):
    __tablename__ = "deadline_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Applies when every given condition holds; None means any.
    incident_type_id: Mapped[int | None] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"))
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    only_serious: Mapped[bool] = mapped_column(default=False)
    start: Mapped[DeadlineStart] = mapped_column(enum_column(DeadlineStart))
    start_field: Mapped[str | None] = mapped_column(String(40))
    start_milestone: Mapped[MilestoneKind | None] = mapped_column(enum_column(MilestoneKind, name="start_milestone"))
    # Exactly one of: hours after the start, or the end of the n-th Swedish working day (0 = the same day).
    due_hours: Mapped[int | None]
    due_working_days: Mapped[int | None]
    met_by_milestone: Mapped[MilestoneKind | None] = mapped_column(enum_column(MilestoneKind, name="met_by_milestone"))
    met_by_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="met_by_state"))
    # The third step of the ladder comes this long after the due time.
    escalate_after_hours: Mapped[int] = mapped_column(default=24)
    active: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    # Set when an admin changes the rule; the scheduler's next sweep recomputes the open cases.
    needs_resync: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The admin who last added or changed the rule, and when; None for the defaults the system seeded.
    # updated_at moves with the scheduler's resync too: these say who moved a legal deadline.
    changed_at: Mapped[datetime | None]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident_type: Mapped[IncidentType | None] = relationship()
    changed_by: Mapped[User | None] = relationship()


class Obligation(Base):
    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_id"),
        UniqueConstraint("action_id"),
        Index("ix_obligations_status_due_at", "status", "due_at"),
        Index("ix_obligations_status_next_step_at", "status", "next_step_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("deadline_rules.id", ondelete="CASCADE"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("case_actions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]     # the rule's starting point; the reminder comes halfway to due_at
    due_at: Mapped[datetime]
    status: Mapped[ObligationStatus] = mapped_column(enum_column(ObligationStatus), default=ObligationStatus.OPEN)
    met_at: Mapped[datetime | None]
    # The ladder's next step not yet taken and when it is due; the sweep reads only these.
    next_step: Mapped[EscalationStep | None] = mapped_column(enum_column(EscalationStep))
    next_step_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    rule: Mapped[DeadlineRule | None] = relationship()
    action: Mapped[CaseAction | None] = relationship()


class Escalation(Base):
    """One step of the ladder taken for one obligation; the unique pair makes each step happen once,
    even with two schedulers running."""

    __tablename__ = "obligation_escalations"
    __table_args__ = (UniqueConstraint("obligation_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="CASCADE"))
    step: Mapped[EscalationStep] = mapped_column(enum_column(EscalationStep))
    at: Mapped[datetime] = mapped_column(default=utcnow)
