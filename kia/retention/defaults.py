"""The default retention rules of the built-in event types, seeded once as data; the city archive's decision
(dokumenthanteringsplan) is then set by an admin, never in code. `ensure_default_retention_rules` adds the missing
ones and never overwrites a rule an admin has changed.

The figures are placeholders until the archive decides, chosen so that nothing is erased while it may still be
needed:
- kränkande behandling: kept 5 years; at least 2, the time in which damages can be claimed (Skollagen 6 kap. 12 §,
  preskription of the claim) and within which Skolinspektionen/BEO may ask for the investigation;
- work-environment events: kept 5 years (injuries 10, since an arbetsskada can be claimed long after); at least 2,
  as Arbetsmiljöverket may inspect the investigation and action plan (AFS 2023:1) and a claim to
  Försäkringskassan or AFA may follow;
- pupils' injuries 10 years (at least 2), as insurance claims for a pupil come late;
- safety and information-security events 3 years (a personal data breach 5: GDPR art. 33.5 asks the controller
  to be able to show IMY its documentation), with no floor set.
Every rule anonymises: destroying would take the events out of the tertial statistics of past periods.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.incidents.models import IncidentType
from kia.retention.models import RetentionAction, RetentionRule

# code: (months kept after the last case closed, legal minimum in months)
DEFAULT_RULES: dict[str, tuple[int, int]] = {
    "threat_violence": (60, 24),
    "accident": (120, 24),
    "near_miss": (60, 24),
    "serious_near_miss": (60, 24),
    "risk_observation": (60, 24),
    "commuting_accident": (120, 24),
    "occupational_illness": (120, 24),
    "pupil_injury": (120, 24),
    "victimisation": (60, 24),
    "fire": (36, 0),
    "property_damage": (36, 0),
    "data_breach": (60, 0),
    "undue_influence": (36, 0),
}


def ensure_default_retention_rules(session: Session) -> int:
    """Add the default rules of the built-in types that have none; returns how many were added."""
    have = set(session.scalars(select(RetentionRule.incident_type_id)))
    added = 0
    for incident_type in session.scalars(select(IncidentType).where(IncidentType.code.in_(DEFAULT_RULES))):
        if incident_type.id in have:
            continue
        months, minimum = DEFAULT_RULES[incident_type.code]
        session.add(RetentionRule(incident_type_id=incident_type.id, months=months, minimum_months=minimum,
                                  action=RetentionAction.ANONYMISE))
        added += 1
    session.commit()
    return added
