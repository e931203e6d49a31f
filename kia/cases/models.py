"""Cases and everything recorded on them: milestones, actions, comments, attachments, links,
the people informed, the append-only timeline and the access log of sensitive reads."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, JSONType, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from kia.orgs.models import OrgUnit, User


class CaseState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    ACTIONS = "actions"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    REJECTED = "rejected"


OPEN_STATES = (CaseState.RECEIVED, CaseState.ACKNOWLEDGED, CaseState.INVESTIGATING,
               CaseState.ACTIONS, CaseState.FOLLOW_UP)
OPEN_STATE_CLAUSE = text("state IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATES) + ")")


class MilestoneKind(StrEnum):
    PRINCIPAL_NOTIFIED = "principal_notified"              # rektor informed (victimisation: same day)
    PRINCIPAL_ORG_NOTIFIED = "principal_org_notified"      # huvudman informed (Skollagen 6:10)
    INVESTIGATION_STARTED = "investigation_started"
    REPORTED_TO_AV = "reported_to_av"                      # Arbetsmiljöverket (AML 3:3a)
    REPORTED_TO_FK = "reported_to_fk"                      # Försäkringskassan (arbetsskada)
    REPORTED_TO_IMY = "reported_to_imy"                    # GDPR art. 33
    POLICE_REPORT_MADE = "police_report_made"              # reference: K-number
    PROPERTY_OWNER_NOTIFIED = "property_owner_notified"    # felanmälan
    GUARDIANS_INFORMED = "guardians_informed"
    SUPPORT_OFFERED = "support_offered"                    # avlastningssamtal


class ActionStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_org_unit_id_state", "org_unit_id", "state"),
        Index("ix_cases_state_next_due_at", "state", "next_due_at"),
        # Tertial statistics: the cases opened in a period, by unit, type and state, with what the case
        # figures read, from the index alone.
        Index("ix_cases_created_at_org_unit_id", "created_at", "org_unit_id", "incident_type_id", "state",
              "serious", "next_due_at", "closed_at", "id"),
        # The inbox: the open cases of a subtree's units by due time. Partial, as most cases are closed.
        Index("ix_cases_open_org_unit_id_next_due_at", "org_unit_id", "next_due_at",
              postgresql_where=OPEN_STATE_CLAUSE, sqlite_where=OPEN_STATE_CLAUSE),
        # The inbox page without a unit filter: the open cases soonest due first, with what the access
        # rule and the counts read, so the first page and the counts are index-only scans (bench/pages.py).
        Index("ix_cases_open_next_due_at_id", "next_due_at", "id",
              postgresql_include=["org_unit_id", "incident_type_id", "assignee_id", "serious"],
              postgresql_where=OPEN_STATE_CLAUSE, sqlite_where=OPEN_STATE_CLAUSE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    # The affected pupil a victimisation case is about; None for one-case-per-incident types.
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("incident_persons.id"))
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState), default=CaseState.RECEIVED)
    # The händelseansvarig: the handler routed to, or the one the case was delegated to.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # AML 3:3a: set by the serious-event checklist; then reporting to Arbetsmiljöverket is required.
    serious: Mapped[bool] = mapped_column(default=False)
    serious_checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Values of the case type's own fields when it differs from the incident's (a related case added
    # later, e.g. a pupil_injury from a threat_violence event); the incident holds those of its own type.
    field_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    investigation: Mapped[str] = mapped_column(Text, default="")
    closing_summary: Mapped[str] = mapped_column(Text, default="")   # public: the reporter reads it
    decision: Mapped[str] = mapped_column(Text, default="")
    open_actions_reason: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    # Earliest due time of the case's open obligations (kept by kia.deadlines); drives the inbox sort.
    next_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="cases")
    incident_type: Mapped[IncidentType] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    subject_person: Mapped[IncidentPerson | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(back_populates="case", order_by="Milestone.at",
                                                       cascade="all, delete-orphan")
    actions: Mapped[list[CaseAction]] = relationship(back_populates="case", order_by="CaseAction.id",
                                                     cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def milestone(self, kind: MilestoneKind) -> Milestone | None:
        return next((m for m in self.milestones if m.kind == kind), None)


class Milestone(Base):
    __tablename__ = "case_milestones"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[MilestoneKind] = mapped_column(enum_column(MilestoneKind))
    at: Mapped[datetime]                     # when it happened (may be before it was recorded)
    reference: Mapped[str] = mapped_column(String(200), default="")   # e.g. K-number, AV case number
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="milestones")
    recorded_by: Mapped[User | None] = relationship()


class CaseAction(Base):
    """An åtgärd in the action plan (AFS 2023:1): what, who, by when, and how it was followed up."""

    __tablename__ = "case_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(Text)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date]
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus), default=ActionStatus.PLANNED)
    follow_up_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="actions")
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_id])


class Comment(Base):
    """Internal: never shown to the reporter."""

    __tablename__ = "case_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class Attachment(Base):
    """A file on a case. The bytes live outside the web root, named by their SHA-256."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User] = relationship()


class CaseLink(Base):
    """A manual link between two cases of different incidents (cases of one incident are linked anyway)."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "linked_case_id"),
        CheckConstraint("case_id < linked_case_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    linked_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseWatcher(Base):
    """Someone informed of a case by a routing rule (skyddsombud, säkerhetssamordnare, huvudman)."""

    __tablename__ = "case_watchers"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))   # the role that brought them in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    user: Mapped[User] = relationship()


class TimelineEntry(Base):
    """Append-only: every change to a case, who made it, when, and old → new."""

    __tablename__ = "case_timeline"
    __table_args__ = (Index("ix_case_timeline_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # None: the system
    kind: Mapped[str] = mapped_column(String(40))        # e.g. state_changed, milestone_recorded
    field: Mapped[str | None] = mapped_column(String(60))
    old: Mapped[Any | None] = mapped_column(JSONType, default=None)
    new: Mapped[Any | None] = mapped_column(JSONType, default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    actor: Mapped[User | None] = relationship()


class AccessLogEntry(Base):
    """The read log: one row for each opening of a case (its page, the API, an attachment, a revealed personal
    number), of an incident through the API, and each registerutdrag search. Only ever inserted: on PostgreSQL and
    SQLite a trigger (migration read_log) refuses UPDATE and DELETE. So no foreign key to the case or incident: a
    record destroyed by gallring leaves its reads behind, and the unit is kept for whom may review them."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column()
    incident_id: Mapped[int | None] = mapped_column(index=True)
    # The unit of what was read (the auditors of its subtree review it); None: a search made city-wide.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))   # kia.cases.read_log.ACTIONS
    detail: Mapped[str] = mapped_column(String(200), default="")
    # A registerutdrag's person: HMAC-SHA256 of the personal number under the app's secret, never the number.
    subject_hash: Mapped[str | None] = mapped_column(String(64), index=True)