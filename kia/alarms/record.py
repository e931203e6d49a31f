"""An ended alarm as a KIA event: of the alarm type's event type, on the alarm's unit, the raiser as reporter, the
alarm's times, and the roll call summary and the chat as its description (the record the after-work starts from)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kia.alarms.models import Alarm
from kia.errors import FieldErrors
from kia.incidents.fields import validate_field_values
from kia.incidents.services import MAX_DESCRIPTION_LENGTH, IncidentInput, StoredReport, ValidatedReport, store_report
from kia.orgs.services import administration_in
from kia.reference import reference_data

ANSWER_NAMES = {"safe": "i säkerhet", "need_help": "behöver hjälp", "not_on_site": "inte på plats"}


def _local(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def describe(alarm: Alarm, summary, tz: ZoneInfo) -> str:
    """The event's description, in Swedish like the rest of the record: the alarm, the roll call, the chat."""
    kind = alarm.alarm_type
    lines = [f"Larm: {kind.name_sv} ({kind.code}), {alarm.org_unit.name}.",
             f"Larmat av {alarm.raised_by.name} {_local(alarm.raised_at, tz)}"
             + (", tyst larm" if alarm.silent else "") + ".",
             f"Avslutat (faran över) av {alarm.ended_by.name} {_local(alarm.ended_at, tz)}."]
    if alarm.location:
        lines.append(f"Plats: {alarm.location}")
    if alarm.message:
        lines.append(f"Meddelande: {alarm.message}")
    counts = summary.counts
    lines += ["", "Upprop: " + ", ".join(f"{ANSWER_NAMES[k]} {counts[k]}" for k in ANSWER_NAMES)
              + f", ej svarat {counts['unanswered']}."]
    lines += [f"- {a.user.name}: {ANSWER_NAMES[str(a.status)]} ({_local(a.answered_at, tz)})" for a in summary.answers]
    if summary.unanswered:
        lines.append("Ej svarat: " + ", ".join(u.name for u in summary.unanswered))
    if alarm.messages:
        lines += ["", "Chatt:"]
        lines += [f"[{_local(m.created_at, tz)}] {m.author.name}: {m.body}" for m in alarm.messages]
    text = "\n".join(lines)
    return text if len(text) <= MAX_DESCRIPTION_LENGTH else text[:MAX_DESCRIPTION_LENGTH - 1] + "…"


def event_record(session: Session, alarm: Alarm, summary, tz: ZoneInfo, now: datetime) -> StoredReport:
    """Store the event (routed, deadlines started) under a provisional number; the caller calls `finish` and
    commits. The type's event_fields are its starting field values; any an admin's later change made invalid are
    left for the handler to fill in."""
    reference = reference_data(session)
    event_type = next(t for t in reference.types.values() if t.id == alarm.alarm_type.event_type_id)
    values = validate_field_values(event_type.fields, dict(alarm.alarm_type.event_fields or {}), FieldErrors(), tz)
    chain = [reference.units[unit_id] for unit_id in alarm.org_unit.ancestor_ids]
    report = ValidatedReport(incident_type=event_type, unit=chain[-1], administration=administration_in(chain),
                             persons=[], values=values, occurred_at=alarm.raised_at, known_at=alarm.raised_at)
    data = IncidentInput(type=event_type.code, org_unit=alarm.org_unit.code, occurred_at=alarm.raised_at,
                         description=describe(alarm, summary, tz), location=alarm.location)
    return store_report(session, report, data, tz, now, alarm.raised_by_id)
