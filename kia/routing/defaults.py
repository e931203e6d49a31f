"""The routing rules every installation starts with (issue 3); admins add, deactivate or reprioritise rules."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.incidents.models import Category, IncidentType
from kia.orgs.models import Role
from kia.routing.models import RoutingPurpose, RoutingRule

# (event type code or None, category or None, only_serious, role, purpose)
DEFAULT_RULES: list[tuple[str | None, Category | None, bool, Role, RoutingPurpose]] = [
    # Every case: the nearest chef/rektor handles it.
    (None, None, False, Role.HANDLER, RoutingPurpose.HANDLE),
    # Work-environment events: the unit's skyddsombud are informed (AML 6 kap.).
    (None, Category.WORK_ENVIRONMENT, False, Role.SAFETY_REP, RoutingPurpose.INFORM),
    # Serious events (AML 3:3a): the administration's säkerhetssamordnare are informed.
    (None, None, True, Role.SAFETY_OFFICER, RoutingPurpose.INFORM),
    # Kränkande behandling: the huvudman follows every case (Skollagen 6:10).
    ("victimisation", None, False, Role.PRINCIPAL_ORG, RoutingPurpose.INFORM),
]


def ensure_default_routing_rules(session: Session) -> int:
    """Add the default rules that are missing; returns how many were added. A rule an admin deactivated or
    reprioritised still counts as present, so it is never recreated or overwritten (delete means re-add:
    deactivate a default instead)."""
    added = 0
    for type_code, category, only_serious, role, purpose in DEFAULT_RULES:
        type_id = None
        if type_code is not None:
            type_id = session.scalar(select(IncidentType.id).where(IncidentType.code == type_code))
            if type_id is None:
                continue   # the type is not installed; nothing to route
        present = session.scalar(select(RoutingRule.id).where(
            RoutingRule.incident_type_id.is_(None) if type_id is None else RoutingRule.incident_type_id == type_id,
            RoutingRule.category.is_(None) if category is None else RoutingRule.category == category,
            RoutingRule.org_unit_id.is_(None), RoutingRule.only_serious.is_(only_serious),
            RoutingRule.role == role, RoutingRule.purpose == purpose,
        ).limit(1))
        if present is None:
            session.add(RoutingRule(incident_type_id=type_id, category=category, only_serious=only_serious,
                                    role=role, purpose=purpose))
            added += 1
    session.commit()
    return added
