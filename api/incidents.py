"""POST/GET /api/v1/incidents: thin views over kia.incidents.services."""
from __future__ import annotations

import hashlib
import re

from flask import Blueprint, abort, json, request, url_for

from api.auth import requires
from api.feedback_schemas import ANONYMOUS_RECEIPT_OUT
from api.problems import json_body, load_query
from api.openapi import json_body as body_of, json_response, params, path_id, problems, ref
from api.schemas import IncidentIn, IncidentOut, IncidentPageOut, IncidentQuery
from kia.access import Actor, cases_shown_with, may_see_personal_data
from kia.http import current_actor, db_session, state
from kia.incidents import personnummer
from kia.incidents.models import Incident
from kia.feedback.services import file_anonymously_as_staff
from kia.incidents.services import IncidentFilter, file_incident, get_incident, list_incidents

bp = Blueprint("incidents", __name__)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# Built once: a schema holds no per-request state, and building one (nested schemas included)
# costs more than loading or dumping with it.
INCIDENT_IN, INCIDENT_OUT = IncidentIn(), IncidentOut()


def present_incident(incident: Incident, actor: Actor) -> dict:
    """The incident as this actor may see it: personal data and sensitive values only for the handler
    chain and the reporter; personal numbers always masked."""
    personal = may_see_personal_data(actor, incident)
    sensitive_keys = {f.key for f in incident.incident_type.fields if f.sensitive}
    return {
        "id": incident.id, "number": incident.number, "type": incident.incident_type.code,
        "type_name": {"sv": incident.incident_type.name_sv, "en": incident.incident_type.name_en},
        "org_unit": incident.org_unit.code, "org_unit_name": incident.org_unit.name,
        "occurred_at": incident.occurred_at, "known_at": incident.known_at, "reported_at": incident.reported_at,
        "location": incident.location, "description": incident.description, "anonymous": incident.anonymous,
        "latitude": incident.latitude, "longitude": incident.longitude,
        "reporter": ({"id": incident.reporter.id, "name": incident.reporter.name}
                     if personal and incident.reporter else None),
        "persons": [{
            "role": p.role, "category": p.category, "gender": p.gender,
            "name": p.name if personal else None,
            "class_name": p.class_name if personal else None,
            "personal_number": personnummer.mask(p.personal_number) if personal else None,
        } for p in incident.persons],
        "fields": {k: v for k, v in incident.field_values.items() if personal or k not in sensitive_keys},
        "cases": [{"id": c.id, "number": c.number, "state": c.state, "type": c.incident_type.code}
                  for c in cases_shown_with(actor, incident)],
    }


@bp.post("/incidents")
@requires("incidents:write")
def create_incident():
    body = json_body()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        abort(400)
    data = INCIDENT_IN.load(body)
    actor = current_actor()
    if data.anonymous:
        # Not tied to the filer (no reporter, no idempotency key): the follow-up code is their way back.
        receipt = file_anonymously_as_staff(db_session(), actor, data, state().settings.timezone)
        return ANONYMOUS_RECEIPT_OUT.dump(receipt), 201
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    incident, created = file_incident(db_session(), actor, data, state().settings.timezone,
                                      idempotency=(key, fingerprint) if key else None)
    response = INCIDENT_OUT.dump(present_incident(incident, actor))
    headers = {"Location": url_for("api.v1.incidents.show_incident", incident_id=incident.id)}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return response, 201 if created else 200, headers


@bp.get("/incidents")
@requires("incidents:read")
def index_incidents():
    query = load_query(IncidentQuery(), request.args)
    actor = current_actor()
    items, next_cursor = list_incidents(db_session(), actor, IncidentFilter(**query))
    return IncidentPageOut().dump({"items": [present_incident(i, actor) for i in items],
                                   "next_cursor": next_cursor})


@bp.get("/incidents/<id:incident_id>")
@requires("incidents:read")
def show_incident(incident_id: int):
    actor = current_actor()
    return INCIDENT_OUT.dump(present_incident(get_incident(db_session(), actor, incident_id), actor))


OPENAPI_SCHEMAS = {"IncidentIn": IncidentIn, "IncidentOut": IncidentOut, "IncidentPageOut": IncidentPageOut}


def openapi_paths(spec) -> None:
    spec.path("/incidents", operations={
        "post": {"summary": "File an incident; creates its cases", "tags": ["incidents"],
                 "parameters": params(("Idempotency-Key", "header",
                                       "a retry with the same key returns the first incident (200)", False)),
                 "requestBody": body_of("IncidentIn"),
                 "responses": {"201": json_response(ref("IncidentOut"),
                                                   "Filed; Location names it. With anonymous: true the answer "
                                                   "is an AnonymousReceiptOut with the follow-up code instead"),
                               "200": json_response(ref("IncidentOut"), "A retry: the incident filed first"),
                               **problems(400, 401, 403, 409, 413, 415, 422)}},
        "get": {"summary": "Incidents you may read, newest first", "tags": ["incidents"],
                "parameters": params(("type", "query", "event type code", False),
                                     ("org_unit", "query", "org unit code, with its subtree", False),
                                     ("from", "query", "occurred at or after (ISO 8601)", False),
                                     ("to", "query", "occurred before (ISO 8601)", False),
                                     ("cursor", "query", "next_cursor of the previous page", False),
                                     ("limit", "query", "1–200, default 50", False)),
                "responses": {"200": json_response(ref("IncidentPageOut")), **problems(400, 401, 403)}},
    })
    spec.path("/incidents/{incident_id}", operations={"get": {
        "summary": "One incident with its cases", "tags": ["incidents"], "parameters": [path_id("incident_id")],
        "responses": {"200": json_response(ref("IncidentOut")), **problems(401, 403, 404)}}})
