"""A user's own account: changing the password, and the limits on failed sign-ins that guard it."""
from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kia import ratelimit
from kia.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from kia.errors import N_, FieldErrors, Msg
from kia.feedback.limits import RateLimited, client_of
from kia.orgs.models import User

KEY_PREFIX = "login:"
WINDOW = timedelta(minutes=15)
# Per e-mail address from one client: a guesser at one account. Per client: one guessing at many accounts
# (a school network shares one address, hence the larger allowance).
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_CLIENT = 30


class SignInsLimited(RateLimited):
    """Too many failed sign-ins. Said the same way whether the e-mail address exists."""

    title = N_("Too many failed sign-ins.")

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.detail = Msg(N_("Too many failed sign-ins. Wait %(minutes)s minutes and try again."),
                          {"minutes": max(1, math.ceil(retry_after / 60))})


class SignInGuard:
    """Counts failed sign-ins per (e-mail, client) and per client. Both are kept only as HMACs keyed with the
    secret key: the rate-limit table never holds an address or an e-mail (nor reveals which exist)."""

    def __init__(self, session: Session, secret_key: str, address: str, email: str, now: datetime):
        self.session, self.now = session, now
        client = client_of(address)
        digest = lambda text: hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()  # noqa: E731
        self.keys = ((f"{KEY_PREFIX}account:{digest(client + ' ' + email.strip().lower())}", FAILURES_PER_ACCOUNT),
                     (f"{KEY_PREFIX}client:{digest(client)}", FAILURES_PER_CLIENT))

    def _refused(self) -> SignInsLimited:
        return SignInsLimited(max(ratelimit.seconds_until_fewer(self.session, key, WINDOW, self.now)
                                  for key, _ in self.keys))

    def check(self) -> None:
        """Before the password is verified: refused once either allowance is spent (a right password too,
        or guessing could go on and only stop counting)."""
        ratelimit.purge_before(self.session, self.now - WINDOW, key_prefix=KEY_PREFIX)
        if any(ratelimit.hits_so_far(self.session, key, WINDOW, self.now) >= limit for key, limit in self.keys):
            raise self._refused()

    def failed(self) -> None:
        for key, limit in self.keys:
            ratelimit.hit(self.session, key, limit, WINDOW, self.now)


def check_new_password(errors: FieldErrors, new: str, repeated: str) -> bool:
    """The rules for a new password typed twice, by its user or by an admin who sets it; whether it passed."""
    if len(new) < MIN_PASSWORD_LENGTH:
        errors.add("new_password", N_("At least %(n)s characters."), n=MIN_PASSWORD_LENGTH)
    elif new != repeated:
        errors.add("repeat_password", N_("The two new passwords are not the same."))
    else:
        return True
    return False


def change_password(session: Session, user: User, current: str, new: str, repeated: str) -> None:
    """Set a new password after checking the current one; every problem is reported at its field. The user's
    other web sessions end (a new session epoch): the one that changed it is signed in again by its caller."""
    errors = FieldErrors()
    if not verify_password(user.password_hash, current):
        errors.add("current_password", N_("The current password is not right."))
    if check_new_password(errors, new, repeated) and new == current:
        errors.add("new_password", N_("Choose a password other than the current one."))
    errors.raise_if_any()
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    session.commit()


def set_language(session: Session, user: User, language: str) -> None:
    if language in ("sv", "en") and user.language != language:
        user.language = language
        session.commit()
