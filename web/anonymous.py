"""Without an account: an anonymous report (types that allow it) and the follow-up page for its code.

Rate-limited per client with the same ClientGuard as the public API, so the web is no way around its limits."""
from __future__ import annotations

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _

from kia.http import db_session, state
from kia.db import utcnow
from kia.errors import NotFound, ValidationFailed
from kia.feedback.limits import ClientGuard
from kia.feedback.services import anonymous_types, file_anonymous_report, followup, reportable_units, write_as_reporter
from kia.incidents.services import validate_report
from web import web_blueprint
from web.report_form import ReportForm
from web.reporting import choose_page, form_page, receipt_page, step_two


def _guard() -> ClientGuard:
    """Every request to these pages counts, as every request to the public API does."""
    if "client_guard" not in g:
        g.client_guard = ClientGuard(db_session(), state().settings, request.remote_addr or "")
        g.client_guard.request()
    return g.client_guard


@web_blueprint.get("/anonymous")
def anonymous_report():
    _guard()
    session = db_session()
    types, units = anonymous_types(session), reportable_units(session)
    chosen = step_two(types, units)
    if chosen is None:
        return choose_page(types, units, url_for("web.anonymous_report"), anonymous=True)
    return form_page(ReportForm.blank(chosen[0].code, chosen[1].code), chosen[0], chosen[1].name,
                     url_for("web.file_anonymous"), anonymous=True)


@web_blueprint.post("/anonymous")
def file_anonymous():
    guard, session, tz = _guard(), db_session(), state().settings.timezone
    chosen = step_two(anonymous_types(session), reportable_units(session))
    if chosen is None:
        abort(400)
    incident_type, unit = chosen
    form = ReportForm.read(request.form, incident_type)
    form.anonymous = True
    action = url_for("web.file_anonymous")
    if form.apply_row_button(request.form.get("action", "")):
        return form_page(form, incident_type, unit.name, action, anonymous=True)
    now = utcnow()
    data, problems = form.incident_input(incident_type, tz, now)
    try:
        # Checked before filing, which counts against the hourly allowance: a typo should not use it up.
        validate_report(session, None, data, tz, now)
        if problems:
            raise ValidationFailed({})
        receipt = file_anonymous_report(session, data, tz, guard, now)
    except ValidationFailed as error:
        session.rollback()
        form.show_errors({**error.errors, **problems}, _)
        return form_page(form, incident_type, unit.name, action, anonymous=True, status=422)
    return receipt_page(receipt.number, [c.number for c in receipt.cases], code=receipt.follow_up_code)


@web_blueprint.route("/followup", methods=["GET", "POST"])
def followup_page():
    """The code travels in the form body only: never in a URL, where history and logs would keep it."""
    if request.method == "GET":
        return render_template("web/report/followup.html", code="", found=None, errors={}, body="")
    guard, session = _guard(), db_session()
    code, body, errors = request.form.get("code", "").strip(), request.form.get("body", ""), {}
    status = 200
    if not code:
        errors = {"code": [_("Type the follow-up code.")]}
        return render_template("web/report/followup.html", code="", found=None, errors=errors, body=""), 422
    try:
        if request.form.get("action") == "write":
            try:
                write_as_reporter(session, code, body, guard)
                body = ""
            except ValidationFailed as error:
                session.rollback()
                errors = {path: [m.render(_) for m in messages] for path, messages in error.errors.items()}
                status = 422
        found = followup(session, code, guard)
    except NotFound:
        session.rollback()
        found, status = None, 404
        errors = {"code": [_("No report has this follow-up code. Check that it is typed as it was shown.")]}
    response = render_template("web/report/followup.html", code=code if found else "", found=found,
                               errors=errors, body=body)
    return response, status, {"Cache-Control": "no-store"}
