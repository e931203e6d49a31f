"""Organisation administration: users' details, deactivation and passwords, units renamed, closed and reopened;
city-wide admins only, and every change in the history (never a password)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kia.access import Actor
from kia.auth.passwords import MIN_PASSWORD_LENGTH, verify_password
from kia.auth.tokens import create_token, resolve_token
from kia.cases.models import CaseState
from kia.cases.services import get_case
from kia.cases.workflow import TransitionInput, transition
from kia.deadlines.escalation import sweep
from kia.deadlines.models import Obligation
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.orgs import admin
from kia.orgs.history import history_of
from kia.orgs.models import AdminChange, OrgUnit, User
from kia.outbox.models import Channel, Notification
from tests.cases.conftest import errors_of, filing, people  # noqa: F401 – fixtures
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

NEW_PASSWORD = "nytt-lösenord-för-rektorn"


@pytest.fixture
def city_admin(make, tree) -> Actor:
    return make.actor(("admin", "STHLM"))


def changes(db, subject) -> list[tuple]:
    """(what, old, new, actor id) of the subject's history, the oldest first."""
    return [(c.what, c.old, c.new, c.actor_id) for c in reversed(history_of(db, subject))]


def user_of(db, actor: Actor) -> User:
    return db.get(User, actor.user_id)


# ---- only city-wide admins ------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [(("admin", "UTBF"),), (("handler", "STHLM"),)])
def test_only_an_admin_of_the_whole_organisation_changes_users_and_units(db, make, tree, roles):
    other = make.actor(*roles)
    user = make.user(("reporter", "S1"))
    for change in (lambda: admin.change_user(db, other, user.id, "Nytt Namn", user.email, "sv"),
                   lambda: admin.set_user_active(db, other, user.id, False),
                   lambda: admin.set_user_password(db, other, user.id, NEW_PASSWORD, NEW_PASSWORD),
                   lambda: admin.open_cases_handled_by(db, other, user),
                   lambda: admin.rename_unit(db, other, tree["S1"].id, "Nytt namn"),
                   lambda: admin.set_unit_active(db, other, tree["S1"].id, False)):
        with pytest.raises(Forbidden):
            change()
    db.expire_all()
    assert (user.name, user.active, tree["S1"].name, tree["S1"].active) == (user.name, True, "Skola Ett", True)
    assert db.scalars(select(AdminChange)).all() == []


def test_unknown_users_and_units_are_not_found(db, city_admin):
    with pytest.raises(NotFound):
        admin.change_user(db, city_admin, 999999, "Namn", "namn@test.kia.se", "sv")
    with pytest.raises(NotFound):
        admin.set_unit_active(db, city_admin, 999999, False)


# ---- a user's details -----------------------------------------------------------------------------

def test_name_email_and_language_are_corrected_and_recorded(db, make, city_admin):
    user = make.user(("handler", "S1"), name="Ana Rektor")
    old_email = user.email
    changed = admin.change_user(db, city_admin, user.id, " Anna Rektor ", " Anna.Rektor@Test.KIA.se ", "en")
    assert changed == ["name", "email", "language"]
    assert (user.name, user.email, user.language) == ("Anna Rektor", "anna.rektor@test.kia.se", "en")
    assert changes(db, user) == [("name", "Ana Rektor", "Anna Rektor", city_admin.user_id),
                                 ("email", old_email, "anna.rektor@test.kia.se", city_admin.user_id),
                                 ("language", "sv", "en", city_admin.user_id)]
    # Sent again as it is: nothing changes, nothing more is recorded; the own address is not "taken".
    assert admin.change_user(db, city_admin, user.id, "Anna Rektor", "ANNA.rektor@test.kia.se", "en") == []
    assert len(history_of(db, user)) == 3


def test_details_are_checked_as_at_creation(db, make, city_admin):
    user, other = make.user(("reporter", "S1")), make.user(("reporter", "S1"))
    with pytest.raises(ValidationFailed) as taken:
        admin.change_user(db, city_admin, user.id, "Namn", other.email.upper(), "sv")
    assert errors_of(taken) == {"email": ["A user with this e-mail address already exists."]}
    with pytest.raises(ValidationFailed) as wrong:
        admin.change_user(db, city_admin, user.id, "  ", "inte-en-adress", "de")
    assert errors_of(wrong) == {"email": ["Not a valid e-mail address."], "name": ["A name is required."],
                                "language": ["Language is sv or en."]}
    db.expire_all()
    assert user.name.startswith("User ") and history_of(db, user) == []


# ---- deactivation ---------------------------------------------------------------------------------

def test_an_admin_cannot_deactivate_themselves(db, city_admin):
    with pytest.raises(Conflict):
        admin.set_user_active(db, city_admin, city_admin.user_id, False)
    me = user_of(db, city_admin)
    assert me.active and history_of(db, me) == []


def test_deactivation_and_reactivation_are_recorded_once(db, make, city_admin):
    user = make.user(("reporter", "S1"))
    admin.set_user_active(db, city_admin, user.id, False)
    admin.set_user_active(db, city_admin, user.id, False)   # already: nothing to record
    assert not user.active
    admin.set_user_active(db, city_admin, user.id, True)
    assert user.active
    assert [(w, o, n) for w, o, n, _ in changes(db, user)] == [("active", "true", "false"), ("active", "false", "true")]


def test_a_deactivated_users_tokens_are_refused(db, make, city_admin):
    user = make.user(("reporter", "S1"))
    _, secret = create_token(db, user, ["incidents:read"])
    assert resolve_token(db, secret).user_id == user.id
    admin.set_user_active(db, city_admin, user.id, False)
    assert resolve_token(db, secret) is None
    admin.set_user_active(db, city_admin, user.id, True)
    assert resolve_token(db, secret).user_id == user.id


def test_new_cases_pass_a_deactivated_rektor_by_for_the_next_holder(db, filing, people, make, city_admin):
    manager = make.user(("handler", "GRU"))
    assert filing.fire().assignee_id == people.handler.user_id
    admin.set_user_active(db, city_admin, people.handler.user_id, False)
    assert filing.fire().assignee_id == manager.id


def test_their_cases_stay_assigned_and_are_counted_for_delegation(db, filing, people, make, city_admin):
    fires = [filing.fire(), filing.fire()]
    filing.in_state(filing.fire(), CaseState.CLOSED)   # a closed case is nothing to delegate
    on_s2 = filing.threat(org_unit="S2", reporter=make.actor(("reporter", "S2")))   # given to S1's rektor by hand
    on_s2.assignee_id = people.handler.user_id
    db.commit()
    rektor = user_of(db, people.handler)
    admin.set_user_active(db, city_admin, rektor.id, False)
    db.expire_all()
    assert {c.assignee_id for c in (*fires, on_s2)} == {rektor.id}
    assert [(row.unit.code, row.count) for row in admin.open_cases_handled_by(db, city_admin, rektor)] == [
        ("S1", 2), ("S2", 1)]


def test_the_deadline_ladder_passes_a_deactivated_handler_by(db, people, make, city_admin, tree):
    filed = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)   # a Monday
    manager = make.user(("handler", "GRU"))
    incident, _ = file_incident(db, people.reporter, IncidentInput(
        type="threat_violence", org_unit="S1", occurred_at=filed - timedelta(hours=1), description="Hot.",
        fields=dict(THREAT_FIELDS), persons=[PersonInput(role="affected", category="staff", gender="female")]),
        TZ, now=filed)
    assert incident.cases[0].assignee_id == people.handler.user_id
    admin.set_user_active(db, city_admin, people.handler.user_id, False)
    due = max(db.scalars(select(Obligation.due_at).where(Obligation.case_id == incident.cases[0].id)))
    sweep(db, due + timedelta(seconds=1))
    told = set(db.scalars(select(Notification.user_id).where(Notification.case_id == incident.cases[0].id,
                                                             Notification.channel == Channel.EMAIL,
                                                             Notification.kind == "overdue")))
    assert told == {manager.id}


# ---- passwords ------------------------------------------------------------------------------------

def test_an_admin_sets_a_new_password_recorded_without_its_value(db, make, city_admin):
    user = make.user(("handler", "S1"))
    admin.set_user_password(db, city_admin, user.id, NEW_PASSWORD, NEW_PASSWORD)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert changes(db, user) == [("password", None, None, city_admin.user_id)]
    stored = db.execute(select(AdminChange.__table__)).all()
    assert stored and not any(NEW_PASSWORD in str(value) or user.password_hash in str(value)
                              for row in stored for value in row)


def test_a_new_password_follows_the_rules_of_changing_ones_own(db, make, city_admin):
    user = make.user(("handler", "S1"))
    short = "k" * (MIN_PASSWORD_LENGTH - 1)
    with pytest.raises(ValidationFailed) as too_short:
        admin.set_user_password(db, city_admin, user.id, short, short)
    assert errors_of(too_short) == {"new_password": ["At least %(n)s characters."]}
    with pytest.raises(ValidationFailed) as not_the_same:
        admin.set_user_password(db, city_admin, user.id, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert errors_of(not_the_same) == {"repeat_password": ["The two new passwords are not the same."]}
    admin.set_user_password(db, city_admin, user.id, "k" * MIN_PASSWORD_LENGTH, "k" * MIN_PASSWORD_LENGTH)
    assert user.password_hash is not None and len(history_of(db, user)) == 1


def test_an_admins_own_password_is_changed_on_the_account_page(db, city_admin):
    with pytest.raises(Conflict):
        admin.set_user_password(db, city_admin, city_admin.user_id, NEW_PASSWORD, NEW_PASSWORD)
    assert user_of(db, city_admin).password_hash is None


# ---- users created and their roles ----------------------------------------------------------------

def test_creating_a_user_and_their_roles_are_recorded(db, city_admin, tree):
    user = admin.add_user(db, city_admin, "ny@test.kia.se", "Ny Rektor", NEW_PASSWORD, "sv", "handler", "S2")
    membership = admin.add_membership(db, city_admin, user.id, "safety_rep", "S1")
    admin.remove_membership(db, city_admin, user.id, membership.id)
    assert [(w, o, n) for w, o, n, _ in changes(db, user)] == [
        ("created", None, "Ny Rektor"), ("role", None, "handler S2"), ("role", None, "safety_rep S1"),
        ("role", "safety_rep S1", None)]


def test_users_are_listed_by_whether_they_are_active(db, make, city_admin):
    gone = make.user(("reporter", "S1"), name="Borta Användare")
    admin.set_user_active(db, city_admin, gone.id, False)
    assert [u.id for u in admin.list_users(db, city_admin, active=False)] == [gone.id]
    assert gone.id not in {u.id for u in admin.list_users(db, city_admin, active=True)}
    assert gone.id in {u.id for u in admin.list_users(db, city_admin, search="borta")}


# ---- org units ------------------------------------------------------------------------------------

def test_a_unit_is_renamed_and_keeps_its_code(db, city_admin, tree):
    unit = admin.rename_unit(db, city_admin, tree["S1"].id, "  Engelbrektsskolan  ")
    assert (unit.name, unit.code) == ("Engelbrektsskolan", "S1")
    admin.rename_unit(db, city_admin, tree["S1"].id, "Engelbrektsskolan")   # the same: nothing recorded
    assert changes(db, unit) == [("name", "Skola Ett", "Engelbrektsskolan", city_admin.user_id)]
    with pytest.raises(ValidationFailed) as blank:
        admin.rename_unit(db, city_admin, tree["S1"].id, " ")
    assert errors_of(blank) == {"name": ["A name is required."]}


def test_a_unit_with_open_units_under_it_is_not_closed(db, city_admin, tree):
    with pytest.raises(Conflict) as refused:
        admin.set_unit_active(db, city_admin, tree["GRU"].id, False)
    assert refused.value.detail.params["units"] == "Skola Ett (S1), Skola Två (S2)"
    admin.set_unit_active(db, city_admin, tree["S1"].id, False)
    with pytest.raises(Conflict) as still:
        admin.set_unit_active(db, city_admin, tree["GRU"].id, False)
    assert still.value.detail.params["units"] == "Skola Två (S2)"
    admin.set_unit_active(db, city_admin, tree["S2"].id, False)
    assert not admin.set_unit_active(db, city_admin, tree["GRU"].id, False).active
    assert changes(db, tree["GRU"]) == [("active", "true", "false", city_admin.user_id)]


def test_under_a_closed_unit_nothing_is_reopened_or_added(db, city_admin, tree):
    for code in ("S1", "S2", "GRU"):
        admin.set_unit_active(db, city_admin, tree[code].id, False)
    with pytest.raises(Conflict) as refused:
        admin.set_unit_active(db, city_admin, tree["S1"].id, True)
    assert refused.value.detail.params["units"] == "Grundskoleavdelningen (GRU)"
    with pytest.raises(ValidationFailed) as added:
        admin.add_unit(db, city_admin, "S3", "Skola Tre", "unit", "GRU")
    assert list(errors_of(added)) == ["parent"]
    admin.set_unit_active(db, city_admin, tree["GRU"].id, True)
    assert admin.set_unit_active(db, city_admin, tree["S1"].id, True).active
    assert changes(db, admin.add_unit(db, city_admin, "S3", "Skola Tre", "unit", "GRU")) == [
        ("created", None, "Skola Tre", city_admin.user_id)]


def test_a_closed_unit_takes_no_reports_and_its_cases_are_still_handled(db, filing, people, city_admin, tree):
    case = filing.fire()
    assert admin.open_cases_in(db, city_admin, tree["S1"]) == 1
    assert admin.open_cases_in(db, city_admin, tree["GRU"]) == 1
    admin.set_unit_active(db, city_admin, tree["S1"].id, False)
    with pytest.raises(ValidationFailed) as refused:
        filing.fire()
    assert list(errors_of(refused)) == ["org_unit"]
    assert get_case(db, people.handler, case.id).id == case.id
    moved = transition(db, people.handler, case.id, TransitionInput(to="acknowledged"), TZ)
    assert moved.state == CaseState.ACKNOWLEDGED
    assert db.get(OrgUnit, tree["S1"].id).active is False
