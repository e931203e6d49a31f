"""Registerutdrag in API v1: every record naming a person, by personal number, for admins and data protection
officers. A POST, so the number travels in the body and never in a URL (which the access logs of servers keep)."""
from __future__ import annotations

from flask import Blueprint, Response
from flask_babel import gettext as _
from marshmallow import fields, validate

from api.auth import requires
from api.case_work_schemas import Strict
from api.openapi import json_body as body_of, problems
from api.problems import json_body
from kia.http import current_actor, db_session, state
from kia.subject_access.export import report_data, report_pdf
from kia.subject_access.services import subject_access_report

bp = Blueprint("subject_access", __name__)


class SubjectAccessIn(Strict):
    personal_number = fields.String(required=True, metadata={
        "description": "YYYYMMDD-NNNN, YYMMDD-NNNN or a samordningsnummer; 422 when not a valid one"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]),
                           metadata={"description": "json (default) or pdf"})


@bp.post("/subject-access")
@requires("admin")
def search_subject():
    data = SubjectAccessIn().load(json_body())
    settings = state().settings
    report = subject_access_report(db_session(), current_actor(), data["personal_number"], settings.secret_key)
    if data["format"] == "pdf":
        return Response(report_pdf(report, settings.timezone, _), mimetype="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="registerutdrag.pdf"'})
    return report_data(report, settings.timezone)


OPENAPI_SCHEMAS = {"SubjectAccessIn": SubjectAccessIn}


def openapi_paths(spec) -> None:
    spec.path("/subject-access", operations={"post": {
        "summary": "Registerutdrag (GDPR art. 15): every record naming the person, in your subtree (admin or "
                   "data protection officer); the search is written to the read log, with a keyed hash of the "
                   "number", "tags": ["privacy"], "requestBody": body_of("SubjectAccessIn"),
        "responses": {"200": {"description": "the records (JSON), or the PDF with format pdf", "content": {
            "application/json": {"schema": {"type": "object"}}, "application/pdf": {"schema": {
                "type": "string", "format": "binary"}}}}, **problems(401, 403, 422)}}})
