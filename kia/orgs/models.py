"""Org units as a materialised-path tree, users and role memberships that apply to a whole subtree, and the record
of what admins changed in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.enums import StrEnum, enum_column


class OrgKind(StrEnum):
    CITY = "city"
    ADMINISTRATION = "administration"
    DEPARTMENT = "department"
    UNIT = "unit"
    SITE = "site"


class Role(StrEnum):
    REPORTER = "reporter"
    HANDLER = "handler"
    SAFETY_REP = "safety_rep"
    SAFETY_OFFICER = "safety_officer"
    PRINCIPAL_ORG = "principal_org"
    ANALYST = "analyst"
    ADMIN = "admin"
    # Neither sees cases: the auditor reviews the read log, the dataskyddsombud answers registerutdrag.
    AUDITOR = "auditor"
    DATA_PROTECTION_OFFICER = "data_protection_officer"


class OrgUnit(Base):
    __tablename__ = "org_units"
    __table_args__ = (
        # Prefix LIKE on the path must use the index on PostgreSQL whatever the collation.
        Index("ix_org_units_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    # "/1/4/17/": the ids from the root down to this unit; a subtree is `path LIKE '/1/4/%'`.
    path: Mapped[str] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(default=True)
    # Where the unit is (WGS84 degrees), for the map and the Open311 API: both or neither, set by an admin.
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit."""
        return [int(part) for part in self.path.strip("/").split("/")]

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    # Non-urgent notifications by e-mail at once, or gathered in one daily digest.
    daily_digest: Mapped[bool] = mapped_column(default=False)
    # Counted up whenever the password is set or changed. A web session holds the count it signed in with (in
    # its Flask-Login id, kia.auth.signed_in): one from before is signed out at its next request.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded when asked (an actor's roles, the admin pages): most reads of a user want only the name, e.g. the
    # reporter shown on an incident, and should not pay a second query for roles.
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login reads these by duck typing; the domain core does not import Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"   # what the session keeps (kia.auth.signed_in.session_id)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "org_unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class ChangeSubject(StrEnum):
    USER = "user"
    ORG_UNIT = "org_unit"


class AdminChange(Base):
    """One change an admin made to a user or an org unit: who, when, what, and the value before and after.
    Who could sign in, with which roles, and which units existed decide who saw which cases, so every change
    must be traceable to a person (as routing and deadline rules keep `changed_by`), and kept after it was
    changed again. A password is recorded as set, never its value."""

    __tablename__ = "admin_changes"
    __table_args__ = (Index("ix_admin_changes_subject", "subject_kind", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_kind: Mapped[ChangeSubject] = mapped_column(enum_column(ChangeSubject))
    # A user's or a unit's id, as subject_kind says: no foreign key, since it points into either table.
    subject_id: Mapped[int]
    # "created", "name", "email", "language", "active", "password", "role" (kia.orgs.history): plain text, so a
    # new kind of change needs no migration of a CHECK constraint.
    what: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(String(300))
    new: Mapped[str | None] = mapped_column(String(300))

    actor: Mapped[User] = relationship()
