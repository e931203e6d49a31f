"""Deadlines in API v1: a case's obligations, and the deadline rules (admins change them)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from marshmallow import Schema, fields

from api.auth import requires
from api.openapi import json_response, path_id, problems, ref
from api.schemas import LocalDateTime
from kia.app import current_actor, db_session
from kia.cases.lookup import visible_case
from kia.db import utcnow
from kia.deadlines.models import ObligationStatus
from kia.deadlines.admin import case_obligations, list_rules, replace_rules

bp = Blueprint("deadlines", __name__)


class ObligationOut(Schema):
    id = fields.Integer()
    rule = fields.Function(lambda o: o.rule.code if o.rule else None)
    name = fields.Function(lambda o: {"sv": o.rule.name_sv, "en": o.rule.name_en} if o.rule
                           else {"sv": "Åtgärd", "en": "Action"})
    action_id = fields.Integer(allow_none=True)
    starts_at = LocalDateTime()
    due_at = LocalDateTime()
    status = fields.String()
    met_at = LocalDateTime(allow_none=True)
    overdue = fields.Function(lambda o: o.status == ObligationStatus.OPEN and o.due_at <= utcnow(),
                              metadata={"description": "open and past its due time"})
    next_step = fields.String(allow_none=True, metadata={"description": "the escalation step still to come"})
    next_step_at = LocalDateTime(allow_none=True)


class DeadlineRuleSchema(Schema):
    code = fields.String(required=True)
    name_sv = fields.String(required=True)
    name_en = fields.String(required=True)
    type = fields.Function(lambda r: r.incident_type.code if r.incident_type else None,
                           deserialize=lambda v: v, allow_none=True,
                           metadata={"description": "event type code; null = every type"})
    category = fields.String(allow_none=True)
    only_serious = fields.Boolean(load_default=False)
    start = fields.String(required=True, metadata={"description": "occurred_at, known_at, reported_at, field, milestone"})
    start_field = fields.String(allow_none=True)
    start_milestone = fields.String(allow_none=True)
    due_hours = fields.Integer(allow_none=True)
    due_working_days = fields.Integer(allow_none=True, metadata={"description": "end of the n-th Swedish working day"})
    met_by_milestone = fields.String(allow_none=True)
    met_by_state = fields.String(allow_none=True)
    escalate_after_hours = fields.Integer(load_default=24)
    active = fields.Boolean(load_default=True)


@bp.get("/cases/<int:case_id>/obligations")
@requires("cases:read")
def show_obligations(case_id: int):
    case = visible_case(db_session(), current_actor(), case_id)
    return ObligationOut(many=True).dump(case_obligations(db_session(), case))


@bp.get("/deadline-rules")
@requires("admin")
def index_rules():
    if not current_actor().is_config_admin():
        abort(403)
    return DeadlineRuleSchema(many=True).dump(list_rules(db_session()))


@bp.put("/deadline-rules")
@requires("admin")
def put_rules():
    body = request.get_json(silent=True) if request.is_json else abort(415)
    if not isinstance(body, list):
        abort(400)
    specs = DeadlineRuleSchema(many=True).load(body)
    rules = replace_rules(db_session(), current_actor(), specs)
    return DeadlineRuleSchema(many=True).dump(rules)


OPENAPI_SCHEMAS = {"ObligationOut": ObligationOut, "DeadlineRule": DeadlineRuleSchema}


def openapi_paths(spec) -> None:
    spec.path("/cases/{case_id}/obligations", operations={"get": {
        "summary": "The case's obligations: legal and organisational deadlines, met or open", "tags": ["deadlines"],
        "parameters": [path_id("case_id")],
        "responses": {"200": json_response({"type": "array", "items": ref("ObligationOut")}),
                      **problems(401, 403, 404)}}})
    spec.path("/deadline-rules", operations={
        "get": {"summary": "The deadline rules (admin)", "tags": ["deadlines"],
                "responses": {"200": json_response({"type": "array", "items": ref("DeadlineRule")}),
                              **problems(401, 403)}},
        "put": {"summary": "Replace the deadline rules (admin); left-out rules are deactivated, open cases "
                           "are recomputed by the scheduler within a minute", "tags": ["deadlines"],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "array", "items": ref("DeadlineRule")}}}},
                "responses": {"200": json_response({"type": "array", "items": ref("DeadlineRule")}),
                              **problems(400, 401, 403, 415, 422)}},
    })
