"""Two-factor sign-in with TOTP (RFC 6238, pyotp) after a password: enrolment, codes, recovery codes, lock-out.

Required for admins (anyone holding Role.ADMIN, the city's admins among them) and optional for everyone else.

- A code is accepted once: the time step of the last accepted code is stored, and a code of that step or an
  earlier one is refused. The step is moved on by a conditional UPDATE, so two workers given the same code at once
  cannot both accept it.
- FAILURES_BEFORE_LOCK wrong codes (or recovery codes) in a row lock the second step for LOCK_TIME; a right code
  resets the count. The count and the lock's end are columns, so they hold across the server's processes.
- Ten recovery codes are made at enrolment (and when asked again, replacing the old ones); only their argon2
  hashes are stored (kia.auth.passwords), and each signs in once.

Every function takes `now`, so the tests move time on rather than wait. Nothing here logs a secret or a code.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.auth.models import RecoveryCode, TwoFactor
from kia.auth.passwords import hash_recovery_code, verify_password
from kia.errors import N_, Conflict, DomainError, Msg
from kia.orgs.admin import get_user, require_org_admin
from kia.orgs.history import What, record
from kia.orgs.models import Membership, Role, User

ISSUER = "KIA"
FAILURES_BEFORE_LOCK = 5
LOCK_TIME = timedelta(minutes=15)
RECOVERY_CODES = 10
# A code of the step before or after the server's is accepted too: a phone's clock a little off.
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"   # no 0/o, 1/l/i: read off paper


class SecondStepLocked(DomainError):
    """Too many wrong codes in a row: no code is tried until `until`."""

    status = 429
    title = N_("Too many wrong codes.")

    def __init__(self, until: datetime):
        super().__init__(Msg(N_("Too many wrong codes. Two-factor sign-in is locked for 15 minutes.")))
        self.until = until


class WrongCode(DomainError):
    status = 401
    title = N_("The code is not right.")


def is_required(session: Session, user_id: int) -> bool:
    """Whether the user must have a second factor: every admin, of a part of the city or of all of it."""
    return session.scalar(select(Membership.id).where(Membership.user_id == user_id, Membership.role == Role.ADMIN)
                          .limit(1)) is not None


def factor_of(session: Session, user_id: int) -> TwoFactor | None:
    return session.get(TwoFactor, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    factor = factor_of(session, user_id)
    return factor is not None and factor.enabled


def start_enrolment(session: Session, user: User, now: datetime) -> TwoFactor:
    """A new secret for the user to add to their app, not in force until confirmed with a code from it. Asked
    again before confirming, the same secret is shown (a reloaded page must not change what was scanned)."""
    factor = factor_of(session, user.id)
    if factor is not None and factor.enabled:
        raise Conflict(Msg(N_("Two-factor sign-in is already on.")))
    if factor is None:
        factor = TwoFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=now)
        session.add(factor)
        session.commit()
    return factor


def provisioning_uri(factor: TwoFactor, account_name: str) -> str:
    """The otpauth:// URI the QR code holds (the secret, the issuer, the account's name)."""
    return pyotp.TOTP(factor.secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an SVG document (a path, no raster image, so no Pillow)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    out = BytesIO()
    image.save(out)
    text = out.getvalue().decode()
    return text[text.index("<svg"):]   # without the XML declaration, to sit inside a page


def confirm_enrolment(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """Turn the factor on with a first code from the app; returns the recovery codes, shown this once."""
    factor = factor_of(session, user.id)
    if factor is None or factor.enabled:
        raise Conflict(Msg(N_("Start setting up two-factor sign-in again.")))
    _check_or_count(session, factor, code, now, recovery=False)
    factor.confirmed_at = now
    codes = _new_recovery_codes(session, user.id, now)
    session.commit()
    return codes


def verify(session: Session, user_id: int, code: str, now: datetime) -> None:
    """The second step of a sign-in: a code from the app or an unused recovery code. Raises SecondStepLocked while
    locked (also when this wrong code is the one that locks it) and WrongCode for a wrong, reused or expired code."""
    factor = factor_of(session, user_id)
    if factor is None or not factor.enabled:
        raise Conflict(Msg(N_("Two-factor sign-in is not on for this account.")))
    _check_or_count(session, factor, code, now, recovery=True)
    session.commit()


def disable(session: Session, user: User, code: str, now: datetime) -> None:
    """Turn one's own second factor off, with a current code; refused for an admin, who must have one."""
    if is_required(session, user.id):
        raise Conflict(Msg(N_("Administrators must use two-factor sign-in: it cannot be turned off.")))
    verify(session, user.id, code, now)
    _remove(session, user.id)
    session.commit()


def regenerate_recovery_codes(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """New recovery codes for old ones (lost, or used up), with a current code; the old ones stop working."""
    verify(session, user.id, code, now)
    codes = _new_recovery_codes(session, user.id, now)
    session.commit()
    return codes


def unused_recovery_codes(session: Session, user_id: int) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                             RecoveryCode.used_at.is_(None))).all())


def reset_by_admin(session: Session, actor: Actor, user_id: int) -> User:
    """An admin of the whole organisation removes another user's second factor (a lost phone): recorded in the
    admin changes, and the user's web sessions end. An admin so reset sets up a new factor at their next sign-in."""
    require_org_admin(actor)
    user = get_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise Conflict(Msg(N_("Turn your own two-factor sign-in off on your account page.")))
    factor = factor_of(session, user.id)
    if factor is None:
        raise Conflict(Msg(N_("%(name)s has no two-factor sign-in to reset."), {"name": user.name}))
    _remove(session, user.id)
    user.session_epoch += 1
    record(session, actor, user, What.TWO_FACTOR)   # that it was reset; never the secret
    session.commit()
    return user


# ---- the checks --------------------------------------------------------------------------------------------

def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:40]


def _check_or_count(session: Session, factor: TwoFactor, code: str, now: datetime, *, recovery: bool) -> None:
    """Accept `code` or count it as wrong (locking at the limit); raises SecondStepLocked or WrongCode."""
    if factor.locked_until is not None and factor.locked_until > now:
        raise SecondStepLocked(factor.locked_until)
    typed = _normalised(code)
    accepted = (_totp_accepted(session, factor, typed, now) if typed.isdigit() and len(typed) == 6
                else recovery and _recovery_accepted(session, factor.user_id, typed, now))
    if accepted:
        factor.failed_attempts, factor.locked_until = 0, None
        return
    # Counted in the database (two workers' wrong codes both count), then read back.
    session.execute(update(TwoFactor).where(TwoFactor.user_id == factor.user_id)
                    .values(failed_attempts=TwoFactor.failed_attempts + 1))
    session.refresh(factor)
    if factor.failed_attempts >= FAILURES_BEFORE_LOCK:
        factor.failed_attempts, factor.locked_until = 0, now + LOCK_TIME
        session.commit()
        raise SecondStepLocked(factor.locked_until)
    session.commit()
    raise WrongCode(Msg(N_("The code is not right. Check the app and type the code it shows now.")))


def _totp_accepted(session: Session, factor: TwoFactor, typed: str, now: datetime) -> bool:
    totp = pyotp.TOTP(factor.secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), typed):
            # Only a step later than the last accepted one; conditional, so a concurrent use of the same code fails.
            moved = session.execute(
                update(TwoFactor).where(TwoFactor.user_id == factor.user_id,
                                        (TwoFactor.last_time_step.is_(None)) | (TwoFactor.last_time_step < step))
                .values(last_time_step=step).execution_options(synchronize_session=False))
            if moved.rowcount == 1:
                factor.last_time_step = step
                return True
            return False
    return False


def _recovery_accepted(session: Session, user_id: int, typed: str, now: datetime) -> bool:
    if len(typed) != 10:
        return False
    for row in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                                          RecoveryCode.used_at.is_(None))).all():
        if verify_password(row.code_hash, typed):
            used = session.execute(update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                                   .values(used_at=now).execution_options(synchronize_session=False))
            return used.rowcount == 1
    return False


def _new_recovery_codes(session: Session, user_id: int, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(code), created_at=now) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _remove(session: Session, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == user_id))
    session.expire_all()


@dataclass(frozen=True)
class Status:
    """What the account page shows."""

    enabled: bool
    required: bool
    recovery_codes_left: int


def status_of(session: Session, user_id: int) -> Status:
    return Status(enabled=is_enabled(session, user_id), required=is_required(session, user_id),
                  recovery_codes_left=unused_recovery_codes(session, user_id))
