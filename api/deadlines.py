"""Deadlines in API v1: a case's obligations, and the deadline rules (admins add, change, switch off and on, or
replace them as a set)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from marshmallow import Schema, fields, post_load

from api.auth import requires
from api.case_schemas import UserRefOut
from api.case_work_schemas import Strict
from api.openapi import json_body as body_of, json_response, path_id, problems, ref
from api.problems import json_body
from api.schemas import Id, LocalDateTime
from kia.http import current_actor, db_session
from kia.cases.lookup import visible_case
from kia.cases.models import CaseState, MilestoneKind
from kia.db import utcnow
from kia.deadlines.admin import (
    MAX_HOURS, MAX_WORKING_DAYS, MEETING_STATES, add_deadline_rule, case_obligations, change_deadline_rule,
    list_deadline_rules, replace_rules,
)
from kia.deadlines.models import ObligationStatus
from kia.incidents.models import Category

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


def _values(enum_class, members=None) -> str:
    return ", ".join(str(m) for m in (members or enum_class))


START = {"description": "when the time starts: occurred_at, known_at (the school learned of it), reported_at, "
                        "field (the date or time field start_field of the type), milestone (start_milestone)"}
MILESTONE = {"description": _values(MilestoneKind)}
TYPE = {"description": "event type code; null = every type"}
CATEGORY = {"description": _values(Category) + "; null = every category"}
# What GET shows beside the rule itself: accepted in PUT, so that GET's answer can be changed and sent back.
READ_ONLY = ("id", "builtin", "changed_at", "changed_by")


class DeadlineRulePatchIn(Strict):
    """Only the keys sent change. Of due_hours and due_working_days, and of met_by_milestone and met_by_state,
    giving one clears the other."""

    name_sv = fields.String()
    name_en = fields.String()
    type = fields.String(allow_none=True, metadata=TYPE)
    category = fields.String(allow_none=True, metadata=CATEGORY)
    only_serious = fields.Boolean(metadata={"description": "only for serious events (AML 3:3a)"})
    start = fields.String(metadata=START)
    start_field = fields.String(allow_none=True, metadata={"description": "a date or time field's key; used only "
                                                                          "with start field"})
    start_milestone = fields.String(allow_none=True, metadata={"description": "used only with start milestone: "
                                                                              + _values(MilestoneKind)})
    due_hours = fields.Integer(allow_none=True, metadata={"minimum": 0, "maximum": MAX_HOURS,
                                                          "description": "hours after the start"})
    due_working_days = fields.Integer(allow_none=True, metadata={
        "minimum": 0, "maximum": MAX_WORKING_DAYS,
        "description": "the end of the n-th Swedish working day (0: the same day)"})
    met_by_milestone = fields.String(allow_none=True, metadata=MILESTONE)
    met_by_state = fields.String(allow_none=True, metadata={"description": _values(CaseState, MEETING_STATES)})
    escalate_after_hours = fields.Integer(metadata={"minimum": 0, "maximum": MAX_HOURS,
                                                    "description": "the safety officers hear of it this long after "
                                                                   "the due time"})
    active = fields.Boolean()


class DeadlineRuleIn(DeadlineRulePatchIn):
    """A new rule: either due_hours or due_working_days, either met_by_milestone or met_by_state. Left out: any
    type and category, not only serious, escalation 24 hours after the due time, active."""

    code = fields.String(required=True, metadata={"description": "lower-case letters, digits and _; names the "
                                                                 "rule in PUT and in obligations, never changes"})
    name_sv = fields.String(required=True)
    name_en = fields.String(required=True)
    start = fields.String(required=True, metadata=START)


class DeadlineRule(DeadlineRuleIn):
    """One rule of the whole set (PUT), matched by code; keys left out keep their values. id, builtin,
    changed_at and changed_by are ignored."""

    id = Id(allow_none=True)
    builtin = fields.Boolean()
    changed_at = fields.Raw(allow_none=True)
    changed_by = fields.Raw(allow_none=True)

    @post_load
    def drop_read_only(self, data, **_):
        return {key: value for key, value in data.items() if key not in READ_ONLY}


class DeadlineRuleOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name_sv = fields.String()
    name_en = fields.String()
    type = fields.Function(lambda r: r.incident_type.code if r.incident_type else None)
    category = fields.String(allow_none=True)
    only_serious = fields.Boolean()
    start = fields.String()
    start_field = fields.String(allow_none=True)
    start_milestone = fields.String(allow_none=True)
    due_hours = fields.Integer(allow_none=True)
    due_working_days = fields.Integer(allow_none=True)
    met_by_milestone = fields.String(allow_none=True)
    met_by_state = fields.String(allow_none=True)
    escalate_after_hours = fields.Integer()
    active = fields.Boolean()
    builtin = fields.Boolean(metadata={"description": "one of the defaults KIA installs"})
    changed_at = LocalDateTime(allow_none=True, metadata={"description": "last added or changed by an admin; "
                                                                         "null for a default never changed"})
    changed_by = fields.Nested(UserRefOut, allow_none=True)


@bp.get("/cases/<id:case_id>/obligations")
@requires("cases:read")
def show_obligations(case_id: int):
    case = visible_case(db_session(), current_actor(), case_id)
    return ObligationOut(many=True).dump(case_obligations(db_session(), case))


@bp.get("/deadline-rules")
@requires("admin")
def index_rules():
    return DeadlineRuleOut(many=True).dump(list_deadline_rules(db_session(), current_actor()))


@bp.put("/deadline-rules")
@requires("admin")
def put_rules():
    body = request.get_json(silent=True) if request.is_json else abort(415)
    if not isinstance(body, list):
        abort(400)
    specs = DeadlineRule(many=True).load(body)
    return DeadlineRuleOut(many=True).dump(replace_rules(db_session(), current_actor(), specs))


@bp.post("/deadline-rules")
@requires("admin")
def create_rule():
    spec = DeadlineRuleIn().load(json_body())
    return DeadlineRuleOut().dump(add_deadline_rule(db_session(), current_actor(), spec)), 201


@bp.patch("/deadline-rules/<id:rule_id>")
@requires("admin")
def patch_rule(rule_id: int):
    changes = DeadlineRulePatchIn().load(json_body())
    return DeadlineRuleOut().dump(change_deadline_rule(db_session(), current_actor(), rule_id, changes))


OPENAPI_SCHEMAS = {"ObligationOut": ObligationOut, "DeadlineRule": DeadlineRule, "DeadlineRuleIn": DeadlineRuleIn,
                   "DeadlineRulePatchIn": DeadlineRulePatchIn, "DeadlineRuleOut": DeadlineRuleOut}
TAGS = ["deadlines"]
RULES = json_response({"type": "array", "items": ref("DeadlineRuleOut")})


def openapi_paths(spec) -> None:
    spec.path("/cases/{case_id}/obligations", operations={"get": {
        "summary": "The case's obligations: legal and organisational deadlines, met or open", "tags": TAGS,
        "parameters": [path_id("case_id")],
        "responses": {"200": json_response({"type": "array", "items": ref("ObligationOut")}),
                      **problems(401, 403, 404)}}})
    spec.path("/deadline-rules", operations={
        "get": {"summary": "The deadline rules (admin of the whole organisation)", "tags": TAGS,
                "responses": {"200": RULES, **problems(401, 403)}},
        "post": {"summary": "Add a deadline rule; open cases get its obligation from the scheduler within a "
                            "minute", "tags": TAGS, "requestBody": body_of("DeadlineRuleIn"),
                 "responses": {"201": json_response(ref("DeadlineRuleOut"), "Added"),
                               **problems(400, 401, 403, 415, 422)}},
        "put": {"summary": "Replace the deadline rules (admin); left-out rules are switched off, never deleted; "
                           "open cases are recomputed by the scheduler within a minute", "tags": TAGS,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "array", "items": ref("DeadlineRule")}}}},
                "responses": {"200": RULES, **problems(400, 401, 403, 415, 422)}},
    })
    spec.path("/deadline-rules/{rule_id}", operations={"patch": {
        "summary": "Change a deadline rule, or switch it off or on with active (never deleted: its obligations "
                   "are history); open cases are recomputed by the scheduler within a minute", "tags": TAGS,
        "parameters": [path_id("rule_id")], "requestBody": body_of("DeadlineRulePatchIn"),
        "responses": {"200": json_response(ref("DeadlineRuleOut")), **problems(400, 401, 403, 404, 415, 422)}}})
