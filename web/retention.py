"""Gallring on the web: a case's legal hold (its handlers hold or release it on the case page) and the admin page
of the retention rules, what the next run would erase and the runs' log. Thin views over kia.retention."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from kia.db import utcnow
from kia.errors import ValidationFailed
from kia.http import db_session
from kia.retention.holds import lift_hold, list_legal_holds, place_hold
from kia.orgs.models import Role
from kia.retention.models import RetentionAction
from kia.retention.rules import list_retention_rules, set_retention_rule
from kia.retention.runs import list_runs, preview
from web import signed_in_actor, web_blueprint
from web.admin import admin_page
from web.labels import HOLD_REASONS
from web.case_views import field_messages
from web.handling import attempt


@web_blueprint.post("/cases/<id:case_id>/legal-hold")
@login_required
def case_legal_hold(case_id: int):
    reason = request.form.get("reason", "")
    return attempt(case_id, "legal_hold", "legal-hold",
                   lambda: place_hold(db_session(), signed_in_actor(), case_id, reason),
                   _("The case is held from gallring."))


@web_blueprint.post("/cases/<id:case_id>/legal-hold/lift")
@login_required
def case_lift_legal_hold(case_id: int):
    return attempt(case_id, "legal_hold", "legal-hold", lambda: lift_hold(db_session(), signed_in_actor(), case_id),
                   _("The hold is lifted: gallring takes the case when its time has run out."))


def _months(text: str):
    return int(text) if text.strip().isdigit() else text


def _page(status: int = 200, errors: dict | None = None, failed: str | None = None):
    session, actor = db_session(), signed_in_actor()
    return render_template("web/admin/retention.html", rules=list_retention_rules(session, actor),
                           preview=preview(session, actor, utcnow()), runs=list_runs(session, actor),
                           actions=list(RetentionAction), errors=errors or {}, failed=failed,
                           values=request.form if failed else {}), status


@web_blueprint.get("/admin/retention")
@admin_page()
def admin_retention():
    return _page()


@web_blueprint.post("/admin/retention/<code>")
@admin_page()
def admin_retention_rule(code: str):
    spec = {"months": _months(request.form.get("months", "")), "action": request.form.get("action", "")}
    try:
        set_retention_rule(db_session(), signed_in_actor(), code, spec)
    except ValidationFailed as error:
        db_session().rollback()
        return _page(422, field_messages(error), code)
    flash(_("The retention rule is saved."))
    return redirect(url_for("web.admin_retention", _anchor=f"rule-{code}"))



@web_blueprint.get("/admin/legal-holds")
@admin_page(may=lambda actor: bool(actor.paths_for({Role.ADMIN})))
def admin_legal_holds():
    return render_template("web/admin/legal_holds.html", holds=list_legal_holds(db_session(), signed_in_actor()),
                           reasons=HOLD_REASONS)
