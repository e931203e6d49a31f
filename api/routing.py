"""Routing rules in API v1 (admins of the whole organisation): list, add, change, switch off and on."""
from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields

from api.auth import requires
from api.case_schemas import UserRefOut
from api.case_work_schemas import Strict
from api.openapi import json_body as body_of, json_response, path_id, problems, ref
from api.problems import json_body
from api.schemas import LocalDateTime
from kia.http import current_actor, db_session
from kia.routing.admin import MAX_PRIORITY, add_routing_rule, change_routing_rule, list_routing_rules

bp = Blueprint("routing", __name__)
TAGS = ["routing"]
ROLE = {"description": "handler, safety_rep, safety_officer, principal_org, reporter (inform: not reporter)"}
PURPOSE = {"description": "handle: the nearest holder of the role becomes händelseansvarig; inform: the nearest "
                          "holders follow the case"}


class RoutingRulePatchIn(Strict):
    """Only the keys sent change; null for type, category or org_unit means "any"."""

    type = fields.String(allow_none=True, metadata={"description": "event type code; null = every type"})
    category = fields.String(allow_none=True, metadata={
        "description": "work_environment, pupil, safety, information_security; null = every category"})
    org_unit = fields.String(allow_none=True, metadata={"description": "unit code: the rule holds in its "
                                                                       "subtree; null = everywhere"})
    only_serious = fields.Boolean(metadata={"description": "only for serious events (AML 3:3a)"})
    role = fields.String(metadata=ROLE)
    purpose = fields.String(metadata=PURPOSE)
    priority = fields.Integer(metadata={"minimum": -MAX_PRIORITY, "maximum": MAX_PRIORITY,
                                        "description": "breaks ties between equally specific rules, higher first"})
    active = fields.Boolean()


class RoutingRuleIn(RoutingRulePatchIn):
    """A new rule; a key left out means "any" (conditions), false, 0, or active."""

    role = fields.String(required=True, metadata=ROLE)
    purpose = fields.String(required=True, metadata=PURPOSE)


class RoutingRuleOut(Schema):
    id = fields.Integer()
    type = fields.Function(lambda r: r.incident_type.code if r.incident_type else None)
    category = fields.String(allow_none=True)
    org_unit = fields.Function(lambda r: r.org_unit.code if r.org_unit else None)
    only_serious = fields.Boolean()
    role = fields.String()
    purpose = fields.String()
    priority = fields.Integer()
    active = fields.Boolean()
    created_at = LocalDateTime()
    changed_at = LocalDateTime(allow_none=True, metadata={"description": "last added or changed by an admin; "
                                                                         "null for a default never changed"})
    changed_by = fields.Nested(UserRefOut, allow_none=True)


@bp.get("/routing-rules")
@requires("admin")
def index_routing_rules():
    return RoutingRuleOut(many=True).dump(list_routing_rules(db_session(), current_actor()))


@bp.post("/routing-rules")
@requires("admin")
def create_routing_rule():
    spec = RoutingRuleIn().load(json_body())
    return RoutingRuleOut().dump(add_routing_rule(db_session(), current_actor(), spec)), 201


@bp.patch("/routing-rules/<id:rule_id>")
@requires("admin")
def patch_routing_rule(rule_id: int):
    changes = RoutingRulePatchIn().load(json_body())
    return RoutingRuleOut().dump(change_routing_rule(db_session(), current_actor(), rule_id, changes))


OPENAPI_SCHEMAS = {"RoutingRuleIn": RoutingRuleIn, "RoutingRulePatchIn": RoutingRulePatchIn,
                   "RoutingRuleOut": RoutingRuleOut}


def openapi_paths(spec) -> None:
    spec.path("/routing-rules", operations={
        "get": {"summary": "The routing rules, active first (admin of the whole organisation)", "tags": TAGS,
                "responses": {"200": json_response({"type": "array", "items": ref("RoutingRuleOut")}),
                              **problems(401, 403)}},
        "post": {"summary": "Add a routing rule; cases filed from now on are routed by it", "tags": TAGS,
                 "requestBody": body_of("RoutingRuleIn"),
                 "responses": {"201": json_response(ref("RoutingRuleOut"), "Added"),
                               **problems(400, 401, 403, 415, 422)}}})
    spec.path("/routing-rules/{rule_id}", operations={"patch": {
        "summary": "Change a routing rule, or switch it off or on with active; 409 when it would leave no active "
                   "rule giving every case to the nearest handler", "tags": TAGS,
        "parameters": [path_id("rule_id")], "requestBody": body_of("RoutingRulePatchIn"),
        "responses": {"200": json_response(ref("RoutingRuleOut")), **problems(400, 401, 403, 404, 409, 415, 422)}}})
