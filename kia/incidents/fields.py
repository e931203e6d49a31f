"""Validate an incident's type-specific values against the type's field definitions."""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kia.errors import N_, FieldErrors
from kia.incidents.models import FieldKind, IncidentTypeField

MAX_TEXT_LENGTH = 2000


def _finite(number: int | float) -> bool:
    # A whole number is finite however long (math.isfinite would turn it into a float, and overflow past 1e308).
    return isinstance(number, int) or math.isfinite(number)


def parse_datetime(raw: Any, tz: ZoneInfo) -> datetime:
    """ISO 8601; a value without offset is local time in `tz`. Raises ValueError."""
    if not isinstance(raw, str):
        raise ValueError(raw)
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _check_value(field: IncidentTypeField, raw: Any, path: str, errors: FieldErrors, tz: ZoneInfo) -> Any:
    kind = field.kind
    if kind == FieldKind.TEXT:
        if not isinstance(raw, str):
            errors.add(path, N_("Must be text."))
        elif len(raw) > MAX_TEXT_LENGTH:
            errors.add(path, N_("At most %(n)s characters."), n=MAX_TEXT_LENGTH)
        else:
            return raw.strip()
    elif kind == FieldKind.NUMBER:
        # NaN and infinity are numbers to Python (and its JSON reader), but no JSON text can hold them: PostgreSQL
        # refuses them in a JSONB column, and an answer with them is no JSON.
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not _finite(raw):
            errors.add(path, N_("Must be a number."))
        else:
            return raw
    elif kind == FieldKind.BOOLEAN:
        if not isinstance(raw, bool):
            errors.add(path, N_("Must be true or false."))
        else:
            return raw
    elif kind == FieldKind.DATE:
        try:
            if not isinstance(raw, str):
                raise ValueError(raw)
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            errors.add(path, N_("Must be a date (YYYY-MM-DD)."))
    elif kind == FieldKind.DATETIME:
        try:
            return parse_datetime(raw, tz).isoformat()
        except ValueError:
            errors.add(path, N_("Must be a date and time (YYYY-MM-DDTHH:MM)."))
    elif kind == FieldKind.CHOICE:
        if raw not in field.choice_values:
            errors.add(path, N_("Not one of the choices: %(choices)s."), choices=", ".join(field.choice_values))
        else:
            return raw
    elif kind == FieldKind.MULTICHOICE:
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            errors.add(path, N_("Must be a list of choices."))
        elif any(v not in field.choice_values for v in raw):
            errors.add(path, N_("Not one of the choices: %(choices)s."), choices=", ".join(field.choice_values))
        elif len(set(raw)) != len(raw):
            errors.add(path, N_("A choice is given twice."))
        else:
            return raw
    return None


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def validate_field_values(definitions: list[IncidentTypeField], values: dict[str, Any],
                          errors: FieldErrors, tz: ZoneInfo, prefix: str = "fields") -> dict[str, Any]:
    """Return the cleaned values; add a message per bad field to `errors`. A retired field takes no new value
    (a report must leave it out); the values older reports hold under its key are not checked here."""
    by_key = {d.key: d for d in definitions}
    for key in values:
        if key not in by_key:
            errors.add(f"{prefix}.{key}", N_("Unknown field for this event type."))
        elif by_key[key].retired:
            errors.add(f"{prefix}.{key}", N_("This field is no longer in use: leave it out of new reports."))
    cleaned: dict[str, Any] = {}
    for definition in definitions:
        if definition.retired:
            continue
        path = f"{prefix}.{definition.key}"
        raw = values.get(definition.key)
        if _is_empty(raw):
            if definition.required:
                errors.add(path, N_("This field is required."))
            continue
        value = _check_value(definition, raw, path, errors, tz)
        if value is not None:
            cleaned[definition.key] = value
    return cleaned
