"""The OpenAPI 3 document, generated from the marshmallow schemas, and a readable page of it at /api/docs.

Each API module documents its own paths in `openapi_paths(spec)`; the helpers below keep that short.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify, render_template

from kia.auth.tokens import SCOPES
from kia.db import MAX_ID

bp = Blueprint("openapi", __name__, template_folder=str(Path(__file__).parent / "templates"))

PROBLEM = {"description": "Problem (RFC 9457)",
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(schema_name)}}}


def params(*specs: tuple[str, str, str, bool]) -> list[dict]:
    """(name, in, description, required) tuples → OpenAPI parameters of type string."""
    return [{"name": n, "in": where, "required": req, "schema": {"type": "string"}, "description": d}
            for n, where, d, req in specs]


# What an id can be (kia.db.MAX_ID: the id columns are INTEGER); any other number in its place is a 404 or a 422.
ID_RANGE = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": dict(ID_RANGE),
            "description": f"an id, 1 to {MAX_ID}; any other number is a 404"}


def query_id(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": dict(ID_RANGE),
            "description": f"{description}; 1 to {MAX_ID}, any other number is a 400"}


def problems(*codes: int) -> dict:
    return {str(code): PROBLEM for code in codes}


# What every request body can get before its view reads it: too large for KIA_MAX_REQUEST_BYTES (Flask), and for
# a JSON body not JSON (api.problems.json_body) or not the JSON it must be. A module need not repeat them.
BODY_PROBLEMS = {"application/json": (400, 413, 415), "multipart/form-data": (413,)}


def document_body_problems(operation: dict) -> None:
    for media_type in operation.get("requestBody", {}).get("content", {}):
        for code in BODY_PROBLEMS.get(media_type, ()):
            operation["responses"].setdefault(str(code), PROBLEM)


def api_modules():
    from api import (
        alarms, case_work, cases, deadlines, feedback, incidents, notifications, property_owners, public, reference,
        retention, routing, statistics, subject_access,
    )
    return (reference, incidents, statistics, feedback, public, cases, case_work, deadlines, routing, notifications,
            retention, property_owners, subject_access, alarms)


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
    for module in api_modules():
        for name, schema in getattr(module, "OPENAPI_SCHEMAS", {}).items():
            spec.components.schema(name, schema=schema)
        module.openapi_paths(spec)
    document = spec.to_dict()
    for operations in document["paths"].values():
        for operation in operations.values():
            document_body_problems(operation)
    document["security"] = [{"bearer": []}]
    return document


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


@bp.get("/v1/openapi.json")
def openapi_json():
    return jsonify(build_spec())


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec=build_spec(), type_label=type_label)
