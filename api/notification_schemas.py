"""marshmallow schemas of the notification API: the in-app inbox, preferences, failed deliveries, webhooks."""
from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields

from api.schemas import Id, LocalDateTime, between, max_items, max_length, one_of
from kia.outbox.models import NotificationKind


class InboxQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False, metadata={"description": "true: only unread ones"})
    cursor = Id(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=between(1, 200))


class FailedQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    cursor = Id(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=100, validate=between(1, 500))


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "new_case, assigned, reminder, overdue, escalated, closed, "
                                                  "anonymous_message"})
    title = fields.String(metadata={"description": "one line, in the language of the recipient"})
    link = fields.String(metadata={"description": "the case (or for a reporter their report) in the web UI"})
    case_id = fields.Integer(allow_none=True)
    case_number = fields.String(allow_none=True)
    due_at = LocalDateTime(allow_none=True, metadata={"description": "deadline notices: the due time"})
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class NotificationPageOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.Integer(allow_none=True)
    unread_count = fields.Integer(metadata={"description": "all your unread notifications, not only this page"})


class PreferencesIn(Schema):
    class Meta:
        unknown = RAISE

    daily_digest = fields.Boolean(required=True, metadata={
        "description": "true: non-urgent e-mails gathered in one a day; deadline notices always come at once"})


class PreferencesOut(Schema):
    daily_digest = fields.Boolean()


class DeliveryOut(Schema):
    id = fields.Integer()
    channel = fields.String(metadata={"description": "email or webhook"})
    kind = fields.String()
    status = fields.String()
    recipient = fields.String(metadata={"description": "the user's e-mail address, or webhook:<id>"})
    case_id = fields.Integer(allow_none=True)
    case_number = fields.String(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String()
    created_at = LocalDateTime()
    next_attempt_at = LocalDateTime()


class DeliveryPageOut(Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    next_cursor = fields.Integer(allow_none=True)


class WebhookIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=max_length(100))
    url = fields.String(required=True, validate=max_length(500),
                        metadata={"description": "https:// (http:// only to this machine)"})
    org_unit = fields.String(load_default=None, allow_none=True,
                             metadata={"description": "org unit code: cases in its subtree; none: every unit"})
    kinds = fields.List(fields.String(validate=one_of(NotificationKind)), load_default=list,
                        validate=max_items(len(NotificationKind)),
                        metadata={"description": "notification kinds to receive; empty: all"})


class WebhookOut(Schema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    org_unit = fields.String(allow_none=True)
    kinds = fields.List(fields.String())
    active = fields.Boolean()
    created_at = LocalDateTime()


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(metadata={"description": "shown only now: verify X-KIA-Signature (sha256=<HMAC-SHA256 "
                                                   "of the body, hex>) with it"})
