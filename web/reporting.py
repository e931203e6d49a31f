"""Reporting pages: report an event (type and unit, then the form), its receipt, and one's own reports."""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from kia.access import Actor
from kia.http import db_session, state
from kia.cases.attachments import AttachmentStore, attach_to_own_report
from kia.cases.serious import CHECKLIST, check_applies, check_at_filing
from kia.db import utcnow
from kia.errors import DomainError, InvalidQuery, Msg, NotFound, ValidationFailed
from kia.feedback.limits import RateLimited
from kia.feedback.services import file_anonymously_as_staff, my_report, my_reports
from kia.incidents.models import IncidentType
from kia.incidents.services import active_type, file_incident, filing_units, validate_report
from kia.incidents.types import list_types
from web import UPLOAD_ENDPOINTS, labels, signed_in_actor, web_blueprint
from web.report_form import MAX_PERSONS, PERSON_CHOICES, ReportForm, dom_id

MAX_ATTACHMENTS = 5
MULTIPART_OVERHEAD = 256 * 1024
PERSON_LABELS = {**labels.PERSON_ROLES, **labels.PERSON_CATEGORIES, **labels.GENDERS}


def language() -> str:
    return str(get_locale())


@web_blueprint.app_context_processor
def _report_helpers():
    return {"dom_id": dom_id, "language": language, "CHECKLIST": CHECKLIST, "state_labels": labels.STATES,
            "person_labels": PERSON_LABELS, "checklist_labels": labels.CHECKLIST}


@web_blueprint.errorhandler(RateLimited)
def _rate_limited(error: RateLimited):
    response = render_template("web/report/too_many.html", message=error.detail.render(_))
    return response, 429, {"Retry-After": str(error.retry_after)}


def choose_page(types: list[IncidentType], units, action: str, anonymous: bool):
    """Step 1: the kind of event and the unit. A GET form, so the choice is a plain link to step 2."""
    errors = {}
    if "type" in request.args:
        if request.args["type"] not in {t.code for t in types}:
            errors["type"] = _("Choose the kind of event.")
        if request.args.get("org_unit") not in {u.code for u in units}:
            errors["org_unit"] = _("Choose the unit where it happened.")
    chosen_unit = request.args.get("org_unit") or (units[0].code if len(units) == 1 else "")
    status = 422 if errors else 200
    return render_template("web/report/choose.html", types=types, units=units, action=action, errors=errors,
                           chosen_type=request.args.get("type", ""), chosen_unit=chosen_unit,
                           anonymous=anonymous), status


def draft_name(action: str, type_code: str, unit_code: str) -> str:
    """The name of a report form's draft in the browser (web/static/draft.js): one per user, form, type and unit, so
    whoever signs in next at the same computer never sees another's."""
    who = f"u{current_user.id}" if current_user.is_authenticated else "visitor"
    return f"kia-draft:{who}:{action}:{type_code}:{unit_code}"


def form_page(form: ReportForm, incident_type: IncidentType, unit_name: str, action: str, anonymous: bool,
              status: int = 200):
    return render_template(
        "web/report/form.html", form=form, incident_type=incident_type, unit_name=unit_name, action=action,
        # A blank form (a GET) takes a kept draft; a form the server sends back holds what was typed already.
        draft=draft_name(action, form.type, form.org_unit), restore_draft=request.method == "GET",
        public=anonymous, person_choices=PERSON_CHOICES, max_persons=MAX_PERSONS,
        max_attachments=MAX_ATTACHMENTS, checklist=not anonymous and check_applies(incident_type),
        attachment_mib=round(state().settings.attachment_max_bytes / 2**20),
    ), status


def step_two(types: list[IncidentType], units) -> tuple[IncidentType, object] | None:
    """The chosen type and unit of step 1 when both are valid (a form for them can be shown)."""
    chosen = next((t for t in types if t.code == request.values.get("type")), None)
    unit = next((u for u in units if u.code == request.values.get("org_unit")), None)
    return (chosen, unit) if chosen and unit else None


@web_blueprint.get("/report")
@login_required
def report():
    types = list_types(db_session(), include_inactive=False)
    units = filing_units(db_session(), signed_in_actor())
    chosen = step_two(types, units)
    if chosen is None:
        return choose_page(types, units, url_for("web.report"), anonymous=False)
    return form_page(ReportForm.blank(chosen[0].code, chosen[1].code), chosen[0], chosen[1].name,
                     url_for("web.file_report"), anonymous=False)


UPLOAD_ENDPOINTS["web.file_report"] = lambda: (MAX_ATTACHMENTS * state().settings.attachment_max_bytes
                                               + MULTIPART_OVERHEAD)


@web_blueprint.post("/report")
@login_required
def file_report():
    actor, session, tz = signed_in_actor(), db_session(), state().settings.timezone
    units = filing_units(session, actor)
    incident_type = active_type(session, request.form.get("type", ""))
    unit = next((u for u in units if u.code == request.form.get("org_unit")), None)
    if incident_type is None or unit is None:
        abort(400)   # step 1 offers only these; anything else was not sent by our form
    form = ReportForm.read(request.form, incident_type)
    action = url_for("web.file_report")
    if form.apply_row_button(request.form.get("action", "")):
        return form_page(form, incident_type, unit.name, action, anonymous=False)
    now = utcnow()
    data, problems = form.incident_input(incident_type, tz, now)
    try:
        if problems:
            validate_report(session, actor, data, tz, now)   # the domain's errors too, all shown at once
            raise ValidationFailed({})
        if data.anonymous:
            receipt = file_anonymously_as_staff(session, actor, data, tz, now)
            return receipt_page(receipt.number, [c.number for c in receipt.cases], code=receipt.follow_up_code)
        # The form's own key: reloading the receipt (a second POST) shows the first report, not a new one.
        key = form.idempotency_key or None
        incident, created = file_incident(session, actor, data, tz, idempotency=(key, key) if key else None,
                                          now=now)
    except ValidationFailed as error:
        session.rollback()
        form.show_errors({**error.errors, **problems}, _)
        return form_page(form, incident_type, unit.name, action, anonymous=False, status=422)
    attached, refused = (_attach(actor, incident.id) if created else ([], []))
    if created and check_applies(incident_type) and form.serious_positive():
        check_at_filing(session, actor, incident.id, form.serious, tz, now)
    return receipt_page(incident.number, [c.number for c in incident.cases], attached=attached, refused=refused,
                        report_id=incident.id)


def _attach(actor: Actor, incident_id: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Files after filing: the report is kept whatever happens to a file, and the receipt says which failed."""
    settings = state().settings
    store = AttachmentStore(settings.attachments_path)
    attached, refused = [], []
    uploads = [f for f in request.files.getlist("attachments") if f.filename][:MAX_ATTACHMENTS]
    for upload in uploads:
        try:
            attachment = attach_to_own_report(db_session(), actor, store, incident_id, upload.stream,
                                              upload.filename, settings.attachment_max_bytes)
            attached.append(attachment.filename)
        except DomainError as error:
            db_session().rollback()
            messages = getattr(error, "errors", {}).get("file") or [error.detail or Msg(error.title)]
            refused.append((upload.filename, " ".join(m.render(_) for m in messages)))
    return attached, refused


def receipt_page(number: str, cases: list[str], code: str | None = None, attached=(), refused=(),
                 report_id: int | None = None):
    response = render_template("web/report/receipt.html", number=number, cases=cases, code=code,
                               attached=attached, refused=refused, report_id=report_id,
                               draft=draft_name(request.path, request.form.get("type", ""),
                                                request.form.get("org_unit", "")))
    # The follow-up code is shown this once: never from a cache.
    return response, 200, {"Cache-Control": "no-store"}


@web_blueprint.get("/my-reports")
@login_required
def my_reports_page():
    try:
        reports, next_cursor = my_reports(db_session(), signed_in_actor(), request.args.get("cursor") or None, limit=25)
    except InvalidQuery:
        abort(400)
    return render_template("web/report/my_reports.html", reports=reports, next_cursor=next_cursor)


@web_blueprint.get("/my-reports/<id:report_id>")
@login_required
def my_report_page(report_id: int):
    try:
        report_status = my_report(db_session(), signed_in_actor(), report_id)
    except NotFound:
        abort(404)
    return render_template("web/report/my_report.html", report=report_status)


from web import anonymous  # noqa: E402,F401 – the anonymous report and follow-up pages use the helpers above
