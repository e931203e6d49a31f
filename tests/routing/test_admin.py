"""Admins add, change and switch routing rules off and on: checked at the fields, city-wide admins only, never
leaving routing without its fallback, and new cases are routed by the changed rules."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.incidents.models import Category
from kia.orgs.models import Membership, OrgUnit, Role, User
from kia.orgs.services import create_org_unit, create_user
from kia.routing.admin import (
    add_routing_rule, change_routing_rule, get_routing_rule, is_fallback, list_routing_rules, set_routing_rule_active,
)
from kia.routing.models import RoutingPurpose, RoutingRule
from tests.cases.conftest import errors_of
from tests.routing.test_rules import watchers

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def fallback(db) -> RoutingRule:
    """The default rule: every case to the nearest rektor/chef."""
    return db.scalar(select(RoutingRule).where(
        RoutingRule.purpose == RoutingPurpose.HANDLE, RoutingRule.role == Role.HANDLER,
        RoutingRule.incident_type_id.is_(None), RoutingRule.category.is_(None), RoutingRule.org_unit_id.is_(None)))


def fire_to_safety_officer(db, people, **extra) -> RoutingRule:
    return add_routing_rule(db, people.admin, {"type": "fire", "role": "safety_officer", "purpose": "handle",
                                               **extra}, now=NOW)


def test_an_added_rule_routes_new_cases_and_records_who_added_it(db, filing, people, tree):
    rule = fire_to_safety_officer(db, people, org_unit="GRU", priority=3)
    assert (rule.incident_type.code, rule.org_unit.code, rule.role, rule.purpose, rule.priority, rule.active) == (
        "fire", "GRU", Role.SAFETY_OFFICER, RoutingPurpose.HANDLE, 3, True)
    assert (rule.changed_by_id, rule.changed_at) == (people.admin.user_id, NOW)
    assert filing.fire().assignee_id == people.safety_officer.user_id
    assert rule in list_routing_rules(db, people.admin)


def test_a_changed_rule_changes_the_routing_of_new_cases_only(db, filing, people):
    rule = fire_to_safety_officer(db, people)
    first = filing.fire()
    assert first.assignee_id == people.safety_officer.user_id

    later = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    changed = change_routing_rule(db, people.admin, rule.id, {"role": "principal_org"}, now=later)
    assert (changed.role, changed.incident_type.code, changed.changed_at) == (Role.PRINCIPAL_ORG, "fire", later)
    assert filing.fire().assignee_id == people.principal_org.user_id
    db.refresh(first)
    assert first.assignee_id == people.safety_officer.user_id   # a routed case keeps its handler

    set_routing_rule_active(db, people.admin, rule.id, False)
    assert filing.fire().assignee_id == people.handler.user_id   # back to the fallback
    set_routing_rule_active(db, people.admin, rule.id, True)
    assert filing.fire().assignee_id == people.principal_org.user_id


def test_an_inform_rule_for_a_category_and_a_unit(db, filing, people):
    add_routing_rule(db, people.admin, {"category": "safety", "org_unit": "S1", "role": "principal_org",
                                        "purpose": "inform"})
    assert watchers(db, filing.fire()) == {people.principal_org.user_id: "principal_org"}


@pytest.mark.parametrize("spec, path, message", [
    ({"type": "no_such_type"}, "type", "Unknown event type: %(code)s."),
    ({"org_unit": "NOPE"}, "org_unit", "Unknown org unit: %(code)s."),
    ({"category": "weather"}, "category", "Unknown category."),
    ({"role": "janitor"}, "role", "Unknown role: %(role)s."),
    ({"purpose": "escalate"}, "purpose", "Unknown value: %(value)s."),
    ({"role": None}, "role", "Choose a role."),
    ({"purpose": ""}, "purpose", "Choose whether the role handles the case or is informed."),
    ({"type": "fire", "category": "safety"}, "category", "Give an event type or a category, not both."),
    ({"role": "analyst"}, "role", "This role cannot handle cases."),
    ({"role": "admin", "purpose": "inform"}, "role",
     "This role does not read cases, so it cannot be informed of them."),
    ({"role": "reporter", "purpose": "inform"}, "role",
     "This role does not read cases, so it cannot be informed of them."),
    ({"type": "victimisation", "role": "safety_officer"}, "role",
     "This role may not read cases of this confidential event type."),
    ({"type": "victimisation", "role": "safety_rep", "purpose": "inform"}, "role",
     "This role may not read cases of this confidential event type."),
    ({"priority": 5000}, "priority", "Give a whole number from %(low)s to %(high)s."),
    ({"priority": "high"}, "priority", "Give a whole number from %(low)s to %(high)s."),
    ({"only_serious": "yes"}, "only_serious", "Give yes or no."),
    ({"active": None}, "active", "Give yes or no."),
])
def test_each_invalid_value_is_reported_at_its_field_and_nothing_is_stored(db, people, spec, path, message):
    before = db.scalar(select(RoutingRule.id).order_by(RoutingRule.id.desc()).limit(1))
    with pytest.raises(ValidationFailed) as excinfo:
        add_routing_rule(db, people.admin, {"role": "handler", "purpose": "handle", **spec})
    assert errors_of(excinfo) == {path: [message]}
    assert db.scalar(select(RoutingRule.id).order_by(RoutingRule.id.desc()).limit(1)) == before


def test_several_errors_at_once_and_a_refused_change_leaves_the_rule_as_it_was(db, people):
    with pytest.raises(ValidationFailed) as excinfo:
        add_routing_rule(db, people.admin, {"type": "nope", "org_unit": "NOPE"})
    assert set(errors_of(excinfo)) == {"type", "org_unit", "role", "purpose"}
    rule = fire_to_safety_officer(db, people)
    with pytest.raises(ValidationFailed):
        change_routing_rule(db, people.admin, rule.id, {"priority": 2, "role": "analyst"})
    db.expire_all()
    assert (rule.role, rule.priority) == (Role.SAFETY_OFFICER, 0)


@pytest.mark.parametrize("roles", [(("admin", "UTBF"),), (("handler", "STHLM"),), (("analyst", "STHLM"),)])
def test_only_a_city_wide_admin_changes_the_rules(db, make, tree, people, roles):
    other = make.actor(*roles)
    rule = fallback(db)
    for attempt in (lambda: list_routing_rules(db, other), lambda: get_routing_rule(db, other, rule.id),
                    lambda: add_routing_rule(db, other, {"role": "handler", "purpose": "handle", "type": "fire"}),
                    lambda: change_routing_rule(db, other, rule.id, {"priority": 1}),
                    lambda: set_routing_rule_active(db, other, rule.id, False)):
        with pytest.raises(Forbidden):
            attempt()
    db.expire_all()
    assert (rule.priority, rule.active) == (0, True)


def test_an_unknown_rule_is_not_found(db, people):
    with pytest.raises(NotFound):
        change_routing_rule(db, people.admin, 999_999, {"priority": 1})
    with pytest.raises(NotFound):
        get_routing_rule(db, people.admin, 999_999)


@pytest.mark.parametrize("change", [
    {"active": False}, {"type": "fire"}, {"category": "pupil"}, {"org_unit": "UTBF"}, {"only_serious": True},
    {"purpose": "inform"}, {"role": "principal_org"},
])
def test_the_last_fallback_cannot_be_switched_off_or_narrowed(db, people, filing, change):
    rule = fallback(db)
    with pytest.raises(Conflict):
        change_routing_rule(db, people.admin, rule.id, change)
    db.expire_all()
    assert is_fallback({key: getattr(rule, key) for key in ("active", "purpose", "role", "incident_type", "category",
                                                             "org_unit", "only_serious")})
    assert filing.fire().assignee_id == people.handler.user_id
    # Its priority is no part of it: that change is fine.
    assert change_routing_rule(db, people.admin, rule.id, {"priority": 1}).priority == 1


def test_with_a_second_fallback_the_first_can_go(db, people, filing):
    first = fallback(db)
    second = add_routing_rule(db, people.admin, {"role": "handler", "purpose": "handle", "active": False})
    with pytest.raises(Conflict):   # a switched-off rule is no fallback
        set_routing_rule_active(db, people.admin, first.id, False)
    set_routing_rule_active(db, people.admin, second.id, True)
    assert set_routing_rule_active(db, people.admin, first.id, False).active is False
    with pytest.raises(Conflict):
        set_routing_rule_active(db, people.admin, second.id, False)
    assert filing.fire().assignee_id == people.handler.user_id


def test_a_category_rule_never_gives_a_confidential_case_to_a_role_that_may_not_have_it(db, filing, people):
    add_routing_rule(db, people.admin, {"category": "pupil", "role": "safety_officer", "purpose": "handle"})
    assert filing.pupil_injury().assignee_id == people.safety_officer.user_id
    assert filing.victimisation()[0].assignee_id == people.handler.user_id   # kränkande behandling: the rektor


def test_the_list_shows_active_rules_first(db, people):
    rule = fire_to_safety_officer(db, people, active=False)
    rules = list_routing_rules(db, people.admin)
    assert rules[-1] is rule and all(r.active for r in rules[:-1])
    assert Category.WORK_ENVIRONMENT in {r.category for r in rules}


# ---- two admins at once (real commits: each thread has its own connection) ------------------------

@pytest.fixture
def committed_admin(engine):
    """A city-wide admin committed for real; afterwards their rules are removed and the default restored."""
    suffix = uuid.uuid4().hex[:6].upper()
    with Session(engine) as session:
        root = create_org_unit(session, f"R{suffix}", "Routing city", "city")
        user = create_user(session, f"r{suffix.lower()}@test.kia.se", "Routing admin", None, [("admin", root.code)])
        ids = {"user": user.id, "root": root.id, "last_rule": session.scalar(select(func.max(RoutingRule.id)))}
    yield ids
    with Session(engine) as session:
        session.execute(delete(RoutingRule).where(RoutingRule.id > ids["last_rule"]))
        session.execute(update(RoutingRule).where(RoutingRule.changed_by_id == ids["user"])
                        .values(active=True, changed_by_id=None, changed_at=None))
        session.execute(delete(Membership).where(Membership.user_id == ids["user"]))
        session.execute(delete(User).where(User.id == ids["user"]))
        session.execute(delete(OrgUnit).where(OrgUnit.id == ids["root"]))
        session.commit()


def _actor_in(session: Session, user_id: int) -> Actor:
    actor = Actor.for_user(session.get(User, user_id))
    session.commit()   # the read's transaction ends (on SQLite it holds the write lock)
    return actor


def test_two_admins_switching_off_the_last_two_fallbacks_at_once_leave_one(engine, committed_admin):
    with Session(engine, expire_on_commit=False) as session:
        first = fallback(session).id
        second = add_routing_rule(session, _actor_in(session, committed_admin["user"]),
                                  {"role": "handler", "purpose": "handle"}).id
    start = threading.Barrier(2)

    def switch_off(rule_id: int) -> str:
        with Session(engine, expire_on_commit=False) as session:
            actor = _actor_in(session, committed_admin["user"])
            start.wait()
            try:
                set_routing_rule_active(session, actor, rule_id, False)
            except Conflict:
                return "refused"
            return "switched off"

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(switch_off, (first, second))) == ["refused", "switched off"]
    with Session(engine) as session:
        active = session.scalars(select(RoutingRule).where(RoutingRule.id.in_((first, second)),
                                                           RoutingRule.active.is_(True))).all()
    assert len(active) == 1
