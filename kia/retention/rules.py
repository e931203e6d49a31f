"""Reading and setting an event type's retention rule (admins of the whole organisation). A rule keeping the data
shorter than the type's legal minimum is refused at the field, with the minimum named."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.db import utcnow
from kia.errors import N_, FieldErrors, NotFound
from kia.incidents.models import IncidentType
from kia.retention.models import RetentionAction, RetentionRule

MAX_MONTHS = 1200   # a hundred years: beyond that the data is kept for good, which is no rule at all
MAY_REVIEW = N_("Only an administrator of the whole organisation reviews retention rules.")
MAY_CHANGE = N_("Only an administrator of the whole organisation may change retention rules.")


def _type(session: Session, code: str) -> IncidentType:
    incident_type = session.scalar(select(IncidentType).where(IncidentType.code == code))
    if incident_type is None:
        raise NotFound(N_("No such event type."))
    return incident_type


def rule_of(session: Session, incident_type: IncidentType, lock: bool = False) -> RetentionRule | None:
    statement = select(RetentionRule).where(RetentionRule.incident_type_id == incident_type.id)
    return session.scalar(statement.with_for_update(of=RetentionRule) if lock else statement)


def unset_rule(incident_type: IncidentType) -> RetentionRule:
    """What a type without a rule shows (never stored): no months, so gallring passes its records by."""
    return RetentionRule(incident_type=incident_type, months=None, minimum_months=0,
                         action=RetentionAction.ANONYMISE)


def get_retention_rule(session: Session, actor: Actor, code: str) -> RetentionRule:
    actor.require_config_admin(MAY_REVIEW)
    incident_type = _type(session, code)
    return rule_of(session, incident_type) or unset_rule(incident_type)


def list_retention_rules(session: Session, actor: Actor) -> list[RetentionRule]:
    """Every type's rule, by type code; a type without one shows as unset."""
    actor.require_config_admin(MAY_REVIEW)
    rules = {r.incident_type_id: r for r in session.scalars(select(RetentionRule))}
    return [rules.get(t.id) or unset_rule(t)
            for t in session.scalars(select(IncidentType).order_by(IncidentType.code))]


def set_retention_rule(session: Session, actor: Actor, code: str, spec: dict[str, Any],
                       now: datetime | None = None) -> RetentionRule:
    """Set months and action (PUT: both; action left out is anonymise). The minimum stays what the data says."""
    actor.require_config_admin(MAY_CHANGE)
    incident_type = _type(session, code)
    rule = rule_of(session, incident_type, lock=True)
    minimum = rule.minimum_months if rule is not None else 0
    errors = FieldErrors()
    months = errors.whole_number("months", spec.get("months"), 0, MAX_MONTHS)
    if months is not None and months < minimum:
        errors.add("months", N_("At least %(minimum)s months for this event type: the law or the city archive "
                                "requires its records to be kept that long after the cases close."),
                   minimum=minimum)
    action = errors.member("action", RetentionAction, spec.get("action") or RetentionAction.ANONYMISE.value)
    errors.raise_if_any()
    if rule is None:
        rule = RetentionRule(incident_type=incident_type, minimum_months=minimum)
        session.add(rule)
    rule.months, rule.action = months, action
    rule.changed_by_id, rule.changed_at = actor.user_id, now or utcnow()
    session.commit()
    return rule
