"""marshmallow schemas of the work on a case: assignment, actions, comments, attachments, related cases,
links and substitutes."""
from __future__ import annotations

from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, post_load

from api.case_schemas import ActionOut, CaseOut, RelatedCaseOut, UserRefOut
from api.schemas import Id, LocalDateTime, PersonIn, max_length, one_of
from kia.cases.models import ActionStatus
from kia.cases.related import RelatedCaseInput
from kia.cases.work import MAX_NOTE_LENGTH, MAX_TEXT_LENGTH, ActionInput
from kia.errors import N_


class Strict(Schema):
    class Meta:
        unknown = RAISE


class StockholmDateTime(fields.DateTime):
    """Without an offset, a time is local time in the configured zone (Europe/Stockholm)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        tz = current_app.extensions["kia"].settings.timezone
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


class PersonRef(fields.Field):
    """An index into the incident's persons (0 is the first), or a new person object."""

    # A msgid: the problem response translates every schema message (api.problems.flatten_schema_errors).
    default_error_messages = {"invalid": N_("A person's index or a new person.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, dict):
            try:
                return PersonIn().load(value)
            except ValidationError as error:
                raise ValidationError(error.messages) from error
        raise self.make_error("invalid")


# ---- input --------------------------------------------------------------------------------------

class AssignmentIn(Strict):
    user = Id(required=True, metadata={"description": "the new händelseansvarig: a user id"})
    note = fields.String(load_default="", validate=max_length(MAX_NOTE_LENGTH))


class ActionIn(Strict):
    what = fields.String(required=True, validate=max_length(MAX_NOTE_LENGTH))
    responsible = Id(required=True, metadata={"description": "user id; holds a role over the unit"})
    due_date = fields.Date(required=True)

    @post_load
    def make(self, data, **_):
        return ActionInput(**data)


class ActionPatchIn(Strict):
    """Only the keys sent change. The responsible user (not the handler) may send status "done" and a note."""

    status = fields.String(validate=one_of(ActionStatus))
    follow_up_note = fields.String(validate=max_length(MAX_TEXT_LENGTH))
    what = fields.String(validate=max_length(MAX_NOTE_LENGTH))
    responsible = Id()
    due_date = fields.Date()


class CommentIn(Strict):
    body = fields.String(required=True, validate=max_length(MAX_TEXT_LENGTH))


class RelatedCaseIn(Strict):
    type = fields.String(required=True, metadata={"description": "event type code of the new case"})
    persons = fields.List(
        PersonRef(metadata={"oneOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/components/schemas/PersonIn"}]}),
        load_default=list, validate=max_length(50), metadata={
            "description": "whom the case is about: indexes of the incident's persons, or new persons; "
                           "a one-case-per-pupil type needs exactly one affected pupil"})
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields", load_default=dict,
                          metadata={"description": "the new type's own fields, by key"})

    @post_load
    def make(self, data, **_):
        return RelatedCaseInput(**data)


class LinkIn(Strict):
    case = Id(required=True, metadata={"description": "id of a case of another incident"})


class SubstituteIn(Strict):
    substitute = Id(required=True, metadata={"description": "user id of the ersättare"})
    starts_at = StockholmDateTime(required=True, metadata={"description": "without offset: Stockholm time"})
    ends_at = StockholmDateTime(required=True)


# ---- output -------------------------------------------------------------------------------------

class ActionDetailOut(ActionOut):
    """An action after a change: as in the case view, with its case and when it was added."""

    case_id = fields.Integer()
    created_at = LocalDateTime()


class CommentOut(Schema):
    id = fields.Integer()
    author = fields.Nested(UserRefOut)
    body = fields.String()
    created_at = LocalDateTime()


class CommentListOut(Schema):
    items = fields.List(fields.Nested(CommentOut))


class AttachmentOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String(metadata={"description": "decided from the file's content"})
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Nested(UserRefOut)
    uploaded_at = LocalDateTime()
    download = fields.String(metadata={"description": "URL of the file"})


class AttachmentListOut(Schema):
    items = fields.List(fields.Nested(AttachmentOut))


class CaseWithFieldsOut(CaseOut):
    fields_ = fields.Dict(data_key="fields", attribute="fields",
                          metadata={"description": "the case type's own fields (sensitive ones only for the "
                                                   "handler chain)"})


class RelatedCaseListOut(Schema):
    items = fields.List(fields.Nested(RelatedCaseOut))


class SubstituteOut(Schema):
    id = fields.Integer()
    user = fields.Nested(UserRefOut, metadata={"description": "the handler who is away"})
    substitute = fields.Nested(UserRefOut)
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()


class SubstituteListOut(Schema):
    items = fields.List(fields.Nested(SubstituteOut))

