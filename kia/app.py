"""The app factory: wires settings, database, authentication, languages and the api/web blueprints.

Production runs `gunicorn 'kia.wsgi:app'` (create_app, then serving); every setting comes from the environment.
"""
from __future__ import annotations

import gc
import logging

from flask import Flask, g, request, session
from flask_babel import Babel, get_translations
from flask_login import LoginManager, current_user
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from kia import i18n
from kia.config import Settings
from kia.db import make_engine, make_session_factory
from kia.http import IdConverter, KiaState, close_db_session, current_actor, db_session, state
from kia.auth.signed_in import SignedInUser, load_signed_in, parse_session_id

log = logging.getLogger(__name__)


def select_language() -> str:
    # The web UI's language switch is an explicit choice: it beats what the browser happens to send.
    chosen = session.get("language") if current_actor() is None else None
    if chosen in i18n.LANGUAGES:
        return chosen
    header = request.accept_languages.best_match(i18n.LANGUAGES) if request.headers.get("Accept-Language") else None
    if header:
        return header
    if g.get("database_unavailable"):   # the signed-in user's language is in the database that is missing
        return state().settings.default_language
    actor = current_actor()
    if actor is not None:
        return actor.language
    if current_user and current_user.is_authenticated:
        return current_user.language
    return state().settings.default_language


def _load_user(user_id: str) -> SignedInUser | None:
    if g.get("database_unavailable"):   # the 503 page is rendered for a visitor: the user is in the missing database
        return None
    parsed = parse_session_id(user_id)   # "<id>:<session epoch>"; a bare id (a cookie from before) is signed out
    return load_signed_in(db_session(), *parsed) if parsed else None


def _install_template_gettext(app: Flask) -> None:
    """The templates' _() and ngettext() take the request's catalogue from where Flask-Babel keeps a request's own
    state (`g._flask_babel`), as its `babel_translations`: the name its refresh() clears and its force_locale()
    sets aside and restores, so a changed or forced language holds. Flask-Babel's own callables find the catalogue
    anew for every message, walking its request context three times, which cost a page like the filing's receipt
    more than its database query."""

    def catalogue():
        found = getattr(g.get("_flask_babel"), "babel_translations", None)
        if found is None:
            found = get_translations()   # makes g._flask_babel, when in a request
            if "_flask_babel" in g:
                g._flask_babel.babel_translations = found
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda string: catalogue().ugettext(string),
        ngettext=lambda singular, plural, n: catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, string: catalogue().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: catalogue().unpgettext(context, singular, plural, n),
        newstyle=True)

    # What the i18n extension's newstyle _() and gettext() do, without its two hops through the template context
    # (its `_` looks `gettext` up and calls it, which calls ours): a page's header alone asks for a dozen messages.
    @pass_context
    def gettext(context, string, **variables):
        found = catalogue().ugettext(string)
        # As Jinja's: always a format string, even with no variables, so "%%" means the same everywhere.
        return (Markup(found) if context.eval_ctx.autoescape else found) % variables

    app.jinja_env.globals.update(_=gettext, gettext=gettext)


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'",
    )
    return response


def create_app(settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if session_factory is None:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        session_factory = make_session_factory(engine)

    app = Flask("kia", root_path=str(settings.instance_path.parent), instance_path=str(settings.instance_path),
                template_folder=None, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_DEFAULT_TIMEZONE=settings.timezone.key,
        BABEL_TRANSLATION_DIRECTORIES=str(i18n.ensure_compiled()),
        JSON_SORT_KEYS=False,
    )
    app.url_map.converters["id"] = IdConverter   # before the blueprints' rules, which use it
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["kia"] = KiaState(settings=settings, session_factory=session_factory)
    if settings.trusted_proxies:
        # Behind a load balancer the peer is the proxy: take the client address (rate limits) and scheme
        # from the headers of exactly as many proxies as are configured, never more.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    Babel(app, locale_selector=select_language, timezone_selector=lambda: settings.timezone.key)
    _install_template_gettext(app)
    login_manager = LoginManager(app)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "web.login"

    app.teardown_appcontext(close_db_session)
    app.after_request(_security_headers)

    from api import api_blueprint
    from api.open311 import bp as open311_blueprint
    from web import web_blueprint
    from web.two_factor import two_factor_blueprint

    app.register_blueprint(api_blueprint)
    app.register_blueprint(open311_blueprint)   # answers 404 unless KIA_GEOREPORT_API is set
    app.register_blueprint(web_blueprint)
    app.register_blueprint(two_factor_blueprint)
    return app


def serving(app: Flask) -> Flask:
    """The app as a server process holds it: what start-up built (modules, mappers, templates, catalogues) is
    moved out of the cyclic garbage collector's sight, since it lives as long as the process. Otherwise every
    full collection walks all of it: a pause of about 90 ms in the middle of some request (bench/pages.py)."""
    gc.collect()
    gc.freeze()
    return app
