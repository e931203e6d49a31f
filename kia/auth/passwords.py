"""Password hashing with argon2id; verification runs in constant time and rehashes when parameters change."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Recovery codes (kia.auth.two_factor) are random, about 49 bits each, not chosen by a person: a lighter argon2id
# than a password's serves, and ten of them are made in one request. Verified by verify_password (the hash holds
# its parameters).
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
# Verified against when the e-mail is unknown, so a login takes as long for a missing user.
_DUMMY_HASH = _hasher.hash("kia-timing-equaliser")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_recovery_code(code: str) -> str:
    return _code_hasher.hash(code)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
