"""The two-factor rules (kia.auth.two_factor) on the database: codes, reuse, lock-out, recovery codes, reset.
Time is moved by the `now` the functions take, never waited for."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from kia.access import Actor
from kia.auth import two_factor
from kia.auth.models import RecoveryCode, TwoFactor
from kia.errors import Conflict, Forbidden
from kia.orgs.history import What, history_of

T0 = datetime(2026, 12, 4, 10, 0, 0, tzinfo=timezone.utc)


def code_at(factor: TwoFactor, when: datetime) -> str:
    return pyotp.TOTP(factor.secret).at(when)


def wrong_code(factor: TwoFactor, when: datetime) -> str:
    right = {code_at(factor, when + timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in right)


@pytest.fixture
def user(make, tree):
    return make.user(("handler", "S1"))


@pytest.fixture
def enrolled(db, user):
    """The user with a confirmed factor (confirmed with the code of T0) and their recovery codes."""
    factor = two_factor.start_enrolment(db, user, T0)
    codes = two_factor.confirm_enrolment(db, user, code_at(factor, T0), T0)
    return factor, codes


def test_enrolment_is_off_until_confirmed_and_the_secret_stays_while_unconfirmed(db, user):
    factor = two_factor.start_enrolment(db, user, T0)
    assert not two_factor.is_enabled(db, user.id)
    assert two_factor.start_enrolment(db, user, T0 + timedelta(minutes=1)).secret == factor.secret
    with pytest.raises(two_factor.WrongCode):
        two_factor.confirm_enrolment(db, user, wrong_code(factor, T0), T0)
    assert not two_factor.is_enabled(db, user.id)
    codes = two_factor.confirm_enrolment(db, user, code_at(factor, T0), T0)
    assert two_factor.is_enabled(db, user.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.query(RecoveryCode).filter_by(user_id=user.id).all()
    assert len(stored) == 10
    assert all(code.replace("-", "") not in row.code_hash for row, code in zip(stored, codes))
    assert all(row.code_hash.startswith("$argon2") for row in stored)
    with pytest.raises(Conflict):
        two_factor.start_enrolment(db, user, T0)


def test_the_qr_code_is_svg_of_the_otpauth_uri(db, user):
    factor = two_factor.start_enrolment(db, user, T0)
    uri = two_factor.provisioning_uri(factor, user.email)
    assert uri.startswith("otpauth://totp/KIA:") and f"secret={factor.secret}" in uri and "issuer=KIA" in uri
    svg = two_factor.qr_svg(uri)
    assert svg.startswith("<svg") and "<path" in svg


def test_a_right_code_is_accepted_and_a_wrong_one_refused(db, user, enrolled):
    factor, _ = enrolled
    later = T0 + timedelta(minutes=5)
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, wrong_code(factor, later), later)
    two_factor.verify(db, user.id, code_at(factor, later), later)
    # A phone's clock 30 seconds off is accepted; 2 minutes off is not.
    two_factor.verify(db, user.id, code_at(factor, later + timedelta(seconds=60)), later + timedelta(seconds=30))
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, code_at(factor, later + timedelta(minutes=5)), later + timedelta(minutes=3))


def test_a_code_is_accepted_once_and_no_earlier_code_after_it(db, user, enrolled):
    factor, _ = enrolled
    at = T0 + timedelta(minutes=10)
    code = code_at(factor, at)
    two_factor.verify(db, user.id, code, at)
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, code, at + timedelta(seconds=5))
    with pytest.raises(two_factor.WrongCode):   # the step before: in the window, but older than the one used
        two_factor.verify(db, user.id, code_at(factor, at - timedelta(seconds=30)), at)
    # The code used at enrolment counts too.
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, code_at(factor, T0), T0 + timedelta(seconds=10))


def test_five_wrong_codes_in_a_row_lock_for_15_minutes_then_release(db, user, enrolled):
    factor, _ = enrolled
    at = T0 + timedelta(hours=1)
    for attempt in range(4):
        with pytest.raises(two_factor.WrongCode):
            two_factor.verify(db, user.id, wrong_code(factor, at), at + timedelta(seconds=attempt))
    with pytest.raises(two_factor.SecondStepLocked) as locked:
        two_factor.verify(db, user.id, wrong_code(factor, at), at + timedelta(seconds=4))
    assert locked.value.until == at + timedelta(seconds=4) + two_factor.LOCK_TIME
    # Locked: even the right code is not tried.
    almost = locked.value.until - timedelta(seconds=1)
    with pytest.raises(two_factor.SecondStepLocked):
        two_factor.verify(db, user.id, code_at(factor, almost), almost)
    released = locked.value.until
    two_factor.verify(db, user.id, code_at(factor, released), released)
    assert db.get(TwoFactor, user.id).failed_attempts == 0


def test_a_right_code_resets_the_count_of_wrong_ones(db, user, enrolled):
    factor, _ = enrolled
    at = T0 + timedelta(hours=2)
    for _ in range(4):
        with pytest.raises(two_factor.WrongCode):
            two_factor.verify(db, user.id, wrong_code(factor, at), at)
    two_factor.verify(db, user.id, code_at(factor, at), at)
    for _ in range(4):   # four more wrong ones: not five in a row
        with pytest.raises(two_factor.WrongCode):
            two_factor.verify(db, user.id, wrong_code(factor, at), at + timedelta(seconds=1))
    assert db.get(TwoFactor, user.id).locked_until is None


def test_a_recovery_code_works_once(db, user, enrolled):
    _, codes = enrolled
    at = T0 + timedelta(hours=3)
    two_factor.verify(db, user.id, codes[3], at)
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, codes[3], at + timedelta(seconds=1))
    two_factor.verify(db, user.id, " " + codes[4].replace("-", "").upper() + " ", at)   # as typed, without the dash
    assert two_factor.unused_recovery_codes(db, user.id) == 8


def test_new_recovery_codes_replace_the_old_and_need_a_code(db, user, enrolled):
    factor, old = enrolled
    at = T0 + timedelta(hours=4)
    with pytest.raises(two_factor.WrongCode):
        two_factor.regenerate_recovery_codes(db, user, wrong_code(factor, at), at)
    new = two_factor.regenerate_recovery_codes(db, user, code_at(factor, at), at)
    assert set(new).isdisjoint(old)
    with pytest.raises(two_factor.WrongCode):
        two_factor.verify(db, user.id, old[0], at)
    two_factor.verify(db, user.id, new[0], at)


def test_disabling_needs_a_current_code_and_is_refused_for_admins(db, user, enrolled, make):
    factor, _ = enrolled
    at = T0 + timedelta(hours=5)
    with pytest.raises(two_factor.WrongCode):
        two_factor.disable(db, user, wrong_code(factor, at), at)
    assert two_factor.is_enabled(db, user.id)
    two_factor.disable(db, user, code_at(factor, at), at)
    assert not two_factor.is_enabled(db, user.id) and two_factor.unused_recovery_codes(db, user.id) == 0

    admin = make.user(("admin", "UTBF"))
    assert two_factor.is_required(db, admin.id) and not two_factor.is_required(db, user.id)
    admin_factor = two_factor.start_enrolment(db, admin, at)
    two_factor.confirm_enrolment(db, admin, code_at(admin_factor, at), at)
    with pytest.raises(Conflict):
        two_factor.disable(db, admin, code_at(admin_factor, at + timedelta(minutes=1)), at + timedelta(minutes=1))
    assert two_factor.is_enabled(db, admin.id)


def test_a_city_admin_resets_another_users_factor_recorded_and_their_sessions_end(db, user, enrolled, make):
    city_admin = make.user(("admin", "STHLM"))
    epoch = user.session_epoch
    with pytest.raises(Forbidden):
        two_factor.reset_by_admin(db, Actor.for_user(make.user(("admin", "UTBF"))), user.id)
    with pytest.raises(Conflict):
        two_factor.reset_by_admin(db, Actor.for_user(city_admin), city_admin.id)
    two_factor.reset_by_admin(db, Actor.for_user(city_admin), user.id)
    assert not two_factor.is_enabled(db, user.id) and two_factor.unused_recovery_codes(db, user.id) == 0
    assert db.get(type(user), user.id).session_epoch == epoch + 1
    [change] = [c for c in history_of(db, user) if c.what == What.TWO_FACTOR]
    assert change.actor_id == city_admin.id and change.old is None and change.new is None
    with pytest.raises(Conflict):   # nothing left to reset
        two_factor.reset_by_admin(db, Actor.for_user(city_admin), user.id)
