"""Single sign-on with OpenID Connect: who a validated ID token's claims sign in as.

The web layer (web/oidc.py) runs the protocol with Authlib and hands over the claims of an ID token whose signature,
issuer, audience, nonce and expiry it has validated. Here they are matched to a KIA user:

1. the identity (issuer, subject) linked before: its user, whatever the e-mail address says now;
2. else a user with the token's e-mail address, only if the provider says it verified the address
   (`email_verified`): otherwise anyone able to set that address at the provider would take over the account.
   The identity is linked, so the next sign-in is step 1;
3. else a new user with no role and no password: an admin gives the roles in KIA, as for any user.

A deactivated user is refused at every step, and so is an unverified address with no linked identity.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kia.auth.models import UserIdentity
from kia.errors import N_, DomainError, Msg
from kia.orgs.models import User
from kia.orgs.services import EMAIL_PATTERN, user_by_email

log = logging.getLogger(__name__)


class SignInRefused(DomainError):
    """The provider's account may not sign in to KIA; `detail` says why, in words for the person signing in."""

    status = 401
    title = N_("Sign-in refused.")


UNVERIFIED_EMAIL = N_("Your sign-in service has not verified your e-mail address, so KIA cannot tell which "
                      "account is yours. Ask your administrator for help.")
DEACTIVATED = N_("Your KIA account is deactivated. Ask your administrator if you need it again.")
NO_SUBJECT = N_("The sign-in service did not say who you are.")


def _verified(claims: dict) -> bool:
    # A boolean by the standard; some providers send the string.
    return claims.get("email_verified") in (True, "true")


def _display_name(claims: dict, email: str) -> str:
    name = claims.get("name") or " ".join(part for part in (claims.get("given_name"), claims.get("family_name"))
                                          if isinstance(part, str) and part.strip())
    return (name if isinstance(name, str) and name.strip() else email.split("@")[0]).strip()[:200]


def user_for_identity(session: Session, issuer: str, claims: dict, now: datetime, language: str = "sv") -> User:
    """The active user the claims of a validated ID token (or the user info merged into them) sign in as, the
    identity linked or the user created as needed and committed; SignInRefused when they may not."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInRefused(Msg(NO_SUBJECT))
    try:
        return _user_for(session, issuer, subject, claims, now, language)
    except IntegrityError:
        # Two first sign-ins of one account at once (two tabs): the other linked or created first. Its rows
        # are there now; a second pass finds them.
        session.rollback()
        return _user_for(session, issuer, subject, claims, now, language)


def _user_for(session: Session, issuer: str, subject: str, claims: dict, now: datetime, language: str) -> User:
    identity = session.scalar(select(UserIdentity).where(UserIdentity.issuer == issuer,
                                                         UserIdentity.subject == subject))
    if identity is not None:
        user = identity.user
        if not user.active:
            log.info("single sign-on refused: user %s is deactivated", user.id)
            raise SignInRefused(Msg(DEACTIVATED))
        identity.last_used_at = now
        session.commit()
        return user

    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) else ""
    if not email or not _verified(claims) or not EMAIL_PATTERN.match(email):
        log.info("single sign-on refused: no verified e-mail address for an unlinked identity")
        raise SignInRefused(Msg(UNVERIFIED_EMAIL))
    user = user_by_email(session, email)
    if user is not None and not user.active:
        log.info("single sign-on refused: user %s is deactivated", user.id)
        raise SignInRefused(Msg(DEACTIVATED))
    created = user is None
    if created:
        # No role, no password: the account exists to be given roles by an admin (until then it can report).
        user = User(email=email, name=_display_name(claims, email), password_hash=None,
                    language=language if language in ("sv", "en") else "sv")
        session.add(user)
    session.add(UserIdentity(issuer=issuer, subject=subject, user=user, created_at=now, last_used_at=now))
    session.commit()
    log.info("single sign-on: identity linked to %s user %s", "new" if created else "existing", user.id)
    return user
