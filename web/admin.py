"""Admin pages: routing rules and the rules page, failed notifications and the local mail folder (the read log and
registerutdrag: web.privacy; org units and users: web.admin_org; event types: web.admin_types; deadline rules: web.admin_deadlines). Thin views
over the kia admin services."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from kia.access import may_administer_notifications, may_read_local_mailbox
from kia.http import db_session, state
from kia.db import as_id
from kia.deadlines.admin import list_deadline_rules
from kia.errors import N_, Conflict, NotFound, ValidationFailed
from kia.orgs.admin import unit_tree
from kia.orgs.models import Role
from kia.routing.admin import (
    add_routing_rule, change_routing_rule, get_routing_rule, list_routing_rules, set_routing_rule_active,
)
from kia.routing.models import RoutingPurpose
from notifications.admin import failed_deliveries, resend
from notifications.mailbox import list_local_mail, read_local_mail
from web import deadline_rule_form, signed_in_actor, web_blueprint
from web.admin_forms import form_of, type_options, typed_number
from web.labels import CATEGORIES, ROLES

# Marked with N_ so `make messages` extracts them; templates translate them where shown.
PURPOSES = {RoutingPurpose.HANDLE: N_("Handles the case (becomes händelseansvarig)"),
            RoutingPurpose.INFORM: N_("Is informed and follows the case")}


def admin_page(may=lambda actor: actor.is_config_admin()):
    """Signed-in users for whom `may(actor)` holds; 403 for others, as the API answers on admin resources. A rule,
    type, user, unit or message the service does not find is a page that does not exist (404)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not may(signed_in_actor()):
                abort(403)
            try:
                return view(*args, **kwargs)
            except NotFound:
                abort(404)
        return wrapped
    return decorate


def _messages(error: ValidationFailed) -> dict[str, list[str]]:
    """Messages by form field: the service's paths ("name.sv", "roles[0].unit") named as the form's inputs."""
    messages: dict[str, list[str]] = {}
    for path, msgs in error.errors.items():
        messages.setdefault(path.removeprefix("roles[0].").replace(".", "_"), []).extend(m.render(_) for m in msgs)
    return messages


def _invalid(template: str, error: ValidationFailed, **context):
    return render_template(template, errors=_messages(error), form=request.form, **context), 422


@web_blueprint.get("/admin")
@admin_page(may=lambda actor: bool(actor.paths_for({Role.ADMIN})))
def admin():
    return render_template("web/admin/index.html", config_admin=signed_in_actor().is_config_admin())


# ---- routing rules, and the rules page (the deadline rules' own views are in web.admin_deadlines) ------

def _routing_spec(form, with_active: bool) -> dict:
    """The API's shape from the form: an empty choice means "any"; a priority goes as typed (see typed_number)."""
    spec = {key: form.get(key) or None for key in ("type", "category", "org_unit", "role", "purpose")}
    spec["only_serious"] = "only_serious" in form
    spec["priority"] = typed_number(form.get("priority", ""), blank=0)
    if with_active:
        spec["active"] = "active" in form
    return spec


def _routing_form(rule) -> dict:
    return form_of({"type": rule.incident_type.code if rule.incident_type else None, "category": rule.category,
                    "org_unit": rule.org_unit.code if rule.org_unit else None, "role": rule.role,
                    "purpose": rule.purpose, "priority": rule.priority, "only_serious": rule.only_serious,
                    "active": rule.active})


def _routing_choices() -> dict:
    return {"roles": ROLES, "purposes": PURPOSES, "categories": CATEGORIES, "tree": unit_tree(db_session()),
            "types": type_options()}


def rules_page(status: int = 200, routing_errors=None, deadline_errors=None, message: str | None = None):
    """The routing and deadline rules with a form to add each; the form that failed is shown again as sent,
    with its messages."""
    return render_template(
        "web/admin/rules.html", routing=list_routing_rules(db_session(), signed_in_actor()), message=message,
        routing_errors=routing_errors or {}, routing_form=request.form if routing_errors else {},
        deadlines=list_deadline_rules(db_session(), signed_in_actor()), deadline_errors=deadline_errors or {},
        deadline_form=request.form if deadline_errors else deadline_rule_form.NEW_RULE,
        deadline_choices=deadline_rule_form.choices(), **_routing_choices()), status


@web_blueprint.route("/admin/rules", methods=["GET", "POST"])
@admin_page()
def admin_rules():
    if request.method == "POST":
        try:
            rule = add_routing_rule(db_session(), signed_in_actor(), _routing_spec(request.form, with_active=False))
        except ValidationFailed as error:
            return rules_page(422, routing_errors=_messages(error))
        flash(_("Routing rule %(id)s added. New cases are routed by it.", id=rule.id))
        return redirect(url_for("web.admin_rules"))
    return rules_page()


@web_blueprint.route("/admin/rules/<id:rule_id>", methods=["GET", "POST"])
@admin_page()
def admin_routing_rule(rule_id: int):
    try:
        rule = get_routing_rule(db_session(), signed_in_actor(), rule_id)
        if request.method == "POST":
            change_routing_rule(db_session(), signed_in_actor(), rule_id, _routing_spec(request.form, with_active=True))
            flash(_("Routing rule %(id)s saved. New cases are routed by it.", id=rule_id))
            return redirect(url_for("web.admin_rules"))
    except ValidationFailed as error:
        return _routing_rule_page(rule, 422, errors=_messages(error))
    except Conflict as error:
        return _routing_rule_page(rule, 409, message=error.detail.render(_))
    return _routing_rule_page(rule)


def _routing_rule_page(rule, status: int = 200, errors=None, message: str | None = None):
    form = request.form if request.method == "POST" else _routing_form(rule)
    return render_template("web/admin/routing_rule.html", rule=rule, form=form, errors=errors or {},
                           message=message, **_routing_choices()), status


@web_blueprint.post("/admin/rules/<id:rule_id>/active")
@admin_page()
def admin_routing_rule_active(rule_id: int):
    active = request.form.get("active") == "true"
    try:
        set_routing_rule_active(db_session(), signed_in_actor(), rule_id, active)
    except Conflict as error:
        return rules_page(409, message=error.detail.render(_))
    flash(_("Routing rule %(id)s switched on.", id=rule_id) if active
          else _("Routing rule %(id)s switched off.", id=rule_id))
    return redirect(url_for("web.admin_rules"))


# ---- notifications, local mail, access log ----------------------------------------------------

@web_blueprint.get("/admin/notifications")
@admin_page(may=may_administer_notifications)
def admin_notifications():
    cursor = request.args.get("cursor", type=as_id)   # anything but an id: the first page
    rows, next_cursor = failed_deliveries(db_session(), signed_in_actor(), cursor=cursor)
    return render_template("web/admin/notifications.html", rows=rows, next_cursor=next_cursor)


@web_blueprint.post("/admin/notifications/<id:notification_id>/resend")
@admin_page(may=may_administer_notifications)
def admin_resend(notification_id: int):
    try:
        resend(db_session(), signed_in_actor(), notification_id, datetime.now(timezone.utc))
    except Conflict as error:
        flash(error.detail.render(_))
        return redirect(url_for("web.admin_notifications"))
    flash(_("The notification is queued to be sent again."))
    return redirect(url_for("web.admin_notifications"))


@web_blueprint.get("/admin/mail")
@admin_page(may=may_read_local_mailbox)
def admin_mail():
    return render_template("web/admin/mail.html", messages=list_local_mail(state().settings, signed_in_actor()))


@web_blueprint.get("/admin/mail/<name>")
@admin_page(may=may_read_local_mailbox)
def admin_mail_message(name: str):
    message = read_local_mail(state().settings, signed_in_actor(), name)
    return render_template("web/admin/mail_message.html", message=message)
