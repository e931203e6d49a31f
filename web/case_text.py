"""A case in words for its page: the type's own fields by their labels, the timeline with names and labels where
the database keeps user ids, codes and ISO times. The API gives the stored values; people read these."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import get_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.cases.timeline import AS_REPORTER
from kia.errors import N_
from kia.incidents.models import FieldKind, IncidentType
from kia.orgs.models import User
from web import labels
from web.case_views import case_time, local_name

# The case's own attributes a timeline entry can name (change_field), as the case page calls them.
CASE_FIELDS = {
    "serious": N_("Serious event (AML 3:3a)"), "serious_checklist": N_("Check for a serious event (AML 3:3a)"),
    "investigation": N_("Investigation"), "closing_summary": N_("Summary for the reporter"),
    "decision": N_("Decision"), "open_actions_reason": N_("Why actions were still planned"),
    "rejection_reason": N_("Reason for rejecting"),
}
ACTION_FIELDS = {"what": N_("What"), "responsible": N_("Responsible"), "due_date": N_("Due"),
                 "status": N_("Status"), "follow_up_note": N_("Follow-up")}
STEPS = {"reminder": N_("Reminder sent"), "due": N_("Due: the handler and their manager told"),
         "escalated": N_("Escalated to the safety officers")}
REFERENCE = re.compile(r"^(actions|obligations)\[(\d+)\](?:\.(\w+))?$")


def _language() -> str:
    return str(get_locale())


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _leniently(show):
    """Stored values are history: one of an unexpected shape (a type changed since, an older writer) is shown
    as it is stored rather than failing the whole case page."""
    def shown(*args) -> str:
        try:
            return show(*args)
        except (ValueError, TypeError, KeyError, AttributeError):
            return str(args[-1])
    return shown


@_leniently
def field_value(field, value: Any) -> str:
    """One of an event type's own values as the reader knows it: choices by their label, times local."""
    language = _language()
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTICHOICE):
        names = {c["value"]: c.get(language) or c["value"] for c in field.choices or []}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(names.get(v, v) for v in chosen)
    if field.kind == FieldKind.BOOLEAN:
        return _yes_no(bool(value))
    if field.kind == FieldKind.DATETIME and isinstance(value, str):
        return case_time(datetime.fromisoformat(value))
    if field.kind == FieldKind.DATE and isinstance(value, str):
        return case_time(date.fromisoformat(value))
    return str(value)


def field_rows(incident_type: IncidentType, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for each of the type's fields that has a value, in the form's order."""
    language = _language()
    return [(f.label_en if language == "en" else f.label_sv, field_value(f, values[f.key]))
            for f in incident_type.fields if f.key in values and values[f.key] not in (None, "", [])]


def _checklist(answers: dict[str, Any]) -> str:
    """The questions answered yes, with the kinds that apply."""
    def say(key: str) -> str:
        return _(labels.CHECKLIST.get(key, key))
    parts = [say(q) if v is True else f"{say(q)} {', '.join(say(k) for k in v)}"
             for q, v in answers.items() if v is True or (isinstance(v, list) and v)]
    return "; ".join(parts) or _("every answer no")


def _people_in(entry: dict) -> list:
    """The user ids an entry's values hold: a handler (assignee), someone informed, an action's responsible."""
    field, old, new = entry["field"] or "", entry["old"], entry["new"]
    if field == "assignee" or field.endswith(".responsible"):
        return [old, new]
    if isinstance(new, dict):
        return [new.get("user") if entry["kind"] == "informed" else new.get("responsible")]
    return []


class TimelineText:
    """Words for the entries of one case's timeline; the names of the people they mention are read at once."""

    def __init__(self, session: Session, entries: list[dict], actions: dict[int, Any], obligations: dict[int, Any]):
        ids = {i for e in entries for i in _people_in(e) if isinstance(i, int)}
        self.names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
        self.actions, self.obligations = actions, obligations

    def name(self, user_id) -> str:
        return self.names.get(user_id, _("a user no longer in KIA")) if user_id is not None else ""

    def what(self, entry: dict) -> str:
        """The kind of change, and what it concerns where the kind alone does not say."""
        kind, field = _(labels.TIMELINE.get(entry["kind"], entry["kind"])), entry["field"] or ""
        if entry["kind"] == "field_changed":
            return f"{kind}: {_(CASE_FIELDS[field])}" if field in CASE_FIELDS else f"{kind}: {field}"
        if entry["kind"] == "milestone_recorded":
            return f"{kind}: {_(labels.MILESTONES.get(field, field))}"
        reference = REFERENCE.match(field)
        if entry["kind"] == "action_updated" and reference and int(reference[2]) in self.actions:
            action = self.actions[int(reference[2])]
            detail = f" ({_(ACTION_FIELDS[reference[3]]).lower()})" if reference[3] in ACTION_FIELDS else ""
            return f"{kind}: {action.what}{detail}"
        if entry["kind"] == "escalation":
            obligation = self.obligations.get(int(reference[2])) if reference and reference[1] == "obligations" else None
            return f"{kind}: {self._obligation(obligation) if obligation else field}"   # else an older entry's name
        return kind

    @staticmethod
    def _obligation(obligation) -> str:
        if obligation.rule is not None:
            return local_name(obligation.rule)
        return _("the action %(what)s", what=obligation.action.what)

    def note(self, entry: dict) -> str:
        """The note written with the change; the mark of what the reporter did as the reporter is said by the
        Who column instead."""
        return "" if entry["by_reporter"] and entry["note"] == AS_REPORTER else entry["note"]

    def change(self, entry: dict) -> str:
        """old → new in words."""
        old, new = (self._value(entry, entry[side]) for side in ("old", "new"))
        if old and new:
            return f"{old} → {new}"
        return new or (f"{old} → –" if old else "")

    @_leniently
    def _value(self, entry: dict, value: Any) -> str:
        if value is None:
            return ""
        kind, field = entry["kind"], entry["field"] or ""
        if kind in ("case_created", "state_changed") or field.endswith(".status"):
            return _(labels.STATES.get(value) or labels.ACTION_STATUSES.get(value) or value)
        if field == "assignee" or field.endswith(".responsible"):
            return self.name(value)
        if kind == "informed" and isinstance(value, dict):
            role = labels.ROLES.get(value.get("reason"), value.get("reason"))
            return f"{self.name(value.get('user'))}, {_(role)}"
        if kind == "action_added" and isinstance(value, dict):
            return _("%(what)s – %(who)s, due %(due)s", what=value.get("what", ""),
                     who=self.name(value.get("responsible")), due=case_time(date.fromisoformat(value["due_date"])))
        if kind == "milestone_recorded" and isinstance(value, dict):
            at = case_time(datetime.fromisoformat(value["at"]))
            return f"{at} ({value['reference']})" if value.get("reference") else at
        if kind == "escalation":
            return _(STEPS.get(value, value))
        if field == "fault_report" and isinstance(value, dict):
            status = value.get("status")
            return ", ".join(str(part) for part in (
                value.get("owner"), value.get("place"), value.get("service_request_id"),
                _(labels.OWNER_STATUSES.get(status, status)) if status else None, value.get("status_notes")) if part)
        if field == "legal_hold":
            return _(labels.HOLD_REASONS.get(value, value))
        if field == "serious_checklist" and isinstance(value, dict):
            return _checklist(value)
        if isinstance(value, bool):
            return _yes_no(value)
        if field.endswith(".due_date"):
            return case_time(date.fromisoformat(value))
        return value if isinstance(value, str) else str(value)
