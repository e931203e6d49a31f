"""kia.auth.oidc on its own: who a validated ID token's claims sign in as (the flow is tests/auth/test_oidc.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kia.auth.models import UserIdentity
from kia.auth.oidc import DEACTIVATED, NO_SUBJECT, UNVERIFIED_EMAIL, SignInRefused, user_for_identity
from kia.db import utcnow
from kia.orgs.models import User

ISSUER = "https://login.stad.example"


def refusal(db, claims: dict) -> str:
    with pytest.raises(SignInRefused) as refused:
        user_for_identity(db, ISSUER, claims, utcnow())
    db.rollback()
    return refused.value.detail.text


def test_a_new_user_gets_the_name_the_language_and_no_password(db, tree):
    user = user_for_identity(db, ISSUER, {"sub": "s-1", "email": " Olle.Ny@Stad.example ", "email_verified": True,
                                          "given_name": "Olle", "family_name": "Ny"}, utcnow(), language="en")
    assert (user.email, user.name, user.language, user.password_hash, user.memberships) == (
        "olle.ny@stad.example", "Olle Ny", "en", None, [])
    nameless = user_for_identity(db, ISSUER, {"sub": "s-2", "email": "anna@stad.example", "email_verified": "true"},
                                 utcnow())
    assert nameless.name == "anna"   # "true" as a string, as some providers send it


def test_the_identity_wins_over_a_changed_address_and_is_per_issuer(db, make, tree):
    first = make.user()
    linked = user_for_identity(db, ISSUER, {"sub": "same", "email": first.email, "email_verified": True}, utcnow())
    assert linked.id == first.id
    later = utcnow() + timedelta(hours=1)
    again = user_for_identity(db, ISSUER, {"sub": "same", "email": "other@stad.example", "email_verified": False},
                              later)
    assert again.id == first.id
    identity = db.scalar(select(UserIdentity).where(UserIdentity.subject == "same"))
    assert identity.last_used_at == later and identity.created_at < later
    # The same subject at another provider is another account: not linked to the first.
    other = user_for_identity(db, "https://other.example", {"sub": "same", "email": "ny@stad.example",
                                                            "email_verified": True}, utcnow())
    assert other.id != first.id


@pytest.mark.parametrize("claims", [
    {"sub": "u", "email": "x@stad.example"},                             # not said to be verified
    {"sub": "u", "email": "x@stad.example", "email_verified": False},
    {"sub": "u", "email": "x@stad.example", "email_verified": "yes"},    # not the standard's true
    {"sub": "u", "email_verified": True},                                # no address at all
    {"sub": "u", "email": "not-an-address", "email_verified": True},
])
def test_no_verified_address_no_linked_identity_is_refused(db, tree, claims):
    users = db.scalar(select(func.count()).select_from(User))
    assert refusal(db, claims) == UNVERIFIED_EMAIL
    assert db.scalar(select(func.count()).select_from(User)) == users
    assert db.scalar(select(func.count()).select_from(UserIdentity)) == 0


@pytest.mark.parametrize("sub", [None, "", 42, "x" * 256])
def test_a_missing_or_odd_subject_is_refused(db, tree, sub):
    assert refusal(db, {"sub": sub, "email": "x@stad.example", "email_verified": True}) == NO_SUBJECT


def test_a_deactivated_user_is_refused_and_not_linked(db, make, tree):
    user = make.user()
    user.active = False
    db.commit()
    assert refusal(db, {"sub": "d", "email": user.email, "email_verified": True}) == DEACTIVATED
    assert db.scalar(select(func.count()).select_from(UserIdentity)) == 0
