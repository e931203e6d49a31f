"""Server-rendered web UI (Jinja): sign-in and the start page; the full UI grows here."""
from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from api.problems import RETRY_AFTER_SECONDS
from kia.access import Actor
from kia.http import db_session, state
from kia.auth.account import SignInGuard, set_language
from kia.auth.passwords import hash_password, needs_rehash, verify_password
from kia.db import DATABASE_UNAVAILABLE, database_unavailable, unavailable_cause, utcnow
from kia.orgs.models import User
from kia.orgs.services import user_by_email

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
web_blueprint = Blueprint("web", __name__, template_folder=str(HERE / "templates"),
                          static_folder=str(HERE / "static"), static_url_path="/static")
# Endpoints that take files → their request size limit, raised before the CSRF check parses the form.
UPLOAD_ENDPOINTS: dict[str, Callable[[], int]] = {}


def signed_in_actor() -> Actor:
    """The signed-in user as the access rules see them (every page's views ask the services as this actor), made
    once a request."""
    if g.get("signed_in_actor") is None:
        g.signed_in_actor = current_user.actor()
    return g.signed_in_actor


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@web_blueprint.app_template_global()
def link(endpoint: str, **values) -> str:
    """url_for for the links every page's header and head carry, which are the same on every page: built once per
    endpoint, arguments and the prefix the site is served under, per app (url_for cost a page's header more than
    its query)."""
    links = current_app.extensions.setdefault("kia.links", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    found = links.get(key)
    if found is None:
        found = links[key] = url_for(endpoint, **values)
    return found


@web_blueprint.app_context_processor
def _template_globals():
    return {"csrf_token": csrf_token, "get_locale": get_locale}


@web_blueprint.before_request
def _check_csrf():
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = UPLOAD_ENDPOINTS[request.endpoint]()
        sent = request.form.get("csrf_token", "")
        # Bytes: compare_digest raises TypeError (a 500) on a str with non-ASCII characters.
        if not sent or not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
            abort(400)


def _database_unavailable(error: Exception):
    """Every page (the API answers in problem+json itself) while the database cannot be reached: 503, try again."""
    if not database_unavailable(error):
        raise error   # a statement that failed: Flask's 500, logged with its traceback
    g.database_unavailable = True   # so the language is chosen without asking the database who is signed in
    log.warning("database unavailable in %s %s: %s", request.method, request.path, unavailable_cause(error))
    return render_template("web/unavailable.html"), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


for _unavailable in DATABASE_UNAVAILABLE:
    web_blueprint.app_errorhandler(_unavailable)(_database_unavailable)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form cannot redirect elsewhere."""
    # Browsers read a backslash as "/" and drop tabs and newlines (/\evil.example is //evil.example):
    # refuse them outright rather than rely on the Location header being percent-encoded on the way out.
    if (target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and not any(c == "\\" or c.isspace() or not c.isprintable() for c in target)):
        return target
    return url_for("web.index")


@web_blueprint.get("/")
def index():
    from web.alarms import start_page_alarms   # the alarm buttons and the open alarms (web.alarms imports this module)

    return render_template("web/index.html", **start_page_alarms())


@web_blueprint.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        guard = SignInGuard(db_session(), state().settings.secret_key, request.remote_addr or "", email, utcnow())
        guard.check()   # RateLimited: the 429 page, worded the same whether the e-mail address exists
        user = user_by_email(db_session(), email)
        # One message for unknown e-mail and wrong password: no user enumeration.
        if verify_password(user.password_hash if user else None, password) and user.active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
                db_session().commit()
            second_step = two_factor.second_step(user, request.args.get("next"))   # not signed in before the code
            if second_step is not None:
                return second_step
            chosen = session.get("language")   # picked on the sign-in page: kept, and remembered for the user
            session.clear()
            login_user(user)
            if chosen:
                session["language"] = chosen
                set_language(db_session(), user, chosen)
            return redirect(_safe_next(request.args.get("next")))
        guard.failed()
        error = _("Wrong e-mail address or password.")
    return render_template("web/login.html", error=error, email=request.form.get("email", "")), 401 if error else 200


@web_blueprint.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("web.index"))


@web_blueprint.get("/me")
@login_required
def me():
    return render_template("web/me.html", user=db_session().get(User, current_user.id))


from web import statistics  # noqa: E402,F401 – the lägesbild views register on web_blueprint
from web import admin, admin_deadlines, admin_org, admin_types  # noqa: E402,F401 – the admin pages
from web import handling, inbox, notifications_page, related_cases  # noqa: E402,F401 – inbox, case, notification pages
from web import reporting, account  # noqa: E402,F401 – reporting, own reports, password and language
from web import manifest  # noqa: E402,F401 – the web app manifest (add to home screen)
from web import admin_property  # noqa: E402,F401 – property owners (felanmälan)
from web import retention  # noqa: E402,F401 – legal holds on the case page, the gallring admin page
from web import oidc  # noqa: E402,F401 – single sign-on with the city's OpenID Connect provider
from web import event_map  # noqa: E402,F401 – the event map (/karta)
from web import two_factor  # noqa: E402 – the second step of a sign-in (two_factor_blueprint, registered by the factory)
from web import privacy  # noqa: E402,F401 – the read log's review, the registerutdrag
from web import alarms  # noqa: E402,F401 – raising alarms, the alarm page, the alarm types' admin
