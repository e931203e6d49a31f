"""One's own account: the password, the language, and what the header navigation shows for the user."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session
from flask_babel import gettext as _, refresh
from flask_login import current_user, login_required, login_user

from kia.http import db_session
from kia.i18n import LANGUAGES
from kia.auth.account import change_password, set_language
from kia.auth.passwords import MIN_PASSWORD_LENGTH
from kia.auth.signed_in import load_signed_in
from kia.errors import ValidationFailed
from kia.orgs.models import Role, User
from web import _safe_next, web_blueprint


@web_blueprint.app_context_processor
def _header():
    def url_endpoints() -> set[str]:
        """Pages other parts of the UI add: the header links to them only once they exist."""
        return set(current_app.view_functions)

    def is_admin() -> bool:
        return current_user.is_authenticated and current_user.holds(Role.ADMIN)

    return {"url_endpoints": url_endpoints, "is_admin": is_admin,
            "languages": {"sv": "Svenska", "en": "English"}}


@web_blueprint.post("/language")
def choose_language():
    """Kept in the session (also before signing in) and, for a signed-in user, in their account."""
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session["language"] = chosen
        if current_user.is_authenticated:
            set_language(db_session(), db_session().get(User, current_user.id), chosen)
        refresh()
    return redirect(_safe_next(request.form.get("next")))


@web_blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    errors, done, status = {}, False, 200
    if request.method == "POST":
        try:
            user = db_session().get(User, current_user.id)
            change_password(db_session(), user, request.form.get("current_password", ""),
                            request.form.get("new_password", ""), request.form.get("repeat_password", ""))
            # The change ended every session of the user's (a new epoch) but this one: it keeps the new epoch.
            login_user(load_signed_in(db_session(), user.id, user.session_epoch))
            done = True
        except ValidationFailed as error:
            db_session().rollback()
            errors = {path: [m.render(_) for m in messages] for path, messages in error.errors.items()}
            status = 422
    return render_template("web/account/password.html", errors=errors, done=done,
                           min_length=MIN_PASSWORD_LENGTH), status
