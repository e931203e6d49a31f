"""Issue and resolve API tokens. The secret is shown once; only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kia.auth.models import ApiToken
from kia.db import utcnow
from kia.errors import N_, FieldErrors
from kia.orgs.models import User

SCOPES = (
    "incidents:read",
    "incidents:write",
    "cases:read",
    "cases:write",
    "statistics:read",
    "admin",
)
TOKEN_PREFIX = "kia_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, scopes: list[str], name: str = "api",
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the secret, which is never stored."""
    errors = FieldErrors()
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        errors.add("scopes", N_("Unknown scope: %(scopes)s."), scopes=", ".join(unknown))
    if not scopes:
        errors.add("scopes", N_("At least one scope is required."))
    errors.raise_if_any()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_digest(secret),
                     scopes=" ".join(sorted(set(scopes))), expires_at=expires_at)
    session.add(token)
    session.commit()
    return token, secret


def resolve_token(session: Session, secret: str) -> ApiToken | None:
    """The live token for a presented secret, or None (unknown, revoked, expired, inactive user)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    # One round trip for the token, its user and the user's roles: every API request needs all three.
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
        .options(joinedload(ApiToken.user).joinedload(User.memberships))
    ).unique().one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token
