"""The record of what admins changed in users and org units: written by kia.orgs.admin in the change's own
transaction, shown as each user's and unit's history."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kia.access import Actor
from kia.db import utcnow
from kia.enums import StrEnum
from kia.orgs.models import AdminChange, ChangeSubject, Membership, OrgUnit, User


class What(StrEnum):
    """What a change was to; stored as plain text (AdminChange.what)."""

    CREATED = "created"     # new: the name it was created with
    NAME = "name"
    EMAIL = "email"
    LANGUAGE = "language"
    ACTIVE = "active"       # "true" / "false": a user deactivated or reactivated, a unit closed or reopened
    PASSWORD = "password"   # neither old nor new: that it was set is all the record holds
    ROLE = "role"           # "<role> <unit code>": new for a role added, old for one removed
    COORDINATES = "coordinates"   # a unit's "<latitude>, <longitude>" (WGS84), or none
    TWO_FACTOR = "two_factor"   # neither old nor new: an admin reset the user's second factor (kia.auth.two_factor)


def _text(value: str | bool | None) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def role_text(membership: Membership) -> str:
    return f"{membership.role.value} {membership.org_unit.code}"


def _kind_of(subject: User | OrgUnit) -> ChangeSubject:
    return ChangeSubject.USER if isinstance(subject, User) else ChangeSubject.ORG_UNIT


def record(session: Session, actor: Actor, subject: User | OrgUnit, what: What,
           old: str | bool | None = None, new: str | bool | None = None) -> None:
    """Add the change to the session; the caller commits it together with the change itself."""
    session.add(AdminChange(at=utcnow(), actor_id=actor.user_id, subject_kind=_kind_of(subject), subject_id=subject.id,
                            what=str(what), old=_text(old), new=_text(new)))


def history_of(session: Session, subject: User | OrgUnit) -> list[AdminChange]:
    """The changes to a user or unit, the latest first (callers check that the reader is an admin)."""
    return list(session.scalars(
        select(AdminChange).options(joinedload(AdminChange.actor))
        .where(AdminChange.subject_kind == _kind_of(subject), AdminChange.subject_id == subject.id)
        .order_by(AdminChange.at.desc(), AdminChange.id.desc())))
