"""The OpenAPI 3 document, generated from the marshmallow schemas, and a readable page of it at /api/docs."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify, render_template

from api import schemas
from kia.auth.tokens import SCOPES

bp = Blueprint("openapi", __name__, template_folder=str(Path(__file__).parent / "templates"))

PROBLEM = {"description": "Problem (RFC 9457)",
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _params(*specs: tuple[str, str, str, bool]) -> list[dict]:
    return [{"name": n, "in": where, "required": req, "schema": {"type": "string"}, "description": d}
            for n, where, d, req in specs]


def _errors(*codes: int) -> dict:
    return {str(code): PROBLEM for code in codes}


@lru_cache(maxsize=1)
def build_spec() -> dict:
    spec = APISpec(title="KIA API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "Incident reporting and case handling for Swedish schools. Swedish "
                                        "error messages by default; send Accept-Language: en for English."},
                   servers=[{"url": "/api/v1"}])
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "A token from `kia tokens create`. Scopes: " + ", ".join(SCOPES)})
    spec.components.schema("Problem", {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "messages per field path, e.g. fields.weapon, persons[0].personal_number"}}})
    for name in ("IncidentIn", "IncidentOut", "IncidentPageOut", "IncidentTypeIn", "IncidentTypeOut", "OrgUnitOut"):
        spec.components.schema(name, schema=getattr(schemas, name))
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    spec.path("/incident-types", operations={
        "get": {"summary": "Event types with their field definitions", "tags": ["reference"],
                "parameters": _params(("include_inactive", "query", "1 to include inactive types", False)),
                "responses": {"200": _json({"type": "array", "items": ref("IncidentTypeOut")}), **_errors(401)}},
        "post": {"summary": "Add an event type (admin of the whole organisation)", "tags": ["reference"],
                 "requestBody": {"content": {"application/json": {"schema": ref("IncidentTypeIn")}}},
                 "responses": {"201": _json(ref("IncidentTypeOut"), "Created"), **_errors(401, 403, 422)}},
    })
    spec.path("/org-units", operations={"get": {
        "summary": "The org tree", "tags": ["reference"],
        "responses": {"200": _json({"type": "array", "items": ref("OrgUnitOut")}), **_errors(401)}}})
    spec.path("/incidents", operations={
        "post": {"summary": "File an incident; creates its cases", "tags": ["incidents"],
                 "parameters": _params(("Idempotency-Key", "header",
                                        "a retry with the same key returns the first incident (200)", False)),
                 "requestBody": {"content": {"application/json": {"schema": ref("IncidentIn")}}},
                 "responses": {"201": _json(ref("IncidentOut"), "Filed; Location names it"),
                               "200": _json(ref("IncidentOut"), "A retry: the incident filed first"),
                               **_errors(400, 401, 403, 409, 413, 415, 422)}},
        "get": {"summary": "Incidents you may read, newest first", "tags": ["incidents"],
                "parameters": _params(("type", "query", "event type code", False),
                                      ("org_unit", "query", "org unit code, with its subtree", False),
                                      ("from", "query", "occurred at or after (ISO 8601)", False),
                                      ("to", "query", "occurred before (ISO 8601)", False),
                                      ("cursor", "query", "next_cursor of the previous page", False),
                                      ("limit", "query", "1–200, default 50", False)),
                "responses": {"200": _json(ref("IncidentPageOut")), **_errors(400, 401, 403)}},
    })
    spec.path("/incidents/{incident_id}", operations={"get": {
        "summary": "One incident with its cases", "tags": ["incidents"],
        "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _json(ref("IncidentOut")), **_errors(401, 403, 404)}}})
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document


@bp.get("/v1/openapi.json")
def openapi_json():
    return jsonify(build_spec())


def type_label(prop: dict) -> str:
    """A readable type for a schema property: string, IncidentOut, array of PersonOut, …"""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "allOf" in prop:
        return type_label(prop["allOf"][0])
    kind = prop.get("type", "object")
    if isinstance(kind, list):
        kind = "/".join(k for k in kind if k != "null")
    if kind == "array" and "items" in prop:
        return f"array of {type_label(prop['items'])}"
    return kind + (f" ({prop['format']})" if "format" in prop else "")


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec=build_spec(), type_label=type_label)
