"""The case API: the inbox, one case and its timeline, transitions, milestones, the serious check, the access log."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from api.auth import requires
from api.case_schemas import (
    AccessLogEntryOut, AccessLogPageOut, AccessLogQuery, ActionOut, CaseDetailOut, CaseIncidentOut, CaseOut,
    CasePageOut, CasePatchIn, CaseQuery, MilestoneIn, MilestoneOut, RelatedCaseOut, SeriousCheckIn, SeriousCheckOut,
    TimelineEntryOut, TimelineOut, TransitionIn, WatcherOut,
)
from api.incidents import present_incident
from api.openapi import json_body as body_of, json_response, params, path_id, problems, query_id, ref
from api.problems import json_body, load_query
from kia.access import Actor, may_see_personal_data
from kia.http import current_actor, db_session, state
from kia.cases.milestones import record_milestone, update_case
from kia.cases.models import Case, TimelineEntry
from kia.cases.serious import check_applies, check_serious
from kia.cases.read_log import list_access_log
from kia.cases.services import CaseView, is_overdue, list_cases, read_case, read_timeline
from kia.cases.timeline import made_as_reporter
from kia.cases.workflow import transition
from kia.db import utcnow

bp = Blueprint("cases", __name__)


def _user(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def present_case(case: Case, now: datetime) -> dict:
    return {
        "id": case.id, "number": case.number, "state": case.state, "type": case.incident_type.code,
        "type_name": {"sv": case.incident_type.name_sv, "en": case.incident_type.name_en},
        "org_unit": case.org_unit.code, "org_unit_name": case.org_unit.name, "incident_id": case.incident_id,
        "serious": case.serious, "assignee": _user(case.assignee), "next_due_at": case.next_due_at,
        "overdue": is_overdue(case, now), "closed_at": case.closed_at, "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def case_field_values(case: Case, actor: Actor) -> dict:
    """A case's own values (a case of another type than its event's, added later), sensitive ones only for
    those who may see personal data, as the incident's own values are shown."""
    sensitive = {f.key for f in case.incident_type.fields if f.sensitive}
    personal = may_see_personal_data(actor, case.incident)
    return {k: v for k, v in case.field_values.items() if personal or k not in sensitive}


def present_case_view(view: CaseView, actor: Actor, now: datetime) -> dict:
    """Personal data (the pupil, the reporter) exactly as the incident API shows it to this actor."""
    case = view.case
    incident = present_incident(case.incident, actor)
    subject = (incident["persons"][case.incident.persons.index(case.subject_person)]
               if case.subject_person is not None else None)
    return {
        **present_case(case, now), "subject": subject, "incident": incident,
        "investigation": case.investigation, "closing_summary": case.closing_summary, "decision": case.decision,
        "open_actions_reason": case.open_actions_reason, "rejection_reason": case.rejection_reason,
        "serious_check_applies": check_applies(case.incident_type), "serious_checklist": case.serious_checklist,
        "may_handle": view.may_handle, "next_states": view.next_states,
        "milestones": [{"kind": m.kind, "at": m.at, "reference": m.reference, "recorded_by": _user(m.recorded_by),
                        "recorded_at": m.recorded_at} for m in case.milestones],
        "actions": [{"id": a.id, "what": a.what, "responsible": _user(a.responsible), "due_date": a.due_date,
                     "status": a.status, "follow_up_note": a.follow_up_note, "completed_at": a.completed_at}
                    for a in case.actions],
        "related": [{"id": r.case.id, "number": r.case.number, "state": r.case.state,
                     "type": r.case.incident_type.code, "relation": r.relation} for r in view.related],
        "watchers": [{"user": _user(w.user), "reason": w.reason} for w in view.watchers],
        "legal_hold": case.legal_hold,
    }


def present_timeline(case: Case, entries: list[TimelineEntry], actor: Actor) -> dict:
    # The reporter is the actor of the case's first entry: hidden from whoever may not see who reported.
    # What the reporter did as the reporter, hidden from whoever may not see who reported; the same person's
    # work as the case's handler keeps their name, which says nothing of who reported.
    reporter_id, personal = case.incident.reporter_id, may_see_personal_data(actor, case.incident)
    return {"items": [{"id": e.id, "at": e.at, "kind": e.kind, "field": e.field, "old": e.old, "new": e.new,
                       "note": e.note, "by_reporter": (as_reporter := made_as_reporter(e, reporter_id)),
                       "actor": None if as_reporter and not personal else _user(e.actor)}
                      for e in entries]}


@bp.get("/cases")
@requires("cases:read")
def index_cases():
    query = load_query(CaseQuery(), request.args)
    items, next_cursor = list_cases(db_session(), current_actor(), query)
    now = utcnow()
    return CasePageOut().dump({"items": [present_case(c, now) for c in items], "next_cursor": next_cursor})


@bp.get("/cases/<id:case_id>")
@requires("cases:read")
def show_case(case_id: int):
    actor = current_actor()
    return CaseDetailOut().dump(present_case_view(read_case(db_session(), actor, case_id), actor, utcnow()))


@bp.patch("/cases/<id:case_id>")
@requires("cases:write")
def patch_case(case_id: int):
    data = CasePatchIn().load(json_body())
    case = update_case(db_session(), current_actor(), case_id, investigation=data["investigation"])
    return CaseOut().dump(present_case(case, utcnow()))


@bp.post("/cases/<id:case_id>/transitions")
@requires("cases:write")
def create_transition(case_id: int):
    data = TransitionIn().load(json_body())
    case = transition(db_session(), current_actor(), case_id, data, state().settings.timezone)
    return CaseOut().dump(present_case(case, utcnow()))


@bp.post("/cases/<id:case_id>/milestones")
@requires("cases:write")
def create_milestone(case_id: int):
    data = MilestoneIn().load(json_body())
    milestone = record_milestone(db_session(), current_actor(), case_id, data, state().settings.timezone)
    return MilestoneOut().dump({"kind": milestone.kind, "at": milestone.at, "reference": milestone.reference,
                                "recorded_by": _user(milestone.recorded_by), "recorded_at": milestone.recorded_at}), 201


@bp.put("/cases/<id:case_id>/serious-check")
@requires("cases:write")
def put_serious_check(case_id: int):
    data = SeriousCheckIn().load(json_body())
    case = check_serious(db_session(), current_actor(), case_id, data["answers"], state().settings.timezone,
                         data["clear_reason"])
    return SeriousCheckOut().dump({"serious": case.serious, "answers": case.serious_checklist})


@bp.get("/cases/<id:case_id>/timeline")
@requires("cases:read")
def show_timeline(case_id: int):
    actor = current_actor()
    case, entries = read_timeline(db_session(), actor, case_id)
    return TimelineOut().dump(present_timeline(case, entries, actor))


@bp.get("/access-log")
@requires("admin")
def index_access_log():
    query = load_query(AccessLogQuery(), request.args)
    rows, next_cursor = list_access_log(db_session(), current_actor(), query)
    return AccessLogPageOut().dump({"next_cursor": next_cursor, "items": [
        {"id": r.entry.id, "at": r.entry.at, "case_id": r.entry.case_id, "case_number": r.case_number,
         "user": {"id": r.entry.user_id, "name": r.user_name}, "action": r.entry.action, "detail": r.entry.detail}
        for r in rows]})


# Nested schemas before the ones holding them, so each is registered once under its own name.
OPENAPI_SCHEMAS = {
    "CaseOut": CaseOut, "CasePageOut": CasePageOut, "MilestoneOut": MilestoneOut, "ActionOut": ActionOut,
    "RelatedCaseOut": RelatedCaseOut, "WatcherOut": WatcherOut, "CaseIncidentOut": CaseIncidentOut,
    "CaseDetailOut": CaseDetailOut, "CasePatchIn": CasePatchIn, "TransitionIn": TransitionIn,
    "MilestoneIn": MilestoneIn, "SeriousCheckIn": SeriousCheckIn, "SeriousCheckOut": SeriousCheckOut,
    "TimelineEntryOut": TimelineEntryOut, "TimelineOut": TimelineOut, "AccessLogEntryOut": AccessLogEntryOut,
    "AccessLogPageOut": AccessLogPageOut,
}
CASE_ID = path_id("case_id")


def openapi_paths(spec) -> None:
    tags = ["cases"]
    spec.path("/cases", operations={"get": {
        "summary": "Cases you may read (the inbox)", "tags": tags,
        "parameters": params(
            ("state", "query", "states, comma-separated; `open` for every open state", False),
            ("type", "query", "event type code", False),
            ("org_unit", "query", "org unit code, with its subtree", False),
            ("assigned", "query", "`me`: the cases you handle", False),
            ("serious", "query", "true/false: marked serious (AML 3:3a)", False),
            ("overdue", "query", "true/false: open with an obligation past due", False),
            ("sort", "query", "due (default; nulls last), -due, reported, -reported, number, -number", False),
            ("cursor", "query", "next_cursor of the previous page", False),
            ("limit", "query", "1–200, default 50", False)),
        "responses": {"200": json_response(ref("CasePageOut")), **problems(400, 401, 403)}}})
    spec.path("/cases/{case_id}", operations={
        "get": {"summary": "One case with its incident, milestones, actions, related cases and watchers; "
                           "a read of a sensitive case is logged", "tags": tags, "parameters": [CASE_ID],
                "responses": {"200": json_response(ref("CaseDetailOut")), **problems(401, 403, 404)}},
        "patch": {"summary": "Write the investigation", "tags": tags, "parameters": [CASE_ID],
                  "requestBody": body_of("CasePatchIn"),
                  "responses": {"200": json_response(ref("CaseOut")), **problems(401, 403, 404, 409, 415, 422)}},
    })
    spec.path("/cases/{case_id}/transitions", operations={"post": {
        "summary": "Move the case to another state (409 if its workflow does not allow it; 422 per guard)",
        "tags": tags, "parameters": [CASE_ID], "requestBody": body_of("TransitionIn"),
        "responses": {"200": json_response(ref("CaseOut")), **problems(401, 403, 404, 409, 415, 422)}}})
    spec.path("/cases/{case_id}/milestones", operations={"post": {
        "summary": "Record a milestone (once per kind; 409 the second time)", "tags": tags, "parameters": [CASE_ID],
        "requestBody": body_of("MilestoneIn"),
        "responses": {"201": json_response(ref("MilestoneOut"), "Recorded"),
                      **problems(401, 403, 404, 409, 415, 422)}}})
    spec.path("/cases/{case_id}/serious-check", operations={"put": {
        "summary": "Answer the serious-event checklist (AML 3:3a); lifting the serious mark needs a reason",
        "tags": tags, "parameters": [CASE_ID], "requestBody": body_of("SeriousCheckIn"),
        "responses": {"200": json_response(ref("SeriousCheckOut")), **problems(401, 403, 404, 409, 415, 422)}}})
    spec.path("/cases/{case_id}/timeline", operations={"get": {
        "summary": "Every change to the case, oldest first; a read of a sensitive case is logged", "tags": tags,
        "parameters": [CASE_ID], "responses": {"200": json_response(ref("TimelineOut")), **problems(401, 403, 404)}}})
    spec.path("/access-log", operations={"get": {
        "summary": "The read log: every opening of a case (page, API, attachment, revealed personal number), API "
                   "reads of incidents and registerutdrag searches in your subtree, newest first (auditor or admin)",
        "tags": tags,
        "parameters": [query_id("case", "a case id"), query_id("user", "a user id"),
                       query_id("cursor", "next_cursor of the previous page"),
                       *params(("limit", "query", "1–500, default 100", False))],
        "responses": {"200": json_response(ref("AccessLogPageOut")), **problems(400, 401, 403)}}})
