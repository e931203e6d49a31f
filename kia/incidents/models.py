"""Event types are data (with typed field definitions); incidents carry values validated against them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.orgs.models import OrgUnit, User


class Category(StrEnum):
    WORK_ENVIRONMENT = "work_environment"
    PUPIL = "pupil"
    SAFETY = "safety"
    INFORMATION_SECURITY = "information_security"


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"


class PersonRole(StrEnum):
    AFFECTED = "affected"
    PERPETRATOR = "perpetrator"
    WITNESS = "witness"


class PersonCategory(StrEnum):
    STAFF = "staff"
    PUPIL = "pupil"
    GUARDIAN = "guardian"
    VISITOR = "visitor"
    OTHER = "other"
    UNKNOWN = "unknown"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class IncidentType(Base):
    __tablename__ = "incident_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    help_sv: Mapped[str] = mapped_column(String(300), default="")
    help_en: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[Category] = mapped_column(enum_column(Category))
    active: Mapped[bool] = mapped_column(default=True)
    # Pupil secrecy (OSL 23 kap.): only the reporter and the handler chain see these incidents.
    confidential: Mapped[bool] = mapped_column(default=False)
    # Kränkande behandling: one case per affected pupil, and at least one is required.
    case_per_affected_pupil: Mapped[bool] = mapped_column(default=False)
    allows_anonymous: Mapped[bool] = mapped_column(default=False)
    # The event concerns the building (break-in, vandalism, fire, a fault found on a skyddsrond): its cases offer a
    # fault report to the property owner (kia.property).
    concerns_building: Mapped[bool] = mapped_column(default=False, server_default=false())
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fields: Mapped[list[IncidentTypeField]] = relationship(
        back_populates="incident_type", order_by="IncidentTypeField.position",
        cascade="all, delete-orphan", lazy="selectin",
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_sv

    @property
    def current_fields(self) -> list[IncidentTypeField]:
        """The fields a new report has: all but the retired ones, which stay for the values older reports hold."""
        return [f for f in self.fields if not f.retired]


class IncidentTypeField(Base):
    __tablename__ = "incident_type_fields"
    __table_args__ = (UniqueConstraint("incident_type_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[FieldKind] = mapped_column(enum_column(FieldKind))
    label_sv: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=False)
    sensitive: Mapped[bool] = mapped_column(default=False)
    # [{"value": "knife", "sv": "Kniv", "en": "Knife"}, …] for choice and multichoice
    choices: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)
    # Retired: no longer on the report form nor accepted from a new report. Never deleted, since stored
    # incidents hold their values by the field's key (and the case pages and the API still show them).
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    incident_type: Mapped[IncidentType] = relationship(back_populates="fields")

    @property
    def choice_values(self) -> list[str]:
        return [c["value"] for c in self.choices or []]


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_org_unit_id_occurred_at", "org_unit_id", "occurred_at"),
        Index("ix_incidents_occurred_at_id", "occurred_at", "id"),
        # Tertial statistics: a period's incidents by unit and type from the index alone.
        Index("ix_incidents_occurred_at_org_unit_id", "occurred_at", "org_unit_id", "incident_type_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    occurred_at: Mapped[datetime]
    known_at: Mapped[datetime]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    location: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    field_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where on the site it happened (WGS84), optional; near the unit's coordinates (kia.geo). Shown to the incident's
    # readers only: the map and the Open311 API use the unit's coordinates, never this point.
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    # Gallring (kia.retention): when its personal data was erased; the number, type, unit, times, categories and
    # genders stay for the register and the statistics.
    anonymised_at: Mapped[datetime | None]

    incident_type: Mapped[IncidentType] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    reporter: Mapped[User | None] = relationship()
    persons: Mapped[list[IncidentPerson]] = relationship(
        back_populates="incident", order_by="IncidentPerson.position",
        cascade="all, delete-orphan", lazy="selectin",
    )
    cases: Mapped[list["Case"]] = relationship(  # noqa: F821 – defined in kia.cases
        back_populates="incident", order_by="Case.id", lazy="selectin",
    )


class IncidentPerson(Base):
    __tablename__ = "incident_persons"
    __table_args__ = (
        # Tertial statistics: a period's affected persons by unit, type, gender and category from the index alone.
        Index("ix_incident_persons_occurred_at", "occurred_at", "org_unit_id", "incident_type_id", "role", "gender",
              "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    # The incident's type, unit and time, which never change once it is filed: kept on the person too, so that
    # counting a city's affected persons over a tertial reads this table's index and not a join of two tables.
    incident_type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    occurred_at: Mapped[datetime]
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[PersonRole] = mapped_column(enum_column(PersonRole))
    category: Mapped[PersonCategory] = mapped_column(enum_column(PersonCategory))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender))
    # Personal data only where needed: all optional, shown to the handler chain only.
    name: Mapped[str | None] = mapped_column(String(200))
    class_name: Mapped[str | None] = mapped_column(String(40))
    personal_number: Mapped[str | None] = mapped_column(String(13), index=True)   # registerutdrag finds by it

    incident: Mapped[Incident] = relationship(back_populates="persons")

    def carry(self, incident_type_id: int, org_unit_id: int, occurred_at: datetime) -> None:
        """Keep the incident's type, unit and time with the person, as the statistics count persons by them."""
        self.incident_type_id, self.org_unit_id, self.occurred_at = incident_type_id, org_unit_id, occurred_at


class RegistrationCounter(Base):
    """Last registration number handed out per administration and year (gapless, see numbering.py)."""

    __tablename__ = "registration_counters"

    administration_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class IdempotencyKey(Base):
    """A filing request's Idempotency-Key, so a retried POST returns the first incident."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the request body
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship()
