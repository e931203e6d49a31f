"""The work on a case: assignment, actions, comments, attachments, related cases, links; and substitutes."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request, send_file, url_for

from api.auth import requires
from api.case_schemas import CaseOut
from api.case_work_schemas import (
    ActionDetailOut, ActionIn, ActionPatchIn, AssignmentIn, AttachmentListOut, AttachmentOut, CaseWithFieldsOut,
    CommentIn, CommentListOut, CommentOut, LinkIn, RelatedCaseIn, RelatedCaseListOut, SubstituteIn,
    SubstituteListOut, SubstituteOut,
)
from api.cases import case_field_values, present_case
from api.openapi import json_body as body_of, json_response, path_id, problems, ref
from api.problems import json_body
from kia.access import Actor
from kia.http import current_actor, db_session, state
from kia.cases.attachments import ALLOWED, AttachmentStore, add_attachment, list_attachments, open_attachment
from kia.cases.lookup import visible_case
from kia.cases.models import Attachment, Case, CaseAction, Comment
from kia.cases.related import add_related_case, link_cases, unlink_cases
from kia.cases.services import related_cases
from kia.cases.work import add_action, add_comment, delegate_case, read_comments, update_action
from kia.db import utcnow
from kia.errors import N_, FieldErrors
from kia.routing.models import Substitute
from kia.routing.substitutes import list_substitutes, remove_substitute, set_substitute

bp = Blueprint("case_work", __name__)
# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


def _user(user) -> dict:
    return {"id": user.id, "name": user.name}


def store() -> AttachmentStore:
    return AttachmentStore(state().settings.attachments_path)


def _case_with_fields(case: Case, actor: Actor) -> dict:
    return {**present_case(case, utcnow()), "fields": case_field_values(case, actor)}


def _action(action: CaseAction) -> dict:
    return {"id": action.id, "case_id": action.case_id, "what": action.what, "responsible": _user(action.responsible),
            "due_date": action.due_date, "status": action.status, "follow_up_note": action.follow_up_note,
            "created_at": action.created_at, "completed_at": action.completed_at}


def _comment(comment: Comment) -> dict:
    return {"id": comment.id, "author": _user(comment.author), "body": comment.body, "created_at": comment.created_at}


def _attachment(attachment: Attachment) -> dict:
    return {"id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
            "size": attachment.size, "sha256": attachment.sha256, "uploaded_by": _user(attachment.uploaded_by),
            "uploaded_at": attachment.uploaded_at,
            "download": url_for("api.v1.case_work.download_attachment", case_id=attachment.case_id,
                                attachment_id=attachment.id)}


def _substitute(entry: Substitute) -> dict:
    return {"id": entry.id, "user": _user(entry.user), "substitute": _user(entry.substitute),
            "starts_at": entry.starts_at, "ends_at": entry.ends_at}


# ---- assignment, related cases, links -----------------------------------------------------------

@bp.post("/cases/<id:case_id>/assignment")
@requires("cases:write")
def create_assignment(case_id: int):
    data = AssignmentIn().load(json_body())
    case = delegate_case(db_session(), current_actor(), case_id, data["user"], data["note"])
    return CaseOut().dump(present_case(case, utcnow()))


@bp.post("/cases/<id:case_id>/related-cases")
@requires("cases:write")
def create_related_case(case_id: int):
    data = RelatedCaseIn().load(json_body())
    actor = current_actor()
    case = add_related_case(db_session(), actor, case_id, data, state().settings.timezone)
    return CaseWithFieldsOut().dump(_case_with_fields(case, actor)), 201


@bp.get("/cases/<id:case_id>/related-cases")
@requires("cases:read")
def index_related_cases(case_id: int):
    actor = current_actor()
    session = db_session()
    related = related_cases(session, actor, visible_case(session, actor, case_id))
    return RelatedCaseListOut().dump({"items": [
        {"id": r.case.id, "number": r.case.number, "state": r.case.state, "type": r.case.incident_type.code,
         "relation": r.relation} for r in related]})


@bp.post("/cases/<id:case_id>/links")
@requires("cases:write")
def create_link(case_id: int):
    data = LinkIn().load(json_body())
    other = link_cases(db_session(), current_actor(), case_id, data["case"])
    return CaseOut().dump(present_case(other, utcnow())), 201


@bp.delete("/cases/<id:case_id>/links/<id:other_id>")
@requires("cases:write")
def delete_link(case_id: int, other_id: int):
    unlink_cases(db_session(), current_actor(), case_id, other_id)
    return "", 204


# ---- actions and comments -----------------------------------------------------------------------

@bp.post("/cases/<id:case_id>/actions")
@requires("cases:write")
def create_action(case_id: int):
    data = ActionIn().load(json_body())
    action = add_action(db_session(), current_actor(), case_id, data, state().settings.timezone)
    return ActionDetailOut().dump(_action(action)), 201


@bp.patch("/cases/<id:case_id>/actions/<id:action_id>")
@requires("cases:write")
def patch_action(case_id: int, action_id: int):
    changes = ActionPatchIn().load(json_body())
    action = update_action(db_session(), current_actor(), case_id, action_id, changes, state().settings.timezone)
    return ActionDetailOut().dump(_action(action))


@bp.post("/cases/<id:case_id>/comments")
@requires("cases:write")
def create_comment(case_id: int):
    data = CommentIn().load(json_body())
    return CommentOut().dump(_comment(add_comment(db_session(), current_actor(), case_id, data["body"]))), 201


@bp.get("/cases/<id:case_id>/comments")
@requires("cases:read")
def index_comments(case_id: int):
    comments = read_comments(db_session(), current_actor(), case_id)
    return CommentListOut().dump({"items": [_comment(c) for c in comments]})


# ---- attachments --------------------------------------------------------------------------------

@bp.post("/cases/<id:case_id>/attachments")
@requires("cases:write")
def create_attachment(case_id: int):
    limit = state().settings.attachment_max_bytes
    # Files are larger than the JSON limit (MAX_CONTENT_LENGTH): this route alone accepts more (Flask 3.1).
    request.max_content_length = limit + MULTIPART_OVERHEAD
    upload = request.files.get("file")
    if upload is None:
        errors = FieldErrors()
        errors.add("file", N_("Send the file as multipart/form-data in the field \"file\"."))
        errors.raise_if_any()
    attachment = add_attachment(db_session(), current_actor(), store(), case_id, upload.stream,
                                upload.filename or "", limit)
    return AttachmentOut().dump(_attachment(attachment)), 201


@bp.get("/cases/<id:case_id>/attachments")
@requires("cases:read")
def index_attachments(case_id: int):
    attachments = list_attachments(db_session(), current_actor(), case_id)
    return AttachmentListOut().dump({"items": [_attachment(a) for a in attachments]})


@bp.get("/cases/<id:case_id>/attachments/<id:attachment_id>")
@requires("cases:read")
def download_attachment(case_id: int, attachment_id: int):
    attachment, path = open_attachment(db_session(), current_actor(), store(), case_id, attachment_id)
    return attachment_response(attachment, path)


def attachment_response(attachment: Attachment, path: Path):
    """The file as a download (the web UI's too): never rendered in the browser, never cached."""
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, conditional=False, etag=False, max_age=0)
    # The stored type as it is (text/plain; charset=utf-8): send_file would add a charset to it once more.
    response.headers["Content-Type"] = attachment.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---- substitutes (ersättare) --------------------------------------------------------------------

@bp.post("/substitutes")
@requires("cases:write")
def create_substitute():
    data = SubstituteIn().load(json_body())
    entry = set_substitute(db_session(), current_actor(), data["substitute"], data["starts_at"], data["ends_at"])
    return SubstituteOut().dump(_substitute(entry)), 201


@bp.get("/substitutes")
@requires("cases:read")
def index_substitutes():
    entries = list_substitutes(db_session(), current_actor())
    return SubstituteListOut().dump({"items": [_substitute(e) for e in entries]})


@bp.delete("/substitutes/<id:substitute_id>")
@requires("cases:write")
def delete_substitute(substitute_id: int):
    remove_substitute(db_session(), current_actor(), substitute_id)
    return "", 204


# Nested schemas before the ones holding them, so each is registered once under its own name.
OPENAPI_SCHEMAS = {
    "AssignmentIn": AssignmentIn, "ActionIn": ActionIn, "ActionPatchIn": ActionPatchIn,
    "ActionDetailOut": ActionDetailOut, "CommentIn": CommentIn, "CommentOut": CommentOut,
    "CommentListOut": CommentListOut, "AttachmentOut": AttachmentOut, "AttachmentListOut": AttachmentListOut,
    "RelatedCaseIn": RelatedCaseIn, "CaseWithFieldsOut": CaseWithFieldsOut,
    "RelatedCaseListOut": RelatedCaseListOut,
    "LinkIn": LinkIn, "SubstituteIn": SubstituteIn, "SubstituteOut": SubstituteOut,
    "SubstituteListOut": SubstituteListOut,
}
CASE_ID = path_id("case_id")
WRITE_PROBLEMS = problems(400, 401, 403, 404, 409, 415, 422)


def _post(summary: str, body: str, out: str, status: str = "201", tags=("case work",)) -> dict:
    return {"summary": summary, "tags": list(tags), "parameters": [CASE_ID], "requestBody": body_of(body),
            "responses": {status: json_response(ref(out)), **WRITE_PROBLEMS}}


def _get(summary: str, out: str) -> dict:
    return {"summary": summary, "tags": ["case work"], "parameters": [CASE_ID],
            "responses": {"200": json_response(ref(out)), **problems(401, 403, 404)}}


def openapi_paths(spec) -> None:
    spec.path("/cases/{case_id}/assignment", operations={"post": _post(
        "Delegate the case (händelseansvarig) to a user with a role on its unit", "AssignmentIn", "CaseOut", "200")})
    spec.path("/cases/{case_id}/related-cases", operations={
        "post": _post("Add a case of another type for the same incident (numbered on, routed)",
                      "RelatedCaseIn", "CaseWithFieldsOut"),
        "get": _get("The other cases of the incident and the linked cases you may read", "RelatedCaseListOut")})
    spec.path("/cases/{case_id}/links", operations={"post": _post(
        "Link a case of another incident (both must be visible to you); returns it", "LinkIn", "CaseOut")})
    spec.path("/cases/{case_id}/links/{other_id}", operations={"delete": {
        "summary": "Remove a link", "tags": ["case work"], "parameters": [CASE_ID, path_id("other_id")],
        "responses": {"204": {"description": "Removed"}, **problems(401, 403, 404)}}})
    spec.path("/cases/{case_id}/actions", operations={"post": _post(
        "Add an action (åtgärd) to the action plan", "ActionIn", "ActionDetailOut")})
    spec.path("/cases/{case_id}/actions/{action_id}", operations={"patch": {
        **_post("Change an action: status planned/done/cancelled, follow-up note, …; the responsible user may "
                "mark it done", "ActionPatchIn", "ActionDetailOut", "200"),
        "parameters": [CASE_ID, path_id("action_id")]}})
    spec.path("/cases/{case_id}/comments", operations={
        "post": _post("Write an internal comment (never shown to the reporter)", "CommentIn", "CommentOut"),
        "get": _get("The case's internal comments, oldest first", "CommentListOut")})
    spec.path("/cases/{case_id}/attachments", operations={
        "post": {"summary": "Upload a file (multipart/form-data, field `file`); its type is decided by its "
                            "content: PDF, JPEG, PNG, GIF, WebP, HEIC, UTF-8 text, Office/OpenDocument without "
                            "macros", "tags": ["case work"], "parameters": [CASE_ID],
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"],
                     "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"201": json_response(ref("AttachmentOut")), **problems(400, 401, 403, 404, 413, 422)}},
        "get": _get("The case's attachments", "AttachmentListOut")})
    spec.path("/cases/{case_id}/attachments/{attachment_id}", operations={"get": {
        "summary": "Download an attachment (a download from a sensitive case is logged)", "tags": ["case work"],
        "parameters": [CASE_ID, path_id("attachment_id")],
        "responses": {"200": {"description": "The file, as an attachment, with the type found in its content",
                              "content": {content_type: {"schema": {"type": "string", "format": "binary"}}
                                          for content_type in ALLOWED}},
                      **problems(401, 403, 404)}}})
    spec.path("/substitutes", operations={
        "post": {"summary": "Name your substitute (ersättare) for a period: they receive your new cases",
                 "tags": ["case work"], "requestBody": body_of("SubstituteIn"),
                 "responses": {"201": json_response(ref("SubstituteOut")), **problems(400, 401, 403, 415, 422)}},
        "get": {"summary": "Current and coming periods where you are away or stand in", "tags": ["case work"],
                "responses": {"200": json_response(ref("SubstituteListOut")), **problems(401, 403)}}})
    spec.path("/substitutes/{substitute_id}", operations={"delete": {
        "summary": "End your substitute arrangement", "tags": ["case work"], "parameters": [path_id("substitute_id")],
        "responses": {"204": {"description": "Removed"}, **problems(401, 403, 404)}}})
