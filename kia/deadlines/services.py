"""Obligations follow the case: `sync_obligations` derives them from the active rules, the case's
milestones, state and actions, and is called wherever any of those change (or a rule changes)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.cases.models import ActionStatus, Case, CaseState
from kia.deadlines.calendar import add_working_days, end_of_day
from kia.deadlines.escalation import schedule
from kia.deadlines.models import DeadlineRule, DeadlineStart, Obligation, ObligationStatus
from kia.incidents.fields import parse_datetime
from kia.reference import reference_data

# How far a case has come, for rules met by a state ("acknowledged" is met by every later state too).
STATE_ORDER = [CaseState.RECEIVED, CaseState.ACKNOWLEDGED, CaseState.INVESTIGATING, CaseState.ACTIONS,
               CaseState.FOLLOW_UP, CaseState.CLOSED]


def active_deadline_rules(session: Session) -> list[DeadlineRule]:
    """The active rules as this process keeps them (kia.reference): read them, never change or add them."""
    return reference_data(session).deadline_rules


def rule_applies(rule: DeadlineRule, case: Case) -> bool:
    return (rule.active
            and (rule.incident_type_id is None or rule.incident_type_id == case.incident_type.id)
            and (rule.category is None or rule.category == case.incident_type.category)
            and (not rule.only_serious or case.serious))


def rule_start(rule: DeadlineRule, case: Case, tz: ZoneInfo) -> datetime | None:
    """When the rule's clock starts for this case, or None if it has not started (e.g. a milestone)."""
    incident = case.incident
    if rule.start == DeadlineStart.OCCURRED_AT:
        return incident.occurred_at
    if rule.start == DeadlineStart.KNOWN_AT:
        return incident.known_at
    if rule.start == DeadlineStart.REPORTED_AT:
        return incident.reported_at
    if rule.start == DeadlineStart.FIELD:
        raw = incident.field_values.get(rule.start_field or "")
        try:
            return parse_datetime(raw, tz) if raw else incident.known_at
        except ValueError:
            return incident.known_at
    milestone = case.milestone(rule.start_milestone) if rule.start_milestone else None
    return milestone.at if milestone else None


def due_time(rule: DeadlineRule, start: datetime, tz: ZoneInfo) -> datetime:
    if rule.due_hours is not None:
        return start + timedelta(hours=rule.due_hours)
    day = add_working_days(start.astimezone(tz).date(), rule.due_working_days or 0)
    return end_of_day(day, tz)


def _met_at(rule: DeadlineRule, case: Case, now: datetime) -> datetime | None:
    if rule.met_by_milestone is not None:
        milestone = case.milestone(rule.met_by_milestone)
        return milestone.at if milestone else None
    if rule.met_by_state is not None and case.state in STATE_ORDER:
        if STATE_ORDER.index(case.state) >= STATE_ORDER.index(rule.met_by_state):
            return now
    return None


def _settle(obligation: Obligation, met_at: datetime | None, case_ended: bool, now: datetime) -> None:
    if met_at is not None:
        if obligation.status != ObligationStatus.MET:
            obligation.status, obligation.met_at = ObligationStatus.MET, min(met_at, now)
    elif case_ended:
        obligation.status, obligation.met_at = ObligationStatus.CANCELLED, None
    else:
        obligation.status, obligation.met_at = ObligationStatus.OPEN, None


def _existing(session: Session, case: Case) -> list[Obligation]:
    if case.id is None:
        return []
    return list(session.scalars(select(Obligation).where(Obligation.case_id == case.id)))


def sync_obligations(session: Session, case: Case, tz: ZoneInfo, now: datetime) -> list[Obligation]:
    """Bring the case's obligations in line with the rules and the case, and set case.next_due_at.
    Runs inside the change that triggered it (the caller commits) and flushes nothing, so filing can
    call it before the registration number exists. The rules are the process's kept ones: no query."""
    rules = active_deadline_rules(session)
    existing = _existing(session, case)
    by_rule = {o.rule_id: o for o in existing if o.rule_id is not None}
    by_action = {o.action_id: o for o in existing if o.action_id is not None}
    ended = case.state in (CaseState.CLOSED, CaseState.REJECTED)
    current: list[Obligation] = []
    for rule in rules:
        start = rule_start(rule, case, tz) if rule_applies(rule, case) else None
        if start is None:
            continue
        obligation = by_rule.pop(rule.id, None)
        if obligation is None:
            obligation = Obligation(case=case, rule_id=rule.id, starts_at=start, due_at=due_time(rule, start, tz))
            session.add(obligation)
        else:
            obligation.starts_at, obligation.due_at = start, due_time(rule, start, tz)
        _settle(obligation, _met_at(rule, case, now), ended, now)
        current.append(obligation)
    for obligation in by_rule.values():   # the rule was disabled or no longer applies
        if obligation.status == ObligationStatus.OPEN:
            obligation.status = ObligationStatus.CANCELLED
    current += _sync_action_obligations(session, case, tz, now, ended, by_action)
    for obligation in current:
        schedule(obligation)
    open_due = [o.due_at for o in current if o.status == ObligationStatus.OPEN]
    case.next_due_at = min(open_due) if open_due else None
    return current


def _sync_action_obligations(session: Session, case: Case, tz: ZoneInfo, now: datetime, ended: bool,
                             by_action: dict[int, Obligation]) -> list[Obligation]:
    """Each action's due date is an obligation of its own (AFS 2023:1 action plan)."""
    result = []
    for action in case.actions:
        due = end_of_day(action.due_date, tz)
        obligation = by_action.get(action.id) if action.id else None
        if obligation is None:
            obligation = Obligation(case=case, action=action, starts_at=action.created_at or now, due_at=due)
            session.add(obligation)
        else:
            obligation.due_at = due
        if action.status == ActionStatus.CANCELLED:
            obligation.status, obligation.met_at = ObligationStatus.CANCELLED, None
        else:
            done_at = (action.completed_at or now) if action.status == ActionStatus.DONE else None
            _settle(obligation, done_at, ended, now)
        result.append(obligation)
    return result


def resync_open_cases(session: Session, tz: ZoneInfo, now: datetime, batch: int = 500) -> int:
    """After a rule changes: recompute every open case, a batch at a time (memory stays bounded)."""
    from kia.cases.models import OPEN_STATES

    last_id, count = 0, 0
    while True:
        cases = session.scalars(select(Case).where(Case.state.in_(OPEN_STATES), Case.id > last_id)
                                .order_by(Case.id).limit(batch)).all()
        if not cases:
            return count
        for case in cases:
            sync_obligations(session, case, tz, now)
        last_id = cases[-1].id
        count += len(cases)
        session.commit()
        session.expunge_all()
