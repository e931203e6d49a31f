"""Notification API: in-app notifications and preference; for admins failed deliveries and webhooks."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from api.auth import requires
from api.notification_schemas import (
    DeliveryOut, DeliveryPageOut, FailedQuery, InboxQuery, NotificationOut, NotificationPageOut, PreferencesIn,
    PreferencesOut, WebhookCreatedOut, WebhookIn, WebhookOut,
)
from api.openapi import json_body as body_of, json_response, params, path_id, problems, query_id, ref
from api.problems import json_body, load_query
from kia.http import current_actor, db_session, state
from kia.db import utcnow
from kia.orgs.models import OrgUnit, User
from kia.outbox.models import Notification, WebhookSubscription
from notifications import admin, inbox
from notifications.render import link_for, render

bp = Blueprint("notifications", __name__)


def present_notification(row: Notification) -> dict:
    settings = state().settings
    due = row.payload.get("due_at")
    return {"id": row.id, "kind": str(row.kind), "title": render(row.kind, row.language, row.payload, settings).subject,
            "link": link_for(row.kind, row.payload, settings), "case_id": row.case_id,
            "case_number": row.payload.get("case_number"), "due_at": datetime.fromisoformat(due) if due else None,
            "created_at": row.created_at, "read_at": row.read_at}


def present_delivery(row: Notification) -> dict:
    return {"id": row.id, "channel": str(row.channel), "kind": str(row.kind), "status": str(row.status),
            "recipient": recipient_of(row), "case_id": row.case_id,
            "case_number": row.payload.get("case_number"), "attempts": row.attempts, "last_error": row.last_error,
            "created_at": row.created_at, "next_attempt_at": row.next_attempt_at}


def recipient_of(row: Notification) -> str:
    if row.user:
        return row.user.email
    if row.fault_report_id:
        return f"property_owner:fault_report:{row.fault_report_id}"
    return f"webhook:{row.webhook_id}"


def present_webhook(subscription: WebhookSubscription, secret: str | None = None) -> dict:
    unit = db_session().get(OrgUnit, subscription.org_unit_id) if subscription.org_unit_id else None
    shown = {"id": subscription.id, "name": subscription.name, "url": subscription.url,
             "org_unit": unit.code if unit else None, "kinds": subscription.kinds.split(),
             "active": subscription.active, "created_at": subscription.created_at}
    return {**shown, "secret": secret} if secret else shown


@bp.get("/notifications")
@requires()
def index_notifications():
    query = load_query(InboxQuery(), request.args)
    page = inbox.list_inbox(db_session(), current_actor(), **query)
    return NotificationPageOut().dump({"items": [present_notification(n) for n in page.items],
                                       "next_cursor": page.next_cursor, "unread_count": page.unread_count})


@bp.post("/notifications/<id:notification_id>/read")
@requires()
def read_notification(notification_id: int):
    row = inbox.mark_read(db_session(), current_actor(), notification_id, utcnow())
    return NotificationOut().dump(present_notification(row))


@bp.get("/me/notification-preferences")
@requires()
def show_preferences():
    return PreferencesOut().dump(db_session().get(User, current_actor().user_id))


@bp.put("/me/notification-preferences")
@requires()
def update_preferences():
    data = PreferencesIn().load(json_body())
    return PreferencesOut().dump(inbox.set_daily_digest(db_session(), current_actor(), data["daily_digest"]))


@bp.get("/admin/notifications/failed")
@requires("admin")
def index_failed():
    query = load_query(FailedQuery(), request.args)
    rows, next_cursor = admin.failed_deliveries(db_session(), current_actor(), **query)
    return DeliveryPageOut().dump({"items": [present_delivery(r) for r in rows], "next_cursor": next_cursor})


@bp.post("/admin/notifications/<id:notification_id>/resend")
@requires("admin")
def resend_notification(notification_id: int):
    row = admin.resend(db_session(), current_actor(), notification_id, utcnow())
    return DeliveryOut().dump(present_delivery(row))


@bp.get("/admin/webhooks")
@requires("admin")
def index_webhooks():
    return WebhookOut(many=True).dump([present_webhook(s) for s in admin.list_webhooks(db_session(), current_actor())])


@bp.post("/admin/webhooks")
@requires("admin")
def create_webhook():
    data = WebhookIn().load(json_body())
    subscription, secret = admin.create_webhook(db_session(), current_actor(), **data)
    return WebhookCreatedOut().dump(present_webhook(subscription, secret)), 201


@bp.delete("/admin/webhooks/<id:webhook_id>")
@requires("admin")
def delete_webhook(webhook_id: int):
    admin.delete_webhook(db_session(), current_actor(), webhook_id)
    return "", 204


OPENAPI_SCHEMAS = {"NotificationOut": NotificationOut, "NotificationPageOut": NotificationPageOut,
                   "PreferencesIn": PreferencesIn, "PreferencesOut": PreferencesOut,
                   "DeliveryOut": DeliveryOut, "DeliveryPageOut": DeliveryPageOut, "WebhookIn": WebhookIn,
                   "WebhookOut": WebhookOut, "WebhookCreatedOut": WebhookCreatedOut}


def openapi_paths(spec) -> None:
    tags = ["notifications"]
    spec.path("/notifications", operations={"get": {
        "summary": "Your in-app notifications, newest first, with your unread count", "tags": tags,
        "parameters": [*params(("unread", "query", "true: only unread ones", False)),
                       query_id("cursor", "next_cursor of the previous page"),
                       *params(("limit", "query", "1–200, default 50", False))],
        "responses": {"200": json_response(ref("NotificationPageOut")), **problems(400, 401)}}})
    spec.path("/notifications/{notification_id}/read", operations={"post": {
        "summary": "Mark one of your notifications read; 404 for anyone else's", "tags": tags,
        "parameters": [path_id("notification_id")],
        "responses": {"200": json_response(ref("NotificationOut")), **problems(401, 404)}}})
    spec.path("/me/notification-preferences", operations={
        "get": {"summary": "Your e-mail preference", "tags": tags,
                "responses": {"200": json_response(ref("PreferencesOut")), **problems(401)}},
        "put": {"summary": "Immediate e-mails or one daily digest for non-urgent notifications", "tags": tags,
                "requestBody": body_of("PreferencesIn"),
                "responses": {"200": json_response(ref("PreferencesOut")), **problems(401, 415, 422)}}})
    spec.path("/admin/notifications/failed", operations={"get": {
        "summary": "E-mails and webhooks that failed after every attempt (admin)", "tags": tags,
        "parameters": [query_id("cursor", "next_cursor of the previous page"),
                       *params(("limit", "query", "1–500, default 100", False))],
        "responses": {"200": json_response(ref("DeliveryPageOut")), **problems(400, 401, 403)}}})
    spec.path("/admin/notifications/{notification_id}/resend", operations={"post": {
        "summary": "Queue a failed delivery again with fresh attempts (admin)", "tags": tags,
        "parameters": [path_id("notification_id")],
        "responses": {"200": json_response(ref("DeliveryOut"), "Queued again"), **problems(401, 403, 404, 409)}}})
    spec.path("/admin/webhooks", operations={
        "get": {"summary": "Webhook subscriptions (admin of the whole organisation)", "tags": tags,
                "responses": {"200": json_response({"type": "array", "items": ref("WebhookOut")}),
                              **problems(401, 403)}},
        "post": {"summary": "Subscribe a URL; the signing secret is shown only in this answer", "tags": tags,
                 "requestBody": body_of("WebhookIn"),
                 "responses": {"201": json_response(ref("WebhookCreatedOut"), "Created"),
                               **problems(401, 403, 415, 422)}}})
    spec.path("/admin/webhooks/{webhook_id}", operations={"delete": {
        "summary": "Remove a subscription and its deliveries", "tags": tags, "parameters": [path_id("webhook_id")],
        "responses": {"204": {"description": "Removed"}, **problems(401, 403, 404)}}})
