"""Yearly drills: each unit (a school, a förskola) must hold a drill of an alarm type every `every_months` (brand by
default). The scheduler's daily sweep reminds the rektor 30 days before the drill is overdue, then escalates as the
deadlines do: at the due date the rektor and the rektor's manager, two weeks later the safety officers. Each step is
taken once per requirement and due date (a unique row claims it); holding the drill moves the due date on."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.alarms.builtin import DEFAULT_DRILL_TYPE
from kia.alarms.fanout import unit_rows
from kia.alarms.models import Alarm, AlarmType, DrillReminder, DrillRequirement, DrillStep
from kia.db import utcnow
from kia.errors import N_, FieldErrors, Forbidden, Msg
from kia.orgs.models import OrgKind, OrgUnit, Role
from kia.outbox.models import NotificationKind
from kia.outbox.services import insert_rows
from kia.routing.services import nearest_holders_for_units

REMIND_BEFORE = timedelta(days=30)
ESCALATE_AFTER = timedelta(days=14)
LADDER = (DrillStep.REMINDER, DrillStep.DUE, DrillStep.ESCALATED)
STEP_KIND = {DrillStep.REMINDER: NotificationKind.DRILL_REMINDER, DrillStep.DUE: NotificationKind.DRILL_OVERDUE,
             DrillStep.ESCALATED: NotificationKind.DRILL_ESCALATED}


def add_months(value: datetime, months: int, tz: ZoneInfo) -> datetime:
    """The same local day and time `months` later (the last day of a shorter month)."""
    local = value.astimezone(tz)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    return local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))


def step_time(step: DrillStep, due_at: datetime) -> datetime:
    if step == DrillStep.REMINDER:
        return due_at - REMIND_BEFORE
    return due_at if step == DrillStep.DUE else due_at + ESCALATE_AFTER


def ensure_default_drill_requirements(session: Session, now: datetime | None = None) -> int:
    """A yearly brand drill for every active unit of kind unit that has no requirement of that type; returns how
    many were added (a new school gets its requirement at the next sweep, its first drill due a year on)."""
    now = now or utcnow()
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == DEFAULT_DRILL_TYPE))
    if alarm_type is None:
        return 0
    having = select(DrillRequirement.org_unit_id).where(DrillRequirement.alarm_type_id == alarm_type.id)
    units = session.scalars(select(OrgUnit.id).where(OrgUnit.active.is_(True), OrgUnit.kind == OrgKind.UNIT,
                                                     OrgUnit.id.not_in(having))).all()
    session.add_all(DrillRequirement(org_unit_id=unit_id, alarm_type_id=alarm_type.id, starts_at=now)
                    for unit_id in units)
    session.commit()
    return len(units)


def last_drill_at(session: Session, requirement: DrillRequirement) -> datetime | None:
    return session.scalar(select(func.max(Alarm.raised_at)).where(
        Alarm.org_unit_id == requirement.org_unit_id, Alarm.alarm_type_id == requirement.alarm_type_id,
        Alarm.drill.is_(True)))


def drill_due_at(session: Session, requirement: DrillRequirement, tz: ZoneInfo) -> datetime:
    """When the next drill is due: a period after the last one held, or after the requirement started."""
    since = last_drill_at(session, requirement) or requirement.starts_at
    return add_months(since, requirement.every_months, tz)


@dataclass
class DrillSweep:
    steps: dict[str, int] = field(default_factory=lambda: {str(s): 0 for s in LADDER})
    notifications: int = 0


def _recipients(nearest: dict[int, dict[Role, list[int]]], unit: OrgUnit, step: DrillStep) -> list[int]:
    """The step's people; a unit without a rektor sends its steps to the safety officers, so that no drill is missed
    for want of someone to remind."""
    rektor = nearest.get(unit.id, {}).get(Role.HANDLER, [])
    officers = nearest.get(unit.id, {}).get(Role.SAFETY_OFFICER, [])
    if step == DrillStep.REMINDER:
        return rektor or officers
    if step == DrillStep.DUE:
        manager = nearest.get(unit.parent_id, {}).get(Role.HANDLER, []) if unit.parent_id else []
        return (rektor + [uid for uid in manager if uid not in rektor]) or officers
    return officers


def sweep_drills(session: Session, tz: ZoneInfo, now: datetime | None = None) -> DrillSweep:
    """Take the drill steps due by `now` (the latest one only, when a sweep comes late: a reminder after the due
    date helps nobody) and queue their notifications, in one transaction."""
    now = now or utcnow()
    result = DrillSweep()
    requirements = session.scalars(select(DrillRequirement).join(OrgUnit).where(
        DrillRequirement.active.is_(True), OrgUnit.active.is_(True)).order_by(DrillRequirement.id)).all()
    due = []
    for requirement in requirements:
        due_at = drill_due_at(session, requirement, tz)
        passed = [s for s in LADDER if step_time(s, due_at) <= now]
        if passed:
            due.append((requirement, due_at, passed))
    if not due:
        return result
    taken = {(r, d, str(s)) for r, d, s in session.execute(select(
        DrillReminder.requirement_id, DrillReminder.due_at, DrillReminder.step).where(
        DrillReminder.requirement_id.in_([r.id for r, _, _ in due])))}
    units = {r.org_unit.id: r.org_unit for r, _, _ in due}
    parents = [session.get(OrgUnit, u.parent_id) for u in units.values() if u.parent_id]
    nearest = nearest_holders_for_units(session, list(units.values()) + [p for p in parents if p],
                                        {Role.HANDLER, Role.SAFETY_OFFICER})
    rows = []
    for requirement, due_at, passed in due:
        new = [s for s in passed if (requirement.id, due_at, str(s)) not in taken]
        if not new:
            continue
        session.add_all(DrillReminder(requirement_id=requirement.id, due_at=due_at, step=s, sent_at=now) for s in new)
        step = new[-1]
        result.steps[str(step)] += 1
        unit, alarm_type = requirement.org_unit, requirement.alarm_type
        payload = {"alarm_type": alarm_type.code, "type_name": {"sv": alarm_type.name_sv, "en": alarm_type.name_en},
                   "unit": unit.code, "unit_name": unit.name, "due_at": due_at.isoformat(), "step": str(step)}
        rows += unit_rows(session, STEP_KIND[step], f"drill:{requirement.id}:{due_at.date().isoformat()}:{step}",
                          unit, _recipients(nearest, unit, step), payload, now)
    result.notifications = insert_rows(session, rows)
    session.commit()
    return result


@dataclass
class DrillStatus:
    requirement: DrillRequirement
    last_drill_at: datetime | None
    due_at: datetime


def list_drill_requirements(session: Session, actor: Actor, tz: ZoneInfo) -> list[DrillStatus]:
    """The active requirements of the units the actor holds a role over, each with its last drill and next due date,
    soonest due first."""
    paths = tuple(sorted({g.unit_path for g in actor.grants}))
    if not paths:
        return []
    requirements = session.scalars(select(DrillRequirement).join(OrgUnit).where(
        DrillRequirement.active.is_(True), OrgUnit.active.is_(True),
        or_(*(OrgUnit.path.startswith(p) for p in paths)))).all()
    statuses = []
    for requirement in requirements:
        last = last_drill_at(session, requirement)
        statuses.append(DrillStatus(requirement, last, add_months(last or requirement.starts_at,
                                                                  requirement.every_months, tz)))
    return sorted(statuses, key=lambda s: (s.due_at, s.requirement.id))


SETS_DRILLS = {Role.HANDLER, Role.ADMIN}


def set_drill_requirement(session: Session, actor: Actor, unit_code: str, type_code: str, every_months: int,
                          active: bool = True, now: datetime | None = None) -> DrillRequirement:
    """Require (or no longer require) a drill of an alarm type on a unit every `every_months`: a rektor (handler) or
    an admin over the unit."""
    errors = FieldErrors()
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    if unit is None or not actor.holds_role_over(unit):
        errors.add("org_unit", N_("Unknown org unit: %(code)s."), code=unit_code)
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == type_code))
    if alarm_type is None:
        errors.add("type", N_("Unknown alarm type: %(code)s."), code=type_code)
    errors.whole_number("every_months", every_months, 1, 60)
    errors.raise_if_any()
    if not actor.holds_role_over(unit, SETS_DRILLS):
        raise Forbidden(Msg(N_("Only a rektor or an administrator of the unit may change its drills.")))
    requirement = session.scalar(select(DrillRequirement).where(DrillRequirement.org_unit_id == unit.id,
                                                                DrillRequirement.alarm_type_id == alarm_type.id))
    if requirement is None:
        requirement = DrillRequirement(org_unit=unit, alarm_type=alarm_type, starts_at=now or utcnow())
        session.add(requirement)
    requirement.every_months, requirement.active = every_months, active
    session.commit()
    return requirement
