"""Allowed state transitions are data, per event type; rows without a type are the default workflow."""
from __future__ import annotations

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kia.cases.models import CaseState
from kia.db import Base
from kia.enums import enum_column


class WorkflowTransition(Base):
    __tablename__ = "workflow_transitions"
    __table_args__ = (UniqueConstraint("incident_type_id", "from_state", "to_state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the default for every type that has no transitions of its own.
    incident_type_id: Mapped[int | None] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"))
    from_state: Mapped[CaseState] = mapped_column(enum_column(CaseState, name="from_state"))
    to_state: Mapped[CaseState] = mapped_column(enum_column(CaseState, name="to_state"))
