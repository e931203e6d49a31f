"""Routing a new case to its handler: the nearest holder of the handling role on the case's unit or above."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.cases.models import Case
from kia.incidents.models import Incident
from kia.orgs.models import Membership, OrgUnit, Role


def nearest_holders(session: Session, unit: OrgUnit, role: Role) -> list[int]:
    """User ids holding `role` on the unit nearest to `unit` (itself first, then its ancestors)."""
    rows = session.execute(
        select(Membership.user_id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(Membership.role == role, Membership.org_unit_id.in_(unit.ancestor_ids))
        .order_by(Membership.id)
    ).all()
    if not rows:
        return []
    deepest = max(len(path) for _, path in rows)
    return [user_id for user_id, path in rows if len(path) == deepest]


def route_new_cases(session: Session, incident: Incident, now: datetime) -> None:
    """Give each new case of `incident` its handler."""
    for case in incident.cases:
        route_case(session, case, now)


def route_case(session: Session, case: Case, now: datetime) -> None:
    holders = nearest_holders(session, case.org_unit, Role.HANDLER)
    case.assignee_id = holders[0] if holders else None


def inform(session: Session, case: Case, user_ids: list[int], reason: Role) -> list[int]:
    """Add watchers to a case (once each); returns the ids newly added."""
    from kia.cases.models import CaseWatcher

    present = set(session.scalars(select(CaseWatcher.user_id).where(CaseWatcher.case_id == case.id))) \
        if case.id else set()
    added = [uid for uid in dict.fromkeys(user_ids) if uid not in present]
    for user_id in added:
        session.add(CaseWatcher(case=case, user_id=user_id, reason=str(reason)))
    return added


def inform_on_serious(session: Session, case: Case, now: datetime) -> list[int]:
    """A case marked serious (AML 3:3a) goes to the administration's safety officers too."""
    return inform(session, case, nearest_holders(session, case.org_unit, Role.SAFETY_OFFICER), Role.SAFETY_OFFICER)
