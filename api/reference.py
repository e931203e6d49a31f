"""Reference data: event types (adding and changing one, for admins) and the org tree.

GET /incident-types lists retired fields too, marked retired: older incidents hold values under their keys,
and their labels explain them; a report form leaves them out (as /public/incident-types does).
"""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.auth import requires
from api.openapi import json_body as body_of, json_response, params, path_id, problems, ref
from api.problems import json_body
from api.schemas import IncidentTypeIn, IncidentTypeOut, IncidentTypePatchIn, OrgUnitCoordinatesIn, OrgUnitOut
from kia.http import current_actor, db_session
from kia.incidents.type_changes import change_incident_type
from kia.incidents.types import create_incident_type, list_types
from kia.orgs.admin import set_unit_coordinates
from kia.orgs.models import OrgUnit

bp = Blueprint("reference", __name__)


@bp.get("/incident-types")
@requires()
def index_incident_types():
    include_inactive = request.args.get("include_inactive") in ("1", "true")
    return IncidentTypeOut(many=True).dump(list_types(db_session(), include_inactive=include_inactive))


@bp.post("/incident-types")
@requires("admin")
def create_type():
    spec = IncidentTypeIn().load(json_body())
    incident_type = create_incident_type(db_session(), current_actor(), spec)
    return IncidentTypeOut().dump(incident_type), 201


@bp.patch("/incident-types/<code>")
@requires("admin")
def patch_type(code: str):
    changes = IncidentTypePatchIn().load(json_body())
    return IncidentTypeOut().dump(change_incident_type(db_session(), current_actor(), code, changes))


@bp.get("/org-units")
@requires()
def index_org_units():
    units = db_session().scalars(
        select(OrgUnit).where(OrgUnit.active.is_(True)).options(joinedload(OrgUnit.parent)).order_by(OrgUnit.path))
    return OrgUnitOut(many=True).dump(units)


@bp.put("/org-units/<id:unit_id>/coordinates")
@requires("admin")
def put_unit_coordinates(unit_id: int):
    data = OrgUnitCoordinatesIn().load(json_body())
    unit = set_unit_coordinates(db_session(), current_actor(), unit_id, data["latitude"], data["longitude"])
    return OrgUnitOut().dump(unit)


OPENAPI_SCHEMAS = {"IncidentTypeIn": IncidentTypeIn, "IncidentTypeOut": IncidentTypeOut,
                   "IncidentTypePatchIn": IncidentTypePatchIn, "OrgUnitOut": OrgUnitOut,
                   "OrgUnitCoordinatesIn": OrgUnitCoordinatesIn}


def openapi_paths(spec) -> None:
    spec.path("/incident-types", operations={
        "get": {"summary": "Event types with their field definitions", "tags": ["reference"],
                "description": "Retired fields are listed with retired: true, for the values older incidents hold; "
                               "a report leaves them out.",
                "parameters": params(("include_inactive", "query", "1 to include inactive types", False)),
                "responses": {"200": json_response({"type": "array", "items": ref("IncidentTypeOut")}),
                              **problems(401)}},
        "post": {"summary": "Add an event type (admin of the whole organisation)", "tags": ["reference"],
                 "requestBody": body_of("IncidentTypeIn"),
                 "responses": {"201": json_response(ref("IncidentTypeOut"), "Created"), **problems(401, 403, 422)}},
    })
    spec.path("/incident-types/{code}", operations={"patch": {
        "summary": "Change an event type (admin of the whole organisation): texts, active, fields", "tags": ["reference"],
        "description": "Nothing is deleted and no key, kind or choice value changes, since stored incidents hold "
                       "their values by them: retire a field instead (retired: true). 422 with a message per "
                       "field path (fields[0].label.sv, new_fields[1].key) for what may not change.",
        "parameters": params(("code", "path", "the event type's code", True)),
        "requestBody": body_of("IncidentTypePatchIn"),
        "responses": {"200": json_response(ref("IncidentTypeOut")), **problems(400, 401, 403, 404, 415, 422)}}})
    spec.path("/org-units", operations={"get": {
        "summary": "The org tree", "tags": ["reference"],
        "responses": {"200": json_response({"type": "array", "items": ref("OrgUnitOut")}), **problems(401)}}})
    spec.path("/org-units/{unit_id}/coordinates", operations={"put": {
        "summary": "Set or clear a unit's coordinates (admin of the whole organisation)", "tags": ["reference"],
        "description": "WGS84 degrees, both or both null; kept to six decimals. The map shows the unit's events "
                       "there, and a new event's point must lie within 1 km of them.",
        "parameters": [path_id("unit_id")], "requestBody": body_of("OrgUnitCoordinatesIn"),
        "responses": {"200": json_response(ref("OrgUnitOut")), **problems(400, 401, 403, 404, 415, 422)}}})
