"""Issue and resolve API tokens. The secret is shown once; only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kia.access import Actor, Grant
from kia.auth.models import ApiToken
from kia.db import utcnow
from kia.errors import N_, FieldErrors
from kia.orgs.models import Membership, OrgUnit, User

SCOPES = (
    "incidents:read",
    "incidents:write",
    "cases:read",
    "cases:write",
    "statistics:read",
    "alarms:raise",     # raise and end alarms
    "alarms:read",      # receive alarms (the stream), answer the roll call, chat, tick the checklist
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


# Built once (every API request runs it): building the statement cost more than running it.
_TOKEN_WITH_ROLES = (
    select(ApiToken.scopes, ApiToken.expires_at, ApiToken.revoked_at, User.id, User.active, User.language,
           Membership.role, Membership.org_unit_id, OrgUnit.path)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(OrgUnit, OrgUnit.id == Membership.org_unit_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def resolve_token(session: Session, secret: str) -> Actor | None:
    """The actor a presented secret speaks for, its scopes narrowing the owner's roles; None for an unknown,
    revoked or expired token or an inactive user. One round trip of plain rows for the token, its user and
    the user's roles: every API request asks this first, so it loads no entities."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    # Core, not the session: the columns need no ORM result around them.
    rows = session.connection().execute(_TOKEN_WITH_ROLES, {"token_hash": _digest(secret)}).all()
    if not rows:
        return None
    scopes, expires_at, revoked_at, user_id, active, language = rows[0][:6]
    if revoked_at is not None or not active or (expires_at is not None and expires_at <= utcnow()):
        return None
    grants = tuple(Grant(role, unit_id, path) for *_, role, unit_id, path in rows if role is not None)
    return Actor(user_id=user_id, language=language, grants=grants, scopes=frozenset(scopes.split()))
