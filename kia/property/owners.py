"""Property owners as data, for the admin of the whole organisation: how each takes fault reports, and the units
whose buildings it owns. A unit without an owner of its own has its nearest ancestor's."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.errors import N_, FieldErrors, NotFound
from kia.orgs.models import OrgUnit
from kia.property.models import DeliveryMethod, PropertyOwner, PropertyOwnerUnit

MAY_MANAGE = N_("Only an administrator of the whole organisation manages property owners.")
EMAIL = re.compile(r"^[^\s@<>()\",;:]+@[^\s@<>()\",;:]+\.[^\s@<>()\",;:]+$")
CODE_LENGTH = 100


def list_owners(session: Session, actor: Actor) -> list[PropertyOwner]:
    actor.require_config_admin(MAY_MANAGE)
    return list(session.scalars(select(PropertyOwner).order_by(PropertyOwner.name)))


def get_owner(session: Session, actor: Actor, owner_id: int) -> PropertyOwner:
    actor.require_config_admin(MAY_MANAGE)
    owner = session.get(PropertyOwner, owner_id)
    if owner is None:
        raise NotFound(N_("No such property owner."))
    return owner


def owner_of(session: Session, unit: OrgUnit) -> PropertyOwner | None:
    """The active owner of the unit's buildings: its own, else the nearest ancestor's."""
    rows = session.execute(select(PropertyOwnerUnit.org_unit_id, PropertyOwner)
                           .join(PropertyOwner, PropertyOwner.id == PropertyOwnerUnit.property_owner_id)
                           .where(PropertyOwnerUnit.org_unit_id.in_(unit.ancestor_ids))).all()
    by_unit = {unit_id: owner for unit_id, owner in rows}
    for unit_id in reversed(unit.ancestor_ids):
        if unit_id in by_unit:
            owner = by_unit[unit_id]
            return owner if owner.active else None
    return None


def _check_url(url: str, errors: FieldErrors) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("endpoint_url", N_("Give an http:// or https:// address."))
    elif parts.username or parts.password or parts.query:
        errors.add("endpoint_url", N_("Only the base address: the API key goes in its own field."))


def _check_service_codes(codes: Any, errors: FieldErrors) -> dict[str, str]:
    if not isinstance(codes, dict):
        errors.add("service_codes", N_("Give the service codes as event type code → the owner's service code."))
        return {}
    cleaned = {}
    for key, value in codes.items():
        value = str(value or "").strip()
        if not isinstance(key, str) or not key or len(value) > CODE_LENGTH:
            errors.add(f"service_codes.{key}", N_("At most %(n)s characters."), n=CODE_LENGTH)
        elif value:
            cleaned[key] = value
    return cleaned


def _units(session: Session, codes: Any, errors: FieldErrors) -> list[OrgUnit]:
    if not isinstance(codes, list):
        errors.add("units", N_("Give a list of org unit codes."))
        return []
    units = []
    for index, code in enumerate(codes):
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == str(code)))
        if unit is None:
            errors.add(f"units[{index}]", N_("No such org unit."))
        else:
            units.append(unit)
    return units


def _apply(session: Session, owner: PropertyOwner, spec: dict[str, Any], creating: bool) -> None:
    """Check and set what `spec` gives (every key when creating); all errors at once, at their paths."""
    errors = FieldErrors()
    values: dict[str, Any] = {}
    if creating or "name" in spec:
        name = str(spec.get("name") or "").strip()
        taken = session.scalar(select(PropertyOwner.id).where(PropertyOwner.name == name, PropertyOwner.id != owner.id))
        if not name:
            errors.add("name", N_("A name is required."))
        elif len(name) > 200:
            errors.add("name", N_("At most %(n)s characters."), n=200)
        elif taken is not None:
            errors.add("name", N_("A property owner has this name already."))
        values["name"] = name
    method = owner.method
    if creating or "method" in spec:
        method = errors.member("method", DeliveryMethod, spec.get("method"), N_("Choose Open311 or e-mail."))
        if method is None and "method" not in errors.errors:
            errors.add("method", N_("Choose Open311 or e-mail."))
        values["method"] = method
    for key, length in (("endpoint_url", 500), ("jurisdiction_id", 100), ("email", 254)):
        if key in spec:
            values[key] = str(spec.get(key) or "").strip()
            if len(values[key]) > length:
                errors.add(key, N_("At most %(n)s characters."), n=length)
    # The key is write-only: left out (or empty in the web form), the stored one stays.
    if spec.get("api_key"):
        values["api_key"] = str(spec["api_key"]).strip()[:200]
    if "service_codes" in spec:
        values["service_codes"] = _check_service_codes(spec["service_codes"], errors)
    if "active" in spec:
        active = errors.yes_no("active", spec["active"])
        if active is not None:
            values["active"] = active
    units = _units(session, spec["units"], errors) if "units" in spec else None
    endpoint = values.get("endpoint_url", owner.endpoint_url or "")
    email = values.get("email", owner.email or "")
    if method == DeliveryMethod.OPEN311 and not errors.errors.get("endpoint_url"):
        _check_url(endpoint, errors)
    if method == DeliveryMethod.EMAIL and not EMAIL.match(email):
        errors.add("email", N_("Give the e-mail address the owner takes fault reports at."))
    if units:
        others = session.scalars(select(PropertyOwnerUnit).where(
            PropertyOwnerUnit.org_unit_id.in_([u.id for u in units]),
            PropertyOwnerUnit.property_owner_id != (owner.id or 0))).all()
        taken_ids = {row.org_unit_id for row in others}
        for index, unit in enumerate(units):
            if unit.id in taken_ids:
                errors.add(f"units[{index}]", N_("Another property owner owns this unit's buildings."))
    errors.raise_if_any()
    for key, value in values.items():
        setattr(owner, key, value)
    if units is not None:
        kept = {link.org_unit_id: link for link in owner.units}
        owner.units = [kept.get(unit.id) or PropertyOwnerUnit(org_unit_id=unit.id)
                       for unit in {u.id: u for u in units}.values()]


def create_owner(session: Session, actor: Actor, spec: dict[str, Any]) -> PropertyOwner:
    """Add an owner: name, method (open311: endpoint_url, api_key, jurisdiction_id, service_codes; email:
    email), units (org unit codes)."""
    actor.require_config_admin(MAY_MANAGE)
    owner = PropertyOwner(endpoint_url="", api_key="", jurisdiction_id="", email="", service_codes={}, units=[])
    _apply(session, owner, {"units": [], **spec}, creating=True)
    session.add(owner)
    session.commit()
    return owner


def change_owner(session: Session, actor: Actor, owner_id: int, changes: dict[str, Any]) -> PropertyOwner:
    """Change the keys given; `units` is the whole list. The API key changes only when a new one is given."""
    actor.require_config_admin(MAY_MANAGE)
    owner = session.scalar(select(PropertyOwner).where(PropertyOwner.id == owner_id).with_for_update())
    if owner is None:
        raise NotFound(N_("No such property owner."))
    try:
        _apply(session, owner, changes, creating=False)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return owner
