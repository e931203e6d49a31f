"""marshmallow schemas of API v1: input shape checks, output formats, and the OpenAPI components."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext
from marshmallow import EXCLUDE, RAISE, Schema, fields, post_load, validate

from kia.db import MAX_ID
from kia.incidents.models import Category, FieldKind, Gender, PersonCategory, PersonRole
from kia.incidents.services import IncidentInput, PersonInput


def _values(enum_class) -> list[str]:
    return [member.value for member in enum_class]


# Validators whose messages carry values are translated lazily, when the error is formatted.
def one_of(enum_class) -> validate.OneOf:
    return validate.OneOf(_values(enum_class), error=lazy_gettext("Must be one of: {choices}."))


def max_length(n: int) -> validate.Length:
    return validate.Length(max=n, error=lazy_gettext("At most {max} characters."))


def max_items(n: int) -> validate.Length:
    return validate.Length(max=n, error=lazy_gettext("At most {max} items."))


def between(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=lazy_gettext("Must be from {min} to {max}."))


class Id(fields.Integer):
    """A row's id, in a body or a query: 1 to MAX_ID, what the id columns hold, and so documented. Another number
    names no row; refused here (a 422 at its field, 400 in a query), it never reaches a query, where SQLite cannot
    bind a number past 64 bits nor PostgreSQL store one past 32 in an INTEGER column."""

    def __init__(self, **kwargs) -> None:
        kwargs["metadata"] = {"format": "int32", **kwargs.get("metadata", {})}
        super().__init__(validate=between(1, MAX_ID), **kwargs)


class LocalDateTime(fields.DateTime):
    """Stored in UTC, shown with the offset of the configured time zone (Europe/Stockholm)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(current_app.extensions["kia"].settings.timezone).isoformat()


class Localised(Schema):
    sv = fields.String(required=True)
    en = fields.String(required=True)


# ---- input ---------------------------------------------------------------------------------

class PersonIn(Schema):
    class Meta:
        unknown = RAISE

    role = fields.String(required=True, validate=one_of(PersonRole))
    category = fields.String(required=True, validate=one_of(PersonCategory))
    gender = fields.String(load_default="unknown", validate=one_of(Gender))
    name = fields.String(load_default=None, allow_none=True, validate=max_length(200))
    class_name = fields.String(load_default=None, allow_none=True, validate=max_length(40))
    personal_number = fields.String(load_default=None, allow_none=True, validate=max_length(20),
                                    metadata={"description": "personnummer or samordningsnummer; sensitive"})

    @post_load
    def make(self, data, **_):
        return PersonInput(**data)


class IncidentIn(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True, metadata={"description": "event type code, e.g. threat_violence"})
    org_unit = fields.String(required=True, metadata={"description": "org unit code"})
    occurred_at = fields.DateTime(required=True, metadata={"description": "ISO 8601; without offset: Stockholm time"})
    known_at = fields.DateTime(load_default=None, allow_none=True,
                               metadata={"description": "when the school learned of it; default occurred_at"})
    location = fields.String(load_default="", validate=max_length(300))
    description = fields.String(required=True, metadata={"description": "what happened, at most 10,000 characters"})
    persons = fields.List(fields.Nested(PersonIn), load_default=list, validate=max_length(50))
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields", load_default=dict,
                          metadata={"description": "the event type's own fields, by key"})
    anonymous = fields.Boolean(load_default=False)
    latitude = fields.Float(load_default=None, allow_none=True, allow_nan=False, metadata={
        "description": "where on the site it happened (WGS84), optional: with longitude, within 1 km of the unit"})
    longitude = fields.Float(load_default=None, allow_none=True, allow_nan=False)

    @post_load
    def make(self, data, **_):
        return IncidentInput(**data)


class PageQuery(Schema):
    """A paged list's query: the previous page's next_cursor and a page size; unknown parameters ignored."""

    class Meta:
        unknown = EXCLUDE

    cursor = fields.String()
    limit = fields.Integer(load_default=50, validate=between(1, 200))


class IncidentQuery(PageQuery):
    type = fields.String()
    org_unit = fields.String(metadata={"description": "org unit code; includes its whole subtree"})
    from_ = fields.DateTime(data_key="from", attribute="occurred_from",
                            metadata={"description": "occurred at or after"})
    to = fields.DateTime(attribute="occurred_to", metadata={"description": "occurred before"})


class FieldDefinitionIn(Schema):
    key = fields.String(required=True)
    type = fields.String(required=True, validate=one_of(FieldKind))
    label = fields.Nested(Localised, required=True)
    required = fields.Boolean(load_default=False)
    sensitive = fields.Boolean(load_default=False)
    choices = fields.List(fields.Dict(), load_default=list,
                          metadata={"description": '[{"value": "knife", "sv": "Kniv", "en": "Knife"}]'})


class IncidentTypeIn(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True)
    name = fields.Nested(Localised, required=True)
    help = fields.Nested(Localised, load_default=None)
    category = fields.String(required=True, validate=one_of(Category))
    fields_ = fields.List(fields.Nested(FieldDefinitionIn), data_key="fields", attribute="fields", load_default=list)
    active = fields.Boolean(load_default=True)
    confidential = fields.Boolean(load_default=False)
    case_per_affected_pupil = fields.Boolean(load_default=False)
    allows_anonymous = fields.Boolean(load_default=False)
    concerns_building = fields.Boolean(load_default=False, metadata={
        "description": "its cases offer a fault report (felanmälan) to the property owner"})


class LocalisedChange(Schema):
    """A text in Swedish and English for a change: a language left out keeps its text."""

    class Meta:
        unknown = RAISE

    sv = fields.String()
    en = fields.String()


class FieldChangeIn(Schema):
    """A change to one of the type's fields, named by its key; only the keys sent change."""

    class Meta:
        unknown = RAISE

    key = fields.String(required=True, metadata={"description": "the field's key (never changes)"})
    type = fields.String(validate=one_of(FieldKind), metadata={"description": "may be sent, but must be the "
                                                                              "field's kind: it never changes"})
    label = fields.Nested(LocalisedChange)
    required = fields.Boolean()
    sensitive = fields.Boolean(metadata={"description": "once reports exist, a sensitive field stays sensitive"})
    retired = fields.Boolean(metadata={"description": "true: off the report form and refused from new reports; "
                                                      "the values older reports hold are kept and shown"})
    choices = fields.List(fields.Dict(), metadata={
        "description": "the whole list, [{value, sv, en}]: labels may change and values be added, but every "
                       "value there is must stay (stored reports may hold it)"})


class IncidentTypePatchIn(Schema):
    """Only the keys sent change. category, confidential and case_per_affected_pupil may change only while no
    reports of the type exist (they decided where each counts, who may read it and how many cases it has)."""

    class Meta:
        unknown = RAISE

    name = fields.Nested(LocalisedChange)
    help = fields.Nested(LocalisedChange)
    category = fields.String(validate=one_of(Category))
    active = fields.Boolean(metadata={"description": "false: the type can no longer be reported; its incidents "
                                                     "and cases stay"})
    allows_anonymous = fields.Boolean()
    concerns_building = fields.Boolean()
    confidential = fields.Boolean()
    case_per_affected_pupil = fields.Boolean()
    fields_ = fields.List(fields.Nested(FieldChangeIn), data_key="fields", attribute="fields",
                          metadata={"description": "changes to fields the type has, by key"})
    new_fields = fields.List(fields.Nested(FieldDefinitionIn), metadata={
        "description": "fields to add after the others, as when a type is added"})


# ---- output --------------------------------------------------------------------------------

class ChoiceOut(Schema):
    value = fields.String()
    sv = fields.String()
    en = fields.String()


class FieldDefinitionOut(Schema):
    key = fields.String()
    type = fields.String(attribute="kind")
    label = fields.Function(lambda f: {"sv": f.label_sv, "en": f.label_en})
    required = fields.Boolean()
    sensitive = fields.Boolean()
    retired = fields.Boolean(metadata={"description": "no longer on the report form, and refused from new reports; "
                                                      "listed for the values older reports hold under its key"})
    choices = fields.List(fields.Nested(ChoiceOut))


class IncidentTypeOut(Schema):
    code = fields.String()
    name = fields.Function(lambda t: {"sv": t.name_sv, "en": t.name_en})
    help = fields.Function(lambda t: {"sv": t.help_sv, "en": t.help_en})
    category = fields.String()
    fields_ = fields.List(fields.Nested(FieldDefinitionOut), data_key="fields", attribute="fields")
    active = fields.Boolean()
    confidential = fields.Boolean()
    case_per_affected_pupil = fields.Boolean()
    allows_anonymous = fields.Boolean()
    concerns_building = fields.Boolean()


class ReportableTypeOut(IncidentTypeOut):
    """A type as a report form needs it: only the fields a new report has (no retired ones)."""

    fields_ = fields.List(fields.Nested(FieldDefinitionOut), data_key="fields", attribute="current_fields")


class OrgUnitOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    parent_code = fields.Function(lambda u: u.parent.code if u.parent else None)
    latitude = fields.Float(allow_none=True, metadata={"description": "WGS84; null until an admin sets it"})
    longitude = fields.Float(allow_none=True)


class OrgUnitCoordinatesIn(Schema):
    """A unit's coordinates (WGS84 degrees): both, or both null to clear them."""

    class Meta:
        unknown = RAISE

    latitude = fields.Float(required=True, allow_none=True, allow_nan=False)
    longitude = fields.Float(required=True, allow_none=True, allow_nan=False)


class PersonOut(Schema):
    role = fields.String()
    category = fields.String()
    gender = fields.String()
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    personal_number = fields.String(allow_none=True, metadata={"description": "masked: YYYYMMDD-****"})


class CaseRefOut(Schema):
    id = fields.Integer()
    number = fields.String()
    state = fields.String()
    type = fields.String()


class ReporterOut(Schema):
    id = fields.Integer()
    name = fields.String()


class IncidentOut(Schema):
    id = fields.Integer()
    number = fields.String()
    type = fields.String()
    type_name = fields.Nested(Localised)
    org_unit = fields.String()
    org_unit_name = fields.String()
    occurred_at = LocalDateTime()
    known_at = LocalDateTime()
    reported_at = LocalDateTime()
    location = fields.String()
    description = fields.String()
    anonymous = fields.Boolean()
    reporter = fields.Nested(ReporterOut, allow_none=True)
    persons = fields.List(fields.Nested(PersonOut))
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    cases = fields.List(fields.Nested(CaseRefOut))


class IncidentPageOut(Schema):
    items = fields.List(fields.Nested(IncidentOut))
    next_cursor = fields.String(allow_none=True)
