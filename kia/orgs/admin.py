"""Organisation administration: the unit tree, users and their role memberships (city-wide admins only). Every
change is recorded (kia.orgs.history) in its own transaction; nothing is deleted, since past cases name the
users and units they were handled by and filed on."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from kia.access import Actor, subtree_ids
from kia.auth.account import check_new_password
from kia.auth.passwords import hash_password
from kia.cases.models import OPEN_STATES, Case
from kia.errors import N_, Conflict, FieldErrors, Forbidden, Msg, NotFound
from kia.geo import checked_point
from kia.orgs.history import What, record, role_text
from kia.orgs.models import Membership, OrgKind, OrgUnit, Role, User
from kia.orgs.services import check_user_details, create_org_unit, create_user


def require_org_admin(actor: Actor) -> None:
    if not actor.is_config_admin():
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation may change the organisation.")))


# ---- org units ------------------------------------------------------------------------------------

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
    elif not parent.active:
        # Under a closed unit nothing is open: see set_unit_active.
        errors.add("parent", N_("%(name)s (%(code)s) is closed: reopen it first, or choose another unit."),
                   name=parent.name, code=parent.code)
    errors.raise_if_any()
    unit = create_org_unit(session, (code or "").strip().upper(), name, kind, parent, commit=False)
    record(session, actor, unit, What.CREATED, new=unit.name)
    session.commit()
    return unit


def _found(session: Session, actor: Actor, model, record_id: int, missing: str):
    """The user or unit with this id, for an admin of the whole organisation; NotFound with `missing`."""
    require_org_admin(actor)
    found = session.get(model, record_id)
    if found is None:
        raise NotFound(missing)
    return found


def get_unit(session: Session, actor: Actor, unit_id: int) -> OrgUnit:
    return _found(session, actor, OrgUnit, unit_id, N_("No such org unit."))


def rename_unit(session: Session, actor: Actor, unit_id: int, name: str) -> OrgUnit:
    """A new name, shown from now on wherever the unit is, its past incidents and cases too. The code stays:
    reports, routing rules and the API name the unit by it."""
    unit = get_unit(session, actor, unit_id)
    name = (name or "").strip()
    if not name:
        errors = FieldErrors()
        errors.add("name", N_("A name is required."))
        errors.raise_if_any()
    if name != unit.name:
        record(session, actor, unit, What.NAME, unit.name, name)
        unit.name = name
        session.commit()
    return unit


def coordinates_text(latitude: float | None, longitude: float | None) -> str | None:
    return None if latitude is None or longitude is None else f"{latitude:.6f}, {longitude:.6f}"


def set_unit_coordinates(session: Session, actor: Actor, unit_id: int, latitude: float | None,
                         longitude: float | None) -> OrgUnit:
    """Where the unit is on the map (WGS84 degrees, six decimals: about 0.1 m), or neither to clear it. Events
    already filed keep their points; new points are checked against these coordinates."""
    unit = get_unit(session, actor, unit_id)
    errors = FieldErrors()
    point = checked_point(errors, latitude, longitude)
    errors.raise_if_any()
    new = (round(point[0], 6), round(point[1], 6)) if point else (None, None)
    if new != (unit.latitude, unit.longitude):
        record(session, actor, unit, What.COORDINATES, coordinates_text(unit.latitude, unit.longitude),
               coordinates_text(*new))
        unit.latitude, unit.longitude = new
        session.commit()
    return unit


def open_units_under(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(subtree_ids([unit.path])),
                                                      OrgUnit.id != unit.id, OrgUnit.active.is_(True))
                                .order_by(OrgUnit.path)))


def set_unit_active(session: Session, actor: Actor, unit_id: int, active: bool) -> OrgUnit:
    """Close a unit (a school closes: nothing new is filed on it) or reopen it. Its incidents and cases stay,
    readable and handled as before. A closed unit has nothing open under it, so that filing, which checks only
    the unit chosen, never lands in a closed part of the tree: close the units under it first, and reopen the
    one above first. 409 with the units in the way."""
    unit = get_unit(session, actor, unit_id)
    if unit.active == active:
        return unit
    if not active and (in_the_way := open_units_under(session, unit)):
        raise Conflict(Msg(N_("%(name)s cannot be closed while units under it are open. Close them first: "
                              "%(units)s."), {"name": unit.name, "units": _listed(in_the_way)}))
    if active and unit.parent is not None and not unit.parent.active:
        raise Conflict(Msg(N_("%(name)s cannot be reopened while the unit it belongs to is closed. Reopen it "
                              "first: %(units)s."), {"name": unit.name, "units": _listed([unit.parent])}))
    record(session, actor, unit, What.ACTIVE, unit.active, active)
    unit.active = active
    session.commit()
    return unit


def _listed(units: list[OrgUnit]) -> str:
    return ", ".join(f"{u.name} ({u.code})" for u in units)


def open_cases_in(session: Session, actor: Actor, unit: OrgUnit) -> int:
    """How many open cases the unit and the units under it have: closing leaves them to be handled."""
    require_org_admin(actor)
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.org_unit_id.in_(subtree_ids([unit.path])), Case.state.in_(OPEN_STATES)))


# ---- users ----------------------------------------------------------------------------------------

def list_users(session: Session, actor: Actor, search: str = "", active: bool | None = None,
               limit: int = 200) -> list[User]:
    """Users by name; `search` in name or e-mail, `active` True or False for only those (None: all)."""
    require_org_admin(actor)
    query = select(User).options(selectinload(User.memberships)).order_by(User.name, User.id).limit(limit)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if active is not None:
        query = query.where(User.active.is_(active))
    return list(session.scalars(query))


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    return _found(session, actor, User, user_id, N_("No such user."))


def add_user(session: Session, actor: Actor, email: str, name: str, password: str | None, language: str,
             role: str, unit_code: str) -> User:
    """A new user with a first role on a unit; the password may be left for them to be given later."""
    require_org_admin(actor)
    user = create_user(session, email, name, password or None, [(role, unit_code)], language=language,
                       commit=False)
    session.flush()   # the id the record names
    record(session, actor, user, What.CREATED, new=user.name)
    for membership in user.memberships:
        record(session, actor, user, What.ROLE, new=role_text(membership))
    session.commit()
    return user


def change_user(session: Session, actor: Actor, user_id: int, name: str, email: str, language: str) -> list[What]:
    """Correct a user's name, e-mail address or language, by the rules they were created with; returns what
    changed (nothing, when the form was sent as it was)."""
    user = get_user(session, actor, user_id)
    errors = FieldErrors()
    email = check_user_details(session, errors, email, name, language, user=user)
    errors.raise_if_any()
    changed = []
    for what, value in ((What.NAME, name.strip()), (What.EMAIL, email), (What.LANGUAGE, language)):
        if getattr(user, str(what)) != value:
            record(session, actor, user, what, getattr(user, str(what)), value)
            setattr(user, str(what), value)
            changed.append(what)
    session.commit()
    return changed


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate a user (they leave: no sign-in, their session and tokens stop working, routing and the
    deadline ladder pass them by) or reactivate them. Their cases stay assigned to them, for their units'
    handlers to delegate (see open_cases_handled_by); nothing is reassigned behind anyone's back. An admin
    cannot deactivate themselves, so there is always one left who can undo it."""
    user = get_user(session, actor, user_id)
    if not active and user.id == actor.user_id:
        raise Conflict(Msg(N_("You cannot deactivate your own account: another administrator can.")))
    if user.active != active:
        record(session, actor, user, What.ACTIVE, user.active, active)
        user.active = active
        session.commit()
    return user


def set_user_password(session: Session, actor: Actor, user_id: int, new: str, repeated: str) -> User:
    """A new password for a user who forgot theirs, by the rules of changing one's own; recorded as set, never
    the value. Not one's own: that asks for the current password (kia.auth.account), and a session left open
    must not be a way around it. Every web session of the user ends (a new session epoch); API tokens stay
    (revoked on their own)."""
    user = get_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise Conflict(Msg(N_("Change your own password on your account page.")))
    errors = FieldErrors()
    check_new_password(errors, new, repeated)
    errors.raise_if_any()
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    record(session, actor, user, What.PASSWORD)
    session.commit()
    return user


@dataclass(frozen=True)
class HandledCases:
    unit: OrgUnit
    count: int


def open_cases_handled_by(session: Session, actor: Actor, user: User) -> list[HandledCases]:
    """The open cases assigned to the user, counted by unit: whom to ask to delegate them when the user leaves.
    Counts only, since an admin does not read cases."""
    require_org_admin(actor)
    rows = session.execute(select(OrgUnit, func.count(Case.id)).join(Case, Case.org_unit_id == OrgUnit.id)
                           .where(Case.assignee_id == user.id, Case.state.in_(OPEN_STATES))
                           .group_by(OrgUnit.id).order_by(OrgUnit.path)).all()
    return [HandledCases(unit, count) for unit, count in rows]


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
    record(session, actor, user, What.ROLE, new=role_text(membership))
    session.commit()
    return membership


def remove_membership(session: Session, actor: Actor, user_id: int, membership_id: int) -> None:
    user = get_user(session, actor, user_id)
    membership = next((m for m in user.memberships if m.id == membership_id), None)
    if membership is None:
        raise NotFound(N_("No such membership."))
    record(session, actor, user, What.ROLE, old=role_text(membership))
    user.memberships.remove(membership)
    session.commit()
