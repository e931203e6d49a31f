"""Admin pages for event types: the list, adding a type and changing one, each field a row of the form (no JSON
to type). Thin views over kia.incidents.types and kia.incidents.type_changes; the form itself is web.type_form."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from kia.http import db_session
from kia.errors import ValidationFailed
from kia.incidents.type_changes import change_incident_type, get_incident_type, incident_type_in_use
from kia.incidents.types import CHOICE_KINDS, create_incident_type, list_types
from web import signed_in_actor, web_blueprint
from web.admin import admin_page
from web.labels import CATEGORIES
from web.type_form import FIELD_KINDS, LABELS, MAX_NEW_FIELDS, ROW_LABELS, TypeForm


@web_blueprint.get("/admin/types")
@admin_page()
def admin_types():
    return render_template("web/admin/types.html", types=list_types(db_session()), categories=CATEGORIES,
                           field_kinds=FIELD_KINDS)


def _page(template: str, form: TypeForm, status: int = 200, **context):
    legends = form.legends(_, str(get_locale()))
    return render_template(template, form=form, legends=legends, summary_labels=form.summary_labels(_, legends),
                           labels=LABELS, row_labels=ROW_LABELS, field_kinds=FIELD_KINDS, choice_kinds=CHOICE_KINDS,
                           categories=CATEGORIES, max_new_fields=MAX_NEW_FIELDS, **context), status


@web_blueprint.route("/admin/types/new", methods=["GET", "POST"])
@admin_page()
def admin_new_type():
    if request.method == "GET":
        return _page("web/admin/type_new.html", TypeForm.blank())
    form = TypeForm.read(request.form)
    if form.apply_row_button(request.form.get("action", "")):
        return _page("web/admin/type_new.html", form)
    try:
        incident_type = create_incident_type(db_session(), signed_in_actor(), form.spec())
    except ValidationFailed as error:
        form.show_errors(error.errors, _)
        return _page("web/admin/type_new.html", form, 422)
    flash(_("Event type %(code)s added.", code=incident_type.code))
    return redirect(url_for("web.admin_types"))


@web_blueprint.route("/admin/types/<code>", methods=["GET", "POST"])
@admin_page()
def admin_type(code: str):
    session = db_session()
    incident_type = get_incident_type(session, signed_in_actor(), code)
    if request.method == "GET":
        form = TypeForm.of_type(incident_type)
    else:
        form = TypeForm.read(request.form, incident_type)
        if not form.apply_row_button(request.form.get("action", "")):
            try:
                change_incident_type(session, signed_in_actor(), code, form.changes())
            except ValidationFailed as error:
                form.show_errors(error.errors, _)
                return _type_page(form, 422)
            flash(_("Event type %(code)s saved.", code=code))
            return redirect(url_for("web.admin_types"))
    return _type_page(form)


def _type_page(form: TypeForm, status: int = 200):
    # Whether reports exist decides which settings the page offers (see kia.incidents.type_changes).
    return _page("web/admin/type.html", form, status, in_use=incident_type_in_use(db_session(), form.incident_type))
