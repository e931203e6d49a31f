"""Who may read aggregated tertial statistics of a subtree."""
from __future__ import annotations

from kia.access import Actor
from kia.orgs.models import OrgUnit, Role

# The analyst (DOMAIN.md: "pulls aggregated tertial statistics") and those who get the lägesbild of
# their part of the tree: the handler (rektor), the principal organiser and the safety officer.
# Every type is counted, confidential ones too: only counts leave, through disclosure control.
# Not the reporter or the skyddsombud; an admin configures the system and needs an analyst role too.
STATISTICS_ROLES = {Role.ANALYST, Role.HANDLER, Role.PRINCIPAL_ORG, Role.SAFETY_OFFICER}


def may_read_statistics(actor: Actor, unit: OrgUnit) -> bool:
    return actor.has_scope("statistics:read") and actor.holds_role_over(unit, STATISTICS_ROLES)


def statistics_roots(actor: Actor) -> list[str]:
    """Paths of the subtrees the actor may read statistics of (for choosing a unit in the UI)."""
    return actor.paths_for(STATISTICS_ROLES) if actor.has_scope("statistics:read") else []
