"""The default deadline rules of DOMAIN.md, seeded once as data; admins change them through the API."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.cases.models import CaseState, MilestoneKind
from kia.deadlines.models import DeadlineRule, DeadlineStart
from kia.incidents.models import IncidentType

# (code, sv, en, type code or None, only_serious, start, start_field, due_hours, due_working_days,
#  met_by_milestone, met_by_state)
DEFAULT_RULES = [
    ("staff_to_principal", "Anmälan till rektor", "Report to the principal",
     "victimisation", False, DeadlineStart.KNOWN_AT, None, None, 0, MilestoneKind.PRINCIPAL_NOTIFIED, None),
    ("principal_to_principal_org", "Anmälan till huvudman", "Report to the principal organiser",
     "victimisation", False, DeadlineStart.KNOWN_AT, None, 7 * 24, None, MilestoneKind.PRINCIPAL_ORG_NOTIFIED, None),
    ("investigation_started", "Utredning påbörjad", "Investigation started",
     "victimisation", False, DeadlineStart.KNOWN_AT, None, None, 5, MilestoneKind.INVESTIGATION_STARTED, None),
    ("report_to_av", "Anmälan till Arbetsmiljöverket", "Report to the Work Environment Authority",
     None, True, DeadlineStart.KNOWN_AT, None, 24, None, MilestoneKind.REPORTED_TO_AV, None),
    ("report_to_fk", "Anmälan till Försäkringskassan", "Report to the Social Insurance Agency",
     "accident", False, DeadlineStart.KNOWN_AT, None, None, 5, MilestoneKind.REPORTED_TO_FK, None),
    ("report_to_imy", "Anmälan till IMY", "Report to the Data Protection Authority (IMY)",
     "data_breach", False, DeadlineStart.FIELD, "discovered_at", 72, None, MilestoneKind.REPORTED_TO_IMY, None),
    ("acknowledged", "Kvitterad av handläggare", "Acknowledged by the handler",
     None, False, DeadlineStart.REPORTED_AT, None, None, 2, None, CaseState.ACKNOWLEDGED),
]


def ensure_default_deadline_rules(session: Session) -> int:
    """Add the default rules that are missing (by code); returns how many were added."""
    existing = set(session.scalars(select(DeadlineRule.code)))
    type_ids = dict(session.execute(select(IncidentType.code, IncidentType.id)).all())
    added = 0
    for (code, sv, en, type_code, serious, start, field, hours, days, milestone, state) in DEFAULT_RULES:
        if code in existing or (type_code and type_code not in type_ids):
            continue
        session.add(DeadlineRule(
            code=code, name_sv=sv, name_en=en, incident_type_id=type_ids.get(type_code) if type_code else None,
            only_serious=serious, start=start, start_field=field, due_hours=hours, due_working_days=days,
            met_by_milestone=milestone, met_by_state=state, builtin=True,
        ))
        added += 1
    session.commit()
    return added
