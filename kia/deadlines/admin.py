"""Deadline rules for admins: added, changed, switched off and on – never deleted, since the obligations they
gave are history – or replaced as a whole set (PUT); and the resync that follows. Obligations are read through
the case."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from kia.access import Actor
from kia.cases.models import Case, CaseState, MilestoneKind
from kia.db import utcnow
from kia.deadlines.models import DeadlineRule, DeadlineStart, Obligation
from kia.deadlines.services import STATE_ORDER, resync_open_cases
from kia.errors import N_, FieldErrors, Msg, NotFound
from kia.incidents.models import Category, FieldKind, IncidentType
from kia.incidents.types import KEY_PATTERN

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_NAME_LENGTH = 200
MAX_HOURS = 24 * 366            # a year: beyond that no law or routine asks anything of a case
MAX_WORKING_DAYS = 260          # about a year of Swedish working days
# A state meets a rule once the case has reached it (STATE_ORDER); "received" would be met at once and a
# rejected case ends its obligations, so neither can meet one.
MEETING_STATES = tuple(STATE_ORDER[1:])
DATE_KINDS = (FieldKind.DATE, FieldKind.DATETIME)
# The rule's keys as the API and the services take them; a new rule starts from these.
BLANK = {"code": None, "name_sv": None, "name_en": None, "type": None, "category": None, "only_serious": False,
         "start": None, "start_field": None, "start_milestone": None, "due_hours": None, "due_working_days": None,
         "met_by_milestone": None, "met_by_state": None, "escalate_after_hours": 24, "active": True}
# Keys of which a rule has exactly one (hours or working days; a milestone or a state meets it).
PAIRS = (("due_hours", "due_working_days"), ("met_by_milestone", "met_by_state"))
# Keys of which a change gives one: giving it clears the other (a rule for a type is not also for a category).
EXCLUSIVE = (*PAIRS, ("type", "category"))
MAY_CHANGE = N_("Only an administrator of the whole organisation may change deadline rules.")
MAY_REVIEW = N_("Only an administrator of the whole organisation reviews deadline rules.")


def _all_rules(session: Session) -> list[DeadlineRule]:
    return list(session.scalars(select(DeadlineRule).options(joinedload(DeadlineRule.incident_type),
                                                             joinedload(DeadlineRule.changed_by))
                                .order_by(DeadlineRule.id)))


def list_deadline_rules(session: Session, actor: Actor) -> list[DeadlineRule]:
    actor.require_config_admin(MAY_REVIEW)
    return _all_rules(session)


def get_deadline_rule(session: Session, actor: Actor, rule_id: int) -> DeadlineRule:
    actor.require_config_admin(MAY_REVIEW)
    return _rule(session, rule_id)


def _rule(session: Session, rule_id: int) -> DeadlineRule:
    rule = session.get(DeadlineRule, rule_id)
    if rule is None:
        raise NotFound(Msg(N_("No such deadline rule.")))
    return rule


def case_obligations(session: Session, case: Case) -> list[Obligation]:
    return list(session.scalars(select(Obligation).where(Obligation.case_id == case.id)
                                .order_by(Obligation.due_at)))


def rule_spec(rule: DeadlineRule) -> dict[str, Any]:
    """The rule in the shape the services take (and the API shows): codes and enum values as strings."""
    spec = {key: getattr(rule, key) for key in BLANK if key != "type"}
    spec["type"] = rule.incident_type.code if rule.incident_type else None
    return {key: str(value) if hasattr(value, "value") else value for key, value in spec.items()}


# ---- reading a spec -------------------------------------------------------------------------------

def _name(value: Any, key: str, errors: FieldErrors) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors.add(key, N_("A name is required."))
    elif len(text) > MAX_NAME_LENGTH:
        errors.add(key, N_("At most %(n)s characters."), n=MAX_NAME_LENGTH)
    return text


def _number(value: Any, key: str, high: int, errors: FieldErrors) -> int | None:
    """None stays None (the other of a pair is given); anything else must be a whole number in range."""
    return None if value is None else errors.whole_number(key, value, 0, high)


def _resolve(spec: dict[str, Any], types: dict[str, IncidentType], errors: FieldErrors) -> dict[str, Any]:
    """A whole spec (every key of BLANK) as the rule's attribute values, each wrong value reported at its key."""
    type_code = spec["type"]
    incident_type = types.get(type_code) if isinstance(type_code, str) else None
    if type_code not in (None, "") and incident_type is None:
        errors.add("type", N_("Unknown event type: %(code)s."), code=type_code)
    return {
        "name_sv": _name(spec["name_sv"], "name_sv", errors), "name_en": _name(spec["name_en"], "name_en", errors),
        "incident_type": incident_type, "category": errors.member("category", Category, spec["category"]),
        "only_serious": errors.yes_no("only_serious", spec["only_serious"]),
        "start": errors.member("start", DeadlineStart, spec["start"]),
        "start_field": spec["start_field"] or None,
        "start_milestone": errors.member("start_milestone", MilestoneKind, spec["start_milestone"]),
        "due_hours": _number(spec["due_hours"], "due_hours", MAX_HOURS, errors),
        "due_working_days": _number(spec["due_working_days"], "due_working_days", MAX_WORKING_DAYS, errors),
        "met_by_milestone": errors.member("met_by_milestone", MilestoneKind, spec["met_by_milestone"]),
        "met_by_state": errors.member("met_by_state", CaseState, spec["met_by_state"]),
        "escalate_after_hours": errors.whole_number("escalate_after_hours", spec["escalate_after_hours"], 0,
                                                    MAX_HOURS),
        "active": errors.yes_no("active", spec["active"]),
    }


def _check_start(values: dict[str, Any], errors: FieldErrors) -> None:
    """Only the start chosen keeps its detail: a field key with a field, a milestone with a milestone (a form
    sends both inputs whichever is chosen)."""
    start, field = values["start"], values["start_field"]
    if start != DeadlineStart.FIELD:
        values["start_field"] = None
    elif not field:
        errors.add("start_field", N_("A rule starting at a field names the field."))
    elif not isinstance(field, str) or not KEY_PATTERN.match(field):
        errors.add("start_field", N_("A key is lower-case letters, digits and _, at most 40."))
    elif values["incident_type"] is not None and not any(
            f.key == field and f.kind in DATE_KINDS and not f.retired for f in values["incident_type"].fields):
        # The obligation would silently start when the school knew instead (rule_start's fallback): new reports
        # hold no value in a retired field.
        errors.add("start_field", N_("The event type has no date or time field %(key)s."), key=field)
    if start != DeadlineStart.MILESTONE:
        values["start_milestone"] = None
    elif values["start_milestone"] is None and "start_milestone" not in errors.errors:
        errors.add("start_milestone", N_("A rule starting at a milestone names the milestone."))
    if start is None and "start" not in errors.errors:
        errors.add("start", N_("Choose when the time starts."))


def _check(values: dict[str, Any], errors: FieldErrors) -> None:
    """The rule as a whole: one type or category, a start with its detail, one due time, one thing meeting it."""
    if values["incident_type"] is not None and values["category"] is not None:
        errors.add("category", N_("Give an event type or a category, not both."))
    _check_start(values, errors)
    for (first, second), neither, both in (
            (PAIRS[0], N_("Give the time allowed, in hours or in working days."),
             N_("Give the time allowed in hours or in working days, not both.")),
            (PAIRS[1], N_("Choose the milestone or the state that meets the obligation."),
             N_("A rule is met by one milestone or one state, not both."))):
        if first in errors.errors or second in errors.errors:
            continue
        if values[first] is None and values[second] is None:
            errors.add(first, neither)
        elif values[first] is not None and values[second] is not None:
            errors.add(first, both)
    if values["met_by_state"] is not None and values["met_by_state"] not in MEETING_STATES:
        errors.add("met_by_state", N_("Choose a state the case reaches while it is handled, from acknowledged "
                                      "to closed."))
    if values["met_by_milestone"] is not None and values["met_by_milestone"] == values["start_milestone"]:
        errors.add("met_by_milestone", N_("A rule cannot start and be met by the same milestone."))


def _validated(spec: dict[str, Any], types: dict[str, IncidentType], errors: FieldErrors,
               prefix: str = "") -> dict[str, Any]:
    own = FieldErrors()
    values = _resolve(spec, types, own)
    _check(values, own)
    errors.extend(own, prefix)
    return values


def _types(session: Session) -> dict[str, IncidentType]:
    """Every type with its fields, loaded before any rule is touched (nothing is flushed half-checked)."""
    return {t.code: t for t in session.scalars(select(IncidentType).options(selectinload(IncidentType.fields)))}


def _save(rule: DeadlineRule, values: dict[str, Any], actor: Actor, now: datetime) -> None:
    """Set the values, note who changed the rule, and have the scheduler recompute the open cases."""
    for key, value in values.items():
        setattr(rule, key, value)
    _mark_changed(rule, actor, now)


def _mark_changed(rule: DeadlineRule, actor: Actor, now: datetime) -> None:
    rule.changed_by_id, rule.changed_at, rule.needs_resync = actor.user_id, now, True


def _code(session: Session, code: Any, errors: FieldErrors) -> None:
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        errors.add("code", N_("A unique code of lower-case letters, digits and _ is required."))
    elif session.scalar(select(DeadlineRule.id).where(DeadlineRule.code == code)) is not None:
        errors.add("code", N_("The code is already in use."))


# ---- changes --------------------------------------------------------------------------------------

def add_deadline_rule(session: Session, actor: Actor, spec: dict[str, Any],
                      now: datetime | None = None) -> DeadlineRule:
    """A new rule from a spec with the keys of BLANK (those left out take its values). Open cases get its
    obligation from the scheduler's next sweep."""
    actor.require_config_admin(MAY_CHANGE)
    errors = FieldErrors()
    _code(session, spec.get("code"), errors)
    values = _validated({**BLANK, **spec}, _types(session), errors)
    errors.raise_if_any()
    rule = DeadlineRule(code=spec["code"])
    _save(rule, values, actor, now or utcnow())
    session.add(rule)
    session.commit()
    return rule


def change_deadline_rule(session: Session, actor: Actor, rule_id: int, changes: dict[str, Any],
                         now: datetime | None = None) -> DeadlineRule:
    """Change the keys given; the rest stay. Of a pair that exclude each other (hours or working days, a
    milestone or a state, an event type or a category) giving one clears the other. The code names the rule for
    integrations: it stays. Switching a rule off alone always works, whatever the rest of it says (a rule stored
    before a check came in); anything else, switching it on included, checks the whole rule as it would stand,
    since from then it gives obligations (a field it counts from may have been retired meanwhile)."""
    if changes.keys() == {"active"} and changes["active"] is False:
        return _switch_off(session, actor, rule_id, now)
    actor.require_config_admin(MAY_CHANGE)
    rule = _rule(session, rule_id)
    errors = FieldErrors()
    if changes.get("code", rule.code) != rule.code:
        errors.add("code", N_("The code of a rule cannot be changed."))
    spec = rule_spec(rule)
    for pair in EXCLUSIVE:
        for given, other in (pair, pair[::-1]):
            if given in changes and other not in changes:
                spec[other] = None
    values = _validated({**spec, **changes}, _types(session), errors)
    errors.raise_if_any()
    _save(rule, values, actor, now or utcnow())
    session.commit()
    return rule


def set_deadline_rule_active(session: Session, actor: Actor, rule_id: int, active: bool,
                             now: datetime | None = None) -> DeadlineRule:
    """Switch a rule off (its open obligations are dropped at the next sweep, met ones kept) or on again."""
    return change_deadline_rule(session, actor, rule_id, {"active": active}, now)


def _switch_off(session: Session, actor: Actor, rule_id: int, now: datetime | None) -> DeadlineRule:
    actor.require_config_admin(MAY_CHANGE)
    rule = _rule(session, rule_id)
    if rule.active:
        _save(rule, {"active": False}, actor, now or utcnow())
        session.commit()
    return rule


def replace_rules(session: Session, actor: Actor, specs: list[dict[str, Any]],
                  now: datetime | None = None) -> list[DeadlineRule]:
    """PUT semantics: the list is the whole rule set. Listed rules are created or updated by code (keys a
    listed rule leaves out keep their values); rules left out are switched off, never deleted. Open cases are
    recomputed by the scheduler's next sweep (see resync_if_rules_changed)."""
    actor.require_config_admin(MAY_CHANGE)
    now = now or utcnow()
    errors = FieldErrors()
    existing = {r.code: r for r in _all_rules(session)}
    types = _types(session)
    seen, changes = set(), []
    for index, spec in enumerate(specs):
        code = spec.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.match(code) or code in seen:
            errors.add(f"[{index}].code", N_("A unique code of lower-case letters, digits and _ is required."))
            continue
        seen.add(code)
        rule = existing.get(code)
        before = rule_spec(rule) if rule else {**BLANK, "code": code}
        values = _validated({**before, **spec}, types, errors, f"[{index}].")
        changes.append((rule or DeadlineRule(code=code), before, values))
    errors.raise_if_any()
    for rule, before, values in changes:
        if rule.id is None:
            session.add(rule)
        for key, value in values.items():
            setattr(rule, key, value)
        if rule_spec(rule) != before:   # a rule listed as it was is not marked as changed by this admin
            _mark_changed(rule, actor, now)
    for code, rule in existing.items():
        if code not in seen and rule.active:
            _save(rule, {"active": False}, actor, now)
    session.commit()
    return _all_rules(session)


def resync_if_rules_changed(session: Session, tz: ZoneInfo, now: datetime) -> int:
    """Recompute open cases once after rule changes. The flags are cleared first, in a transaction of
    their own that only one scheduler can win (the UPDATE locks the rows), so two do not both run it."""
    claimed = session.execute(update(DeadlineRule).where(DeadlineRule.needs_resync.is_(True))
                              .values(needs_resync=False).returning(DeadlineRule.id)).all()
    session.commit()
    return resync_open_cases(session, tz, now) if claimed else 0
