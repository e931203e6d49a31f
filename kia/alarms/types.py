"""Alarm types as data: an admin of the whole organisation adds a type, or changes a type's texts, settings, event
type and checklist, without code (as for event types). A checklist step that is taken away is retired, never deleted:
alarms that ticked it keep the tick."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.alarms.models import AlarmChecklistItem, AlarmType
from kia.errors import N_, FieldErrors, NotFound
from kia.incidents.models import IncidentType
from kia.incidents.types import KEY_PATTERN, NAME_LENGTH, check_flags, check_texts

FLAGS = {"active": True, "may_be_silent": False, "asks_roll_call": True, "needs_confirm": False}
INSTRUCTION_LENGTH, STEP_LENGTH = 2000, 300
ONLY_ADMINS = N_("Only an administrator of the whole organisation may change alarm types.")


def _event_type(session: Session, code: Any, errors: FieldErrors) -> IncidentType | None:
    event_type = session.scalar(select(IncidentType).where(IncidentType.code == code)) if code else None
    if event_type is None or not event_type.active:
        errors.add("event_type", N_("Unknown event type: %(code)s."), code=code)
        return None
    if event_type.case_per_affected_pupil:
        # Such an event needs a named pupil for each case; an alarm names nobody.
        errors.add("event_type", N_("An alarm cannot become an event type that needs named pupils."))
        return None
    return event_type


def _event_fields(value: Any, errors: FieldErrors) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("event_fields", N_("Give the field values as an object."))
        return {}
    return value


def _checklist(steps: Any, errors: FieldErrors, current: list[AlarmChecklistItem]) -> list[tuple[int | None, dict]]:
    """[(id of a kept step or None, {"sv", "en"})] in the order given."""
    if not isinstance(steps, list):
        errors.add("checklist", N_("Give the checklist as a list of steps."))
        return []
    known = {item.id for item in current}
    cleaned = []
    for index, step in enumerate(steps):
        step = step if isinstance(step, dict) else {}
        item_id = step.get("id")
        if item_id is not None and item_id not in known:
            errors.add(f"checklist[{index}].id", N_("No such checklist step."))
        texts = check_texts(step.get("text"), f"checklist[{index}].text", errors, STEP_LENGTH,
                            N_("A text is required."))
        cleaned.append((item_id, texts))
    return cleaned


def _apply_checklist(alarm_type: AlarmType, steps: list[tuple[int | None, dict]]) -> None:
    by_id = {item.id: item for item in alarm_type.checklist}
    kept = set()
    for position, (item_id, texts) in enumerate(steps):
        item = by_id.get(item_id) if item_id is not None else None
        if item is None:
            item = AlarmChecklistItem(text_sv=texts["sv"], text_en=texts["en"])
            alarm_type.checklist.append(item)
        item.position, item.text_sv, item.text_en, item.active = position, texts["sv"], texts["en"], True
        kept.add(item_id)
    for item in by_id.values():
        if item.id not in kept:
            item.active = False


def create_alarm_type(session: Session, actor: Actor, spec: dict[str, Any]) -> AlarmType:
    """Add an alarm type from a spec shaped like the API's (code, name, instruction, event_type, flags, checklist)."""
    actor.require_config_admin(ONLY_ADMINS)
    errors = FieldErrors()
    code = spec.get("code") or ""
    if not isinstance(code, str) or not KEY_PATTERN.match(code):
        errors.add("code", N_("A code is lower-case letters, digits and _, at most 40."))
    elif session.scalar(select(AlarmType.id).where(AlarmType.code == code)) is not None:
        errors.add("code", N_("The code is already in use."))
    names = check_texts(spec.get("name"), "name", errors, NAME_LENGTH, N_("A name is required."))
    instruction = check_texts(spec.get("instruction"), "instruction", errors, INSTRUCTION_LENGTH, None)
    event_type = _event_type(session, spec.get("event_type"), errors)
    event_fields = _event_fields(spec.get("event_fields"), errors)
    flags = {**FLAGS, **check_flags(spec, tuple(FLAGS), errors)}
    steps = _checklist(spec.get("checklist") or [], errors, [])
    errors.raise_if_any()
    position = (session.scalar(select(AlarmType.position).order_by(AlarmType.position.desc()).limit(1)) or 0) + 1
    alarm_type = AlarmType(code=code, name_sv=names["sv"], name_en=names["en"], instruction_sv=instruction["sv"],
                           instruction_en=instruction["en"], event_type=event_type, event_fields=event_fields,
                           position=position, **flags)
    _apply_checklist(alarm_type, steps)
    session.add(alarm_type)
    session.commit()
    return alarm_type


def change_alarm_type(session: Session, actor: Actor, code: str, changes: dict[str, Any]) -> AlarmType:
    """Change what `changes` names; a type's code never changes (alarms and drill requirements name it)."""
    actor.require_config_admin(ONLY_ADMINS)
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == code))
    if alarm_type is None:
        raise NotFound(N_("No such alarm type."))
    errors = FieldErrors()
    if "name" in changes:
        names = check_texts(changes["name"], "name", errors, NAME_LENGTH, N_("A name is required."),
                            {"sv": alarm_type.name_sv, "en": alarm_type.name_en})
        alarm_type.name_sv, alarm_type.name_en = names["sv"], names["en"]
    if "instruction" in changes:
        texts = check_texts(changes["instruction"], "instruction", errors, INSTRUCTION_LENGTH, None,
                            {"sv": alarm_type.instruction_sv, "en": alarm_type.instruction_en})
        alarm_type.instruction_sv, alarm_type.instruction_en = texts["sv"], texts["en"]
    if "event_type" in changes:
        event_type = _event_type(session, changes["event_type"], errors)
        if event_type is not None:
            alarm_type.event_type = event_type
    if "event_fields" in changes:
        alarm_type.event_fields = _event_fields(changes["event_fields"], errors)
    for name, flag in check_flags(changes, tuple(FLAGS), errors).items():
        setattr(alarm_type, name, flag)
    if "checklist" in changes:
        steps = _checklist(changes["checklist"], errors, alarm_type.checklist)
        if not errors:
            _apply_checklist(alarm_type, steps)
    if errors:
        session.rollback()
        errors.raise_if_any()
    session.commit()
    return alarm_type
