"""/api/v1/alarms and /api/v1/alarm-types: thin views over kia.alarms (raise, receive, roll call, chat, checklist,
end), the Server-Sent Events stream, and the alarm types' admin. Scopes: alarms:raise to raise and end, alarms:read
to receive, answer the roll call, chat and tick the checklist."""
from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from api.alarm_schemas import (
    AlarmDetailOut, AlarmIn, AlarmMessageIn, AlarmMessageOut, AlarmOut, AlarmSubscriptionsIn, AlarmTypeIn,
    AlarmTypeOut, AlarmTypePatchIn, ChecklistTickIn, ChecklistTickOut, DrillRequirementIn, DrillRequirementOut,
    RollCallAnswerOut, RollCallIn, RollCallOut,
)
from api.auth import requires
from api.openapi import json_body as body_of, json_response, params, path_id, problems, ref
from api.problems import domain_problem, json_body
from api.schemas import OrgUnitOut
from kia.alarms import services
from kia.alarms.services import AlarmAlreadyRaised, AlarmRateLimited, present_alarm, present_message, present_tick
from kia.alarms.drills import DrillStatus, drill_due_at, last_drill_at, list_drill_requirements, set_drill_requirement
from kia.alarms.stream import event_stream, sse
from kia.alarms.types import change_alarm_type, create_alarm_type
from kia.http import current_actor, db_session, state

bp = Blueprint("alarms", __name__)
ALARM_OUT, DETAIL_OUT = AlarmOut(), AlarmDetailOut()


@bp.errorhandler(AlarmAlreadyRaised)
def _joined(error: AlarmAlreadyRaised):
    response = domain_problem(error)
    response.headers["Location"] = url_for("api.v1.alarms.show_alarm", alarm_id=error.alarm.id)
    return response


@bp.errorhandler(AlarmRateLimited)
def _rate_limited(error: AlarmRateLimited):
    response = domain_problem(error)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _with_counts(alarm) -> dict:
    return present_alarm(alarm, services.roll_call_counts(db_session(), alarm))


# ---- alarm types -------------------------------------------------------------------------------------------------


@bp.get("/alarm-types")
@requires()
def index_alarm_types():
    include_inactive = request.args.get("include_inactive") in ("1", "true")
    return AlarmTypeOut(many=True).dump(services.list_alarm_types(db_session(), include_inactive))


@bp.post("/alarm-types")
@requires("admin")
def create_type():
    spec = AlarmTypeIn().load(json_body())
    return AlarmTypeOut().dump(create_alarm_type(db_session(), current_actor(), spec)), 201


@bp.patch("/alarm-types/<code>")
@requires("admin")
def patch_type(code: str):
    changes = AlarmTypePatchIn().load(json_body())
    return AlarmTypeOut().dump(change_alarm_type(db_session(), current_actor(), code, changes))


# ---- alarms ------------------------------------------------------------------------------------------------------


@bp.post("/alarms")
@requires("alarms:raise")
def raise_alarm():
    data = AlarmIn().load(json_body())
    alarm = services.raise_alarm(db_session(), current_actor(), data, state().broker)
    return ALARM_OUT.dump(_with_counts(alarm)), 201, {
        "Location": url_for("api.v1.alarms.show_alarm", alarm_id=alarm.id)}


@bp.get("/alarms")
@requires("alarms:read")
def index_alarms():
    actor, session = current_actor(), db_session()
    if request.args.get("include_ended") in ("1", "true"):
        alarms = services.list_alarms(session, actor)
    else:
        alarms = services.open_alarms_for(session, actor)
    return ALARM_OUT.dump([_with_counts(a) for a in alarms], many=True)


@bp.get("/alarms/<id:alarm_id>")
@requires("alarms:read")
def show_alarm(alarm_id: int):
    actor = current_actor()
    alarm = services.get_alarm(db_session(), actor, alarm_id)
    return DETAIL_OUT.dump({**_with_counts(alarm), "may_end": services.may_end_alarm(actor, alarm),
                            "checklist": [i for i in alarm.alarm_type.checklist if i.active],
                            "ticks": [present_tick(t) for t in alarm.ticks]})


@bp.get("/alarms/<id:alarm_id>/roll-call")
@requires("alarms:read")
def show_roll_call(alarm_id: int):
    alarm = services.get_alarm(db_session(), current_actor(), alarm_id)
    summary = services.roll_call_summary(db_session(), alarm)
    return RollCallOut().dump({
        "counts": summary.counts,
        "answers": [{"user": a.user, "status": str(a.status), "answered_at": a.answered_at.isoformat()}
                    for a in summary.answers],
        "unanswered": summary.unanswered})


@bp.post("/alarms/<id:alarm_id>/roll-call")
@requires("alarms:read")
def answer_roll_call(alarm_id: int):
    body = RollCallIn().load(json_body())
    answer = services.answer_roll_call(db_session(), current_actor(), alarm_id, body["status"], state().broker)
    return RollCallAnswerOut().dump({"user": answer.user, "status": str(answer.status),
                             "answered_at": answer.answered_at.isoformat()})


@bp.get("/alarms/<id:alarm_id>/messages")
@requires("alarms:read")
def index_messages(alarm_id: int):
    alarm = services.get_alarm(db_session(), current_actor(), alarm_id)
    return AlarmMessageOut(many=True).dump([present_message(m) for m in alarm.messages])


@bp.post("/alarms/<id:alarm_id>/messages")
@requires("alarms:read")
def post_message(alarm_id: int):
    body = AlarmMessageIn().load(json_body())
    message = services.post_message(db_session(), current_actor(), alarm_id, body["body"], state().broker)
    return AlarmMessageOut().dump(present_message(message)), 201


@bp.post("/alarms/<id:alarm_id>/checklist")
@requires("alarms:read")
def tick_checklist(alarm_id: int):
    body = ChecklistTickIn().load(json_body())
    tick = services.tick_checklist(db_session(), current_actor(), alarm_id, body["item"], state().broker)
    return ChecklistTickOut().dump(present_tick(tick))


@bp.post("/alarms/<id:alarm_id>/end")
@requires("alarms:raise")
def end_alarm(alarm_id: int):
    alarm = services.end_alarm(db_session(), current_actor(), alarm_id, state().settings.timezone, state().broker)
    return ALARM_OUT.dump(_with_counts(alarm))


@bp.get("/alarm-subscriptions")
@requires("alarms:read")
def index_subscriptions():
    return OrgUnitOut(many=True).dump(services.alarm_subscriptions(db_session(), current_actor()))


@bp.put("/alarm-subscriptions")
@requires("alarms:read")
def put_subscriptions():
    body = AlarmSubscriptionsIn().load(json_body())
    return OrgUnitOut(many=True).dump(services.set_alarm_subscriptions(db_session(), current_actor(),
                                                                       body["org_units"]))


@bp.get("/drill-requirements")
@requires("alarms:read")
def index_drill_requirements():
    statuses = list_drill_requirements(db_session(), current_actor(), state().settings.timezone)
    return DrillRequirementOut(many=True).dump(statuses)


@bp.put("/drill-requirements")
@requires("alarms:raise")
def put_drill_requirement():
    body = DrillRequirementIn().load(json_body())
    session, tz = db_session(), state().settings.timezone
    requirement = set_drill_requirement(session, current_actor(), body["org_unit"], body["type"],
                                        body["every_months"], body["active"])
    return DrillRequirementOut().dump(DrillStatus(requirement, last_drill_at(session, requirement),
                                                  drill_due_at(session, requirement, tz)))


# ---- the stream --------------------------------------------------------------------------------------------------


def _last_event_id() -> int:
    given = request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or ""
    return int(given) if given.isdigit() and len(given) < 12 else 0


@bp.get("/alarms/stream")
@requires("alarms:read")
def stream():
    """Server-Sent Events (kia.alarms.stream). Subscribed before the database is read, so nothing committed in
    between is missed (a repeat is possible: clients key alarms by id). The request's session is closed before the
    stream starts: a connected client holds no database connection."""
    actor, session, kia = current_actor(), db_session(), state()
    subscription = kia.broker.subscribe()
    try:
        audience = services.audience_for(session, actor)
        opening = [sse({"alarm": _with_counts(a)}, "alarm.open") for a in services.open_alarms_for(session, actor)]
        last_id = _last_event_id()
        if last_id:
            for event in services.events_since(session, actor, last_id):
                opening.append(sse(event.data, event.kind, event.id))
                last_id = event.id
        session.close()
    except BaseException:
        subscription.close()
        raise
    settings = kia.settings
    body = event_stream(subscription, audience, opening, last_id, settings.alarm_heartbeat_seconds,
                        settings.alarm_stream_seconds)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# Leaves first: a schema registered by name after another nested it would be registered twice.
OPENAPI_SCHEMAS = {"RollCallAnswerOut": RollCallAnswerOut, "AlarmMessageOut": AlarmMessageOut,
                   "ChecklistTickOut": ChecklistTickOut, "AlarmIn": AlarmIn, "AlarmOut": AlarmOut,
                   "AlarmDetailOut": AlarmDetailOut, "RollCallIn": RollCallIn, "RollCallOut": RollCallOut,
                   "AlarmMessageIn": AlarmMessageIn, "ChecklistTickIn": ChecklistTickIn, "AlarmTypeIn": AlarmTypeIn,
                   "AlarmTypePatchIn": AlarmTypePatchIn, "AlarmTypeOut": AlarmTypeOut,
                   "AlarmSubscriptionsIn": AlarmSubscriptionsIn, "DrillRequirementIn": DrillRequirementIn,
                   "DrillRequirementOut": DrillRequirementOut}


def openapi_paths(spec) -> None:
    alarm = [path_id("alarm_id")]
    tags = ["alarms"]
    spec.path("/alarm-types", operations={
        "get": {"summary": "Alarm types in button order", "tags": tags,
                "parameters": params(("include_inactive", "query", "1 to include inactive types", False)),
                "responses": {"200": json_response({"type": "array", "items": ref("AlarmTypeOut")}),
                              **problems(401)}},
        "post": {"summary": "Add an alarm type (admin of the whole organisation)", "tags": tags,
                 "requestBody": body_of("AlarmTypeIn"),
                 "responses": {"201": json_response(ref("AlarmTypeOut")), **problems(401, 403, 422)}}})
    spec.path("/alarm-types/{code}", operations={"patch": {
        "summary": "Change an alarm type's texts, settings, event type or checklist", "tags": tags,
        "parameters": params(("code", "path", "the alarm type's code", True)),
        "requestBody": body_of("AlarmTypePatchIn"),
        "responses": {"200": json_response(ref("AlarmTypeOut")), **problems(401, 403, 404, 422)}}})
    spec.path("/alarms", operations={
        "post": {"summary": "Raise an alarm for a unit", "tags": tags, "requestBody": body_of("AlarmIn"),
                 "responses": {"201": json_response(ref("AlarmOut"), "Raised; Location names it"),
                               **problems(401, 403, 409, 422, 429)}},
        "get": {"summary": "The open alarms you receive (include_ended=1: every alarm you may read)", "tags": tags,
                "parameters": params(("include_ended", "query", "1 for ended alarms too", False)),
                "responses": {"200": json_response({"type": "array", "items": ref("AlarmOut")}),
                              **problems(401, 403)}}})
    spec.path("/alarms/stream", operations={"get": {
        "summary": "Server-Sent Events: open alarms on connect (alarm.open), then alarm.raised, alarm.roll_call, "
                   "alarm.message, alarm.checklist, alarm.ended; heartbeat comments", "tags": tags,
        "parameters": params(("Last-Event-ID", "header", "the last event id received: what came after is sent",
                              False),
                             ("last_event_id", "query", "the same, for a client that cannot set the header", False)),
        "responses": {"200": {"description": "text/event-stream",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      **problems(401, 403)}}})
    spec.path("/alarms/{alarm_id}", operations={"get": {
        "summary": "One alarm with its roll call counts and checklist", "tags": tags, "parameters": alarm,
        "responses": {"200": json_response(ref("AlarmDetailOut")), **problems(401, 403, 404)}}})
    spec.path("/alarms/{alarm_id}/roll-call", operations={
        "get": {"summary": "The roll call: counts, answers, who has not answered", "tags": tags,
                "parameters": alarm, "responses": {"200": json_response(ref("RollCallOut")),
                                                   **problems(401, 403, 404)}},
        "post": {"summary": "Answer the roll call (again: change the answer)", "tags": tags, "parameters": alarm,
                 "requestBody": body_of("RollCallIn"),
                 "responses": {"200": json_response(ref("RollCallAnswerOut")),
                               **problems(401, 403, 404, 409, 422)}}})
    spec.path("/alarms/{alarm_id}/messages", operations={
        "get": {"summary": "The responders' chat", "tags": tags, "parameters": alarm,
                "responses": {"200": json_response({"type": "array", "items": ref("AlarmMessageOut")}),
                              **problems(401, 403, 404)}},
        "post": {"summary": "Write in the chat (text only, kept)", "tags": tags, "parameters": alarm,
                 "requestBody": body_of("AlarmMessageIn"),
                 "responses": {"201": json_response(ref("AlarmMessageOut")), **problems(401, 403, 404, 409, 422)}}})
    spec.path("/alarms/{alarm_id}/checklist", operations={"post": {
        "summary": "Tick a checklist step", "tags": tags, "parameters": alarm,
        "requestBody": body_of("ChecklistTickIn"),
        "responses": {"200": json_response(ref("ChecklistTickOut")), **problems(401, 403, 404, 422)}}})
    spec.path("/alarms/{alarm_id}/end", operations={"post": {
        "summary": "All clear: end the alarm; a real one is filed as an event with its case", "tags": tags,
        "parameters": alarm,
        "responses": {"200": json_response(ref("AlarmOut")), **problems(401, 403, 404, 409)}}})
    spec.path("/alarm-subscriptions", operations={
        "get": {"summary": "Units above the schools whose alarms you receive", "tags": tags,
                "responses": {"200": json_response({"type": "array", "items": ref("OrgUnitOut")}),
                              **problems(401, 403)}},
        "put": {"summary": "Receive the alarms of exactly these units' subtrees", "tags": tags,
                "requestBody": body_of("AlarmSubscriptionsIn"),
                "responses": {"200": json_response({"type": "array", "items": ref("OrgUnitOut")}),
                              **problems(401, 403, 422)}}})
    spec.path("/drill-requirements", operations={
        "get": {"summary": "The drills your units must hold, with the last one and the next due date",
                "tags": tags,
                "responses": {"200": json_response({"type": "array", "items": ref("DrillRequirementOut")}),
                              **problems(401, 403)}},
        "put": {"summary": "Require a drill of an alarm type on a unit (a rektor or an admin of it)", "tags": tags,
                "requestBody": body_of("DrillRequirementIn"),
                "responses": {"200": json_response(ref("DrillRequirementOut")), **problems(401, 403, 422)}}})
