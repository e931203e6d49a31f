"""Changing deadline rules (admins) and the resync that follows; obligations are read through the case."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.models import Case, CaseState, MilestoneKind
from kia.deadlines.models import DeadlineRule, DeadlineStart, Obligation
from kia.deadlines.services import resync_open_cases
from kia.errors import N_, FieldErrors, Forbidden, Msg
from kia.incidents.models import Category, IncidentType

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def list_rules(session: Session) -> list[DeadlineRule]:
    return list(session.scalars(select(DeadlineRule).order_by(DeadlineRule.id)))


def case_obligations(session: Session, case: Case) -> list[Obligation]:
    return list(session.scalars(select(Obligation).where(Obligation.case_id == case.id)
                                .order_by(Obligation.due_at)))


def _enum_or_error(enum_class, value, path: str, errors: FieldErrors):
    if value is None:
        return None
    try:
        return enum_class(value)
    except ValueError:
        errors.add(path, N_("Unknown value: %(value)s."), value=value)
        return None


def _apply(session: Session, rule: DeadlineRule, spec: dict[str, Any], path: str, errors: FieldErrors,
           type_ids: dict[str, int]) -> None:
    type_code = spec.get("type")
    if type_code is not None and type_code not in type_ids:
        errors.add(f"{path}.type", N_("Unknown event type: %(code)s."), code=type_code)
    rule.incident_type_id = type_ids.get(type_code) if type_code else None
    rule.category = _enum_or_error(Category, spec.get("category"), f"{path}.category", errors)
    rule.start = _enum_or_error(DeadlineStart, spec.get("start"), f"{path}.start", errors)
    rule.start_milestone = _enum_or_error(MilestoneKind, spec.get("start_milestone"), f"{path}.start_milestone", errors)
    rule.met_by_milestone = _enum_or_error(MilestoneKind, spec.get("met_by_milestone"), f"{path}.met_by_milestone", errors)
    rule.met_by_state = _enum_or_error(CaseState, spec.get("met_by_state"), f"{path}.met_by_state", errors)
    for attribute in ("name_sv", "name_en", "start_field", "due_hours", "due_working_days", "only_serious", "active"):
        setattr(rule, attribute, spec.get(attribute, getattr(rule, attribute)))
    rule.escalate_after_hours = spec.get("escalate_after_hours", rule.escalate_after_hours or 24)
    if (rule.due_hours is None) == (rule.due_working_days is None):
        errors.add(f"{path}.due_hours", N_("Give either due_hours or due_working_days."))
    if rule.start == DeadlineStart.FIELD and not rule.start_field:
        errors.add(f"{path}.start_field", N_("A rule starting at a field names the field."))
    if rule.start == DeadlineStart.MILESTONE and rule.start_milestone is None:
        errors.add(f"{path}.start_milestone", N_("A rule starting at a milestone names the milestone."))
    if (rule.met_by_milestone is None) == (rule.met_by_state is None):
        errors.add(f"{path}.met_by_milestone", N_("A rule is met by exactly one milestone or state."))
    if not (rule.name_sv or "").strip() or not (rule.name_en or "").strip():
        errors.add(f"{path}.name_sv", N_("A name is required."))
    rule.needs_resync = True


def replace_rules(session: Session, actor: Actor, specs: list[dict[str, Any]]) -> list[DeadlineRule]:
    """PUT semantics: the list is the whole rule set. Listed rules are created or updated by code; rules
    left out are deactivated, never deleted (their obligations are history). Open cases are recomputed
    by the scheduler's next sweep (see resync_if_rules_changed)."""
    if not actor.is_config_admin():
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation may change deadline rules.")))
    errors = FieldErrors()
    existing = {r.code: r for r in list_rules(session)}
    type_ids = dict(session.execute(select(IncidentType.code, IncidentType.id)).all())
    seen = set()
    for index, spec in enumerate(specs):
        code = spec.get("code") or ""
        if not CODE_PATTERN.match(code) or code in seen:
            errors.add(f"[{index}].code", N_("A unique code of lower-case letters, digits and _ is required."))
            continue
        seen.add(code)
        rule = existing.get(code) or DeadlineRule(code=code)
        session.add(rule)
        _apply(session, rule, spec, f"[{index}]", errors, type_ids)
    for code, rule in existing.items():
        if code not in seen and rule.active:
            rule.active, rule.needs_resync = False, True
    if errors:
        session.rollback()
        errors.raise_if_any()
    session.commit()
    return list_rules(session)


def resync_if_rules_changed(session: Session, tz: ZoneInfo, now: datetime) -> int:
    """Recompute open cases once after rule changes. The flags are cleared first, in a transaction of
    their own that only one scheduler can win (the UPDATE locks the rows), so two do not both run it."""
    claimed = session.execute(update(DeadlineRule).where(DeadlineRule.needs_resync.is_(True))
                              .values(needs_resync=False).returning(DeadlineRule.id)).all()
    session.commit()
    return resync_open_cases(session, tz, now) if claimed else 0
