"""The public API without login under /api/v1/public: anonymous reports, follow-up by code, messages.

Rate-limited per client address (kia.feedback.limits); responses are never cached, as they carry the code
or what it unlocks.
"""
from __future__ import annotations

from flask import Blueprint, g, request

from api.feedback_schemas import (
    ANONYMOUS_RECEIPT_OUT, AnonymousReceiptOut, FollowupIn, FollowupOut, PublicIncidentIn, ReporterMessageIn,
    ReporterMessageOut,
)
from api.openapi import json_body as body_of, json_response, problems, ref
from api.problems import domain_problem, json_body, unavailable_problem
from api.schemas import OrgUnitOut, ReportableTypeOut
from kia.db import DATABASE_UNAVAILABLE, database_unavailable
from kia.http import db_session, state
from kia.feedback.limits import ClientGuard, RateLimited
from kia.feedback.services import (
    anonymous_types, file_anonymous_report, followup, reportable_units, write_as_reporter,
)

bp = Blueprint("public", __name__, url_prefix="/public")
# Made once: constructing a schema copies its declared fields, which cost an anonymous filing more than loading.
PUBLIC_INCIDENT_IN = PublicIncidentIn()
FOLLOWUP_IN, FOLLOWUP_OUT = FollowupIn(), FollowupOut()
REPORTER_MESSAGE_IN, REPORTER_MESSAGE_OUT = ReporterMessageIn(), ReporterMessageOut()
TYPES_OUT, UNITS_OUT = ReportableTypeOut(many=True), OrgUnitOut(many=True)


def _guard() -> ClientGuard:
    if "client_guard" not in g:
        g.client_guard = ClientGuard(db_session(), state().settings, request.remote_addr or "")
    return g.client_guard


@bp.before_request
def _count_request():
    # Committed with the request's own first commit (an anonymous filing's allowance, a message), or with the answer:
    # a transaction of its own cost every public request a round trip to take a connection and one to commit.
    _guard().request(commit=False)


@bp.errorhandler(RateLimited)
def _rate_limited(error: RateLimited):
    response = domain_problem(error)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.after_request
def _never_cached(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _commit_count(response):
    """The request's count, if nothing committed it yet (a refused body, a read). Not after a server error, whose
    transaction may be broken; and a database lost since the view answered is the 503 it would have been."""
    if response.status_code < 500:
        try:
            db_session().commit()
        except DATABASE_UNAVAILABLE as error:
            if not database_unavailable(error):
                raise
            return unavailable_problem()   # the session is let go at the request's end, as after any loss
    return response


@bp.get("/incident-types")
def index_anonymous_types():
    return TYPES_OUT.dump(anonymous_types(db_session()))


@bp.get("/org-units")
def index_units():
    return UNITS_OUT.dump(reportable_units(db_session()))


@bp.post("/incidents")
def create_anonymous_incident():
    data = PUBLIC_INCIDENT_IN.load(json_body())
    receipt = file_anonymous_report(db_session(), data, state().settings.timezone, _guard())
    return ANONYMOUS_RECEIPT_OUT.dump(receipt), 201


# The code goes in the body: a URL is kept in access logs (ours, proxies'), and the code opens the report.
@bp.post("/followup")
def show_followup():
    code = FOLLOWUP_IN.load(json_body())["code"]
    return FOLLOWUP_OUT.dump(followup(db_session(), code, _guard()))


@bp.post("/followup/messages")
def create_reporter_message():
    data = REPORTER_MESSAGE_IN.load(json_body())
    return REPORTER_MESSAGE_OUT.dump(write_as_reporter(db_session(), data["code"], data["body"], _guard())), 201


OPENAPI_SCHEMAS = {"PublicIncidentIn": PublicIncidentIn, "AnonymousReceiptOut": AnonymousReceiptOut,
                   "ReporterMessageOut": ReporterMessageOut, "FollowupIn": FollowupIn, "FollowupOut": FollowupOut,
                   "ReporterMessageIn": ReporterMessageIn, "ReportableTypeOut": ReportableTypeOut}
PUBLIC = {"tags": ["public (no login)"], "security": []}


def openapi_paths(spec) -> None:
    spec.path("/public/incident-types", operations={"get": {
        **PUBLIC, "summary": "Event types that can be reported anonymously",
        "responses": {"200": json_response({"type": "array", "items": ref("ReportableTypeOut")}), **problems(429)}}})
    spec.path("/public/org-units", operations={"get": {
        **PUBLIC, "summary": "The org units a report can be filed on",
        "responses": {"200": json_response({"type": "array", "items": ref("OrgUnitOut")}), **problems(429)}}})
    spec.path("/public/incidents", operations={"post": {
        **PUBLIC, "summary": "File an anonymous report; the follow-up code is shown only in this answer",
        "description": "Nothing about the sender is stored. Limited per client address (429 with Retry-After).",
        "requestBody": body_of("PublicIncidentIn"),
        "responses": {"201": json_response(ref("AnonymousReceiptOut"), "Filed"),
                      **problems(400, 413, 415, 422, 429)}}})
    spec.path("/public/followup", operations={"post": {
        **PUBLIC, "summary": "The report's status and the messages with its handlers, for its follow-up code",
        "description": "Wrong codes count against the client address; beyond the limit every lookup is 429. "
                       "The code is sent in the body, never in the URL, so no log keeps it.",
        "requestBody": body_of("FollowupIn"),
        "responses": {"200": json_response(ref("FollowupOut")), **problems(400, 404, 415, 422, 429)}}})
    spec.path("/public/followup/messages", operations={"post": {
        **PUBLIC, "summary": "Write to the report's handlers, with its follow-up code",
        "requestBody": body_of("ReporterMessageIn"),
        "responses": {"201": json_response(ref("ReporterMessageOut"), "Sent"),
                      **problems(400, 404, 415, 422, 429)}}})
