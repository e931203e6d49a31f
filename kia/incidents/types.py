"""Event types as data: an admin adds a type with its own fields, without code."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.errors import N_, FieldErrors, Forbidden, Msg
from kia.incidents.models import Category, FieldKind, IncidentType, IncidentTypeField

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHOICE_KINDS = {FieldKind.CHOICE, FieldKind.MULTICHOICE}


def list_types(session: Session, include_inactive: bool = True) -> list[IncidentType]:
    query = select(IncidentType).order_by(IncidentType.category, IncidentType.code)
    if not include_inactive:
        query = query.where(IncidentType.active.is_(True))
    return list(session.scalars(query))


def _check_choices(choices: Any, path: str, errors: FieldErrors) -> list[dict[str, str]]:
    if not isinstance(choices, list) or not choices:
        errors.add(path, N_("A choice field needs at least one choice."))
        return []
    cleaned, seen = [], set()
    for index, choice in enumerate(choices):
        value = choice.get("value") if isinstance(choice, dict) else None
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            errors.add(f"{path}[{index}].value", N_("A value is lower-case letters, digits and _."))
            continue
        if value in seen:
            errors.add(f"{path}[{index}].value", N_("A choice is given twice."))
        seen.add(value)
        labels = {lang: str(choice.get(lang) or "").strip() for lang in ("sv", "en")}
        for lang, label in labels.items():
            if not label:
                errors.add(f"{path}[{index}].{lang}", N_("A label is required."))
        cleaned.append({"value": value, **labels})
    return cleaned


def _check_fields(specs: list[dict[str, Any]], errors: FieldErrors) -> list[IncidentTypeField]:
    fields, keys = [], set()
    for index, spec in enumerate(specs):
        path = f"fields[{index}]"
        key = spec.get("key") or ""
        if not KEY_PATTERN.match(key):
            errors.add(f"{path}.key", N_("A key is lower-case letters, digits and _, at most 40."))
        elif key in keys:
            errors.add(f"{path}.key", N_("The key is used twice."))
        keys.add(key)
        try:
            kind = FieldKind(spec.get("type"))
        except ValueError:
            errors.add(f"{path}.type", N_("Unknown field type."))
            continue
        labels = spec.get("label") or {}
        for lang in ("sv", "en"):
            if not str(labels.get(lang) or "").strip():
                errors.add(f"{path}.label.{lang}", N_("A label is required."))
        choices = _check_choices(spec.get("choices"), f"{path}.choices", errors) if kind in CHOICE_KINDS else []
        fields.append(IncidentTypeField(
            key=key, kind=kind, position=index, label_sv=str(labels.get("sv", "")).strip(),
            label_en=str(labels.get("en", "")).strip(), required=bool(spec.get("required")),
            sensitive=bool(spec.get("sensitive")), choices=choices,
        ))
    return fields


def create_incident_type(session: Session, actor: Actor, spec: dict[str, Any]) -> IncidentType:
    """Add an event type from a specification shaped like the API's (code, name{sv,en}, category, fields[…])."""
    if not actor.is_config_admin():
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation may add event types.")))
    errors = FieldErrors()
    code = spec.get("code") or ""
    if not KEY_PATTERN.match(code):
        errors.add("code", N_("A code is lower-case letters, digits and _, at most 40."))
    elif session.scalar(select(IncidentType.id).where(IncidentType.code == code)) is not None:
        errors.add("code", N_("The code is already in use."))
    names = spec.get("name") or {}
    for lang in ("sv", "en"):
        if not str(names.get(lang) or "").strip():
            errors.add(f"name.{lang}", N_("A name is required."))
    try:
        category = Category(spec.get("category"))
    except ValueError:
        errors.add("category", N_("Unknown category."))
        category = None
    fields = _check_fields(spec.get("fields") or [], errors)
    errors.raise_if_any()
    help_texts = spec.get("help") or {}
    incident_type = IncidentType(
        code=code, name_sv=names["sv"].strip(), name_en=names["en"].strip(), category=category,
        help_sv=str(help_texts.get("sv", "")).strip(), help_en=str(help_texts.get("en", "")).strip(),
        active=spec.get("active", True), confidential=bool(spec.get("confidential")),
        case_per_affected_pupil=bool(spec.get("case_per_affected_pupil")),
        allows_anonymous=bool(spec.get("allows_anonymous")), fields=fields,
    )
    session.add(incident_type)
    session.commit()
    return incident_type
