"""Event types as data: an admin adds a type with its own fields, without code (changes: type_changes.py)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.errors import N_, FieldErrors
from kia.incidents.models import Category, FieldKind, IncidentType, IncidentTypeField

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A type's yes/no settings, with what a new type has unless told otherwise.
TYPE_FLAGS = {"active": True, "allows_anonymous": False, "confidential": False, "case_per_affected_pupil": False,
              "concerns_building": False}
CHOICE_KINDS = {FieldKind.CHOICE, FieldKind.MULTICHOICE}
# The columns' lengths (kia.incidents.models); a choice's labels are held to a field label's.
NAME_LENGTH, HELP_LENGTH, LABEL_LENGTH = 120, 300, 200
LABEL_REQUIRED = N_("A label is required.")


def list_types(session: Session, include_inactive: bool = True) -> list[IncidentType]:
    query = select(IncidentType).order_by(IncidentType.category, IncidentType.code)
    if not include_inactive:
        query = query.where(IncidentType.active.is_(True))
    return list(session.scalars(query))


def check_texts(given: Any, path: str, errors: FieldErrors, max_length: int, required: str | None,
                current: dict[str, str] | None = None) -> dict[str, str]:
    """A text in Swedish and English ({"sv": …, "en": …}), stripped. `required`: the message when one is empty
    (None: both may be). For a change, a language not given keeps its `current` text."""
    given = given if isinstance(given, dict) else {}
    texts = {}
    for lang in ("sv", "en"):
        text = str(given.get(lang, (current or {}).get(lang, "")) or "").strip()
        if required and not text:
            errors.add(f"{path}.{lang}", required)
        elif len(text) > max_length:
            errors.add(f"{path}.{lang}", N_("At most %(n)s characters."), n=max_length)
        texts[lang] = text
    return texts


def check_choices(choices: Any, path: str, errors: FieldErrors) -> list[dict[str, str]]:
    if not isinstance(choices, list) or not choices:
        errors.add(path, N_("A choice field needs at least one choice."))
        return []
    cleaned, seen = [], set()
    for index, choice in enumerate(choices):
        choice = choice if isinstance(choice, dict) else {}
        value = choice.get("value")
        valid = isinstance(value, str) and KEY_PATTERN.match(value)
        if not valid:
            errors.add(f"{path}[{index}].value", N_("A value is lower-case letters, digits and _."))
        elif value in seen:
            errors.add(f"{path}[{index}].value", N_("A choice is given twice."))
        labels = check_texts(choice, f"{path}[{index}]", errors, LABEL_LENGTH, LABEL_REQUIRED)
        if valid:
            seen.add(value)
            cleaned.append({"value": value, **labels})
    return cleaned


def check_choices_of(kind: FieldKind, choices: Any, path: str, errors: FieldErrors) -> list[dict[str, str]]:
    """A choice field's choices checked; any other kind has none (and saying some is a mistake worth naming)."""
    if kind in CHOICE_KINDS:
        return check_choices(choices, path, errors)
    if choices:
        errors.add(path, N_("Only a choice field has choices."))
    return []


def check_flags(spec: dict[str, Any], names: tuple[str, ...], errors: FieldErrors, path: str = "") -> dict[str, bool]:
    """The yes/no settings among `names` that the spec gives (a change names only what changes)."""
    flags = {name: errors.yes_no(f"{path}{name}", spec[name]) for name in names if name in spec}
    return {name: flag for name, flag in flags.items() if flag is not None}


def check_fields(specs: list[dict[str, Any]], errors: FieldErrors, prefix: str = "fields",
                 taken: frozenset[str] = frozenset(), first_position: int = 0) -> list[IncidentTypeField]:
    """New field definitions; `taken` are the keys the type has already."""
    fields, keys = [], set()
    for index, spec in enumerate(specs):
        path = f"{prefix}[{index}]"
        key = spec.get("key") or ""
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            errors.add(f"{path}.key", N_("A key is lower-case letters, digits and _, at most 40."))
        elif key in taken:
            errors.add(f"{path}.key", N_("The event type has a field with this key already."))
        elif key in keys:
            errors.add(f"{path}.key", N_("The key is used twice."))
        keys.add(key)
        kind = None
        if not spec.get("type"):
            errors.add(f"{path}.type", N_("Choose the field's kind."))
        else:
            kind = errors.convert(f"{path}.type", FieldKind, spec["type"], N_("Unknown field type."))
        labels = check_texts(spec.get("label"), f"{path}.label", errors, LABEL_LENGTH, LABEL_REQUIRED)
        if kind is None:
            continue
        choices = check_choices_of(kind, spec.get("choices"), f"{path}.choices", errors)
        fields.append(IncidentTypeField(
            key=key, kind=kind, position=first_position + index, label_sv=labels["sv"], label_en=labels["en"],
            required=bool(spec.get("required")), sensitive=bool(spec.get("sensitive")), choices=choices,
        ))
    return fields


def create_incident_type(session: Session, actor: Actor, spec: dict[str, Any]) -> IncidentType:
    """Add an event type from a specification shaped like the API's (code, name{sv,en}, category, fields[…])."""
    actor.require_config_admin(N_("Only an administrator of the whole organisation may add event types."))
    errors = FieldErrors()
    code = spec.get("code") or ""
    if not KEY_PATTERN.match(code):
        errors.add("code", N_("A code is lower-case letters, digits and _, at most 40."))
    elif session.scalar(select(IncidentType.id).where(IncidentType.code == code)) is not None:
        errors.add("code", N_("The code is already in use."))
    names = check_texts(spec.get("name"), "name", errors, NAME_LENGTH, N_("A name is required."))
    help_texts = check_texts(spec.get("help"), "help", errors, HELP_LENGTH, None)
    category = None
    if not spec.get("category"):
        errors.add("category", N_("Choose a category."))
    else:
        category = errors.convert("category", Category, spec["category"], N_("Unknown category."))
    flags = {**TYPE_FLAGS, **check_flags(spec, tuple(TYPE_FLAGS), errors)}
    fields = check_fields(spec.get("fields") or [], errors)
    errors.raise_if_any()
    incident_type = IncidentType(
        code=code, name_sv=names["sv"], name_en=names["en"], category=category, help_sv=help_texts["sv"],
        help_en=help_texts["en"], fields=fields, **flags,
    )
    session.add(incident_type)
    session.commit()
    return incident_type
