"""The report form as typed: read from the request, turned into an IncidentInput, errors placed at their fields.

Inputs are named by the domain's field paths ("fields.weapon", "persons[0].name"), so an error path from
kia.errors.ValidationFailed names the input it belongs to; its element id is the path made id-safe.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from kia.cases.serious import CHECKLIST
from kia.errors import N_, Msg
from kia.incidents.models import FieldKind, Gender, IncidentType, PersonCategory, PersonRole
from kia.incidents.services import IncidentInput, PersonInput
from web.form_rows import apply_row_button, read_rows

PERSON_TEXTS = ("name", "class_name", "personal_number")
PERSON_CHOICES = {"role": PersonRole, "category": PersonCategory, "gender": Gender}
MAX_PERSONS = 40
TEXTS = ("location", "description", "occurred_at.date", "occurred_at.time", "known_at.date", "known_at.time",
         "latitude", "longitude")


def dom_id(path: str) -> str:
    """"persons[0].name" → "persons-0-name": a valid, stable element id for a field path."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


@dataclass
class ReportForm:
    """Everything typed into the form, kept as strings so a re-rendered form shows it exactly."""

    type: str = ""
    org_unit: str = ""
    values: dict[str, str] = field(default_factory=dict)
    persons: list[dict[str, str]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    serious: dict[str, Any] = field(default_factory=dict)
    anonymous: bool = False
    idempotency_key: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def blank(cls, type_code: str, unit_code: str) -> "ReportForm":
        return cls(type=type_code, org_unit=unit_code, persons=[{}], idempotency_key=secrets.token_urlsafe(16))

    @classmethod
    def read(cls, form: MultiDict, incident_type: IncidentType) -> "ReportForm":
        persons = read_rows(form, "persons", (*PERSON_CHOICES, *PERSON_TEXTS), MAX_PERSONS)
        fields = typed_fields(form, incident_type)
        serious = {q: (form.getlist(f"serious.{q}") if kinds else form.get(f"serious.{q}") == "yes")
                   for q, kinds in CHECKLIST.items()}
        return cls(type=incident_type.code, org_unit=form.get("org_unit", ""),
                   values={key: form.get(key, "") for key in TEXTS}, persons=persons, fields=fields,
                   serious=serious, anonymous=form.get("anonymous") == "yes",
                   idempotency_key=form.get("idempotency_key", "")[:100])

    def apply_row_button(self, action: str) -> bool:
        """"Add a person" and "Remove" (web.form_rows); True when it was one of them (shown again, not filed)."""
        return apply_row_button(self.persons, action, "person", MAX_PERSONS)

    def incident_input(self, incident_type: IncidentType, tz: ZoneInfo, now: datetime
                       ) -> tuple[IncidentInput, dict[str, list[Msg]]]:
        """The input for the domain, and the problems only the form can see (a date that is no date, a person's
        role left unchosen). Where those are, harmless stand-ins keep the domain's other checks meaningful."""
        problems: dict[str, list[Msg]] = {}
        known_at = _when(self.values, "known_at", tz, problems, required=False)
        occurred_at = _when(self.values, "occurred_at", tz, problems, required=True)
        if occurred_at is None:
            occurred_at = known_at or now.astimezone(tz)
        persons = []
        for index, person in enumerate(self.persons):
            chosen = {}
            for key, enum in PERSON_CHOICES.items():
                if person.get(key) in {e.value for e in enum}:
                    chosen[key] = person[key]
                else:
                    problems[f"persons[{index}].{key}"] = [Msg(N_("Choose one."))]
                    chosen[key] = {"role": "witness", "category": "unknown", "gender": "unknown"}[key]
            persons.append(PersonInput(**chosen, **{key: person.get(key) or None for key in PERSON_TEXTS}))
        data = IncidentInput(type=self.type, org_unit=self.org_unit, occurred_at=occurred_at, known_at=known_at,
                             description=self.values.get("description", ""),
                             location=self.values.get("location", ""), persons=persons,
                             fields=field_values(incident_type, self.fields), anonymous=self.anonymous,
                             latitude=degrees(self.values.get("latitude", "")),
                             longitude=degrees(self.values.get("longitude", "")))
        return data, problems

    def show_errors(self, errors: dict[str, list[Msg]], gettext) -> None:
        self.errors = {path: [m.render(gettext) for m in messages] for path, messages in errors.items()}

    def serious_answers(self) -> dict[str, Any]:
        return dict(self.serious)

    def serious_positive(self) -> bool:
        return any(bool(v) for v in self.serious.values())


def degrees(text: str) -> float | str | None:
    """A typed number of degrees ("59,3293" with the Swedish comma too); '' is None, anything else goes as typed
    for the domain to refuse (kia.geo.checked_point)."""
    text = (text or "").strip().replace(",", ".").replace("\u2212", "-")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _when(values: dict[str, str], name: str, tz: ZoneInfo, problems: dict[str, list[Msg]],
          required: bool) -> datetime | None:
    """A date input and a time input, read as local time; the time may be left out (the day is known)."""
    day, clock = values.get(f"{name}.date", "").strip(), values.get(f"{name}.time", "").strip()
    if not day and not clock:
        if required:
            problems[name] = [Msg(N_("Give the date (and the time if you know it)."))]
        return None
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock) if clock else time(0), tzinfo=tz)
    except ValueError:
        problems[name] = [Msg(N_("Give a date as YYYY-MM-DD and a time as HH:MM."))]
        return None


def typed_fields(form: MultiDict, incident_type: IncidentType) -> dict[str, Any]:
    """The type's own fields as typed ("fields.weapon"): strings, a list for a multiple choice."""
    return {d.key: (form.getlist(f"fields.{d.key}") if d.kind == FieldKind.MULTICHOICE
                    else form.get(f"fields.{d.key}", "")) for d in incident_type.current_fields}


def field_values(incident_type: IncidentType, typed: dict[str, Any]) -> dict[str, Any]:
    """Typed strings as the domain's values; what cannot be converted goes as typed, and the domain says why."""
    values: dict[str, Any] = {}
    for definition in incident_type.current_fields:
        raw = typed.get(definition.key)
        if raw in ("", [], None):
            continue
        if definition.kind == FieldKind.NUMBER:
            raw = _number(raw)
        elif definition.kind == FieldKind.BOOLEAN:
            raw = {"true": True, "false": False}.get(raw, raw)
        values[definition.key] = raw
    return values


def _number(raw: str) -> int | float | str:
    text = raw.strip().replace(",", ".").replace("\u2212", "-")   # Swedish decimal comma
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return raw
