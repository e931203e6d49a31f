"""Admin pages for the organisation: the unit tree and each unit's page (rename, close, reopen), users and each
user's page (details, deactivation, a new password, roles), both with their history. Thin views over
kia.orgs.admin; a page with several forms shows the one that failed as it was sent, the others as stored."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kia.http import db_session
from kia.auth.passwords import MIN_PASSWORD_LENGTH
from kia.errors import N_, Conflict, ValidationFailed
from kia.orgs.admin import (
    add_membership, add_unit, add_user, change_user, get_unit, get_user, list_users, open_cases_handled_by,
    open_cases_in, open_units_under, remove_membership, rename_unit, set_unit_active, set_unit_coordinates,
    set_user_active, set_user_password, unit_tree,
)
from kia.orgs.history import What, history_of
from kia.orgs.models import AdminChange, ChangeSubject, OrgKind, Role
from web import signed_in_actor, web_blueprint
from web.admin import _messages, admin_page
from web.admin_forms import form_of
from web.labels import ROLES
from web.report_form import degrees

# Marked with N_ so `make messages` extracts them; templates translate them where shown.
KINDS = {OrgKind.CITY: N_("City"), OrgKind.ADMINISTRATION: N_("Administration (förvaltning)"),
         OrgKind.DEPARTMENT: N_("Department"), OrgKind.UNIT: N_("Unit (school, förskola)"),
         OrgKind.SITE: N_("Site or building")}
LANGUAGE_NAMES = {"sv": N_("Swedish"), "en": N_("English")}
# The users list's filter: the query value → whether the users shown are active (None: all of them).
SHOWN_USERS = {"": None, "active": True, "inactive": False}
CHANGES = {What.CREATED: N_("Created"), What.NAME: N_("Name"), What.EMAIL: N_("E-mail address"),
           What.LANGUAGE: N_("Language"), What.ACTIVE: N_("Status"), What.PASSWORD: N_("New password set"),
           What.ROLE: N_("Role"), What.COORDINATES: N_("Coordinates"),
           What.TWO_FACTOR: N_("Two-factor sign-in reset")}
STATUS = {(ChangeSubject.USER, "true"): N_("active"), (ChangeSubject.USER, "false"): N_("deactivated"),
          (ChangeSubject.ORG_UNIT, "true"): N_("open"), (ChangeSubject.ORG_UNIT, "false"): N_("closed")}


def shown(change: AdminChange, value: str | None) -> str:
    """A recorded value as the reader reads it: a role and status in their language, not as stored."""
    if value is None:
        return ""
    if change.what == What.ACTIVE:
        return _(STATUS[change.subject_kind, value])
    if change.what == What.LANGUAGE:
        return _(LANGUAGE_NAMES.get(value, value))
    if change.what == What.ROLE:
        role, code = value.split(" ", 1)
        return f"{_(ROLES[Role(role)])} – {code}"
    return value


def _history(subject) -> dict:
    return {"changes": history_of(db_session(), subject), "shown": shown, "change_labels": CHANGES}


def _as_active(form) -> bool:
    return form.get("active") == "true"


# ---- org units ------------------------------------------------------------------------------------

def _units_page(status: int = 200, errors=None):
    return render_template("web/admin/units.html", tree=unit_tree(db_session()), kinds=KINDS, errors=errors or {},
                           form=request.form if errors else {}), status


@web_blueprint.route("/admin/units", methods=["GET", "POST"])
@admin_page()
def admin_units():
    if request.method == "POST":
        form = request.form
        try:
            unit = add_unit(db_session(), signed_in_actor(), form.get("code", ""), form.get("name", ""), form.get("kind", ""),
                            form.get("parent", ""))
        except ValidationFailed as error:
            return _units_page(422, _messages(error))
        flash(_("Unit %(code)s added.", code=unit.code))
        return redirect(url_for("web.admin_units"))
    return _units_page()


def _shown_degrees(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def _unit_page(unit_id: int, status: int = 200, errors=None, message: str | None = None, failed: str = "name"):
    """`failed`: which form ("name", "coordinates") is sent back as typed with `errors`."""
    session, actor = db_session(), signed_in_actor()
    unit = get_unit(session, actor, unit_id)
    stored = {"latitude": _shown_degrees(unit.latitude), "longitude": _shown_degrees(unit.longitude)}
    return render_template(
        "web/admin/unit.html", unit=unit, kinds=KINDS, errors=(errors or {}) if failed == "name" else {},
        message=message, form=request.form if errors and failed == "name" else {"name": unit.name},
        coordinates=request.form if errors and failed == "coordinates" else stored,
        coordinate_errors=(errors or {}) if failed == "coordinates" else {}, open_under=open_units_under(session, unit),
        open_cases=open_cases_in(session, actor, unit), **_history(unit)), status


@web_blueprint.route("/admin/units/<id:unit_id>", methods=["GET", "POST"])
@admin_page()
def admin_unit(unit_id: int):
    if request.method == "POST":
        try:
            unit = rename_unit(db_session(), signed_in_actor(), unit_id, request.form.get("name", ""))
        except ValidationFailed as error:
            return _unit_page(unit_id, 422, errors=_messages(error))
        flash(_("The unit is now called %(name)s.", name=unit.name))
        return redirect(url_for("web.admin_unit", unit_id=unit_id))
    return _unit_page(unit_id)


@web_blueprint.post("/admin/units/<id:unit_id>/coordinates")
@admin_page()
def admin_unit_coordinates(unit_id: int):
    try:
        unit = set_unit_coordinates(db_session(), signed_in_actor(), unit_id, degrees(request.form.get("latitude", "")),
                                    degrees(request.form.get("longitude", "")))
    except ValidationFailed as error:
        return _unit_page(unit_id, 422, errors=_messages(error), failed="coordinates")
    flash(_("The coordinates of %(name)s are saved.", name=unit.name) if unit.has_coordinates
          else _("%(name)s has no coordinates now.", name=unit.name))
    return redirect(url_for("web.admin_unit", unit_id=unit_id, _anchor="coordinates"))


@web_blueprint.post("/admin/units/<id:unit_id>/active")
@admin_page()
def admin_unit_active(unit_id: int):
    active = _as_active(request.form)
    try:
        unit = set_unit_active(db_session(), signed_in_actor(), unit_id, active)
    except Conflict as error:
        return _unit_page(unit_id, 409, message=error.detail.render(_))
    flash(_("%(name)s is reopened.", name=unit.name) if active else _("%(name)s is closed.", name=unit.name))
    return redirect(url_for("web.admin_unit", unit_id=unit_id))


# ---- users ----------------------------------------------------------------------------------------

def _users_page(status: int = 200, errors=None):
    search, shown_users = request.args.get("q", ""), request.args.get("status", "")
    users = list_users(db_session(), signed_in_actor(), search, active=SHOWN_USERS.get(shown_users))
    return render_template("web/admin/users.html", users=users, roles=ROLES, tree=unit_tree(db_session()),
                           search=search, shown_users=shown_users, languages=LANGUAGE_NAMES,
                           min_length=MIN_PASSWORD_LENGTH, errors=errors or {}, form=request.form if errors else {}
                           ), status


@web_blueprint.route("/admin/users", methods=["GET", "POST"])
@admin_page()
def admin_users():
    if request.method == "POST":
        form = request.form
        try:
            user = add_user(db_session(), signed_in_actor(), form.get("email", ""), form.get("name", ""),
                            form.get("password", ""), form.get("language", "sv"), form.get("role", ""),
                            form.get("unit", ""))
        except ValidationFailed as error:
            return _users_page(422, _messages(error))
        flash(_("User %(email)s created.", email=user.email))
        return redirect(url_for("web.admin_user", user_id=user.id))
    return _users_page()


def _user_page(user_id: int, status: int = 200, failed: str | None = None, errors=None,
               message: str | None = None):
    """`failed`: the form ("details", "role") sent back as typed with `errors`; the others show what is stored."""
    session, actor = db_session(), signed_in_actor()
    user = get_user(session, actor, user_id)
    stored = form_of({"name": user.name, "email": user.email, "language": user.language})
    return render_template(
        "web/admin/user.html", user=user, roles=ROLES, tree=unit_tree(session), languages=LANGUAGE_NAMES,
        failed=failed, errors=errors or {}, message=message, is_self=user.id == actor.user_id,
        details=request.form if failed == "details" else stored, role_form=request.form if failed == "role" else {},
        handled=open_cases_handled_by(session, actor, user), min_length=MIN_PASSWORD_LENGTH,
        **_history(user)), status


def _back_to_user(user_id: int, anchor: str | None = None):
    return redirect(url_for("web.admin_user", user_id=user_id, _anchor=anchor))


@web_blueprint.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@admin_page()
def admin_user(user_id: int):
    if request.method == "POST":
        form = request.form
        try:
            changed = change_user(db_session(), signed_in_actor(), user_id, form.get("name", ""), form.get("email", ""),
                                  form.get("language", ""))
        except ValidationFailed as error:
            return _user_page(user_id, 422, "details", _messages(error))
        flash(_("The details are saved.") if changed else _("Nothing was changed."))
        return _back_to_user(user_id)
    return _user_page(user_id)


@web_blueprint.post("/admin/users/<id:user_id>/active")
@admin_page()
def admin_user_active(user_id: int):
    active = _as_active(request.form)
    try:
        user = set_user_active(db_session(), signed_in_actor(), user_id, active)
    except Conflict as error:
        return _user_page(user_id, 409, message=error.detail.render(_))
    flash(_("%(name)s is reactivated and can sign in again.", name=user.name) if active
          else _("%(name)s is deactivated and can no longer sign in.", name=user.name))
    return _back_to_user(user_id, "account")


@web_blueprint.post("/admin/users/<id:user_id>/password")
@admin_page()
def admin_user_password(user_id: int):
    try:
        user = set_user_password(db_session(), signed_in_actor(), user_id, request.form.get("new_password", ""),
                                 request.form.get("repeat_password", ""))
    except ValidationFailed as error:
        return _user_page(user_id, 422, "password", _messages(error))
    except Conflict as error:
        return _user_page(user_id, 409, message=error.detail.render(_))
    flash(_("A new password is set for %(name)s.", name=user.name))
    return _back_to_user(user_id)


@web_blueprint.post("/admin/users/<id:user_id>/memberships")
@admin_page()
def admin_add_membership(user_id: int):
    try:
        add_membership(db_session(), signed_in_actor(), user_id, request.form.get("role", ""), request.form.get("unit", ""))
    except ValidationFailed as error:
        return _user_page(user_id, 422, "role", _messages(error))
    flash(_("Role added."))
    return _back_to_user(user_id)


@web_blueprint.post("/admin/users/<id:user_id>/memberships/<id:membership_id>/remove")
@admin_page()
def admin_remove_membership(user_id: int, membership_id: int):
    remove_membership(db_session(), signed_in_actor(), user_id, membership_id)
    flash(_("Role removed."))
    return _back_to_user(user_id)
