"""Ersättare: while the period lasts new cases go to the substitute; who may stand in; ending it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kia.db import utcnow
from kia.errors import Forbidden, NotFound, ValidationFailed
from kia.orgs.models import User
from kia.routing.substitutes import list_substitutes, remove_substitute, set_substitute
from tests.cases.conftest import errors_of, timeline

HOUR = timedelta(hours=1)


@pytest.fixture
def deputy(make):
    """A biträdande rektor: handler on the school's department, so on every unit the rektor handles."""
    return make.actor(("handler", "GRU"))


def test_during_the_period_new_cases_go_to_the_substitute(db, filing, people, deputy):
    now = utcnow()
    set_substitute(db, people.handler, deputy.user_id, now - HOUR, now + HOUR)
    case = filing.threat()
    assert case.assignee_id == deputy.user_id
    assert timeline(db, case, "assigned_to_substitute") == [
        ("assigned_to_substitute", "assignee", people.handler.user_id, deputy.user_id, None, "")]


@pytest.mark.parametrize("starts, ends", [(1, 2), (-3, -1)], ids=["not yet", "over"])
def test_outside_the_period_cases_go_to_the_handler(db, filing, people, deputy, starts, ends):
    now = utcnow()
    entry = set_substitute(db, people.handler, deputy.user_id, now + starts * HOUR, now + 2 * HOUR)
    if ends < 0:   # a period that has ended: created while it lasted, then time passed
        entry.starts_at, entry.ends_at = now + starts * HOUR, now + ends * HOUR
        db.commit()
    assert filing.threat().assignee_id == people.handler.user_id


def test_cases_already_routed_stay_and_ending_the_period_restores_routing(db, filing, people, deputy):
    now = utcnow()
    entry = set_substitute(db, people.handler, deputy.user_id, now - HOUR, now + HOUR)
    during = filing.threat()
    remove_substitute(db, people.handler, entry.id)
    assert filing.threat().assignee_id == people.handler.user_id
    assert during.assignee_id == deputy.user_id


def test_the_substitute_must_handle_every_unit_of_the_handler(db, people):
    now = utcnow()
    with pytest.raises(ValidationFailed) as excinfo:
        set_substitute(db, people.handler, people.other_handler.user_id, now, now + HOUR)   # rektor of S2
    assert list(errors_of(excinfo)) == ["substitute"]
    with pytest.raises(ValidationFailed):
        set_substitute(db, people.handler, people.safety_rep.user_id, now, now + HOUR)


@pytest.mark.parametrize("shift, field", [
    ((0, 0), "ends_at"), ((-3, -2), "ends_at"), ((0.5, 3), "starts_at"),
], ids=["empty period", "in the past", "overlaps"])
def test_periods_are_checked(db, people, deputy, shift, field):
    now = utcnow()
    set_substitute(db, people.handler, deputy.user_id, now, now + HOUR)
    with pytest.raises(ValidationFailed) as excinfo:
        set_substitute(db, people.handler, deputy.user_id, now + shift[0] * HOUR, now + shift[1] * HOUR)
    assert list(errors_of(excinfo)) == [field]


def test_not_oneself_and_only_handlers(db, people, deputy):
    now = utcnow()
    with pytest.raises(ValidationFailed):
        set_substitute(db, people.handler, people.handler.user_id, now, now + HOUR)
    with pytest.raises(Forbidden):
        set_substitute(db, people.safety_rep, deputy.user_id, now, now + HOUR)


def test_a_substitute_who_lost_the_role_does_not_receive_cases(db, filing, people, deputy):
    now = utcnow()
    set_substitute(db, people.handler, deputy.user_id, now - HOUR, now + HOUR)
    db.get(User, deputy.user_id).memberships.clear()
    db.commit()
    assert filing.threat().assignee_id == people.handler.user_id


def test_both_sides_see_the_period_and_only_the_one_away_ends_it(db, people, deputy):
    now = utcnow()
    entry = set_substitute(db, people.handler, deputy.user_id, now, now + HOUR)
    assert list_substitutes(db, people.handler) == [entry] == list_substitutes(db, deputy)
    assert list_substitutes(db, people.other_handler) == []
    with pytest.raises(NotFound):
        remove_substitute(db, deputy, entry.id)
    remove_substitute(db, people.handler, entry.id)
    assert list_substitutes(db, deputy) == []
