"""marshmallow schemas of reporter feedback: own reports, anonymous filing and follow-up, the message thread."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields

from api.schemas import IncidentIn, LocalDateTime, Localised, PageQuery, ReporterOut


class PublicIncidentIn(IncidentIn):
    """A report without an account: as POST /incidents, without `anonymous` (it always is)."""

    class Meta(IncidentIn.Meta):
        exclude = ("anonymous",)


class MessageIn(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True, metadata={"description": "at most 5,000 characters"})


FOLLOW_UP_CODE = {"description": "the follow-up code given when the report was filed (dashes, spaces and case "
                                 "do not matter); in the body, never in a URL, where logs would keep it"}


class FollowupIn(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, metadata=FOLLOW_UP_CODE)


class ReporterMessageIn(MessageIn):
    code = fields.String(required=True, metadata=FOLLOW_UP_CODE)


class MyIncidentQuery(PageQuery):
    """One's own reports, a page at a time."""


class CaseStatusOut(Schema):
    number = fields.String()
    type = fields.String()
    state = fields.String()
    closed_at = LocalDateTime(allow_none=True)
    closing_summary = fields.String(allow_none=True,
                                    metadata={"description": "the handler's summary for the reporter, once closed"})


class ReportStatusOut(Schema):
    number = fields.String()
    type = fields.String()
    type_name = fields.Nested(Localised)
    org_unit = fields.String()
    org_unit_name = fields.String()
    occurred_at = LocalDateTime()
    reported_at = LocalDateTime()
    cases = fields.List(fields.Nested(CaseStatusOut))



class MyReportOut(ReportStatusOut):
    id = fields.Integer()


class MyReportPageOut(Schema):
    items = fields.List(fields.Nested(MyReportOut))
    next_cursor = fields.String(allow_none=True)


class ReporterMessageOut(Schema):
    """A message as the anonymous reporter sees it: who wrote it is only "reporter" or "handler"."""

    from_ = fields.Function(lambda m: "reporter" if m.from_reporter else "handler", data_key="from",
                            metadata={"enum": ["reporter", "handler"]})
    body = fields.String()
    created_at = LocalDateTime(metadata={"description": "the reporter's own messages carry only the hour"})


class HandlerMessageOut(ReporterMessageOut):
    id = fields.Integer()
    author = fields.Nested(ReporterOut, allow_none=True, metadata={"description": "the handler; never the reporter"})


class HandlerThreadOut(Schema):
    anonymous_followup = fields.Boolean(metadata={"description": "the reporter holds a follow-up code and can answer"})
    messages = fields.List(fields.Nested(HandlerMessageOut))


class FollowupOut(Schema):
    report = fields.Nested(ReportStatusOut)
    messages = fields.List(fields.Nested(ReporterMessageOut))


class AnonymousReceiptOut(Schema):
    number = fields.String(metadata={"description": "the registration number"})
    follow_up_code = fields.String(metadata={"description": "shown only now: keep it to follow the report"})
    cases = fields.List(fields.Nested(CaseStatusOut))


# Made once (both ways of filing anonymously answer with it): constructing a schema copies its declared fields.
ANONYMOUS_RECEIPT_OUT = AnonymousReceiptOut()
