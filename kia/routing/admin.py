"""Routing rules for admins: reviewed, added, changed, switched off and on again – never deleted, since they
explain how past cases were routed. A change applies to cases filed after it; routed cases keep their handler."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, joinedload

from kia.access import (
    HANDLES_CASES, HANDLES_INCIDENTS, SEES_ALL_TYPES, TAKES_ON_CASES, TAKES_ON_CONFIDENTIAL_CASES, Actor,
)
from kia.db import utcnow
from kia.errors import N_, Conflict, FieldErrors, Msg, NotFound
from kia.incidents.models import Category, IncidentType
from kia.orgs.models import OrgUnit, Role
from kia.routing.models import RoutingPurpose, RoutingRule

MAX_PRIORITY = 1000
# Who a rule may name: a HANDLE rule someone who can be händelseansvarig of the cases, an INFORM rule someone
# whose role lets them read the cases (kia.access) – (for any type, for a confidential type such as
# kränkande behandling). Analysts and admins are in neither: they never handle or read cases.
ROLES_FOR = {RoutingPurpose.HANDLE: (TAKES_ON_CASES, TAKES_ON_CONFIDENTIAL_CASES),
             RoutingPurpose.INFORM: (HANDLES_INCIDENTS, SEES_ALL_TYPES)}
# A new rule before the spec fills it in: every condition "any".
BLANK = {"incident_type": None, "category": None, "org_unit": None, "only_serious": False, "role": None,
         "purpose": None, "priority": 0, "active": True}


def list_routing_rules(session: Session, actor: Actor) -> list[RoutingRule]:
    actor.require_config_admin(N_("Only an administrator of the whole organisation reviews routing rules."))
    return list(session.scalars(select(RoutingRule).options(joinedload(RoutingRule.incident_type),
                                                            joinedload(RoutingRule.org_unit),
                                                            joinedload(RoutingRule.changed_by))
                                .order_by(RoutingRule.active.desc(), RoutingRule.purpose, RoutingRule.id)))


def get_routing_rule(session: Session, actor: Actor, rule_id: int) -> RoutingRule:
    actor.require_config_admin(N_("Only an administrator of the whole organisation reviews routing rules."))
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(N_("No such routing rule."))
    return rule


# ---- the fallback ---------------------------------------------------------------------------------

def is_fallback(values: dict[str, Any]) -> bool:
    """Whether a rule (as its attribute values) gives every case to the nearest rektor/chef: active,
    HANDLE, the role that handles cases of every type, and no condition. While one exists, every case
    has a handler wherever a unit or one above it has one; without it a case could match no HANDLE rule
    and lie unassigned (route_case assigns nobody then)."""
    return (values["active"] and values["purpose"] == RoutingPurpose.HANDLE and values["role"] in HANDLES_CASES
            and values["incident_type"] is None and values["category"] is None and values["org_unit"] is None
            and not values["only_serious"])


def _fallback_clause() -> ColumnElement[bool]:
    """is_fallback as a query condition."""
    return and_(RoutingRule.active.is_(True), RoutingRule.purpose == RoutingPurpose.HANDLE,
                RoutingRule.role.in_(HANDLES_CASES), RoutingRule.incident_type_id.is_(None),
                RoutingRule.category.is_(None), RoutingRule.org_unit_id.is_(None),
                RoutingRule.only_serious.is_(False))


def _values_of(rule: RoutingRule) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in BLANK}


# ---- reading a spec -------------------------------------------------------------------------------

def _by_code(session: Session, model, code: Any, path: str, text: str, errors: FieldErrors):
    """The type or unit with this code; None for "any" (null or empty)."""
    if code in (None, ""):
        return None
    found = session.scalar(select(model).where(model.code == code)) if isinstance(code, str) else None
    if found is None:
        errors.add(path, text, code=code)
    return found


def _resolve(session: Session, spec: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """The spec's keys as the rule's attribute values: codes looked up, enums converted, each wrong value
    reported at its key. Keys the spec leaves out are left out (a change names only what changes)."""
    values: dict[str, Any] = {}
    if "type" in spec:
        values["incident_type"] = _by_code(session, IncidentType, spec["type"], "type",
                                           N_("Unknown event type: %(code)s."), errors)
    if "org_unit" in spec:
        values["org_unit"] = _by_code(session, OrgUnit, spec["org_unit"], "org_unit",
                                      N_("Unknown org unit: %(code)s."), errors)
    if "category" in spec:
        values["category"] = errors.member("category", Category, spec["category"], N_("Unknown category."))
    if "role" in spec:
        values["role"] = errors.member("role", Role, spec["role"], N_("Unknown role: %(role)s."), role=spec["role"])
    if "purpose" in spec:
        values["purpose"] = errors.member("purpose", RoutingPurpose, spec["purpose"])
    for key in ("only_serious", "active"):
        if key in spec and (flag := errors.yes_no(key, spec[key])) is not None:
            values[key] = flag
    if "priority" in spec and (priority := errors.whole_number("priority", spec["priority"], -MAX_PRIORITY,
                                                               MAX_PRIORITY)) is not None:
        values["priority"] = priority
    return values


def _check(values: dict[str, Any], errors: FieldErrors) -> None:
    """The rule as a whole: a role and a purpose, one of type or category, a role that can do what it asks."""
    for key, text in (("role", N_("Choose a role.")), ("purpose", N_("Choose whether the role handles the case "
                                                                     "or is informed."))):
        if values[key] is None and key not in errors.errors:
            errors.add(key, text)
    if values["incident_type"] is not None and values["category"] is not None:
        errors.add("category", N_("Give an event type or a category, not both."))
    if values["role"] is None or values["purpose"] is None or "role" in errors.errors:
        return
    any_type, confidential = ROLES_FOR[values["purpose"]]
    if values["role"] not in any_type:
        errors.add("role", N_("This role cannot handle cases.") if values["purpose"] == RoutingPurpose.HANDLE
                   else N_("This role does not read cases, so it cannot be informed of them."))
    elif values["incident_type"] is not None and values["incident_type"].confidential \
            and values["role"] not in confidential:
        errors.add("role", N_("This role may not read cases of this confidential event type."))


def _save(session: Session, actor: Actor, rule: RoutingRule, values: dict[str, Any], now: datetime) -> RoutingRule:
    for key, value in values.items():
        setattr(rule, key, value)
    rule.changed_by_id, rule.changed_at = actor.user_id, now
    session.add(rule)
    session.commit()
    return rule


# ---- changes --------------------------------------------------------------------------------------

def add_routing_rule(session: Session, actor: Actor, spec: dict[str, Any],
                     now: datetime | None = None) -> RoutingRule:
    """A new rule from a spec: type (code), category, org_unit (code) – each None for any – only_serious,
    role, purpose, priority, active. New cases are routed by it at once."""
    actor.require_config_admin(N_("Only an administrator of the whole organisation may change routing rules."))
    errors = FieldErrors()
    values = {**BLANK, **_resolve(session, spec, errors)}
    _check(values, errors)
    errors.raise_if_any()
    return _save(session, actor, RoutingRule(), values, now or utcnow())


def change_routing_rule(session: Session, actor: Actor, rule_id: int, changes: dict[str, Any],
                        now: datetime | None = None) -> RoutingRule:
    """Change the keys given (as in add_routing_rule; "active": False switches the rule off). Refused (409)
    when it would leave no fallback rule (see is_fallback), so routing always has a rule to fall back on."""
    actor.require_config_admin(N_("Only an administrator of the whole organisation may change routing rules."))
    # The fallback rules first, always in one order: of two admins each switching off one of the last two,
    # the second waits, then sees the first one's change and is refused (and nobody deadlocks).
    fallback_ids = set(session.scalars(select(RoutingRule.id).where(_fallback_clause())
                                       .order_by(RoutingRule.id).with_for_update()))
    rule = session.scalar(select(RoutingRule).where(RoutingRule.id == rule_id).with_for_update())
    if rule is None:
        raise NotFound(N_("No such routing rule."))
    errors = FieldErrors()
    values = {**_values_of(rule), **_resolve(session, changes, errors)}
    _check(values, errors)
    if errors:
        session.rollback()   # and with it the locks
        errors.raise_if_any()
    if rule.id in fallback_ids and not is_fallback(values) and not fallback_ids - {rule.id}:
        session.rollback()
        raise Conflict(Msg(N_("This is the last rule that gives every case to the nearest rektor or chef. Add "
                              "another such rule (handles, any event type, all units, not only serious) first.")))
    return _save(session, actor, rule, values, now or utcnow())


def set_routing_rule_active(session: Session, actor: Actor, rule_id: int, active: bool,
                            now: datetime | None = None) -> RoutingRule:
    """Switch a rule off (it stays listed, and can be switched on again) or on."""
    return change_routing_rule(session, actor, rule_id, {"active": active}, now)
