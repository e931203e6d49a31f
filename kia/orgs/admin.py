"""Organisation administration: the unit tree, users and their role memberships (city-wide admins only)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from kia.access import Actor
from kia.errors import N_, FieldErrors, Forbidden, Msg, NotFound
from kia.orgs.models import Membership, OrgKind, OrgUnit, Role, User
from kia.orgs.services import create_org_unit, create_user


def require_org_admin(actor: Actor) -> None:
    if not actor.is_config_admin():
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation may change the organisation.")))


@dataclass(frozen=True)
class TreeRow:
    unit: OrgUnit
    depth: int


def unit_tree(session: Session) -> list[TreeRow]:
    """Every unit in tree order: a path ("/1/4/") sorts right before its subtree, since "/" < "0"."""
    units = session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
    return [TreeRow(unit, unit.path.count("/") - 2) for unit in units]


def add_unit(session: Session, actor: Actor, code: str, name: str, kind: str, parent_code: str) -> OrgUnit:
    require_org_admin(actor)
    errors = FieldErrors()
    kind = errors.convert("kind", OrgKind, kind, N_("Unknown kind of unit."))
    parent = session.scalar(select(OrgUnit).where(OrgUnit.code == parent_code)) if parent_code else None
    if parent_code and parent is None:
        errors.add("parent", N_("No such org unit: %(code)s."), code=parent_code)
    elif parent is None:
        # One tree: a new root would be a second organisation, which `kia` sets up, not a form.
        errors.add("parent", N_("Choose the unit the new one belongs to."))
    errors.raise_if_any()
    return create_org_unit(session, (code or "").strip().upper(), name, kind, parent)


def list_users(session: Session, actor: Actor, search: str = "", limit: int = 200) -> list[User]:
    require_org_admin(actor)
    query = select(User).options(selectinload(User.memberships)).order_by(User.name, User.id).limit(limit)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    return list(session.scalars(query))


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    require_org_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def add_user(session: Session, actor: Actor, email: str, name: str, password: str | None, language: str,
             role: str, unit_code: str) -> User:
    """A new user with a first role on a unit; the password may be left for them to be given later."""
    require_org_admin(actor)
    return create_user(session, email, name, password or None, [(role, unit_code)], language=language)


def add_membership(session: Session, actor: Actor, user_id: int, role: str, unit_code: str) -> Membership:
    user = get_user(session, actor, user_id)
    errors = FieldErrors()
    role = errors.convert("role", Role, role, N_("Unknown role: %(role)s."), role=role)
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    if unit is None:
        errors.add("unit", N_("No such org unit: %(code)s."), code=unit_code)
    elif role is not None and any(m.role == role and m.org_unit_id == unit.id for m in user.memberships):
        errors.add("role", N_("The user already holds this role on this unit."))
    errors.raise_if_any()
    membership = Membership(role=role, org_unit=unit)
    user.memberships.append(membership)
    session.commit()
    return membership


def remove_membership(session: Session, actor: Actor, user_id: int, membership_id: int) -> None:
    user = get_user(session, actor, user_id)
    membership = next((m for m in user.memberships if m.id == membership_id), None)
    if membership is None:
        raise NotFound(N_("No such membership."))
    user.memberships.remove(membership)
    session.commit()
