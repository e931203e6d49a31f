"""Gallring in API v1: an event type's retention rule (admins of the whole organisation), what the next run would
erase and the runs' log, and legal holds on cases (their handlers)."""
from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields

from api.auth import requires
from api.case_schemas import LegalHoldOut, UserRefOut
from api.case_work_schemas import Strict
from api.openapi import json_body as body_of, json_response, params, path_id, problems, ref
from api.problems import json_body
from api.schemas import LocalDateTime
from kia.db import utcnow
from kia.http import current_actor, db_session
from kia.retention.holds import lift_hold, place_hold
from kia.retention.models import HoldReason, RetentionAction
from kia.retention.rules import MAX_MONTHS, get_retention_rule, list_retention_rules, set_retention_rule
from kia.retention.runs import list_runs, preview

bp = Blueprint("retention", __name__)

ACTION = {"description": "anonymise (default): names, personal numbers, free texts, files and messages are erased, "
                         "the number, type, unit, dates, categories and genders stay, so past tertial statistics "
                         "keep their figures; destroy: the whole record is deleted, and past tertial statistics "
                         "count it no longer",
          "enum": [str(a) for a in RetentionAction]}


class RetentionRuleIn(Strict):
    months = fields.Integer(required=True, metadata={
        "minimum": 0, "maximum": MAX_MONTHS,
        "description": "months the personal data is kept after the last of an event's cases closed; at least "
                       "the type's minimum_months (422 at months otherwise)"})
    action = fields.String(metadata={**ACTION, "description": ACTION["description"] + "; left out: anonymise"})


class RetentionRuleOut(Schema):
    type = fields.Function(lambda r: r.incident_type.code)
    months = fields.Integer(allow_none=True, metadata={"description": "null: no rule, the type's records are kept"})
    minimum_months = fields.Integer(metadata={"description": "the legal minimum for the type (data, set from the "
                                                             "city archive's decision)"})
    action = fields.String(metadata=ACTION)
    changed_at = LocalDateTime(allow_none=True)
    changed_by = fields.Nested(UserRefOut, allow_none=True)


class PreviewOut(Schema):
    type = fields.String()
    name = fields.Function(lambda r: {"sv": r.name_sv, "en": r.name_en})
    action = fields.String()
    months = fields.Integer()
    count = fields.Integer(metadata={"description": "events the next run would erase (or destroy)"})
    earliest = fields.List(fields.String(), metadata={"description": "their first registration numbers, "
                                                                     "earliest events first"})


class RunOut(Schema):
    night = fields.Date()
    started_at = LocalDateTime()
    finished_at = LocalDateTime(allow_none=True)
    status = fields.String(metadata={"description": "running, finished or failed"})
    taken_over_at = LocalDateTime(allow_none=True, metadata={
        "description": "when another scheduler took over the night's run, its own having fallen silent"})
    counts = fields.Dict(metadata={"description": "per type code: anonymised, destroyed, files (counts only)"})


class LegalHoldIn(Strict):
    reason = fields.String(required=True, metadata={"enum": [str(r) for r in HoldReason]})


@bp.get("/retention-rules")
@requires("admin")
def index_rules():
    return RetentionRuleOut(many=True).dump(list_retention_rules(db_session(), current_actor()))


@bp.get("/incident-types/<code>/retention")
@requires("admin")
def show_rule(code: str):
    return RetentionRuleOut().dump(get_retention_rule(db_session(), current_actor(), code))


@bp.put("/incident-types/<code>/retention")
@requires("admin")
def put_rule(code: str):
    spec = RetentionRuleIn().load(json_body())
    return RetentionRuleOut().dump(set_retention_rule(db_session(), current_actor(), code, spec))


@bp.get("/retention/preview")
@requires("admin")
def show_preview():
    return PreviewOut(many=True).dump(preview(db_session(), current_actor(), utcnow()))


@bp.get("/retention/runs")
@requires("admin")
def index_runs():
    return RunOut(many=True).dump(list_runs(db_session(), current_actor()))


@bp.put("/cases/<id:case_id>/legal-hold")
@requires("cases:write")
def put_hold(case_id: int):
    data = LegalHoldIn().load(json_body())
    return LegalHoldOut().dump(place_hold(db_session(), current_actor(), case_id, data["reason"]))


@bp.delete("/cases/<id:case_id>/legal-hold")
@requires("cases:write")
def delete_hold(case_id: int):
    lift_hold(db_session(), current_actor(), case_id)
    return "", 204


OPENAPI_SCHEMAS = {"RetentionRuleIn": RetentionRuleIn, "RetentionRuleOut": RetentionRuleOut,
                   "RetentionPreviewOut": PreviewOut, "RetentionRunOut": RunOut, "LegalHoldIn": LegalHoldIn}
TAGS = ["retention"]
CODE = params(("code", "path", "the event type's code", True))


def openapi_paths(spec) -> None:
    spec.path("/retention-rules", operations={"get": {
        "summary": "Every event type's retention rule (admin of the whole organisation)", "tags": TAGS,
        "responses": {"200": json_response({"type": "array", "items": ref("RetentionRuleOut")}),
                      **problems(401, 403)}}})
    spec.path("/incident-types/{code}/retention", operations={
        "get": {"summary": "The event type's retention rule (gallring); months null when it has none",
                "tags": TAGS, "parameters": CODE,
                "responses": {"200": json_response(ref("RetentionRuleOut")), **problems(401, 403, 404)}},
        "put": {"summary": "Set the event type's retention rule: months kept after its cases close, and "
                           "anonymise or destroy", "tags": TAGS, "parameters": CODE,
                "description": "422 at months when it is below the type's legal minimum (minimum_months).",
                "requestBody": body_of("RetentionRuleIn"),
                "responses": {"200": json_response(ref("RetentionRuleOut")),
                              **problems(400, 401, 403, 404, 415, 422)}}})
    spec.path("/retention/preview", operations={"get": {
        "summary": "What the next gallring run would erase: counts per type and the earliest registration "
                   "numbers, never content", "tags": TAGS,
        "responses": {"200": json_response({"type": "array", "items": ref("RetentionPreviewOut")}),
                      **problems(401, 403)}}})
    spec.path("/retention/runs", operations={"get": {
        "summary": "The last 30 gallring runs, with counts per type", "tags": TAGS,
        "responses": {"200": json_response({"type": "array", "items": ref("RetentionRunOut")}),
                      **problems(401, 403)}}})
    spec.path("/cases/{case_id}/legal-hold", operations={
        "put": {"summary": "Hold the case from gallring (appeal, police investigation, open request), or change "
                           "the reason; its handlers, open or closed", "tags": TAGS,
                "parameters": [path_id("case_id")], "requestBody": body_of("LegalHoldIn"),
                "responses": {"200": json_response(ref("LegalHoldOut")),
                              **problems(400, 401, 403, 404, 409, 415, 422)}},
        "delete": {"summary": "Lift the case's legal hold (nothing happens when it has none)", "tags": TAGS,
                   "parameters": [path_id("case_id")],
                   "responses": {"204": {"description": "Lifted"}, **problems(401, 403, 404)}}})
