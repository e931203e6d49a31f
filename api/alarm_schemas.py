"""marshmallow schemas of the alarm API: raising, answering, chatting, alarm types (admin), and what comes back."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, post_load

from api.schemas import Id, Localised, LocalisedChange, max_items, max_length, one_of
from kia.alarms.models import RollCallStatus
from kia.alarms.services import MAX_LOCATION_LENGTH, MAX_MESSAGE_LENGTH, MAX_TEXT_LENGTH, AlarmInput


class Strict(Schema):
    class Meta:
        unknown = RAISE


class AlarmIn(Strict):
    type = fields.String(required=True, metadata={"description": "alarm type code: brand, hot, inrymning, …"})
    org_unit = fields.String(required=True, metadata={"description": "the unit's code"})
    silent = fields.Boolean(load_default=False, metadata={"description": "only for a type that may be silent"})
    drill = fields.Boolean(load_default=False, metadata={"description": "a drill (ÖVNING): files no event"})
    confirm = fields.Boolean(load_default=False, metadata={"description": "required for a type that needs it (PDV)"})
    location = fields.String(load_default="", validate=max_length(MAX_LOCATION_LENGTH))
    message = fields.String(load_default="", validate=max_length(MAX_TEXT_LENGTH))

    @post_load
    def make(self, data, **_kwargs) -> AlarmInput:
        return AlarmInput(**data)


class RollCallIn(Strict):
    status = fields.String(required=True, validate=one_of(RollCallStatus))


class AlarmMessageIn(Strict):
    body = fields.String(required=True, validate=max_length(MAX_MESSAGE_LENGTH))


class ChecklistTickIn(Strict):
    item = Id(required=True, metadata={"description": "the checklist step's id"})


class AlarmSubscriptionsIn(Strict):
    org_units = fields.List(fields.String(), required=True, validate=max_items(100),
                            metadata={"description": "codes of units above the schools whose alarms you receive"})


class AlarmPerson(Schema):
    id = fields.Integer()
    name = fields.String()


class AlarmRollCallCounts(Schema):
    safe = fields.Integer()
    need_help = fields.Integer()
    not_on_site = fields.Integer()
    unanswered = fields.Integer()


class AlarmChecklistStepOut(Schema):
    id = fields.Integer()
    text = fields.Function(lambda i: {"sv": i.text_sv, "en": i.text_en})
    active = fields.Boolean()


class AlarmOut(Schema):
    """An alarm as the API and every pushed event carry it (kia.alarms.services.present_alarm)."""

    id = fields.Integer()
    type = fields.String()
    type_name = fields.Nested(Localised)
    instruction = fields.Nested(Localised)
    asks_roll_call = fields.Boolean()
    org_unit = fields.String()
    org_unit_name = fields.String()
    silent = fields.Boolean()
    drill = fields.Boolean()
    location = fields.String()
    message = fields.String()
    raised_by = fields.Nested(AlarmPerson)
    raised_at = fields.String(metadata={"format": "date-time"})
    ended_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    ended_by = fields.Nested(AlarmPerson, allow_none=True)
    incident_id = fields.Integer(allow_none=True, metadata={"description": "the event an ended alarm was filed as"})
    roll_call = fields.Nested(AlarmRollCallCounts, allow_none=True)


class RollCallAnswerOut(Schema):
    user = fields.Nested(AlarmPerson)
    status = fields.String()
    answered_at = fields.String(metadata={"format": "date-time"})


class AlarmMessageOut(Schema):
    id = fields.Integer()
    author = fields.Nested(AlarmPerson)
    body = fields.String()
    created_at = fields.String(metadata={"format": "date-time"})


class ChecklistTickOut(Schema):
    item_id = fields.Integer()
    text = fields.Nested(Localised)
    ticked_by = fields.Nested(AlarmPerson)
    ticked_at = fields.String(metadata={"format": "date-time"})


class AlarmDetailOut(AlarmOut):
    checklist = fields.List(fields.Nested(AlarmChecklistStepOut))
    ticks = fields.List(fields.Nested(ChecklistTickOut))
    may_end = fields.Boolean()


class RollCallOut(Schema):
    counts = fields.Nested(AlarmRollCallCounts)
    answers = fields.List(fields.Nested(RollCallAnswerOut))
    unanswered = fields.List(fields.Nested(AlarmPerson))


class AlarmTypeOut(Schema):
    code = fields.String()
    name = fields.Function(lambda t: {"sv": t.name_sv, "en": t.name_en})
    instruction = fields.Function(lambda t: {"sv": t.instruction_sv, "en": t.instruction_en})
    event_type = fields.Function(lambda t: t.event_type.code)
    event_fields = fields.Dict()
    may_be_silent = fields.Boolean()
    asks_roll_call = fields.Boolean()
    needs_confirm = fields.Boolean()
    active = fields.Boolean()
    builtin = fields.Boolean()
    checklist = fields.Function(lambda t: [{"id": i.id, "text": {"sv": i.text_sv, "en": i.text_en}}
                                           for i in t.checklist if i.active])


class AlarmChecklistStepIn(Strict):
    id = Id(load_default=None, metadata={"description": "a step the type has (kept, its text changed); none: new"})
    text = fields.Nested(LocalisedChange, required=True)


class AlarmTypePatchIn(Strict):
    """Only the keys sent change. A checklist sent replaces the steps: those left out are retired."""

    name = fields.Nested(LocalisedChange)
    instruction = fields.Nested(LocalisedChange)
    event_type = fields.String()
    event_fields = fields.Dict()
    may_be_silent = fields.Boolean()
    asks_roll_call = fields.Boolean()
    needs_confirm = fields.Boolean()
    active = fields.Boolean()
    checklist = fields.List(fields.Nested(AlarmChecklistStepIn), validate=max_items(50))


class AlarmTypeIn(AlarmTypePatchIn):
    code = fields.String(required=True)
    name = fields.Nested(Localised, required=True)
    event_type = fields.String(required=True, metadata={"description": "the event type an ended alarm is filed as"})


class DrillRequirementIn(Strict):
    org_unit = fields.String(required=True)
    type = fields.String(load_default="brand", metadata={"description": "the alarm type to drill"})
    every_months = fields.Integer(load_default=12, metadata={"minimum": 1, "maximum": 60,
                                                             "description": "1–60; yearly by default"})
    active = fields.Boolean(load_default=True)


class DrillRequirementOut(Schema):
    org_unit = fields.Function(lambda s: s.requirement.org_unit.code)
    org_unit_name = fields.Function(lambda s: s.requirement.org_unit.name)
    type = fields.Function(lambda s: s.requirement.alarm_type.code)
    every_months = fields.Function(lambda s: s.requirement.every_months)
    active = fields.Function(lambda s: s.requirement.active)
    last_drill_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime()
