"""Routing rules are data: for a type (or a category) in a unit subtree, a role handles or is informed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column
from kia.incidents.models import Category, IncidentType
from kia.orgs.models import OrgUnit, Role, User


class RoutingPurpose(StrEnum):
    HANDLE = "handle"    # the nearest holder of the role becomes the case's handler
    INFORM = "inform"    # the nearest holders of the role are informed and follow the case


class RoutingRule(Base):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Matches when every given condition holds; None means "any".
    incident_type_id: Mapped[int | None] = mapped_column(ForeignKey("incident_types.id", ondelete="CASCADE"))
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
    only_serious: Mapped[bool] = mapped_column(default=False)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    purpose: Mapped[RoutingPurpose] = mapped_column(enum_column(RoutingPurpose))
    # Among matching HANDLE rules the most specific wins; ties go to the higher priority.
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The admin who last added or changed the rule, and when; None for the defaults the system seeded.
    # Rules decide who sees a case, so a change must be traceable to a person.
    changed_at: Mapped[datetime | None]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident_type: Mapped[IncidentType | None] = relationship()
    org_unit: Mapped[OrgUnit | None] = relationship()
    changed_by: Mapped[User | None] = relationship()


class Substitute(Base):
    """An ersättare: while the period lasts, new cases for `user` go to `substitute`."""

    __tablename__ = "substitutes"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_substitutes_user_id_starts_at", "user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id])
