"""The user a web session speaks for, as every page needs them: plain values, loaded in one round trip.

Every signed-in request asks for the user, their language and their roles (the access rules, the header's
links). Loading the ORM user with its memberships and their units for that cost a web filing more than its
routing; a few columns of one joined query serve. What changes the account (language, password) loads the
`User` itself. The same query counts the user's unread notifications for the header's badge: the count as the
request began (what the request itself notifies shows from the next page on), one round trip fewer on every page.

The session keeps "<user id>:<session epoch>" as its Flask-Login id (the alternative id Flask-Login documents):
setting or changing a password counts the user's epoch up, so every session signed in before it (other
browsers, a remember cookie, a copied cookie) is signed out at its next request, checked in the same query.
An id of another shape (a cookie from before the epoch) is signed out too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kia.access import Actor, Grant, unread_notifications_of
from kia.orgs.models import Membership, OrgUnit, Role, User

# Built once: building the statement cost more than running it. The unread count's subquery is not correlated:
# both databases work it out once, whatever the number of roles.
_UNREAD = unread_notifications_of(bindparam("user_id")).scalar_subquery()
_USER_WITH_ROLES = (
    select(User.id, User.name, User.language, User.active, User.session_epoch, _UNREAD.label("unread"),
           Membership.role, Membership.org_unit_id, OrgUnit.path)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(OrgUnit, OrgUnit.id == Membership.org_unit_id)
    .where(User.id == bindparam("user_id"))
)


@dataclass(frozen=True, eq=False)
class SignedInUser:
    """What a session's user loader gives: the four members Flask-Login asks for are here, so the core needs no Flask
    (only active users are loaded)."""

    id: int
    name: str
    language: str
    grants: tuple[Grant, ...]
    session_epoch: int
    unread_notifications: int = 0   # as the request began
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return session_id(self.id, self.session_epoch)

    def actor(self) -> Actor:
        return Actor(user_id=self.id, language=self.language, grants=self.grants)

    def holds(self, *roles: Role) -> bool:
        return any(grant.role in roles for grant in self.grants)


def session_id(user_id: int, session_epoch: int) -> str:
    """What a web session keeps as its user's id."""
    return f"{user_id}:{session_epoch}"


def parse_session_id(text: str) -> tuple[int, int] | None:
    """The user id and session epoch a session keeps; None for any other shape (an old cookie's bare id)."""
    user_id, colon, epoch = text.partition(":")
    if not colon or not user_id.isdigit() or not epoch.isdigit():
        return None
    return int(user_id), int(epoch)


def load_signed_in(session: Session, user_id: int, session_epoch: int) -> SignedInUser | None:
    """The active user `user_id` with their roles; None for an unknown or deactivated user, or for a session
    signed in before the user's password was last set (another epoch)."""
    rows = session.connection().execute(_USER_WITH_ROLES, {"user_id": user_id}).all()   # Core: no ORM result
    if not rows or not rows[0].active or rows[0].session_epoch != session_epoch:
        return None
    first = rows[0]
    return SignedInUser(id=first.id, name=first.name, language=first.language, session_epoch=first.session_epoch,
                        unread_notifications=first.unread, grants=tuple(Grant(row.role, row.org_unit_id, row.path) for row in rows
                                     if row.role is not None))
