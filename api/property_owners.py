"""Felanmälan: property owners (for the admin of the whole organisation; the API key is write-only) and the fault
reports of a case (the handler sends one; KIA delivers it through the outbox and follows the owner's status)."""
from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields

from api.auth import requires
from api.case_work_schemas import Strict
from api.openapi import json_body as body_of, json_response, path_id, problems, ref
from api.problems import json_body
from api.schemas import LocalDateTime, max_items, max_length, one_of
from kia.db import utcnow
from kia.http import current_actor, db_session
from kia.property.models import DeliveryMethod, FaultReport, PropertyOwner, Urgency
from kia.property.owners import change_owner, create_owner, get_owner, list_owners
from kia.property.services import DESCRIPTION_LENGTH, PLACE_LENGTH, FaultReportInput, fault_reports_of, \
    send_fault_report

bp = Blueprint("property", __name__)


class PropertyOwnerIn(Strict):
    name = fields.String(required=True, validate=max_length(200))
    method = fields.String(required=True, validate=one_of(DeliveryMethod), metadata={
        "description": "open311: a GeoReport v2 endpoint; email: a rendered e-mail to `email`"})
    endpoint_url = fields.String(validate=max_length(500), metadata={
        "description": "the GeoReport v2 base URL (…/requests.json is added)"})
    api_key = fields.String(validate=max_length(200), load_only=True, metadata={
        "description": "write-only: stored, sent in the POST body, never shown; left out, the stored one stays"})
    jurisdiction_id = fields.String(validate=max_length(100))
    service_codes = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "event type code → the owner's service_code; the key `default` for the other types"})
    email = fields.String(validate=max_length(254))
    active = fields.Boolean()
    units = fields.List(fields.String(), validate=max_items(1000), metadata={
        "description": "codes of the units whose buildings it owns (their subtrees inherit it)"})


class PropertyOwnerPatchIn(PropertyOwnerIn):
    name = fields.String(validate=max_length(200))
    method = fields.String(validate=one_of(DeliveryMethod))


class PropertyOwnerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    method = fields.String()
    endpoint_url = fields.String()
    api_key_set = fields.Boolean(metadata={"description": "whether a key is stored (the key itself never is shown)"})
    jurisdiction_id = fields.String()
    service_codes = fields.Dict()
    email = fields.String()
    active = fields.Boolean()
    units = fields.List(fields.String())
    created_at = LocalDateTime()


class FaultReportIn(Strict):
    place = fields.String(required=True, validate=max_length(PLACE_LENGTH), metadata={
        "description": "where in the building: house, floor, room"})
    description = fields.String(required=True, validate=max_length(DESCRIPTION_LENGTH))
    urgency = fields.String(load_default=Urgency.NORMAL.value, validate=one_of(Urgency))


class FaultReportOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    owner = fields.String()
    method = fields.String()
    place = fields.String()
    description = fields.String()
    urgency = fields.String()
    status = fields.String(metadata={"description": "queued, sent, failed (an admin can send it again), closed"})
    service_request_id = fields.String(allow_none=True)
    owner_status = fields.String(metadata={"description": "open or closed as the owner says; empty until read"})
    status_notes = fields.String()
    created_at = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)


class FaultReportListOut(Schema):
    items = fields.List(fields.Nested(FaultReportOut))


def present_owner(owner: PropertyOwner) -> dict:
    return {"id": owner.id, "name": owner.name, "method": owner.method.value, "endpoint_url": owner.endpoint_url,
            "api_key_set": bool(owner.api_key), "jurisdiction_id": owner.jurisdiction_id,
            "service_codes": owner.service_codes, "email": owner.email, "active": owner.active,
            "units": sorted(link.org_unit.code for link in owner.units), "created_at": owner.created_at}


def present_report(report: FaultReport) -> dict:
    return {"id": report.id, "case_id": report.case_id, "owner": report.owner.name, "method": report.method.value,
            "place": report.place, "description": report.description, "urgency": report.urgency.value,
            "status": report.status.value, "service_request_id": report.service_request_id,
            "owner_status": report.owner_status, "status_notes": report.status_notes,
            "created_at": report.created_at, "sent_at": report.sent_at, "closed_at": report.closed_at}


@bp.get("/property-owners")
@requires("admin")
def index_owners():
    return {"items": [PropertyOwnerOut().dump(present_owner(o)) for o in list_owners(db_session(), current_actor())]}


@bp.post("/property-owners")
@requires("admin")
def create_property_owner():
    spec = PropertyOwnerIn().load(json_body())
    return PropertyOwnerOut().dump(present_owner(create_owner(db_session(), current_actor(), spec))), 201


@bp.get("/property-owners/<id:owner_id>")
@requires("admin")
def show_owner(owner_id: int):
    return PropertyOwnerOut().dump(present_owner(get_owner(db_session(), current_actor(), owner_id)))


@bp.patch("/property-owners/<id:owner_id>")
@requires("admin")
def patch_owner(owner_id: int):
    changes = PropertyOwnerPatchIn().load(json_body())
    return PropertyOwnerOut().dump(present_owner(change_owner(db_session(), current_actor(), owner_id, changes)))


@bp.get("/cases/<id:case_id>/fault-reports")
@requires("cases:read")
def index_fault_reports(case_id: int):
    reports = fault_reports_of(db_session(), current_actor(), case_id)
    return FaultReportListOut().dump({"items": [present_report(r) for r in reports]})


@bp.post("/cases/<id:case_id>/fault-reports")
@requires("cases:write")
def create_fault_report(case_id: int):
    data = FaultReportIn().load(json_body())
    report = send_fault_report(db_session(), current_actor(), case_id, FaultReportInput(**data), utcnow())
    return FaultReportOut().dump(present_report(report)), 201


OPENAPI_SCHEMAS = {"PropertyOwnerIn": PropertyOwnerIn, "PropertyOwnerPatchIn": PropertyOwnerPatchIn,
                   "PropertyOwnerOut": PropertyOwnerOut, "FaultReportIn": FaultReportIn,
                   "FaultReportOut": FaultReportOut, "FaultReportListOut": FaultReportListOut}
TAGS = ["property owners"]


def openapi_paths(spec) -> None:
    owner_list = {"type": "object", "properties": {"items": {"type": "array", "items": ref("PropertyOwnerOut")}}}
    spec.path("/property-owners", operations={
        "get": {"summary": "Property owners and how each takes fault reports (admin of the whole organisation)",
                "tags": TAGS, "responses": {"200": json_response(owner_list), **problems(401, 403)}},
        "post": {"summary": "Add a property owner", "tags": TAGS, "requestBody": body_of("PropertyOwnerIn"),
                 "responses": {"201": json_response(ref("PropertyOwnerOut"), "Created"),
                               **problems(401, 403, 422)}}})
    owner_id = path_id("owner_id")
    spec.path("/property-owners/{owner_id}", operations={
        "get": {"summary": "One property owner", "tags": TAGS, "parameters": [owner_id],
                "responses": {"200": json_response(ref("PropertyOwnerOut")), **problems(401, 403, 404)}},
        "patch": {"summary": "Change a property owner (units: the whole list; api_key only when given)",
                  "tags": TAGS, "parameters": [owner_id], "requestBody": body_of("PropertyOwnerPatchIn"),
                  "responses": {"200": json_response(ref("PropertyOwnerOut")), **problems(401, 403, 404, 422)}}})
    case_id = path_id("case_id")
    spec.path("/cases/{case_id}/fault-reports", operations={
        "get": {"summary": "The case's fault reports to the property owner, with the owner's status",
                "tags": ["case work"], "parameters": [case_id],
                "responses": {"200": json_response(ref("FaultReportListOut")), **problems(401, 403, 404)}},
        "post": {"summary": "Send a fault report (felanmälan) to the owner of the case's building",
                 "description": "Only for event types that concern the building, and a unit with a known owner "
                                "(409 otherwise). Delivered by the outbox (Open311 or e-mail), retried with "
                                "backoff, never twice.",
                 "tags": ["case work"], "parameters": [case_id], "requestBody": body_of("FaultReportIn"),
                 "responses": {"201": json_response(ref("FaultReportOut"), "Created"),
                               **problems(401, 403, 404, 409, 422)}}})
