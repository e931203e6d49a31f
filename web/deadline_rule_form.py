"""The deadline rule form: read into the services' spec, written from a rule, its choices, and the services'
error paths placed at its inputs.

The form asks what the spec keeps in pairs as one question each: the time allowed (one number and its unit, for
due_hours or due_working_days) and what meets the rule (a milestone or a state, each with its own select).
"""
from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from kia.deadlines.admin import MEETING_STATES, rule_spec
from kia.deadlines.models import DeadlineRule
from kia.errors import N_, ValidationFailed
from web import labels
from web.admin_forms import form_of, type_options, typed_number
from web.case_views import field_messages

TEXTS = ("code", "name_sv", "name_en", "type", "category", "start", "start_field", "start_milestone")
# The form's inputs from top to bottom.
INPUTS = (*TEXTS[:5], "only_serious", *TEXTS[5:], "due", "due_unit", "met_by", "escalate_after_hours", "active")
DUE_UNITS = {"hours": N_("Hours"), "working_days": N_("Working days (Swedish calendar)")}
MET_BY = {"milestone": N_("A milestone is recorded"), "state": N_("The case reaches a state")}
# The inputs of each question the services' paths belong to.
INPUT_OF = {"due_hours": "due", "due_working_days": "due", "met_by_milestone": "met_by", "met_by_state": "met_by"}
# What the add form starts from: most legal deadlines count from when the school knew, met by a report.
NEW_RULE = {"start": "known_at", "due_unit": "hours", "met_by": "milestone", "escalate_after_hours": "24"}


def spec_of(form: MultiDict, with_code: bool = False, with_active: bool = False) -> dict[str, Any]:
    """The services' spec from what was sent: an empty choice is "any" (or not chosen); numbers go as typed."""
    spec: dict[str, Any] = {key: form.get(key, "").strip() or None for key in TEXTS}
    if not with_code:
        del spec["code"]
    spec["only_serious"] = "only_serious" in form
    due, unit = typed_number(form.get("due", "")), form.get("due_unit")
    spec["due_hours"] = due if unit == "hours" else None
    spec["due_working_days"] = due if unit == "working_days" else None
    met_by = form.get("met_by")
    spec["met_by_milestone"] = (form.get("met_by_milestone") or None) if met_by == "milestone" else None
    spec["met_by_state"] = (form.get("met_by_state") or None) if met_by == "state" else None
    spec["escalate_after_hours"] = typed_number(form.get("escalate_after_hours", ""))
    if with_active:
        spec["active"] = "active" in form
    return spec


def form_from(rule: DeadlineRule) -> dict[str, str]:
    """A rule as its form's inputs."""
    spec = rule_spec(rule)
    hours = spec.pop("due_hours")
    days = spec.pop("due_working_days")
    spec["due_unit"], spec["due"] = ("hours", hours) if hours is not None else ("working_days", days)
    spec["met_by"] = "state" if spec["met_by_state"] else "milestone"
    return form_of(spec)


def errors_of(error: ValidationFailed) -> dict[str, list[str]]:
    """The services' messages at the inputs they belong to, in the reader's language and the form's order
    (the error summary lists them so)."""
    messages: dict[str, list[str]] = {}
    for path, texts in field_messages(error).items():
        messages.setdefault(INPUT_OF.get(path, path), []).extend(texts)
    order = {name: index for index, name in enumerate(INPUTS)}
    return dict(sorted(messages.items(), key=lambda item: order.get(item[0], len(order))))


def choices() -> dict[str, Any]:
    """The options of the form's selects and radio buttons, (value, msgid) except the types (names are data)."""
    return {"types": type_options(), "categories": labels.CATEGORIES.items(), "starts": labels.STARTS.items(),
            "milestones": labels.MILESTONES.items(), "states": [(s, labels.STATES[s]) for s in MEETING_STATES],
            "due_units": DUE_UNITS.items(), "met_by": MET_BY.items()}
