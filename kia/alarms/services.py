"""Raising, receiving, answering and ending alarms. Each service owns its transaction: it writes the change, the
event pushed to connected clients (AlarmEvent) and the outbox rows in one commit, and publishes the event on the
broker only after that commit (a crash in between loses nothing: reconnecting clients read it from the database).

Ending a non-drill alarm files a KIA event of the alarm type's event type on the alarm's unit (kia.incidents), so a
case opens, is routed and its deadlines run; a drill is marked everywhere and files nothing."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kia import ratelimit
from kia.access import Actor
from kia.access.alarms import alarm_visibility, audience_of, may_end, may_raise_on, receiver_ids_query
from kia.alarms.broker import Broker
from kia.alarms.models import (
    Alarm, AlarmEvent, AlarmMessage, AlarmSubscription, AlarmType, ChecklistTick, RollCallAnswer, RollCallStatus,
)
from kia.alarms.record import event_record
from kia.alarms.stream import sse
from kia.alarms.fanout import queue_alarm_notices
from kia.db import utcnow
from kia.errors import N_, Conflict, DomainError, FieldErrors, Forbidden, Msg, NotFound
from kia.orgs.models import OrgUnit, User

log = logging.getLogger(__name__)

# A second alarm of the same type on the same unit within this time joins the first (two staff pressing at once).
JOIN_WITHIN = timedelta(seconds=60)
# At most this many alarms raised by one user in the window (a stuck button, a script).
RAISES_PER_USER, RAISE_WINDOW = 5, timedelta(minutes=10)
MAX_MESSAGE_LENGTH = 2000
# How long a raise may take between its commit and queueing its deliveries before the scheduler does it instead.
NOTICES_GRACE = timedelta(seconds=30)
MAX_LOCATION_LENGTH, MAX_TEXT_LENGTH = 200, 1000


class AlarmAlreadyRaised(Conflict):
    """An open alarm of this type was raised on this unit less than a minute ago: the caller joins it (`alarm`)."""

    def __init__(self, alarm: Alarm):
        super().__init__(Msg(N_("This alarm was already raised for this unit a moment ago: you have joined it.")))
        self.alarm = alarm


class AlarmRateLimited(DomainError):
    status = 429
    title = N_("Too many requests.")

    def __init__(self, retry_after: int):
        super().__init__(Msg(N_("You have raised too many alarms. Call 112 if it is an emergency; try again in "
                                "%(seconds)s seconds."), {"seconds": retry_after}))
        self.retry_after = retry_after


@dataclass
class AlarmInput:
    type: str                  # an alarm type's code: brand, hot, inrymning, utrymning, pdv, …
    org_unit: str              # the unit's code
    silent: bool = False       # only for a type that may be silent: no sound, no banner on the sender's screen
    drill: bool = False        # ÖVNING: marked everywhere, files no event
    confirm: bool = False      # required for a type that needs_confirm (PDV)
    location: str = ""         # place/zone
    message: str = ""          # free text from the sender


@dataclass
class RollCallSummary:
    counts: dict[str, int]              # safe / need_help / not_on_site / unanswered
    answers: list[RollCallAnswer]       # the latest answer of each who answered
    unanswered: list[User]              # receivers who have not answered, by name


# ---- reading ---------------------------------------------------------------------------------------------------


def list_alarm_types(session: Session, include_inactive: bool = False) -> list[AlarmType]:
    """Alarm types in button order (with their checklists and the event type each becomes)."""
    query = select(AlarmType).order_by(AlarmType.position, AlarmType.code)
    if not include_inactive:
        query = query.where(AlarmType.active.is_(True))
    return list(session.scalars(query).unique())


def raisable_units(session: Session, actor: Actor) -> list[OrgUnit]:
    """The active units of kind unit (schools, förskolor) and sites the actor may raise an alarm for, in tree order:
    the start page's choice (most staff have one)."""
    paths = sorted({g.unit_path for g in actor.grants})
    if not paths:
        return []
    units = session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True), OrgUnit.kind.in_(("unit", "site")))
                            .order_by(OrgUnit.path))
    return [u for u in units if u.path.startswith(tuple(paths))]


def get_alarm(session: Session, actor: Actor, alarm_id: int) -> Alarm:
    """The alarm, if the actor reads it (a receiver, or a role over its unit); NotFound otherwise."""
    alarm = session.scalar(select(Alarm).join(OrgUnit, OrgUnit.id == Alarm.org_unit_id)
                           .where(Alarm.id == alarm_id, alarm_visibility(actor, OrgUnit.path)))
    if alarm is None:
        raise NotFound(N_("No such alarm."))
    return alarm


def open_alarms_for(session: Session, actor: Actor) -> list[Alarm]:
    """The open alarms the actor receives (the banner; the start page's fallback without JavaScript), newest first."""
    audience = audience_for(session, actor)
    alarms = session.scalars(select(Alarm).join(OrgUnit, OrgUnit.id == Alarm.org_unit_id)
                             .where(Alarm.ended_at.is_(None), alarm_visibility(actor, OrgUnit.path))
                             .order_by(Alarm.raised_at.desc(), Alarm.id.desc()))
    return [a for a in alarms if audience.receives(a.org_unit.path)]


def list_alarms(session: Session, actor: Actor, include_ended: bool = True, limit: int = 50) -> list[Alarm]:
    """Alarms the actor reads, newest first (open and ended: the record of what happened)."""
    query = (select(Alarm).join(OrgUnit, OrgUnit.id == Alarm.org_unit_id)
             .where(alarm_visibility(actor, OrgUnit.path)).order_by(Alarm.raised_at.desc(), Alarm.id.desc())
             .limit(limit))
    if not include_ended:
        query = query.where(Alarm.ended_at.is_(None))
    return list(session.scalars(query))


def audience_for(session: Session, actor: Actor):
    """Whom a connected client of this actor is pushed alarms for (kia.access.alarms.AlarmAudience)."""
    subscribed = session.scalars(select(OrgUnit.path).join(AlarmSubscription,
                                                           AlarmSubscription.org_unit_id == OrgUnit.id)
                                 .where(AlarmSubscription.user_id == actor.user_id)).all()
    return audience_of(actor, list(subscribed))


def alarm_receivers(session: Session, alarm: Alarm) -> list[User]:
    """The active users who receive the alarm, by name: the roll call's list."""
    ids = session.scalars(receiver_ids_query(alarm.org_unit)).all()
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name, User.id)))


def roll_call_summary(session: Session, alarm: Alarm) -> RollCallSummary:
    """Counts per answer, the answers, and who of the receivers has not answered."""
    answers = list(session.scalars(select(RollCallAnswer).where(RollCallAnswer.alarm_id == alarm.id)
                                   .order_by(RollCallAnswer.answered_at, RollCallAnswer.id)))
    counts = {str(s): 0 for s in RollCallStatus}
    for answer in answers:
        counts[str(answer.status)] += 1
    answered = {a.user_id for a in answers}
    unanswered = [u for u in alarm_receivers(session, alarm) if u.id not in answered]
    counts["unanswered"] = len(unanswered)
    return RollCallSummary(counts, answers, unanswered)


def may_end_alarm(actor: Actor, alarm: Alarm) -> bool:
    """The one who raised it, a rektor (handler) or a safety officer over its unit; and only while it is open."""
    return alarm.is_open and may_end(actor, alarm)


def events_since(session: Session, actor: Actor, last_event_id: int, limit: int = 500) -> list[AlarmEvent]:
    """The pushed events after `last_event_id` (a reconnecting client's Last-Event-ID) on alarms the actor receives,
    oldest first: what it missed while away."""
    audience = audience_for(session, actor)
    rows = session.execute(select(AlarmEvent, OrgUnit.path).join(Alarm, Alarm.id == AlarmEvent.alarm_id)
                           .join(OrgUnit, OrgUnit.id == Alarm.org_unit_id)
                           .where(AlarmEvent.id > last_event_id, alarm_visibility(actor, OrgUnit.path))
                           .order_by(AlarmEvent.id).limit(limit)).all()
    return [event for event, path in rows if audience.receives(path)]


def last_event_id(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(AlarmEvent.id), 0)))


# ---- what is pushed ----------------------------------------------------------------------------------------------


def present_alarm(alarm: Alarm, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The alarm as every pushed event and the API carry it: both languages, so one message serves every reader."""
    kind = alarm.alarm_type
    return {
        "id": alarm.id, "type": kind.code, "type_name": {"sv": kind.name_sv, "en": kind.name_en},
        "instruction": {"sv": kind.instruction_sv, "en": kind.instruction_en},
        "asks_roll_call": kind.asks_roll_call, "org_unit": alarm.org_unit.code, "org_unit_name": alarm.org_unit.name,
        "silent": alarm.silent, "drill": alarm.drill, "location": alarm.location, "message": alarm.message,
        "raised_by": {"id": alarm.raised_by.id, "name": alarm.raised_by.name},
        "raised_at": alarm.raised_at.isoformat(), "ended_at": alarm.ended_at.isoformat() if alarm.ended_at else None,
        "ended_by": ({"id": alarm.ended_by.id, "name": alarm.ended_by.name} if alarm.ended_by else None),
        "incident_id": alarm.incident_id, "roll_call": counts,
    }


def roll_call_counts(session: Session, alarm: Alarm, receiver_ids: list[int] | None = None) -> dict[str, int]:
    """The counts alone (every pushed event carries them): ids and statuses, no user rows loaded."""
    if receiver_ids is None:
        receiver_ids = session.scalars(receiver_ids_query(alarm.org_unit)).all()
    counts = {str(s): 0 for s in RollCallStatus}
    answered = set()
    for user_id, status in session.execute(select(RollCallAnswer.user_id, RollCallAnswer.status)
                                           .where(RollCallAnswer.alarm_id == alarm.id)):
        counts[str(status)] += 1
        answered.add(user_id)
    counts["unanswered"] = len(set(receiver_ids) - answered)
    return counts


def _event(session: Session, alarm: Alarm, kind: str, now: datetime, receiver_ids: list[int] | None = None,
           **extra: Any) -> AlarmEvent:
    event = AlarmEvent(alarm_id=alarm.id, kind=kind, created_at=now,
                       data={"alarm": present_alarm(alarm, roll_call_counts(session, alarm, receiver_ids)), **extra})
    session.add(event)
    return event


def message_of(event: AlarmEvent, unit_path: str) -> dict[str, Any]:
    """The broker message for a committed event (kia.alarms.broker), with its SSE text made once for every
    subscriber of every process."""
    return {"id": event.id, "event": event.kind, "alarm_id": event.alarm_id, "unit_path": unit_path,
            "data": event.data, "sse": sse(event.data, event.kind, event.id)}


def _publish(broker: Broker | None, event: AlarmEvent, alarm: Alarm) -> None:
    if broker is not None:
        broker.publish(message_of(event, alarm.org_unit.path))


def _push(session: Session, broker: Broker | None, alarm: Alarm, kind: str, now: datetime,
          receiver_ids: list[int] | None = None, **extra: Any) -> None:
    """Write the change's pushed event, commit, and only then publish it."""
    event = _event(session, alarm, kind, now, receiver_ids, **extra)
    session.commit()
    _publish(broker, event, alarm)


# ---- changing ----------------------------------------------------------------------------------------------------


def _text(errors: FieldErrors, path: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        errors.add(path, N_("At most %(n)s characters."), n=limit)
    return value


def raise_alarm(session: Session, actor: Actor, data: AlarmInput, broker: Broker | None = None,
                now: datetime | None = None) -> Alarm:
    """Raise an alarm for a unit the actor holds a role over. ValidationFailed: an unknown or inactive type, an
    unknown or closed unit, a unit out of reach, silent for a type that may not be, PDV without confirm.
    AlarmAlreadyRaised (409, `.alarm`): the same type on the same unit within 60 s. AlarmRateLimited (429).
    Queues an e-mail to each receiver and the unit's webhooks, and pushes "alarm.raised"."""
    now = now or utcnow()
    errors = FieldErrors()
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == data.type, AlarmType.active.is_(True)))
    if alarm_type is None:
        errors.add("type", N_("Unknown alarm type: %(code)s."), code=data.type)
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == data.org_unit))
    if unit is None or not may_raise_on(actor, unit):
        errors.add("org_unit", N_("Unknown org unit: %(code)s."), code=data.org_unit)
    elif not unit.active:
        errors.add("org_unit", N_("This unit is closed: no alarm can be raised for it."))
    if alarm_type is not None:
        if data.silent and not alarm_type.may_be_silent:
            errors.add("silent", N_("This alarm type cannot be raised silently."))
        if alarm_type.needs_confirm and not data.confirm:
            errors.add("confirm", N_("Confirm that you are raising this alarm."))
    location = _text(errors, "location", data.location, MAX_LOCATION_LENGTH)
    message = _text(errors, "message", data.message, MAX_TEXT_LENGTH)
    errors.raise_if_any()

    earlier = session.scalar(select(Alarm).where(
        Alarm.org_unit_id == unit.id, Alarm.alarm_type_id == alarm_type.id, Alarm.ended_at.is_(None),
        Alarm.drill.is_(bool(data.drill)), Alarm.raised_at >= now - JOIN_WITHIN).order_by(Alarm.id).limit(1))
    if earlier is not None:
        raise AlarmAlreadyRaised(earlier)
    key = f"alarm:u{actor.user_id}"
    if not ratelimit.hit(session, key, RAISES_PER_USER, RAISE_WINDOW, now, commit=False):
        raise AlarmRateLimited(ratelimit.seconds_until_fewer(session, key, RAISE_WINDOW, now))

    alarm = Alarm(alarm_type=alarm_type, org_unit=unit, raised_by=session.get(User, actor.user_id), raised_at=now,
                  location=location, message=message, silent=bool(data.silent), drill=bool(data.drill))
    session.add(alarm)
    session.flush()
    receiver_ids = session.scalars(receiver_ids_query(unit)).all()
    _push(session, broker, alarm, "alarm.raised", now, receiver_ids=receiver_ids)
    # The connected clients have it; now the e-mails and webhooks (a thousand rows for a large school), in a
    # transaction of their own. Should the process die in between, queue_missed_notices does it.
    queued = _queue_raised_notices(session, alarm, receiver_ids, now)
    # Ids and codes only: who raised it is in the alarm's row.
    log.info("alarm %s raised: %s on %s%s%s, %s deliveries queued", alarm.id, alarm_type.code, unit.code,
             " (drill)" if alarm.drill else "", " (silent)" if alarm.silent else "", queued)
    return alarm


def _queue_raised_notices(session: Session, alarm: Alarm, receiver_ids: list[int], now: datetime) -> int:
    queued = queue_alarm_notices(session, alarm, "alarm", receiver_ids, now)
    alarm.notices_queued_at = now
    session.commit()
    return queued


def queue_missed_notices(session: Session, now: datetime | None = None) -> int:
    """Queue the deliveries of raised alarms a crash left without them (the dedupe keys make a repeat harmless);
    the scheduler runs this before each dispatch. Returns how many alarms it caught up."""
    now = now or utcnow()
    missed = session.scalars(select(Alarm).where(Alarm.notices_queued_at.is_(None),
                                                 Alarm.raised_at < now - NOTICES_GRACE)).all()
    for alarm in missed:
        _queue_raised_notices(session, alarm, session.scalars(receiver_ids_query(alarm.org_unit)).all(), now)
    return len(missed)


def _open_alarm(session: Session, actor: Actor, alarm_id: int) -> Alarm:
    alarm = get_alarm(session, actor, alarm_id)
    if not alarm.is_open:
        raise Conflict(Msg(N_("The alarm has ended.")))
    return alarm


def answer_roll_call(session: Session, actor: Actor, alarm_id: int, status: str, broker: Broker | None = None,
                     now: datetime | None = None) -> RollCallAnswer:
    """The actor's answer (safe / need_help / not_on_site) to an open alarm they read; answering again changes it.
    Pushes "alarm.roll_call" with the new counts."""
    now = now or utcnow()
    errors = FieldErrors()
    answer_status = errors.member("status", RollCallStatus, status)
    if answer_status is None and not errors:
        errors.add("status", N_("Answer safe, need help or not on site."))
    alarm = _open_alarm(session, actor, alarm_id)
    errors.raise_if_any()
    answer = session.scalar(select(RollCallAnswer).where(RollCallAnswer.alarm_id == alarm.id,
                                                         RollCallAnswer.user_id == actor.user_id))
    if answer is None:
        answer = RollCallAnswer(alarm=alarm, user_id=actor.user_id)
        session.add(answer)
    answer.status, answer.answered_at = answer_status, now
    try:
        session.flush()
    except IntegrityError:   # the same user answering twice at once: the other answer stands, this one replaces it
        session.rollback()
        return answer_roll_call(session, actor, alarm_id, status, broker, now)
    user = session.get(User, actor.user_id)
    _push(session, broker, alarm, "alarm.roll_call", now,
          answer={"user": {"id": user.id, "name": user.name}, "status": str(answer_status),
                  "answered_at": now.isoformat()})
    return answer


def post_message(session: Session, actor: Actor, alarm_id: int, body: str, broker: Broker | None = None,
                 now: datetime | None = None) -> AlarmMessage:
    """A chat message on an open alarm the actor reads (text only, kept). Pushes "alarm.message"."""
    now = now or utcnow()
    errors = FieldErrors()
    text = _text(errors, "body", body, MAX_MESSAGE_LENGTH)
    if not text and not errors:
        errors.add("body", N_("Write a message."))
    alarm = _open_alarm(session, actor, alarm_id)
    errors.raise_if_any()
    message = AlarmMessage(alarm=alarm, author=session.get(User, actor.user_id), body=text, created_at=now)
    session.add(message)
    session.flush()
    _push(session, broker, alarm, "alarm.message", now, message=present_message(message))
    return message


def present_message(message: AlarmMessage) -> dict[str, Any]:
    return {"id": message.id, "author": {"id": message.author.id, "name": message.author.name},
            "body": message.body, "created_at": message.created_at.isoformat()}


def tick_checklist(session: Session, actor: Actor, alarm_id: int, item_id: int, broker: Broker | None = None,
                   now: datetime | None = None) -> ChecklistTick:
    """Tick a step of the alarm type's checklist (once; ticking again returns the first tick). Open or ended: the
    after-work goes on after "all clear". Pushes "alarm.checklist"."""
    now = now or utcnow()
    alarm = get_alarm(session, actor, alarm_id)
    item = next((i for i in alarm.alarm_type.checklist if i.id == item_id and i.active), None)
    if item is None:
        raise NotFound(N_("No such checklist item."))
    tick = session.scalar(select(ChecklistTick).where(ChecklistTick.alarm_id == alarm.id,
                                                      ChecklistTick.item_id == item.id))
    if tick is not None:
        return tick
    tick = ChecklistTick(alarm=alarm, item=item, ticked_by=session.get(User, actor.user_id), ticked_at=now)
    session.add(tick)
    session.flush()
    _push(session, broker, alarm, "alarm.checklist", now, tick=present_tick(tick))
    return tick


def present_tick(tick: ChecklistTick) -> dict[str, Any]:
    return {"item_id": tick.item_id, "text": {"sv": tick.item.text_sv, "en": tick.item.text_en},
            "ticked_by": {"id": tick.ticked_by.id, "name": tick.ticked_by.name},
            "ticked_at": tick.ticked_at.isoformat()}


def end_alarm(session: Session, actor: Actor, alarm_id: int, tz: ZoneInfo, broker: Broker | None = None,
              now: datetime | None = None) -> Alarm:
    """"All clear": by the one who raised it, a rektor (handler) or a safety officer over the unit (Forbidden for
    other readers; Conflict when already ended). A non-drill alarm is filed as a KIA event of its type's event type
    (the raiser as reporter, the alarm's times, the roll call and the chat as its record), whose case opens and
    routes. Queues the "all clear" to the receivers and pushes "alarm.ended"."""
    now = now or utcnow()
    alarm = _open_alarm(session, actor, alarm_id)
    if not may_end(actor, alarm):
        raise Forbidden(Msg(N_("Only the one who raised the alarm, a rektor or a safety officer may end it.")))
    alarm.ended_at, alarm.ended_by = now, session.get(User, actor.user_id)
    stored = None
    if not alarm.drill:
        stored = event_record(session, alarm, roll_call_summary(session, alarm), tz, now)
        alarm.incident = stored.incident
    session.flush()
    receiver_ids = session.scalars(receiver_ids_query(alarm.org_unit)).all()
    event = _event(session, alarm, "alarm.ended", now, receiver_ids)
    queue_alarm_notices(session, alarm, "alarm_ended", receiver_ids, now)
    if stored is not None:
        stored.finish(session, now)   # numbers the event last, right before the commit (kia.incidents.services)
    session.commit()
    _publish(broker, event, alarm)
    log.info("alarm %s ended%s", alarm.id, f": filed as incident {alarm.incident_id}" if alarm.incident_id
             else " (drill: no event filed)" if alarm.drill else "")
    return alarm


def subscribe_to_alarms(session: Session, actor: Actor, unit_code: str) -> AlarmSubscription:
    """Receive the alarms of a unit's subtree (a unit above the schools, where the actor holds a role)."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    if unit is None or not actor.holds_role_over(unit):
        raise NotFound(N_("No such org unit."))
    existing = session.scalar(select(AlarmSubscription).where(AlarmSubscription.user_id == actor.user_id,
                                                              AlarmSubscription.org_unit_id == unit.id))
    if existing is not None:
        return existing
    subscription = AlarmSubscription(user_id=actor.user_id, org_unit=unit)
    session.add(subscription)
    session.commit()
    return subscription


def unsubscribe_from_alarms(session: Session, actor: Actor, unit_code: str) -> None:
    subscription = session.scalar(select(AlarmSubscription).join(OrgUnit).where(
        AlarmSubscription.user_id == actor.user_id, OrgUnit.code == unit_code))
    if subscription is not None:
        session.delete(subscription)
        session.commit()


def alarm_subscriptions(session: Session, actor: Actor) -> list[OrgUnit]:
    """The units whose subtree's alarms the actor receives by subscription."""
    return list(session.scalars(select(OrgUnit).join(AlarmSubscription, AlarmSubscription.org_unit_id == OrgUnit.id)
                                .where(AlarmSubscription.user_id == actor.user_id).order_by(OrgUnit.path)))


def set_alarm_subscriptions(session: Session, actor: Actor, unit_codes: list[str]) -> list[OrgUnit]:
    """Receive the alarms of exactly these units' subtrees (each one the actor holds a role over)."""
    errors = FieldErrors()
    units = []
    for index, code in enumerate(dict.fromkeys(unit_codes)):
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if unit is None or not actor.holds_role_over(unit):
            errors.add(f"org_units[{index}]", N_("Unknown org unit: %(code)s."), code=code)
        else:
            units.append(unit)
    errors.raise_if_any()
    wanted = {u.id for u in units}
    current = session.scalars(select(AlarmSubscription).where(AlarmSubscription.user_id == actor.user_id)).all()
    for subscription in current:
        if subscription.org_unit_id not in wanted:
            session.delete(subscription)
    have = {s.org_unit_id for s in current}
    session.add_all(AlarmSubscription(user_id=actor.user_id, org_unit_id=u.id) for u in units if u.id not in have)
    session.commit()
    return sorted(units, key=lambda u: u.path)
