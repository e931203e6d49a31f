"""Changing an event type after it exists, as far as is safe for the incidents stored under it.

Texts, whether the type can be reported (and anonymously), its fields' labels and flags, new choices and new
fields may change, and a field may be retired. Nothing is deleted and no key, kind or choice value changes:
stored incidents hold their values by field key and choice value, and would lose their meaning.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.models import Case
from kia.deadlines.models import DeadlineRule, DeadlineStart
from kia.errors import N_, FieldErrors, NotFound
from kia.incidents.models import Category, Incident, IncidentType, IncidentTypeField
from kia.incidents.types import (
    CHOICE_KINDS, HELP_LENGTH, LABEL_LENGTH, LABEL_REQUIRED, NAME_LENGTH, check_choices, check_choices_of,
    TYPE_FLAGS, check_fields, check_flags, check_texts,
)

MAY_REVIEW = N_("Only an administrator of the whole organisation may review event types.")
MAY_CHANGE = N_("Only an administrator of the whole organisation may change event types.")
# Settings that stay as they are once reports of the type exist, since they decided something about each of
# them that a change would rewrite after the fact:
# - confidential decides who may read the stored cases (kia.access): switched off, pupils' kränkning cases
#   (OSL 23 kap.) would open to skyddsombud and säkerhetssamordnare; switched on, people who were told of a
#   case, and may be working on it, would lose it.
# - case_per_affected_pupil decided how many cases each stored report yielded; the reports would no longer
#   have the cases their type says they have (and related cases are added by it).
# - category places past reports in the tertial statistics and under the deadline and routing rules of their
#   category: changed, last year's figures and running deadlines would change with it.
FIXED_ONCE_REPORTED = {
    "confidential": N_("Whether the type is confidential cannot change once reports of it exist: it decides "
                       "who may read them."),
    "case_per_affected_pupil": N_("This cannot change once reports of the type exist: it decided how many "
                                  "cases each of them has."),
    "category": N_("The category cannot change once reports of the type exist: it places them in the "
                   "statistics and under the rules of their category."),
}
FIELD_FLAGS = ("required", "sensitive", "retired")


def get_incident_type(session: Session, actor: Actor, code: str) -> IncidentType:
    actor.require_config_admin(MAY_REVIEW)
    incident_type = session.scalar(select(IncidentType).where(IncidentType.code == code))
    if incident_type is None:
        raise NotFound(N_("No such event type."))
    return incident_type


def incident_type_in_use(session: Session, incident_type: IncidentType) -> bool:
    """Whether incidents or cases of the type are stored (a related case may be of another type than its
    incident, and holds the values of its own type's fields)."""
    return bool(session.scalar(select(
        exists().where(Incident.incident_type_id == incident_type.id)
        | exists().where(Case.incident_type_id == incident_type.id))))


def change_incident_type(session: Session, actor: Actor, code: str, changes: dict[str, Any]) -> IncidentType:
    """Change the keys given, as the API's PATCH: name, help ({sv, en}, either language alone), active,
    allows_anonymous, and while no reports exist category, confidential and case_per_affected_pupil;
    fields (each by its key: label, required, sensitive, retired, and choices as the whole list, which keeps
    every value there is) and new_fields (as when a type is added). Every error at once, at its path."""
    actor.require_config_admin(MAY_CHANGE)
    # Locked (and read afresh): two admins changing one type at once take turns, the second on the first's result.
    incident_type = session.scalar(select(IncidentType).where(IncidentType.code == code).with_for_update()
                                   .execution_options(populate_existing=True))
    if incident_type is None:
        raise NotFound(N_("No such event type."))
    errors = FieldErrors()
    in_use = incident_type_in_use(session, incident_type)
    values = _type_values(incident_type, changes, in_use, errors)
    updates = [(field, _field_values(session, incident_type, field, spec, f"fields[{index}]", in_use, errors))
               for index, spec, field in _named_fields(incident_type, changes.get("fields") or [], errors)]
    added = check_fields(changes.get("new_fields") or [], errors, prefix="new_fields",
                         taken=frozenset(f.key for f in incident_type.fields),
                         first_position=max((f.position for f in incident_type.fields), default=-1) + 1)
    if errors:
        session.rollback()   # and with it the lock
        errors.raise_if_any()
    for target, attributes in [(incident_type, values), *updates]:
        for name, value in attributes.items():
            setattr(target, name, value)
    incident_type.fields.extend(added)
    session.commit()
    return incident_type


def _type_values(incident_type: IncidentType, changes: dict[str, Any], in_use: bool,
                 errors: FieldErrors) -> dict[str, Any]:
    values: dict[str, Any] = check_flags(changes, tuple(TYPE_FLAGS), errors)
    if "category" in changes:
        values["category"] = errors.convert("category", Category, changes["category"], N_("Unknown category."))
    for name, length, required in (("name", NAME_LENGTH, N_("A name is required.")), ("help", HELP_LENGTH, None)):
        if name in changes:
            current = {"sv": getattr(incident_type, f"{name}_sv"), "en": getattr(incident_type, f"{name}_en")}
            texts = check_texts(changes[name], name, errors, length, required, current)
            values.update({f"{name}_sv": texts["sv"], f"{name}_en": texts["en"]})
    if in_use:
        for name, message in FIXED_ONCE_REPORTED.items():
            if name in values and values[name] is not None and values[name] != getattr(incident_type, name):
                errors.add(name, message)
    return values


def _named_fields(incident_type: IncidentType, specs: list[dict[str, Any]], errors: FieldErrors):
    """(index, spec, field) for each change naming a field of the type by its key; the others are errors."""
    by_key = {f.key: f for f in incident_type.fields}
    seen = set()
    for index, spec in enumerate(specs):
        key = spec.get("key")
        if key not in by_key:
            errors.add(f"fields[{index}].key", N_("The event type has no field %(key)s (new ones go under "
                                                  "new_fields)."), key=key)
        elif key in seen:
            errors.add(f"fields[{index}].key", N_("The key is used twice."))
        else:
            seen.add(key)
            yield index, spec, by_key[key]


def _field_values(session: Session, incident_type: IncidentType, field: IncidentTypeField, spec: dict[str, Any],
                  path: str, in_use: bool, errors: FieldErrors) -> dict[str, Any]:
    values: dict[str, Any] = check_flags(spec, FIELD_FLAGS, errors, path=f"{path}.")
    if "type" in spec and spec["type"] != field.kind:
        errors.add(f"{path}.type", N_("A field's kind cannot change: stored reports hold values of its kind."))
    if "label" in spec:
        labels = check_texts(spec["label"], f"{path}.label", errors, LABEL_LENGTH, LABEL_REQUIRED,
                             {"sv": field.label_sv, "en": field.label_en})
        values.update(label_sv=labels["sv"], label_en=labels["en"])
    # Those who could not read a sensitive value must not read the values given before as sensitive.
    if in_use and field.sensitive and values.get("sensitive") is False:
        errors.add(f"{path}.sensitive", N_("The field stays sensitive: reports of the type hold values given as "
                                           "sensitive."))
    if values.get("retired") and not field.retired:
        rules = _deadline_rules_starting_at(session, incident_type, field.key)
        if rules:
            errors.add(f"{path}.retired", N_("A deadline rule counts from this field (%(rules)s): change the rule "
                                             "first, or new reports' deadlines would count from when the school "
                                             "learned of the event."), rules=", ".join(rules))
    if "choices" in spec:
        values["choices"] = _choices(field, spec["choices"], f"{path}.choices", errors)
    return values


def _choices(field: IncidentTypeField, given: Any, path: str, errors: FieldErrors) -> list[dict[str, str]]:
    """The whole new list: labels may change and values be added, but no value there is may go, since stored
    reports may hold it (and would then hold a value the type does not explain)."""
    if field.kind not in CHOICE_KINDS:
        return check_choices_of(field.kind, given, path, errors)
    choices = check_choices(given, path, errors)
    kept = {c["value"] for c in choices}
    missing = [value for value in field.choice_values if value not in kept]
    # A value typed wrong is already named at its place: that it is then "missing" would only confuse.
    if missing and not any(p.startswith(path) for p in errors.errors):
        errors.add(path, N_("A choice cannot be removed, since stored reports may hold it: %(values)s."),
                   values=", ".join(missing))
    return choices


def _deadline_rules_starting_at(session: Session, incident_type: IncidentType, key: str) -> list[str]:
    """The active deadline rules for this type (by type, its category or every type) that start at the field."""
    applies = or_(DeadlineRule.incident_type_id == incident_type.id,
                  and_(DeadlineRule.incident_type_id.is_(None),
                       or_(DeadlineRule.category.is_(None), DeadlineRule.category == incident_type.category)))
    return list(session.scalars(select(DeadlineRule.code).where(
        DeadlineRule.active.is_(True), DeadlineRule.start == DeadlineStart.FIELD, DeadlineRule.start_field == key,
        applies).order_by(DeadlineRule.code)))
