"""Admin pages for property owners (felanmälan): the list, adding one and changing one. Thin views over
kia.property.owners; the API key is a password input, never filled in, and kept when left empty."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kia.errors import N_, ValidationFailed
from kia.http import db_session
from kia.property.models import PropertyOwner
from kia.property.owners import change_owner, create_owner, get_owner, list_owners
from web import signed_in_actor, web_blueprint
from web.admin import admin_page

METHODS = [("open311", N_("Open311 GeoReport v2")), ("email", N_("E-mail"))]
LABELS = {"name": N_("Name"), "method": N_("How it takes fault reports"), "endpoint_url": N_("Open311 base address"),
          "api_key": N_("API key"), "jurisdiction_id": N_("Jurisdiction id (if the owner asks for one)"),
          "service_codes": N_("Service codes"), "email": N_("E-mail address for fault reports"),
          "units": N_("Units whose buildings it owns"), "active": N_("Active: takes fault reports")}
TEXTS = ("name", "method", "endpoint_url", "jurisdiction_id", "email", "service_codes", "units")


def _form_of(owner: PropertyOwner) -> dict[str, str]:
    return {"name": owner.name, "method": owner.method.value, "endpoint_url": owner.endpoint_url,
            "jurisdiction_id": owner.jurisdiction_id, "email": owner.email,
            "service_codes": "\n".join(f"{k} = {v}" for k, v in sorted(owner.service_codes.items())),
            "units": " ".join(sorted(link.org_unit.code for link in owner.units)),
            "active": "on" if owner.active else ""}


def _spec(form) -> dict:
    """The form as the service takes it: service codes one a line ("fire = brand"), unit codes by space or comma."""
    codes = {}
    for line in form.get("service_codes", "").splitlines():
        key, _sep, value = line.partition("=")
        if key.strip():
            codes[key.strip()] = value.strip()
    return {"name": form.get("name", ""), "method": form.get("method", ""),
            "endpoint_url": form.get("endpoint_url", ""), "api_key": form.get("api_key", ""),
            "jurisdiction_id": form.get("jurisdiction_id", ""), "email": form.get("email", ""),
            "service_codes": codes, "units": [c for c in re.split(r"[\s,]+", form.get("units", "")) if c]}


def _messages(error: ValidationFailed) -> dict[str, list[str]]:
    """The service's paths ("units[2]", "service_codes.fire") at the inputs they are about."""
    messages: dict[str, list[str]] = {}
    for path, msgs in error.errors.items():
        messages.setdefault(re.split(r"[\[.]", path)[0], []).extend(m.render(_) for m in msgs)
    return messages


def _page(owner: PropertyOwner | None, form: dict, errors: dict | None = None, status: int = 200):
    return render_template("web/admin/property_owner.html", owner=owner, form=form, errors=errors or {},
                           labels={k: _(v) for k, v in LABELS.items()}, methods=METHODS), status


@web_blueprint.get("/admin/property-owners")
@admin_page()
def admin_property_owners():
    return render_template("web/admin/property_owners.html", owners=list_owners(db_session(), signed_in_actor()),
                           methods=dict(METHODS))


@web_blueprint.route("/admin/property-owners/new", methods=["GET", "POST"])
@admin_page()
def admin_new_property_owner():
    if request.method == "GET":
        return _page(None, {"method": "open311", "service_codes": "default = "})
    try:
        owner = create_owner(db_session(), signed_in_actor(), _spec(request.form))
    except ValidationFailed as error:
        db_session().rollback()
        return _page(None, {k: request.form.get(k, "") for k in TEXTS}, _messages(error), 422)
    flash(_("Property owner %(name)s added.", name=owner.name))
    return redirect(url_for("web.admin_property_owners"))


@web_blueprint.route("/admin/property-owners/<id:owner_id>", methods=["GET", "POST"])
@admin_page()
def admin_property_owner(owner_id: int):
    session, actor = db_session(), signed_in_actor()
    owner = get_owner(session, actor, owner_id)
    if request.method == "GET":
        return _page(owner, _form_of(owner))
    try:
        change_owner(session, actor, owner_id, {**_spec(request.form), "active": request.form.get("active") == "on"})
    except ValidationFailed as error:
        return _page(get_owner(session, actor, owner_id),
                     {**{k: request.form.get(k, "") for k in TEXTS}, "active": request.form.get("active", "")},
                     _messages(error), 422)
    flash(_("Property owner %(name)s saved.", name=owner.name))
    return redirect(url_for("web.admin_property_owners"))
