"""Who raises, receives, reads and ends alarms (issue 11). One rule, in SQL for queries and in Python for the pushes
each connected client is sent.

- Raising: any role held over the unit (on it or above, as for filing an event).
- Receiving (banner, e-mail, webhook rows): an active user with a role on the unit or inside it (the school's own
  staff, a site's), plus the users subscribed on a unit above it (safety officer, förvaltning) who still hold a role
  there.
- Reading (the alarm page, roll call, chat): the receivers, and whoever holds a role over the unit.
- Ending: the one who raised it, a rektor (handler) or a safety officer over the unit.
Out of scope is a 404 (callers raise NotFound), never a 403."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, literal, or_, select

from kia.access import Actor
from kia.orgs.models import Membership, OrgUnit, Role, User

ENDS_ALARMS = {Role.HANDLER, Role.SAFETY_OFFICER}


@dataclass(frozen=True)
class AlarmAudience:
    """Whom a connected client is pushed alarms for: the paths of the units where the user holds a role, and of the
    units above where they subscribed. Built once per connection; `receives` and `reads` need no database."""

    user_id: int
    member_paths: tuple[str, ...]
    subscribed_paths: tuple[str, ...]

    def receives(self, unit_path: str) -> bool:
        return (any(path.startswith(unit_path) for path in self.member_paths)
                or any(unit_path.startswith(path) for path in self.subscribed_paths))

    def reads(self, unit_path: str) -> bool:
        return self.receives(unit_path) or any(unit_path.startswith(path) for path in self.member_paths)


def audience_of(actor: Actor, subscribed_paths: list[str]) -> AlarmAudience:
    member_paths = tuple(sorted({g.unit_path for g in actor.grants}))
    # A subscription counts only while the user still holds a role over the subscribed unit.
    kept = tuple(sorted(p for p in subscribed_paths if any(p.startswith(m) for m in member_paths)))
    return AlarmAudience(actor.user_id, member_paths, kept)


def may_raise_on(actor: Actor, unit: OrgUnit) -> bool:
    return actor.holds_role_over(unit)


def may_end(actor: Actor, alarm) -> bool:
    return alarm.raised_by_id == actor.user_id or actor.holds_role_over(alarm.org_unit, ENDS_ALARMS)


def alarm_visibility(actor: Actor, unit_path_col) -> ColumnElement[bool]:
    """The WHERE clause (on a query joined to the alarm's org unit, `unit_path_col` its path) limiting alarms to
    those `actor` reads: a role over the unit or inside it, or a subscription above it."""
    from kia.alarms.models import AlarmSubscription

    paths = sorted({g.unit_path for g in actor.grants})
    if not paths:
        return false()
    clauses = []
    for path in paths:
        clauses.append(literal(path).startswith(unit_path_col))   # the unit is this grant's unit or above it
        clauses.append(unit_path_col.startswith(path))            # the unit is inside this grant's subtree
    subscribed = exists(select(AlarmSubscription.id).join(OrgUnit, OrgUnit.id == AlarmSubscription.org_unit_id).where(
        AlarmSubscription.user_id == actor.user_id, unit_path_col.startswith(OrgUnit.path)))
    return or_(*clauses, subscribed)


def receiver_ids_query(unit: OrgUnit):
    """The ids of the active users who receive an alarm raised on `unit`."""
    from kia.alarms.models import AlarmSubscription

    member_unit = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
    members = select(Membership.user_id).where(Membership.org_unit_id.in_(member_unit))
    above = OrgUnit.__table__.alias("above")
    held = Membership.__table__.alias("held")
    held_unit = OrgUnit.__table__.alias("held_unit")
    subscribers = (
        select(AlarmSubscription.user_id)
        .join(above, above.c.id == AlarmSubscription.org_unit_id)
        .where(literal(unit.path).startswith(above.c.path),
               exists(select(held.c.id).join(held_unit, held_unit.c.id == held.c.org_unit_id).where(
                   held.c.user_id == AlarmSubscription.user_id, above.c.path.startswith(held_unit.c.path)))))
    return select(User.id).where(User.active.is_(True), or_(User.id.in_(members), User.id.in_(subscribers))
                                 ).order_by(User.id)


__all__ = ["AlarmAudience", "ENDS_ALARMS", "alarm_visibility", "audience_of", "may_end", "may_raise_on",
           "receiver_ids_query"]
