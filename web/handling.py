"""The case page and its forms: thin views over the kia.cases services; a failed form is shown again as typed."""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from api.case_work import MULTIPART_OVERHEAD, attachment_response, store
from api.cases import case_field_values, present_case_view, present_timeline
from kia.access import Actor, may_complete_action, may_see_personal_data
from kia.http import db_session, state
from kia.cases.attachments import add_attachment, list_attachments, open_attachment
from kia.cases.milestones import MilestoneInput, record_milestone, update_case
from kia.cases.models import ActionStatus, Case, MilestoneKind
from kia.cases.related import link_case_by_number, related_case_types, unlink_cases
from kia.cases.serious import CHECKLIST, check_applies, check_serious
from kia.cases.services import assignable_users, case_timeline, read_case, reveal_personal_number
from kia.cases.work import ActionInput, add_action, add_comment, delegate_case, list_comments, update_action
from kia.cases.workflow import TransitionInput, transition
from kia.db import as_id, utcnow
from kia.deadlines.admin import case_obligations
from kia.deadlines.models import ObligationStatus
from kia.errors import N_, DomainError, FieldErrors, NotFound, ValidationFailed
from kia.feedback.services import handler_thread, write_to_reporter
from web import UPLOAD_ENDPOINTS, signed_in_actor, web_blueprint
from web.case_text import TimelineText, field_rows
from web.case_views import field_messages, message_of
from web.fault_reports import fault_section

TRANSITION_TEXTS = ("comment", "closing_summary", "decision", "open_actions_reason", "rejection_reason")


def _render_case(case_id: int, status: int = 200, form: str | None = None, errors: dict | None = None,
                 message: str | None = None, revealed: dict[int, str] | None = None):
    session, actor, now = db_session(), signed_in_actor(), utcnow()
    try:
        view = read_case(session, actor, case_id)   # logs the read of a sensitive case
    except NotFound:
        abort(404)
    case = view.case
    page = present_case_view(view, actor, now)
    handles_open = view.may_handle and case.is_open
    timeline = present_timeline(case, case_timeline(session, case, actor), actor)["items"]
    obligations = case_obligations(session, case)
    return render_template(
        "web/cases/case.html", case=case, page=page, view=view, now=now,
        persons=list(zip(case.incident.persons, page["incident"]["persons"])),
        personal=may_see_personal_data(actor, case.incident), revealed=revealed or {},
        timeline=timeline, field_rows=field_rows(case.incident.incident_type, page["incident"]["fields"]),
        case_field_rows=field_rows(case.incident_type, case_field_values(case, actor)),
        timeline_text=TimelineText(session, timeline, {a.id: a for a in case.actions}, {o.id: o for o in obligations}),
        comments=list_comments(session, actor, case_id), attachments=list_attachments(session, actor, case_id),
        obligations=obligations, open_obligation=ObligationStatus.OPEN,
        completable={a.id for a in case.actions
                     if a.status == ActionStatus.PLANNED and may_complete_action(actor, case, a)},
        unrecorded=[k for k in MilestoneKind if case.milestone(k) is None] if view.may_handle else [],
        checklist=CHECKLIST if handles_open and check_applies(case.incident_type) else None,
        answers=_checklist_answers() if form == "serious" else case.serious_checklist,
        assignable=assignable_users(session, case) if handles_open else [],
        planned_actions=any(a.status == ActionStatus.PLANNED for a in case.actions),
        thread=_reporter_thread(session, actor, view),
        related_types=related_case_types(session, actor, case) if view.may_handle else [],
        fault=fault_section(session, case, view.may_handle),
        failed=form, errors=errors or {}, values=request.form if form else {}, message=message,
    ), status


def _reporter_thread(session, actor: Actor, view):
    """The messages with an anonymous reporter who holds a follow-up code, for those who handle the case."""
    if not (view.may_handle and view.case.incident.anonymous):
        return None
    thread = handler_thread(session, actor, view.case.incident_id)
    return thread if thread.anonymous_followup else None


def attempt(case_id: int, form: str, anchor: str, change: Callable[[], object], done: str):
    """Run one service call; on success back to the page (POST-redirect-GET), else the page again with the
    messages at the fields and what was typed kept."""
    try:
        change()
    except NotFound:
        abort(404)
    except ValidationFailed as error:
        db_session().rollback()
        return _render_case(case_id, 422, form, errors=field_messages(error))
    except DomainError as error:   # Conflict, Forbidden, a file too large
        db_session().rollback()
        return _render_case(case_id, error.status, form, message=message_of(error))
    flash(done)
    return redirect(url_for("web.case", case_id=case_id, _anchor=anchor))


def _parsed(convert: Callable, value: str, path: str, text: str, errors: FieldErrors):
    return errors.convert(path, convert, value, text) if value else None


def _tz():
    return state().settings.timezone


@web_blueprint.get("/cases/<id:case_id>")
@login_required
def case(case_id: int):
    return _render_case(case_id)


@web_blueprint.post("/cases/<id:case_id>/transition")
@login_required
def case_transition(case_id: int):
    data = TransitionInput(to=request.form.get("to", ""),
                           **{name: request.form.get(name, "") for name in TRANSITION_TEXTS})
    return attempt(case_id, "transition-" + data.to, "workflow",
                    lambda: transition(db_session(), signed_in_actor(), case_id, data, _tz()), _("The case has moved."))


@web_blueprint.post("/cases/<id:case_id>/milestones")
@login_required
def case_milestone(case_id: int):
    kind = request.form.get("kind", "")

    def record():
        errors = FieldErrors()
        at = _parsed(datetime.fromisoformat, request.form.get("at", ""), "at",
                     N_("Give the date and time as YYYY-MM-DD HH:MM."), errors)
        errors.raise_if_any()
        record_milestone(db_session(), signed_in_actor(), case_id,
                         MilestoneInput(kind=kind, at=at, reference=request.form.get("reference", "")), _tz())
    return attempt(case_id, "milestone-" + kind, "milestones", record, _("The milestone is recorded."))


@web_blueprint.post("/cases/<id:case_id>/investigation")
@login_required
def case_investigation(case_id: int):
    text = request.form.get("investigation", "")
    return attempt(case_id, "investigation", "investigation",
                    lambda: update_case(db_session(), signed_in_actor(), case_id, text), _("The investigation is saved."))


def _checklist_answers() -> dict:
    """Yes/no questions as radio buttons (unanswered: None), the others as the ticked sub-kinds."""
    form = request.form
    return {question: (form.getlist(question) if kinds else {"yes": True, "no": False}.get(form.get(question, "")))
            for question, kinds in CHECKLIST.items()}


@web_blueprint.post("/cases/<id:case_id>/serious-check")
@login_required
def case_serious_check(case_id: int):
    return attempt(case_id, "serious", "serious",
                    lambda: check_serious(db_session(), signed_in_actor(), case_id, _checklist_answers(), _tz(),
                                          request.form.get("clear_reason", "")),
                    _("The serious-event check is saved."))


@web_blueprint.post("/cases/<id:case_id>/actions")
@login_required
def case_add_action(case_id: int):
    def add():
        errors = FieldErrors()
        responsible = _parsed(as_id, request.form.get("responsible", ""), "responsible", N_("Choose a person."), errors)
        due = _parsed(date.fromisoformat, request.form.get("due_date", ""), "due_date",
                      N_("Give the date as YYYY-MM-DD."), errors)
        if responsible is None and "responsible" not in errors.errors:
            errors.add("responsible", N_("Choose a person."))
        if due is None and "due_date" not in errors.errors:
            errors.add("due_date", N_("Give the date as YYYY-MM-DD."))
        errors.raise_if_any()
        add_action(db_session(), signed_in_actor(), case_id, ActionInput(request.form.get("what", ""), responsible, due), _tz())
    return attempt(case_id, "action", "actions", add, _("The action is added."))


@web_blueprint.post("/cases/<id:case_id>/actions/<id:action_id>")
@login_required
def case_update_action(case_id: int, action_id: int):
    changes = {"status": request.form.get("status", ""), "follow_up_note": request.form.get("follow_up_note", "")}

    def update():
        if changes["status"] not in (ActionStatus.DONE, ActionStatus.CANCELLED):
            errors = FieldErrors()
            errors.add("status", N_("Choose done or cancelled."))
            errors.raise_if_any()
        update_action(db_session(), signed_in_actor(), case_id, action_id, changes, _tz())
    return attempt(case_id, f"action-{action_id}", "actions", update, _("The action is updated."))


@web_blueprint.post("/cases/<id:case_id>/comments")
@login_required
def case_comment(case_id: int):
    body = request.form.get("body", "")
    return attempt(case_id, "comment", "comments", lambda: add_comment(db_session(), signed_in_actor(), case_id, body),
                    _("The comment is added."))


@web_blueprint.post("/cases/<id:case_id>/messages")
@login_required
def case_message(case_id: int):
    body = request.form.get("body", "")
    incident_id = db_session().scalar(select(Case.incident_id).where(Case.id == case_id))
    if incident_id is None:
        abort(404)
    return attempt(case_id, "message", "messages",
                    lambda: write_to_reporter(db_session(), signed_in_actor(), incident_id, body),
                    _("The message is sent to the reporter."))


@web_blueprint.post("/cases/<id:case_id>/delegate")
@login_required
def case_delegate(case_id: int):
    def delegate():
        errors = FieldErrors()
        user_id = _parsed(as_id, request.form.get("user", ""), "user", N_("Choose a person."), errors)
        if user_id is None and not errors:
            errors.add("user", N_("Choose a person."))
        errors.raise_if_any()
        delegate_case(db_session(), signed_in_actor(), case_id, user_id, request.form.get("note", ""))
    return attempt(case_id, "delegate", "assignee", delegate, _("The case is delegated."))


@web_blueprint.post("/cases/<id:case_id>/links")
@login_required
def case_link(case_id: int):
    number = request.form.get("case", "")
    return attempt(case_id, "link", "related", lambda: link_case_by_number(db_session(), signed_in_actor(), case_id, number),
                    _("The cases are linked."))


@web_blueprint.post("/cases/<id:case_id>/links/<id:other_id>/remove")
@login_required
def case_unlink(case_id: int, other_id: int):
    return attempt(case_id, "unlink", "related", lambda: unlink_cases(db_session(), signed_in_actor(), case_id, other_id),
                    _("The link is removed."))


@web_blueprint.post("/cases/<id:case_id>/attachments")
@login_required
def case_attachment(case_id: int):
    def upload():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = FieldErrors()
            errors.add("file", N_("Choose a file."))
            errors.raise_if_any()
        add_attachment(db_session(), signed_in_actor(), store(), case_id, upload.stream, upload.filename,
                       state().settings.attachment_max_bytes)
    return attempt(case_id, "attachment", "attachments", upload, _("The file is attached."))


# Files are larger than the form limit (MAX_CONTENT_LENGTH): this route accepts more.
UPLOAD_ENDPOINTS["web.case_attachment"] = lambda: state().settings.attachment_max_bytes + MULTIPART_OVERHEAD


@web_blueprint.get("/cases/<id:case_id>/attachments/<id:attachment_id>")
@login_required
def case_attachment_download(case_id: int, attachment_id: int):
    try:
        attachment, path = open_attachment(db_session(), signed_in_actor(), store(), case_id, attachment_id)
    except NotFound:
        abort(404)
    return attachment_response(attachment, path)


@web_blueprint.post("/cases/<id:case_id>/persons/<id:person_id>/reveal")
@login_required
def case_reveal(case_id: int, person_id: int):
    """Shown once, in this response only: the next page view has it masked again."""
    try:
        number = reveal_personal_number(db_session(), signed_in_actor(), case_id, person_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        return _render_case(case_id, error.status, "reveal", message=message_of(error))
    return _render_case(case_id, revealed={person_id: number or ""})
