"""Routing rules as data: the defaults, nearest holders, specificity and priority, and rules an admin adds."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kia.cases.models import CaseWatcher
from kia.db import utcnow
from kia.incidents.models import Category, IncidentType
from kia.orgs.models import Role, User
from kia.routing.defaults import DEFAULT_RULES, ensure_default_routing_rules
from kia.routing.models import RoutingPurpose, RoutingRule
from kia.routing.services import inform_on_serious, nearest_holders
from tests.cases.conftest import timeline
from tests.factories import THREAT_FIELDS


def watchers(db, case) -> dict[int, str]:
    return {w.user_id: w.reason for w in db.scalars(select(CaseWatcher).where(CaseWatcher.case_id == case.id))}


def type_id(db, code: str) -> int:
    return db.scalar(select(IncidentType.id).where(IncidentType.code == code))


def add_rule(db, role: str, purpose: str, **conditions) -> RoutingRule:
    """What an admin adds: a rule row (rules are data)."""
    rule = RoutingRule(role=Role(role), purpose=RoutingPurpose(purpose), **conditions)
    db.add(rule)
    db.commit()
    return rule


def default_rule(db, role: Role) -> RoutingRule:
    return db.scalar(select(RoutingRule).where(RoutingRule.role == role, RoutingRule.org_unit_id.is_(None),
                                               RoutingRule.incident_type_id.is_(None)))


# ---- the defaults -------------------------------------------------------------------------------

def test_defaults_are_seeded_once_and_an_admins_change_is_kept(db):
    assert db.scalar(select(RoutingRule.id).limit(1)) is not None   # the test database was seeded
    rule = default_rule(db, Role.SAFETY_REP)
    rule.active = False
    db.commit()
    assert ensure_default_routing_rules(db) == 0
    assert default_rule(db, Role.SAFETY_REP).active is False
    assert len(db.scalars(select(RoutingRule)).all()) == len(DEFAULT_RULES)


def test_every_case_goes_to_the_handler_of_its_unit(db, filing, people):
    case = filing.fire()
    assert case.assignee_id == people.handler.user_id
    assert timeline(db, case, "assigned") == [("assigned", "assignee", None, people.handler.user_id, None, "")]


def test_work_environment_cases_inform_the_safety_reps(db, filing, people):
    case = filing.threat()
    assert watchers(db, case) == {people.safety_rep.user_id: "safety_rep"}
    assert timeline(db, case, "informed") == [
        ("informed", "watchers", None, {"user": people.safety_rep.user_id, "reason": "safety_rep"}, None, "")]


def test_other_categories_do_not_inform_the_safety_reps(db, filing, people):
    assert watchers(db, filing.fire()) == {}
    assert watchers(db, filing.pupil_injury()) == {}


def test_victimisation_is_handled_by_the_rektor_and_followed_by_the_principal_org(db, filing, people):
    first, second = filing.victimisation(pupils=2)
    for case in (first, second):
        assert case.assignee_id == people.handler.user_id
        assert watchers(db, case) == {people.principal_org.user_id: "principal_org"}   # never the skyddsombud


def test_a_serious_case_informs_the_administrations_safety_officers_once(db, filing, people):
    case = filing.threat()
    assert people.safety_officer.user_id not in watchers(db, case)   # not serious when filed
    case.serious = True
    assert inform_on_serious(db, case, utcnow()) == [people.safety_officer.user_id]
    assert inform_on_serious(db, case, utcnow()) == []
    db.commit()
    assert watchers(db, case)[people.safety_officer.user_id] == "safety_officer"
    assert len(timeline(db, case, "informed")) == 2   # the skyddsombud, then the safety officer


def test_a_serious_victimisation_is_not_told_to_the_safety_officers_who_may_not_read_it(db, filing, people):
    case, = filing.victimisation(pupils=1)
    case.serious = True
    assert inform_on_serious(db, case, utcnow()) == []
    assert people.safety_officer.user_id not in watchers(db, case)


# ---- nearest holders ----------------------------------------------------------------------------

def test_a_unit_without_a_handler_goes_to_the_nearest_ancestors_handler(db, filing, make):
    department_head = make.actor(("handler", "GYM"))
    make.actor(("handler", "UTBF"))   # further up: not nearest
    case = filing.file("fire", {"fire_kind": "fire"}, [], org_unit="G1", reporter=make.actor(("reporter", "G1")))[0]
    assert case.assignee_id == department_head.user_id


def test_several_holders_on_one_unit_the_first_handles_all_are_informed(db, filing, people, make):
    second_handler = make.actor(("handler", "S1"))
    second_rep = make.actor(("safety_rep", "S1"))
    case = filing.threat()
    assert case.assignee_id == people.handler.user_id != second_handler.user_id
    assert set(watchers(db, case)) == {people.safety_rep.user_id, second_rep.user_id}


def test_inactive_users_are_skipped(db, filing, people, make, tree):
    db.get(User, people.handler.user_id).active = False
    db.commit()
    assert nearest_holders(db, tree["S1"], Role.HANDLER) == []
    principal = make.actor(("handler", "GRU"))
    assert filing.fire().assignee_id == principal.user_id


def test_nobody_to_route_to_leaves_the_case_unassigned(db, filing, make):
    case = filing.file("fire", {"fire_kind": "fire"}, [], org_unit="F1", reporter=make.actor(("reporter", "F1")))[0]
    assert case.assignee_id is None
    assert timeline(db, case, "assigned") == []


# ---- rules an admin adds ------------------------------------------------------------------------

def test_a_rule_for_a_type_in_a_subtree_beats_the_default(db, filing, people, tree, make):
    add_rule(db, "safety_officer", "handle", incident_type_id=type_id(db, "fire"), org_unit_id=tree["GRU"].id)
    assert filing.fire().assignee_id == people.safety_officer.user_id
    # Outside the subtree, and for other types, the default still holds.
    gymnasium_head = make.actor(("handler", "G1"))
    outside = filing.file("fire", {"fire_kind": "fire"}, [], org_unit="G1", reporter=make.actor(("reporter", "G1")))
    assert outside[0].assignee_id == gymnasium_head.user_id
    assert filing.threat().assignee_id == people.handler.user_id


def test_a_type_rule_beats_a_category_rule_and_priority_breaks_ties(db, filing, people):
    add_rule(db, "principal_org", "handle", category=Category.SAFETY)
    assert filing.fire().assignee_id == people.principal_org.user_id
    add_rule(db, "safety_officer", "handle", incident_type_id=type_id(db, "fire"))
    assert filing.fire().assignee_id == people.safety_officer.user_id
    add_rule(db, "handler", "handle", incident_type_id=type_id(db, "fire"), priority=5)
    assert filing.fire().assignee_id == people.handler.user_id


def test_a_deeper_subtree_beats_a_shallower_one(db, filing, people, tree):
    add_rule(db, "principal_org", "handle", org_unit_id=tree["UTBF"].id)
    add_rule(db, "safety_officer", "handle", org_unit_id=tree["GRU"].id)
    assert filing.fire().assignee_id == people.safety_officer.user_id


def test_a_handle_rule_whose_role_nobody_holds_falls_back_to_the_next(db, filing, people):
    add_rule(db, "analyst", "handle", incident_type_id=type_id(db, "fire"))
    assert filing.fire().assignee_id == people.handler.user_id


def test_an_inform_rule_added_by_an_admin_and_a_deactivated_default(db, filing, people, tree):
    add_rule(db, "principal_org", "inform", category=Category.SAFETY, org_unit_id=tree["S1"].id)
    assert watchers(db, filing.fire()) == {people.principal_org.user_id: "principal_org"}
    default_rule(db, Role.SAFETY_REP).active = False
    db.commit()
    assert watchers(db, filing.threat()) == {}


def test_the_handler_is_not_also_a_watcher(db, filing, people, make):
    both = make.actor(("handler", "F1"), ("safety_rep", "F1"))
    case = filing.file("threat_violence", dict(THREAT_FIELDS), [], org_unit="F1",
                       reporter=make.actor(("reporter", "F1")))[0]
    assert case.assignee_id == both.user_id
    assert watchers(db, case) == {}


@pytest.mark.parametrize("serious, informed", [(False, False), (True, True)])
def test_an_only_serious_rule_applies_to_serious_cases_only(db, filing, people, make, serious, informed):
    extra = make.actor(("principal_org", "GRU"))
    add_rule(db, "principal_org", "inform", only_serious=True, incident_type_id=type_id(db, "threat_violence"))
    case = filing.threat()
    if serious:
        case.serious = True
        inform_on_serious(db, case, utcnow())
        db.commit()
    assert (extra.user_id in watchers(db, case)) is informed
