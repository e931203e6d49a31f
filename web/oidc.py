"""Single sign-on with the city's OpenID Connect provider (KIA_OIDC_*): the sign-in page's button, the redirect to
the provider and its answer. Authlib's Flask client runs the protocol: discovery at
<issuer>/.well-known/openid-configuration, the authorization code flow with PKCE (S256), a state and a nonce kept
in the session, the code exchanged for tokens, and the ID token's signature (the provider's JWKS), issuer,
audience, nonce and expiry validated. Who the claims sign in as is kia.auth.oidc's business.

Every failure answers with the sign-in page and a message saying what went wrong, never a 500: the provider
said no (error parameter), the answer belongs to no sign-in this browser started (state), its ID token was not
made for this sign-in (nonce) or by the configured provider (issuer), the account may not sign in (an unverified
e-mail address, a deactivated user), or the provider cannot be reached.
"""
from __future__ import annotations

import logging
import re
import threading

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_user
from joserfc.errors import ClaimError, JoseError

from kia.auth.account import set_language
from kia.auth.oidc import SignInRefused, user_for_identity
from kia.config import Settings
from kia.db import utcnow
from kia.http import db_session, state
from web import _safe_next, web_blueprint

log = logging.getLogger(__name__)
NAME = "oidc"
SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10   # each call to the provider: a provider that hangs must not hold a worker for ever
_EXTENSION = "kia.oidc"
_lock = threading.Lock()


def _client():
    """Authlib's client for the configured provider, made on first use (and again if the settings change);
    None while single sign-on is not configured."""
    settings: Settings = state().settings
    if not settings.oidc_enabled:
        return None
    key = (settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret)
    made = current_app.extensions.get(_EXTENSION)
    if made is None or made[0] != key:
        with _lock:
            made = current_app.extensions.get(_EXTENSION)
            if made is None or made[0] != key:
                oauth = OAuth(current_app)
                client = oauth.register(
                    NAME, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret or None,
                    server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
                    client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS,
                                   # no secret: a public client, its code bound to this browser by PKCE alone
                                   "token_endpoint_auth_method": ("client_secret_basic"
                                                                  if settings.oidc_client_secret else "none")})
                made = current_app.extensions[_EXTENSION] = (key, client)
    return made[1]


@web_blueprint.app_context_processor
def _sign_in_button():
    def oidc_display_name() -> str | None:
        settings = state().settings
        return settings.oidc_display_name if settings.oidc_enabled else None

    return {"oidc_display_name": oidc_display_name}


def _refused(message: str, status: int = 401):
    return render_template("web/login.html", error=message, email=""), status


def _unreachable(error: Exception):
    # The exception's class only: its text can hold the provider's URL with a code or token in it.
    log.warning("single sign-on: the provider could not be reached or answered wrongly (%s)", type(error).__name__)
    return _refused(_("The sign-in service cannot be reached just now. Try again in a while, or sign in with "
                      "your password."), 502)


@web_blueprint.get("/login/oidc")
def oidc_start():
    client = _client()
    if client is None:
        return _refused(_("Single sign-on is not set up in this KIA."), 400)
    session["oidc_next"] = _safe_next(request.args.get("next"))
    redirect_uri = state().settings.base_url + url_for("web.oidc_callback")
    try:
        return client.authorize_redirect(redirect_uri, ui_locales=str(get_locale()))
    except (requests.RequestException, ValueError, AuthlibBaseError, RuntimeError) as error:
        return _unreachable(error)


def _token_refusal(error: ClaimError) -> str:
    if error.claim == "nonce":
        return _("The sign-in service's answer was not made for this sign-in (the nonce does not match). Start "
                 "the sign-in again.")
    if error.claim == "iss":
        return _("The answer came from another sign-in service than the one KIA is set up for. Start the sign-in "
                 "again, or ask your administrator.")
    return _("The sign-in service's answer could not be verified. Start the sign-in again.")


@web_blueprint.get("/login/oidc/callback")
def oidc_callback():
    client = _client()
    if client is None:
        return _refused(_("Single sign-on is not set up in this KIA."), 400)
    settings: Settings = state().settings
    provider_error = request.args.get("error")
    if provider_error:
        code = re.sub(r"[^a-z_]", "", provider_error.lower())[:40] or "error"
        log.info("single sign-on: the provider answered %s", code)
        if code == "access_denied":
            return _refused(_("The sign-in service did not sign you in: it was cancelled or refused there."))
        return _refused(_("The sign-in service did not sign you in (%(error)s). Try again, or ask your "
                          "administrator.", error=code))
    try:
        # iss and aud as configured: Authlib alone checks the issuer the discovery document names and the
        # audience only through azp, so both are said here.
        token = client.authorize_access_token(claims_options={
            "iss": {"essential": True, "values": [settings.oidc_issuer]},
            "aud": {"essential": True, "values": [settings.oidc_client_id]}})
    except MismatchingStateError:
        log.info("single sign-on refused: missing or unknown state")
        return _refused(_("This sign-in was not started in this browser, or it has expired (the state does not "
                          "match). Start the sign-in again."), 400)
    except ClaimError as error:
        log.info("single sign-on refused: the ID token's %s claim is wrong", error.claim)
        return _refused(_token_refusal(error), 400)
    except (AuthlibBaseError, JoseError, ValueError) as error:
        log.info("single sign-on refused: %s", type(error).__name__)
        return _refused(_("The sign-in service's answer could not be verified. Start the sign-in again."), 400)
    except requests.RequestException as error:
        return _unreachable(error)
    claims = dict(token.get("userinfo") or {})
    if not claims:   # no ID token: an OAuth answer without OpenID Connect
        log.info("single sign-on refused: no ID token")
        return _refused(_("The sign-in service's answer could not be verified. Start the sign-in again."), 400)
    if "email" not in claims or "email_verified" not in claims:
        claims = _with_user_info(client, token, claims)
    chosen = session.get("language")   # picked on the sign-in page: kept, and remembered for the user
    next_page = session.get("oidc_next")
    try:
        user = user_for_identity(db_session(), settings.oidc_issuer, claims, utcnow(),
                                 language=chosen or str(get_locale()))
    except SignInRefused as refused:
        db_session().rollback()
        return _refused(refused.detail.render(_))
    # As the password sign-in does (web.login): a new session, the user's session epoch in its id.
    session.clear()
    login_user(user)
    session["auth_method"] = "oidc"
    if chosen:
        session["language"] = chosen
        set_language(db_session(), user, chosen)
    return redirect(_safe_next(next_page))


def _with_user_info(client, token: dict, claims: dict) -> dict:
    """The ID token's claims with what the userinfo endpoint adds (many providers give the e-mail address
    there only); taken only if it speaks of the same subject, and never over the ID token's own claims."""
    try:
        info = client.userinfo(token=token)
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        log.info("single sign-on: no user info (%s)", type(error).__name__)
        return claims
    if info.get("sub") != claims.get("sub"):
        log.warning("single sign-on: the user info speaks of another subject; not used")
        return claims
    return {**info, **claims}
