"""Routing a case: the active rules (data) say which role handles it and which roles are informed; the
nearest holders of each role, on the case's unit or above, receive it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from kia.access import HANDLES_CASES, Actor, roles_reading, roles_taking_on
from kia.cases.models import Case, CaseWatcher
from kia.cases.timeline import record
from kia.orgs.models import Membership, OrgUnit, Role, User
from kia.reference import reference_data
from kia.routing.models import RoutingPurpose, RoutingRule, Substitute


# Built once: each filing and sweep batch runs these, and building them cost more than running them.
_HOLDERS = (select(Membership.org_unit_id, Membership.role, Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.role.in_(bindparam("roles", expanding=True)),
                   Membership.org_unit_id.in_(bindparam("units", expanding=True)), User.active.is_(True))
            .order_by(Membership.id))
# Routing asks for the holders and, with them, whom each has standing in at the time: one query, not two.
_STANDING_IN = aliased(User)
_HOLDERS_AND_STAND_INS = _HOLDERS.add_columns(
    select(Substitute.substitute_id)
    .join(_STANDING_IN, _STANDING_IN.id == Substitute.substitute_id)
    .where(Substitute.user_id == Membership.user_id, Substitute.starts_at <= bindparam("at"),
           Substitute.ends_at > bindparam("at"), _STANDING_IN.active.is_(True))
    .order_by(Substitute.starts_at.desc(), Substitute.id.desc())
    .limit(1).correlate(Membership).scalar_subquery())


def nearest_holders_for_units(session: Session, units: list[OrgUnit], roles: set[Role],
                              stand_ins: dict[int, int | None] | None = None,
                              at: datetime | None = None) -> dict[int, dict[Role, list[int]]]:
    """For each unit (by id) and role, the active users holding the role on the unit nearest to it (itself
    first, then its ancestors upwards) where anyone holds it; oldest membership first, so the choice of one
    is deterministic. One query for all the units, so a sweep over many cases looks them up at once. With
    `stand_ins`, the same query also fills it with each holder's active substitute at `at` (or None)."""
    if not roles or not units:
        return {unit.id: {} for unit in units}
    ancestor_ids = {a for unit in units for a in unit.ancestor_ids}
    parameters = {"roles": list(roles), "units": list(ancestor_ids)}
    if stand_ins is None:
        rows = session.execute(_HOLDERS, parameters).all()
    else:
        rows = session.execute(_HOLDERS_AND_STAND_INS, parameters | {"at": at}).all()
        stand_ins.update((user_id, substitute_id) for _, _, user_id, substitute_id in rows)
    on_unit: dict[tuple[int, Role], list[int]] = {}
    for unit_id, role, user_id, *_ in rows:
        on_unit.setdefault((unit_id, role), []).append(user_id)
    result: dict[int, dict[Role, list[int]]] = {}
    for unit in units:
        nearest = {role: next((on_unit[(a, role)] for a in reversed(unit.ancestor_ids) if (a, role) in on_unit), [])
                   for role in roles}
        result[unit.id] = {role: holders for role, holders in nearest.items() if holders}
    return result


def nearest_holders_by_role(session: Session, unit: OrgUnit, roles: set[Role]) -> dict[Role, list[int]]:
    """For each role, the nearest active holders on `unit` or above (see nearest_holders_for_units)."""
    return nearest_holders_for_units(session, [unit], roles)[unit.id]


def nearest_holders(session: Session, unit: OrgUnit, role: Role) -> list[int]:
    """User ids holding `role` on the unit nearest to `unit` (itself first, then its ancestors)."""
    return nearest_holders_by_role(session, unit, {role}).get(role, [])


def matching_rules(session: Session, case: Case) -> list[RoutingRule]:
    """The active rules whose type, category and unit subtree fit the case, most specific first.

    Specificity: a rule for the event type beats one for its category, which beats one for any type;
    then a deeper unit subtree beats a shallower one (or none); then a rule only for serious cases beats
    a general one; then the higher priority; then the older rule, so the order is always the same.
    """
    incident_type, ancestors = case.incident_type, case.org_unit.ancestor_ids
    rules = [rule for rule in reference_data(session).routing_rules
             if rule.incident_type_id in (None, incident_type.id) and rule.category in (None, incident_type.category)
             and (rule.org_unit_id is None or rule.org_unit_id in ancestors)]

    def specificity(rule: RoutingRule) -> tuple:
        kind = 2 if rule.incident_type_id is not None else 1 if rule.category is not None else 0
        depth = ancestors.index(rule.org_unit_id) + 1 if rule.org_unit_id is not None else 0
        return kind, depth, rule.only_serious, rule.priority, -rule.id

    return sorted(rules, key=specificity, reverse=True)


def _stand_in(session: Session, case: Case, substitute_id: int | None) -> int | None:
    """The handler's active substitute (`substitute_id`, read with the holders), if they (roles change) may still
    handle the case's unit."""
    if substitute_id is None:
        return None
    substitute = session.get(User, substitute_id)
    return substitute_id if Actor.for_user(substitute).holds_role_over(case.org_unit, HANDLES_CASES) else None


@dataclass
class RoutingLookups:
    """What routing looked up for the cases of one filing, which share their unit: the second and third case of a
    kränkning reported for three pupils ask the database nothing again."""

    holders: dict[tuple[int, frozenset[Role]], dict[Role, list[int]]] = field(default_factory=dict)
    substitutes: dict[int, int | None] = field(default_factory=dict)   # holder -> active substitute, read with them
    stand_ins: dict[tuple[int, int], int | None] = field(default_factory=dict)

    def holders_for(self, session: Session, unit: OrgUnit, roles: frozenset[Role],
                    now: datetime) -> dict[Role, list[int]]:
        if (unit.id, roles) not in self.holders:
            self.holders[(unit.id, roles)] = nearest_holders_for_units(
                session, [unit], set(roles), stand_ins=self.substitutes, at=now)[unit.id]
        return self.holders[(unit.id, roles)]

    def stand_in_for(self, session: Session, case: Case, handler_id: int) -> int | None:
        """The stand-in for a handler that `holders_for` gave."""
        if (handler_id, case.org_unit.id) not in self.stand_ins:
            self.stand_ins[(handler_id, case.org_unit.id)] = _stand_in(session, case, self.substitutes[handler_id])
        return self.stand_ins[(handler_id, case.org_unit.id)]


def route_case(session: Session, case: Case, now: datetime, lookups: RoutingLookups | None = None) -> list[int]:
    """Assign a new case to the nearest holder of the role of the most specific HANDLE rule that has a
    holder (or to that user's active substitute), then inform the holders named by the INFORM rules.
    Routing is the system's doing: its timeline entries have no actor. Returns the ids informed. Cases routed
    together (one filing's) share their `lookups`."""
    lookups = lookups or RoutingLookups()
    applicable = [r for r in matching_rules(session, case) if case.serious or not r.only_serious]
    holders = lookups.holders_for(session, case.org_unit, frozenset(r.role for r in applicable), now)
    # A rule for a category or for any type may name a role that must not have this case (a säkerhets-
    # samordnare never gets a kränkning case): such a rule is passed over, as if nobody held the role.
    takes_on = roles_taking_on(case.incident_type)
    handler_id = next((holders[r.role][0] for r in applicable
                       if r.purpose == RoutingPurpose.HANDLE and r.role in takes_on and holders.get(r.role)), None)
    if handler_id is not None:
        substitute_id = lookups.stand_in_for(session, case, handler_id)
        if substitute_id is not None:
            case.assignee_id = substitute_id
            record(session, case, None, "assigned_to_substitute", field="assignee", old=handler_id,
                   new=substitute_id)
        else:
            case.assignee_id = handler_id
            record(session, case, None, "assigned", field="assignee", new=handler_id)
    return _inform_by_rules(session, case, [r for r in applicable if r.purpose == RoutingPurpose.INFORM], holders)


def _inform_by_rules(session: Session, case: Case, rules: list[RoutingRule], holders: dict[Role, list[int]],
                     actor_id: int | None = None) -> list[int]:
    added: list[int] = []
    # A rule for any type may name a role that must not read this one (the säkerhetssamordnare and a serious
    # kränkning case): passed over, as the notice alone would tell them the case exists.
    readers = roles_reading(case.incident_type)
    for rule in (r for r in rules if r.role in readers):
        others = [uid for uid in holders.get(rule.role, []) if uid != case.assignee_id]
        added += inform(session, case, others, rule.role, actor_id)
    return added


def _watching(session: Session, case: Case) -> set[int]:
    """Users already informed of the case, including those added in this transaction but not yet flushed."""
    pending = {w.user_id for w in session.new if isinstance(w, CaseWatcher) and w.case is case}
    if case.id is None:
        return pending
    return pending | set(session.scalars(select(CaseWatcher.user_id).where(CaseWatcher.case_id == case.id)))


def inform(session: Session, case: Case, user_ids: list[int], reason: Role,
           actor_id: int | None = None) -> list[int]:
    """Add watchers to a case (once each, with the role that brought them in); returns the ids newly added."""
    present = _watching(session, case)
    added = [uid for uid in dict.fromkeys(user_ids) if uid not in present]
    for user_id in added:
        session.add(CaseWatcher(case=case, user_id=user_id, reason=str(reason)))
        record(session, case, actor_id, "informed", field="watchers", new={"user": user_id, "reason": str(reason)})
    return added


def inform_on_serious(session: Session, case: Case, now: datetime, actor_id: int | None = None) -> list[int]:
    """A case just marked serious (AML 3:3a): inform whom the rules for serious cases name (by default the
    administration's safety officers). Returns the ids newly informed."""
    rules = [r for r in matching_rules(session, case)
             if r.only_serious and r.purpose == RoutingPurpose.INFORM]
    holders = nearest_holders_by_role(session, case.org_unit, {r.role for r in rules})
    return _inform_by_rules(session, case, rules, holders, actor_id)
