"""Creating and looking up org units and users; the only place tree paths are written."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from kia.errors import N_, FieldErrors, NotFound
from kia.orgs.models import Membership, OrgKind, OrgUnit, Role, User

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(N_("No such org unit."))
    return unit


def create_org_unit(session: Session, code: str, name: str, kind: OrgKind | str,
                    parent: OrgUnit | None = None, commit: bool = True) -> OrgUnit:
    errors = FieldErrors()
    if not CODE_PATTERN.match(code or ""):
        errors.add("code", N_("A code is 1–32 capital letters, digits, - or _."))
    elif session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        errors.add("code", N_("The code is already in use."))
    if not (name or "").strip():
        errors.add("name", N_("A name is required."))
    errors.raise_if_any()
    unit = OrgUnit(code=code, name=name.strip(), kind=OrgKind(kind), parent=parent, path="")
    session.add(unit)
    session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    if commit:
        session.commit()
    return unit


def administration_in(chain: list[OrgUnit]) -> OrgUnit:
    """The förvaltning of the last unit of a root-first chain: the nearest administration, else the root."""
    return next((u for u in reversed(chain) if u.kind == OrgKind.ADMINISTRATION), chain[0])



def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def check_user_details(session: Session, errors: FieldErrors, email: str, name: str, language: str,
                       user: User | None = None) -> str:
    """The rules for a user's e-mail address, name and language, when created and when changed (`user`, whose
    own address is of course not taken by another); returns the address as stored, trimmed and lower-case."""
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email):
        errors.add("email", N_("Not a valid e-mail address."))
    elif (holder := user_by_email(session, email)) is not None and holder is not user:
        errors.add("email", N_("A user with this e-mail address already exists."))
    if not (name or "").strip():
        errors.add("name", N_("A name is required."))
    if language not in ("sv", "en"):
        errors.add("language", N_("Language is sv or en."))
    return email


def create_user(session: Session, email: str, name: str, password: str | None,
                roles: list[tuple[Role | str, str]] = (), language: str = "sv",
                commit: bool = True) -> User:
    """Create a user with roles given as (role, unit code) pairs."""
    errors = FieldErrors()
    email = check_user_details(session, errors, email, name, language)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors.add("password", N_("A password has at least %(n)s characters."), n=MIN_PASSWORD_LENGTH)
    memberships = []
    for index, (role, code) in enumerate(roles):
        try:
            role = Role(role)
        except ValueError:
            errors.add(f"roles[{index}].role", N_("Unknown role: %(role)s."), role=role)
            continue
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if unit is None:
            errors.add(f"roles[{index}].unit", N_("No such org unit: %(code)s."), code=code)
            continue
        memberships.append(Membership(role=role, org_unit=unit))
    errors.raise_if_any()
    user = User(email=email, name=name.strip(), language=language,
                password_hash=hash_password(password) if password else None,
                memberships=memberships)
    session.add(user)
    if commit:
        session.commit()
    return user
