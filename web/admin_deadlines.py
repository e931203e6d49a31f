"""Admin pages for deadline rules: add one on the rules page, change one on its own page, switch one off and on.
Thin views over kia.deadlines.admin; the form itself is web.deadline_rule_form."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kia.http import db_session
from kia.deadlines.admin import add_deadline_rule, change_deadline_rule, get_deadline_rule, set_deadline_rule_active
from kia.errors import ValidationFailed
from web import deadline_rule_form as rule_form, signed_in_actor, web_blueprint
from web.admin import admin_page, rules_page
from web.case_views import local_name


def _back_to_the_rules():
    return redirect(url_for("web.admin_rules", _anchor="deadlines"))


@web_blueprint.post("/admin/deadline-rules")
@admin_page()
def admin_add_deadline_rule():
    try:
        rule = add_deadline_rule(db_session(), signed_in_actor(), rule_form.spec_of(request.form, with_code=True))
    except ValidationFailed as error:
        return rules_page(422, deadline_errors=rule_form.errors_of(error))
    flash(_("Deadline rule “%(name)s” added. Open cases are recomputed by the scheduler's next sweep.",
            name=local_name(rule)))
    return _back_to_the_rules()


@web_blueprint.route("/admin/deadline-rules/<id:rule_id>", methods=["GET", "POST"])
@admin_page()
def admin_deadline_rule(rule_id: int):
    try:
        rule = get_deadline_rule(db_session(), signed_in_actor(), rule_id)
        if request.method == "POST":
            change_deadline_rule(db_session(), signed_in_actor(), rule_id, rule_form.spec_of(request.form, with_active=True))
            flash(_("Deadline rule “%(name)s” saved. Open cases are recomputed by the scheduler's next sweep.",
                    name=local_name(rule)))
            return _back_to_the_rules()
    except ValidationFailed as error:
        return _rule_page(rule, 422, rule_form.errors_of(error))
    return _rule_page(rule)


def _rule_page(rule, status: int = 200, errors=None, form=None):
    form = form if form is not None else request.form if errors else rule_form.form_from(rule)
    return render_template("web/admin/deadline_rule.html", rule=rule, form=form, errors=errors or {},
                           choices=rule_form.choices()), status


@web_blueprint.post("/admin/deadline-rules/<id:rule_id>/active")
@admin_page()
def admin_deadline_rule_active(rule_id: int):
    active = request.form.get("active") == "true"
    try:
        rule = set_deadline_rule_active(db_session(), signed_in_actor(), rule_id, active)
    except ValidationFailed as error:   # switched on as it stands, the rule no longer holds: change it first
        db_session().rollback()
        rule = get_deadline_rule(db_session(), signed_in_actor(), rule_id)
        return _rule_page(rule, 422, rule_form.errors_of(error), form=rule_form.form_from(rule))
    flash(_("Deadline rule “%(name)s” switched on.", name=local_name(rule)) if active
          else _("Deadline rule “%(name)s” switched off.", name=local_name(rule)))
    return _back_to_the_rules()
