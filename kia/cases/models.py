"""A case is the handling of (part of) an incident; victimisation yields one per affected pupil."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from kia.orgs.models import OrgUnit


class CaseState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    ACTIONS = "actions"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    REJECTED = "rejected"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_org_unit_id_state", "org_unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    # The affected pupil a victimisation case is about; None for one-case-per-incident types.
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("incident_persons.id"))
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState), default=CaseState.RECEIVED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="cases")
    incident_type: Mapped[IncidentType] = relationship()
    org_unit: Mapped[OrgUnit] = relationship()
    subject_person: Mapped[IncidentPerson | None] = relationship()
