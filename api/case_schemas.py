"""marshmallow schemas of the case API: reading cases and the inbox, transitions, milestones, the serious check."""
from __future__ import annotations

from flask_babel import lazy_gettext
from marshmallow import EXCLUDE, RAISE, Schema, fields, post_load, validate

from api.schemas import Id, IncidentOut, LocalDateTime, Localised, PersonOut, between, max_length, one_of
from kia.cases.milestones import MAX_INVESTIGATION_LENGTH, MilestoneInput
from kia.cases.models import MilestoneKind
from kia.cases.read_log import AccessLogFilter
from kia.cases.services import SORTS, CaseFilter
from kia.cases.workflow import MAX_TEXT_LENGTH, TransitionInput


class CommaSeparated(fields.Field):
    """`state=received,acknowledged` → ["received", "acknowledged"]."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return [part.strip() for part in value.split(",") if part.strip()]

    default_error_messages = {"invalid": lazy_gettext("Not a valid string.")}


def _text(limit: int = MAX_TEXT_LENGTH, **kwargs) -> fields.String:
    return fields.String(load_default="", validate=max_length(limit), **kwargs)


# ---- input --------------------------------------------------------------------------------------

class CaseQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    state = CommaSeparated(load_default=list,
                           metadata={"description": "states, comma-separated; `open` is every open state"})
    type = fields.String()
    org_unit = fields.String(metadata={"description": "org unit code; includes its whole subtree"})
    assigned = fields.String(validate=validate.OneOf(["me"], error=lazy_gettext("Must be one of: {choices}.")))
    serious = fields.Boolean()
    overdue = fields.Boolean()
    sort = fields.String(load_default="due",
                         validate=validate.OneOf(list(SORTS), error=lazy_gettext("Must be one of: {choices}.")))
    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=between(1, 200))

    @post_load
    def make(self, data, **_):
        return CaseFilter(**data)


class TransitionIn(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, metadata={"description": "the target state"})
    comment = _text(metadata={"description": "kept with the state change in the timeline"})
    closing_summary = _text(metadata={"description": "closing: required; the reporter reads it"})
    decision = _text(metadata={"description": "closing: required"})
    open_actions_reason = _text(metadata={"description": "closing with planned actions: required"})
    rejection_reason = _text(metadata={"description": "rejecting: required"})

    @post_load
    def make(self, data, **_):
        return TransitionInput(**data)


class MilestoneIn(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=one_of(MilestoneKind))
    at = fields.DateTime(load_default=None, allow_none=True,
                         metadata={"description": "when it happened; default now; without offset: Stockholm time"})
    reference = fields.String(load_default="", validate=max_length(200),
                              metadata={"description": "e.g. the police K-number or Arbetsmiljöverket's number"})

    @post_load
    def make(self, data, **_):
        return MilestoneInput(**data)


class CasePatchIn(Schema):
    class Meta:
        unknown = RAISE

    investigation = fields.String(required=True, validate=max_length(MAX_INVESTIGATION_LENGTH))


class SeriousCheckIn(Schema):
    class Meta:
        unknown = RAISE

    answers = fields.Dict(keys=fields.String(), required=True, metadata={"description": (
        'every question answered: {"death": false, "serious_injury": ["fracture"], "several_hurt": false, '
        '"serious_near_miss": false, "serious_threat": []}; sub-kinds of serious_injury: fracture, '
        'heavy_bleeding, burn, psychological_shock; of serious_threat: knife, firearm, serious_death_threat')})
    clear_reason = _text(metadata={"description": "required to lift the serious mark when every answer is no"})


class AccessLogQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    case = Id(attribute="case_id")
    user = Id(attribute="user_id")
    cursor = Id(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=100, validate=between(1, 500))

    @post_load
    def make(self, data, **_):
        return AccessLogFilter(**data)


# ---- output -------------------------------------------------------------------------------------

class UserRefOut(Schema):
    id = fields.Integer()
    name = fields.String()


class LegalHoldOut(Schema):
    """The case is held from gallring (kia.retention): nothing of its event is erased while the hold stands."""

    reason = fields.String(metadata={"description": "appeal, police_investigation or open_request"})
    held_at = LocalDateTime()
    held_by = fields.Nested(lambda: UserRefOut(), allow_none=True)


class CaseOut(Schema):
    """A case in a list, or after a change."""

    id = fields.Integer()
    number = fields.String()
    state = fields.String()
    type = fields.String()
    type_name = fields.Nested(Localised)
    org_unit = fields.String()
    org_unit_name = fields.String()
    incident_id = fields.Integer()
    serious = fields.Boolean()
    assignee = fields.Nested(UserRefOut, allow_none=True)
    next_due_at = LocalDateTime(allow_none=True)
    overdue = fields.Boolean()
    closed_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class CasePageOut(Schema):
    items = fields.List(fields.Nested(CaseOut))
    next_cursor = fields.String(allow_none=True)


class MilestoneOut(Schema):
    kind = fields.String()
    at = LocalDateTime()
    reference = fields.String()
    recorded_by = fields.Nested(UserRefOut, allow_none=True)
    recorded_at = LocalDateTime()


class ActionOut(Schema):
    id = fields.Integer()
    what = fields.String()
    responsible = fields.Nested(UserRefOut)
    due_date = fields.Date()
    status = fields.String()
    follow_up_note = fields.String()
    completed_at = LocalDateTime(allow_none=True)


class RelatedCaseOut(Schema):
    id = fields.Integer()
    number = fields.String()
    state = fields.String()
    type = fields.String()
    relation = fields.String(metadata={"description": "same_incident or linked"})


class WatcherOut(Schema):
    user = fields.Nested(UserRefOut)
    reason = fields.String(metadata={"description": "the role that brought them in"})


class CaseIncidentOut(IncidentOut):
    """The incident of a case; its cases are under `related`, limited to those the reader may see."""

    class Meta:
        exclude = ("cases",)


class CaseDetailOut(CaseOut):
    """One case with its incident and everything recorded on it, as the reader may see it."""

    subject = fields.Nested(PersonOut, allow_none=True,
                            metadata={"description": "the affected pupil of a one-case-per-pupil type"})
    investigation = fields.String()
    closing_summary = fields.String()
    decision = fields.String()
    open_actions_reason = fields.String()
    rejection_reason = fields.String()
    serious_check_applies = fields.Boolean()
    serious_checklist = fields.Dict()
    may_handle = fields.Boolean()
    next_states = fields.List(fields.String(), metadata={"description": "transitions open to you now"})
    incident = fields.Nested(CaseIncidentOut)
    milestones = fields.List(fields.Nested(MilestoneOut))
    actions = fields.List(fields.Nested(ActionOut))
    related = fields.List(fields.Nested(RelatedCaseOut))
    watchers = fields.List(fields.Nested(WatcherOut))
    legal_hold = fields.Nested(LegalHoldOut, allow_none=True, metadata={
        "description": "held from gallring, and why; null when not held"})


class SeriousCheckOut(Schema):
    serious = fields.Boolean()
    answers = fields.Dict()


class TimelineEntryOut(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    actor = fields.Nested(UserRefOut, allow_none=True, metadata={
        "description": "null: the system, or the reporter where the reader may not see who reported"})
    by_reporter = fields.Boolean(metadata={"description": "the reporter made this change (named in actor only "
                                                          "for those who may see who reported)"})
    kind = fields.String()
    field = fields.String(allow_none=True, metadata={
        "description": "what the entry concerns: a case attribute (state, assignee, investigation …), a milestone, "
                       "or an item: actions[id], comments[id], attachments[id], obligations[id] (a deadline step)"})
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)
    note = fields.String()


class TimelineOut(Schema):
    items = fields.List(fields.Nested(TimelineEntryOut))


class AccessLogEntryOut(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    case_id = fields.Integer()
    case_number = fields.String()
    user = fields.Nested(UserRefOut)
    action = fields.String()
    detail = fields.String()


class AccessLogPageOut(Schema):
    items = fields.List(fields.Nested(AccessLogEntryOut))
    next_cursor = fields.Integer(allow_none=True)
