"""A retention rule per event type, legal holds on cases, and the log of the nightly gallring runs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from kia.cases.models import Case
from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import IncidentType
from kia.orgs.models import User


class RetentionAction(StrEnum):
    # Names, personal numbers, free texts, files and messages go; number, type, unit, dates, categories and
    # genders stay, so past tertials count the same.
    ANONYMISE = "anonymise"
    # The whole record goes: past tertials count it no longer.
    DESTROY = "destroy"


class RetentionRule(Base):
    """How many months after the last of an event's cases closed its personal data is kept, and what then."""

    __tablename__ = "retention_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"),
                                                  unique=True)
    months: Mapped[int]
    # The floor the law or the city archive sets (say the two years in which damages for kränkande behandling
    # can be claimed): no rule of the type keeps the data shorter. Data, seeded with the defaults.
    minimum_months: Mapped[int] = mapped_column(default=0)
    action: Mapped[RetentionAction] = mapped_column(enum_column(RetentionAction), default=RetentionAction.ANONYMISE)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime | None]

    incident_type: Mapped[IncidentType] = relationship(lazy="joined")
    changed_by: Mapped[User | None] = relationship()


class HoldReason(StrEnum):
    APPEAL = "appeal"                              # överklagande
    POLICE_INVESTIGATION = "police_investigation"  # polisutredning
    OPEN_REQUEST = "open_request"                  # pågående begäran (registerutdrag, allmän handling)


class LegalHold(Base):
    """A case held from gallring: while it stands, nothing of the case's event is erased. Lifting it deletes
    the row; the case's timeline keeps both."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[HoldReason] = mapped_column(enum_column(HoldReason))
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(backref=backref("legal_hold", uselist=False, passive_deletes=True))
    held_by: Mapped[User | None] = relationship()


class RetentionRun(Base):
    """One night's gallring: the night's unique row is what makes it run once with two schedulers. Counts per
    event type only, never content."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    night: Mapped[date] = mapped_column(unique=True)   # the date in KIA_TIMEZONE the run belongs to
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # {"victimisation": {"anonymised": 12, "destroyed": 0, "files": 3}, …}
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")   # running, finished, failed
    # What a running run says after each batch: one silent for longer than runs.STALE died (its scheduler was
    # killed, its host lost) and another scheduler takes the night over, finishing what it left.
    heartbeat_at: Mapped[datetime | None]
    taken_over_at: Mapped[datetime | None]
