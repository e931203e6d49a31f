"""Reporter feedback for signed-in users: one's own reports (/my/incidents) and, for handlers, the message
thread with an anonymous reporter (/incidents/{id}/messages). Thin views over kia.feedback.services."""
from __future__ import annotations

from flask import Blueprint, request

from api.auth import requires
from api.feedback_schemas import (
    HandlerMessageOut, HandlerThreadOut, MessageIn, MyIncidentQuery, MyReportOut, MyReportPageOut,
)
from api.openapi import json_body as body_of, json_response, params, path_id, problems, ref
from api.problems import json_body, load_query
from kia.http import current_actor, db_session
from kia.feedback.services import handler_thread, my_report, my_reports, write_to_reporter

bp = Blueprint("feedback", __name__)


@bp.get("/my/incidents")
@requires("incidents:read")
def index_my_incidents():
    query = load_query(MyIncidentQuery(), request.args)
    items, next_cursor = my_reports(db_session(), current_actor(), **query)
    return MyReportPageOut().dump({"items": items, "next_cursor": next_cursor})


@bp.get("/my/incidents/<id:incident_id>")
@requires("incidents:read")
def show_my_incident(incident_id: int):
    return MyReportOut().dump(my_report(db_session(), current_actor(), incident_id))


@bp.get("/incidents/<id:incident_id>/messages")
@requires("cases:read")
def index_messages(incident_id: int):
    return HandlerThreadOut().dump(handler_thread(db_session(), current_actor(), incident_id))


@bp.post("/incidents/<id:incident_id>/messages")
@requires("cases:write")
def create_message(incident_id: int):
    body = MessageIn().load(json_body())["body"]
    return HandlerMessageOut().dump(write_to_reporter(db_session(), current_actor(), incident_id, body)), 201


OPENAPI_SCHEMAS = {"MessageIn": MessageIn, "MyReportOut": MyReportOut, "MyReportPageOut": MyReportPageOut,
                   "HandlerMessageOut": HandlerMessageOut, "HandlerThreadOut": HandlerThreadOut}


def openapi_paths(spec) -> None:
    spec.path("/my/incidents", operations={"get": {
        "summary": "The reports you filed under your name, with their cases' public status", "tags": ["feedback"],
        "parameters": params(("cursor", "query", "next_cursor of the previous page", False),
                             ("limit", "query", "1–200, default 50", False)),
        "responses": {"200": json_response(ref("MyReportPageOut")), **problems(400, 401, 403)}}})
    spec.path("/my/incidents/{incident_id}", operations={"get": {
        "summary": "One report you filed; 404 for any other", "tags": ["feedback"],
        "parameters": [path_id("incident_id")],
        "responses": {"200": json_response(ref("MyReportOut")), **problems(401, 403, 404)}}})
    spec.path("/incidents/{incident_id}/messages", operations={
        "get": {"summary": "The messages with the anonymous reporter (handlers of a case of the incident)",
                "tags": ["feedback"], "parameters": [path_id("incident_id")],
                "responses": {"200": json_response(ref("HandlerThreadOut")), **problems(401, 403, 404)}},
        "post": {"summary": "Answer the anonymous reporter; they read it with their follow-up code",
                 "tags": ["feedback"], "parameters": [path_id("incident_id")], "requestBody": body_of("MessageIn"),
                 "responses": {"201": json_response(ref("HandlerMessageOut"), "Sent"),
                               **problems(401, 403, 404, 409, 415, 422)}},
    })
