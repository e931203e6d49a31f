"""API authentication: a Bearer token (scopes narrow the owner's roles) or the web session."""
from __future__ import annotations

import hmac
from functools import wraps

from flask import abort, g, request, session
from flask_login import current_user

from kia.http import current_actor, db_session
from kia.auth.tokens import resolve_token


def authenticate() -> None:
    """Set g.actor for this request. A present but invalid token is a 401 at once."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        actor = resolve_token(db_session(), secret.strip()) if scheme.lower() == "bearer" else None
        if actor is None:
            abort(401)
        g.actor = actor
    elif current_user and current_user.is_authenticated:
        _check_session_csrf()
        g.actor = current_user.actor()


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _check_session_csrf() -> None:
    """A browser session's cookie rides along with cross-site form posts (multipart, urlencoded), so such
    writes must carry the session's CSRF token in X-CSRF-Token. A JSON body cannot be sent cross-site
    without a CORS preflight, which KIA never grants, so JSON writes need no token."""
    if request.method in SAFE_METHODS or request.is_json:
        return
    sent = request.headers.get("X-CSRF-Token", "").encode()
    expected = session.get("csrf", "").encode()
    if not expected or not hmac.compare_digest(sent, expected):
        abort(403)


def requires(scope: str | None = None):
    """Decorate a view: 401 without an actor, 403 when the token lacks `scope`."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                abort(401)
            if scope:
                actor.require_scope(scope)
            return view(*args, **kwargs)
        return wrapper
    return decorator
