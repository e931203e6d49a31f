"""Property owners (how each takes fault reports, which units' buildings it owns) and the fault reports sent them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.cases.models import Case
from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.orgs.models import OrgUnit, User


class DeliveryMethod(StrEnum):
    OPEN311 = "open311"    # an Open311 GeoReport v2 endpoint: POST /requests.json, GET /requests/{id}.json
    EMAIL = "email"        # a rendered e-mail to the owner's fault-report address


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    URGENT = "urgent"      # e.g. a fire door that does not close, a broken window on the ground floor


class FaultReportStatus(StrEnum):
    QUEUED = "queued"      # in the outbox, not yet accepted by the owner
    SENT = "sent"          # accepted: the owner's service request id (or token) is recorded
    FAILED = "failed"      # the outbox gave up; an admin can send it again
    CLOSED = "closed"      # the owner says it is done


class PropertyOwner(Base):
    """A property company (SISAB in Stockholm). The api_key is a secret: stored, used, never shown or logged."""

    __tablename__ = "property_owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[DeliveryMethod] = mapped_column(enum_column(DeliveryMethod))
    endpoint_url: Mapped[str] = mapped_column(String(500), default="")     # the GeoReport v2 base URL
    api_key: Mapped[str] = mapped_column(String(200), default="")
    jurisdiction_id: Mapped[str] = mapped_column(String(100), default="")
    # The owner's service_code for a fault report, per KIA event type code; "default" for the rest.
    service_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[PropertyOwnerUnit]] = relationship(back_populates="owner", cascade="all, delete-orphan",
                                                          lazy="selectin")

    def service_code_for(self, type_code: str) -> str:
        return str(self.service_codes.get(type_code) or self.service_codes.get("default") or "")


class PropertyOwnerUnit(Base):
    """A unit whose buildings the owner holds; a unit without a row has its nearest ancestor's owner."""

    __tablename__ = "property_owner_units"

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    property_owner_id: Mapped[int] = mapped_column(ForeignKey("property_owners.id", ondelete="CASCADE"), index=True)

    owner: Mapped[PropertyOwner] = relationship(back_populates="units")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class FaultReport(Base):
    """One felanmälan from a case. Sent once: the outbox row's key is this report's, and the owner's
    service_request_id, once recorded, is never asked for again."""

    __tablename__ = "fault_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    property_owner_id: Mapped[int] = mapped_column(ForeignKey("property_owners.id"), index=True)
    method: Mapped[DeliveryMethod] = mapped_column(enum_column(DeliveryMethod))
    place: Mapped[str] = mapped_column(String(300))          # where in the building
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency))
    status: Mapped[FaultReportStatus] = mapped_column(enum_column(FaultReportStatus),
                                                      default=FaultReportStatus.QUEUED)
    service_request_id: Mapped[str | None] = mapped_column(String(100))
    token: Mapped[str | None] = mapped_column(String(100))   # when the owner answers with a token first
    owner_status: Mapped[str] = mapped_column(String(20), default="")      # open / closed, as the owner says
    status_notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    owner: Mapped[PropertyOwner] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship()

    @property
    def idempotency_key(self) -> str:
        """Stable for every attempt at this report: sent to the owner, who may drop a repeat by it."""
        return f"kia-fault-report-{self.id}"
