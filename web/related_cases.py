"""Adding a case of another type for the same event, from a case one handles: the type first (a GET form, so
the type's own fields can be shown), then whom it concerns and those fields. A failed form is shown as typed."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_required

from kia.access import may_see_personal_data
from kia.http import db_session, state
from kia.cases.related import RelatedCaseInput, add_related_case, related_case_form
from kia.errors import Forbidden, NotFound, ValidationFailed
from kia.incidents.services import active_type
from web import signed_in_actor, web_blueprint
from web.case_views import field_messages, message_of
from web.form_rows import to_int
from web.report_form import field_values, typed_fields


def _page(case_id: int, code: str | None, status: int = 200, errors: dict | None = None, message: str | None = None):
    """The page for the type `code` (None: none chosen yet); an unknown type is an error at the type."""
    actor = signed_in_actor()
    try:
        case, types = related_case_form(db_session(), actor, case_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    chosen = next((t for t in types if t.code == code), None)
    if code is not None and chosen is None and not errors and not message:
        errors, status = {"type": [_("Choose the type of the new case.")]}, 422
    typed = typed_fields(request.form, chosen) if chosen else {}   # on a GET: nothing typed yet
    # The error summary names the field of each message ("Classification: the field is required").
    labels = {"type": _("Type of the new case"), "persons": _("Whom the new case concerns"),
              **{f"fields.{d.key}": d.label_en if str(get_locale()) == "en" else d.label_sv
                 for d in (chosen.current_fields if chosen else [])}}
    return render_template("web/cases/related_new.html", case=case, types=types, chosen=chosen, errors=errors or {},
                           labels=labels, message=message or "", chosen_persons=set(request.form.getlist("persons")), typed=typed,
                           personal=may_see_personal_data(actor, case.incident)), status


@web_blueprint.get("/cases/<id:case_id>/related-cases/new")
@login_required
def case_related_new(case_id: int):
    return _page(case_id, request.args.get("type"))


@web_blueprint.post("/cases/<id:case_id>/related-cases")
@login_required
def case_add_related(case_id: int):
    session, code = db_session(), request.form.get("type", "")
    incident_type = active_type(session, code)   # None: the service says so at the type
    data = RelatedCaseInput(type=code, persons=[to_int(i, -1) for i in request.form.getlist("persons")],
                            fields=field_values(incident_type, typed_fields(request.form, incident_type))
                            if incident_type else {})
    try:
        case = add_related_case(session, signed_in_actor(), case_id, data, state().settings.timezone)
    except NotFound:
        abort(404)
    except ValidationFailed as error:
        session.rollback()
        return _page(case_id, code, 422, errors=field_messages(error))
    except Forbidden as error:   # a type the actor does not handle: not on offer, so not sent by the form
        session.rollback()
        return _page(case_id, code, 403, message=message_of(error))
    flash(_("Case %(number)s is added for the same event.", number=case.number))
    return redirect(url_for("web.case", case_id=case.id))
