"""Two-factor sign-in pages (kia.auth.two_factor): the second step of a password sign-in, enrolment with a QR code,
one's own settings, and an admin's reset of another user's factor.

A user with a second factor who gives the right password is not signed in yet: the session keeps only the pending
user (PENDING) until the code is given. A session whose second factor was checked (or just set up) is marked
VERIFIED. Every request of an admin's password session without that mark is sent to set up a factor, or to the
second step, before anything else (the API refuses it with a 403). A session signed in through the city's IdP
(session["auth_method"] == "oidc") is the IdP's business.
"""
from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from kia.auth import two_factor
from kia.auth.account import set_language
from kia.auth.signed_in import load_signed_in
from kia.db import utcnow
from kia.errors import Conflict, Forbidden, NotFound
from kia.http import db_session
from kia.orgs.models import Role, User
from web import _check_csrf, _safe_next, signed_in_actor
from web.admin_org import _user_page

PENDING = "two_factor_pending"
VERIFIED = "two_factor_verified"
PENDING_SECONDS = 10 * 60   # the time from the password to the code
# What an admin's unverified session may still reach: signing out, the language, the pages here.
_OPEN_ENDPOINTS = {"web.logout", "web.choose_language", "web.static", "static"}

two_factor_blueprint = Blueprint("two_factor", __name__)
two_factor_blueprint.before_request(_check_csrf)


def second_step(user: User, next_url: str | None):
    """After the right password (web.login): the second step's page for a user with a second factor, keeping them
    pending; None for a user without one, whom the login view signs in."""
    if not two_factor.is_enabled(db_session(), user.id):
        return None
    chosen = session.get("language")
    session.clear()
    if chosen:
        session["language"] = chosen
    session[PENDING] = {"user": user.id, "epoch": user.session_epoch, "next": _safe_next(next_url),
                        "at": int(time.time())}
    return redirect(url_for("two_factor.verify"))


def _verified_session_of(user: User) -> None:
    """Sign the user in with a checked second factor, keeping the language picked before."""
    chosen = session.get("language")
    session.clear()
    login_user(load_signed_in(db_session(), user.id, user.session_epoch))
    session[VERIFIED] = True
    if chosen:
        session["language"] = chosen
        set_language(db_session(), user, chosen)


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db_session().get(User, pending.get("user"))
    if user is None or not user.active or user.session_epoch != pending.get("epoch"):
        return None
    return user


def _locked_message(error: two_factor.SecondStepLocked) -> str:
    return _("Too many wrong codes in a row. Two-factor sign-in is locked until %(until)s; try again then.",
             until=format_datetime(error.until, "short"))


def _code_error(error: Exception) -> tuple[str, int]:
    if isinstance(error, two_factor.SecondStepLocked):
        return _locked_message(error), 429
    return _("The code is not right. Type the code the app shows now, or one of your recovery codes."), 401


@two_factor_blueprint.route("/two-factor/verify", methods=["GET", "POST"])
def verify():
    user = _pending_user()
    if user is None:   # nothing pending (or it expired): a signed-in user is home, a visitor starts again
        session.pop(PENDING, None)
        return redirect(url_for("web.index" if current_user.is_authenticated else "web.login"))
    error, status = None, 200
    if request.method == "POST":
        try:
            two_factor.verify(db_session(), user.id, request.form.get("code", ""), utcnow())
        except (two_factor.WrongCode, two_factor.SecondStepLocked) as refused:
            db_session().rollback()
            error, status = _code_error(refused)
        else:
            next_url = session[PENDING]["next"]
            _verified_session_of(user)
            return redirect(_safe_next(next_url))
    return render_template("web/two_factor/verify.html", error=error), status


@two_factor_blueprint.route("/two-factor/enrol", methods=["GET", "POST"])
@login_required
def enrol():
    db = db_session()
    user = db.get(User, current_user.id)
    if two_factor.is_enabled(db, user.id):
        return redirect(url_for("two_factor.settings"))
    factor = two_factor.start_enrolment(db, user, utcnow())
    error, status = None, 200
    if request.method == "POST":
        try:
            codes = two_factor.confirm_enrolment(db, user, request.form.get("code", ""), utcnow())
        except (two_factor.WrongCode, two_factor.SecondStepLocked) as refused:
            db.rollback()
            error, status = _code_error(refused)
        else:
            session[VERIFIED] = True
            return _recovery_codes_page(codes, first=True)
    uri = two_factor.provisioning_uri(factor, user.email)
    return render_template("web/two_factor/enrol.html", qr_svg=two_factor.qr_svg(uri), secret=factor.secret,
                           required=two_factor.is_required(db, user.id), error=error), status, _NO_STORE


_NO_STORE = {"Cache-Control": "no-store"}


def _recovery_codes_page(codes: list[str], first: bool):
    return render_template("web/two_factor/recovery_codes.html", codes=codes, first=first), 200, _NO_STORE


@two_factor_blueprint.get("/account/two-factor")
@login_required
def settings():
    return render_template("web/two_factor/settings.html", status=two_factor.status_of(db_session(), current_user.id),
                           errors={})


@two_factor_blueprint.post("/account/two-factor/disable")
@login_required
def disable():
    db = db_session()
    try:
        two_factor.disable(db, db.get(User, current_user.id), request.form.get("code", ""), utcnow())
    except Conflict as refused:
        db.rollback()
        return _settings_error("disable", refused.detail.render(_), 409)
    except (two_factor.WrongCode, two_factor.SecondStepLocked) as refused:
        db.rollback()
        return _settings_error("disable", *_code_error(refused))
    session.pop(VERIFIED, None)
    return redirect(url_for("two_factor.settings"))


@two_factor_blueprint.post("/account/two-factor/recovery-codes")
@login_required
def regenerate():
    db = db_session()
    try:
        codes = two_factor.regenerate_recovery_codes(db, db.get(User, current_user.id), request.form.get("code", ""),
                                                     utcnow())
    except Conflict as refused:
        db.rollback()
        return _settings_error("regenerate", refused.detail.render(_), 409)
    except (two_factor.WrongCode, two_factor.SecondStepLocked) as refused:
        db.rollback()
        return _settings_error("regenerate", *_code_error(refused))
    return _recovery_codes_page(codes, first=False)


def _settings_error(form: str, message: str, status: int):
    return render_template("web/two_factor/settings.html", status=two_factor.status_of(db_session(), current_user.id),
                           errors={form: message}), status


@two_factor_blueprint.post("/admin/users/<id:user_id>/two-factor/reset")
@login_required
def admin_reset(user_id: int):
    try:
        user = two_factor.reset_by_admin(db_session(), signed_in_actor(), user_id)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    except Conflict as refused:
        db_session().rollback()
        return _user_page(user_id, 409, message=refused.detail.render(_))
    flash(_("Two-factor sign-in is reset for %(name)s: they set it up again at their next sign-in.", name=user.name))
    return redirect(url_for("web.admin_user", user_id=user_id))


@two_factor_blueprint.before_app_request
def _require_second_factor():
    """An admin's password session without a checked second factor reaches nothing but the pages here."""
    endpoint = request.endpoint or ""
    if endpoint in _OPEN_ENDPOINTS or endpoint.startswith("two_factor."):
        return None
    in_api = "api" in request.blueprints
    if in_api and request.headers.get("Authorization"):
        return None   # an API token: its scopes and its owner's roles decide
    if session.get(VERIFIED) or session.get("auth_method") == "oidc" or not current_user.is_authenticated:
        return None
    if not current_user.holds(Role.ADMIN):
        return None
    if in_api:
        abort(403)
    user = db_session().get(User, current_user.id)
    if two_factor.is_enabled(db_session(), user.id):
        # A factor set up since this session began (or in another): the second step, as at a sign-in.
        next_url = request.full_path if request.method == "GET" else None
        logout_user()
        return second_step(user, next_url)
    return redirect(url_for("two_factor.enrol"))
