"""Admins add, change and switch deadline rules off and on: checked at the fields, city-wide admins only, never
deleted, who changed them recorded, and every change recomputed for the open cases by the next sweep."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from kia.cases.models import CaseState, MilestoneKind
from kia.deadlines.admin import (
    MAX_HOURS, MAX_WORKING_DAYS, add_deadline_rule, change_deadline_rule, get_deadline_rule, list_deadline_rules,
    replace_rules, resync_if_rules_changed, rule_spec, set_deadline_rule_active,
)
from kia.deadlines.models import DeadlineRule, DeadlineStart, Obligation, ObligationStatus
from kia.errors import Forbidden, NotFound, ValidationFailed
from tests.cases.conftest import errors_of, filing, people  # noqa: F401 – fixtures
from tests.conftest import TZ

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
# A fire is followed up: investigating within three working days of when it happened.
FIRE = {"code": "fire_followed_up", "name_sv": "Brand utreds", "name_en": "Fire investigated", "type": "fire",
        "start": "occurred_at", "due_working_days": 3, "met_by_state": "investigating"}


def obligation(db, case, rule) -> Obligation | None:
    return db.scalar(select(Obligation).where(Obligation.case_id == case.id, Obligation.rule_id == rule.id))


def sweep(db) -> int:
    """What the scheduler does after a rule change (it detaches what the session held: compare ids after)."""
    return resync_if_rules_changed(db, TZ, NOW)


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(DeadlineRule))


def test_an_added_rule_is_stored_with_who_added_it_and_open_cases_get_its_obligation(db, filing, people):
    case = filing.fire()
    sweep(db)
    rule = add_deadline_rule(db, people.admin, {**FIRE, "escalate_after_hours": 8}, now=NOW)
    assert (rule.code, rule.name_sv, rule.incident_type.code, rule.category, rule.only_serious, rule.start,
            rule.due_hours, rule.due_working_days, rule.met_by_state, rule.met_by_milestone,
            rule.escalate_after_hours, rule.active) == (
        "fire_followed_up", "Brand utreds", "fire", None, False, DeadlineStart.OCCURRED_AT, None, 3,
        CaseState.INVESTIGATING, None, 8, True)
    assert (rule.changed_by_id, rule.changed_at, rule.needs_resync, rule.builtin) == (
        people.admin.user_id, NOW, True, False)
    assert obligation(db, case, rule) is None   # until the scheduler's sweep
    assert sweep(db) >= 1
    # Tuesday 10 March 2026 09:30, three working days: the end of Friday.
    assert obligation(db, case, rule).due_at.astimezone(TZ).isoformat() == "2026-03-13T23:59:59+01:00"
    assert rule.id in {r.id for r in list_deadline_rules(db, people.admin)}
    assert get_deadline_rule(db, people.admin, rule.id).code == rule.code


def test_a_change_keeps_what_it_does_not_name_and_the_sweep_moves_the_due_time(db, filing, people):
    case = filing.fire()
    rule = add_deadline_rule(db, people.admin, FIRE, now=NOW)
    sweep(db)
    later = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    changed = change_deadline_rule(db, people.admin, rule.id, {"due_hours": 48, "name_en": "Fire looked into"},
                                   now=later)
    # Hours given: the working days are cleared, not left to clash with them.
    assert (changed.due_hours, changed.due_working_days, changed.name_en, changed.name_sv, changed.met_by_state) == (
        48, None, "Fire looked into", "Brand utreds", CaseState.INVESTIGATING)
    assert (changed.changed_at, changed.needs_resync) == (later, True)
    sweep(db)
    assert obligation(db, case, rule).due_at.astimezone(TZ).isoformat() == "2026-03-12T09:30:00+01:00"
    met_by = change_deadline_rule(db, people.admin, rule.id, {"met_by_milestone": "police_report_made"})
    assert (met_by.met_by_milestone, met_by.met_by_state) == (MilestoneKind.POLICE_REPORT_MADE, None)


def test_a_switched_off_rule_is_kept_and_its_open_obligations_dropped_until_it_is_on_again(db, filing, people):
    case = filing.fire()
    rule = add_deadline_rule(db, people.admin, FIRE, now=NOW)
    sweep(db)
    before = count(db)
    off = set_deadline_rule_active(db, people.admin, rule.id, False)
    assert (off.active, off.needs_resync) == (False, True)
    sweep(db)
    assert count(db) == before   # never deleted: its obligations are history
    assert obligation(db, case, rule).status == ObligationStatus.CANCELLED
    set_deadline_rule_active(db, people.admin, rule.id, True)
    sweep(db)
    assert obligation(db, case, rule).status == ObligationStatus.OPEN


def test_only_the_chosen_start_keeps_its_detail(db, people):
    rule = add_deadline_rule(db, people.admin, {**FIRE, "start_field": "discovered_at",
                                                "start_milestone": "support_offered"})
    assert (rule.start_field, rule.start_milestone) == (None, None)
    breach = add_deadline_rule(db, people.admin, {**FIRE, "code": "breach", "type": "data_breach", "start": "field",
                                                  "start_field": "discovered_at", "start_milestone": "support_offered"})
    assert (breach.start, breach.start_field, breach.start_milestone) == (DeadlineStart.FIELD, "discovered_at", None)
    moved = change_deadline_rule(db, people.admin, breach.id, {"start": "milestone",
                                                               "start_milestone": "investigation_started"})
    assert (moved.start_field, moved.start_milestone) == (None, MilestoneKind.INVESTIGATION_STARTED)


@pytest.mark.parametrize("spec, path, message", [
    ({"code": "Bad Code"}, "code", "A unique code of lower-case letters, digits and _ is required."),
    ({"code": None}, "code", "A unique code of lower-case letters, digits and _ is required."),
    ({"code": "acknowledged"}, "code", "The code is already in use."),
    ({"name_sv": "  "}, "name_sv", "A name is required."),
    ({"name_en": None}, "name_en", "A name is required."),
    ({"name_en": "x" * 201}, "name_en", "At most %(n)s characters."),
    ({"type": "no_such_type"}, "type", "Unknown event type: %(code)s."),
    ({"type": None, "category": "weather"}, "category", "Unknown value: %(value)s."),
    ({"category": "safety"}, "category", "Give an event type or a category, not both."),
    ({"only_serious": "yes"}, "only_serious", "Give yes or no."),
    ({"active": None}, "active", "Give yes or no."),
    ({"start": None}, "start", "Choose when the time starts."),
    ({"start": "lunchtime"}, "start", "Unknown value: %(value)s."),
    ({"start": "field"}, "start_field", "A rule starting at a field names the field."),
    ({"start": "field", "start_field": "Discovered At"}, "start_field",
     "A key is lower-case letters, digits and _, at most 40."),
    ({"start": "field", "start_field": "fire_kind"}, "start_field",
     "The event type has no date or time field %(key)s."),
    ({"start": "milestone"}, "start_milestone", "A rule starting at a milestone names the milestone."),
    ({"start": "milestone", "start_milestone": "lunch"}, "start_milestone", "Unknown value: %(value)s."),
    ({"due_working_days": None}, "due_hours", "Give the time allowed, in hours or in working days."),
    ({"due_hours": 24}, "due_hours", "Give the time allowed in hours or in working days, not both."),
    ({"due_working_days": MAX_WORKING_DAYS + 1}, "due_working_days", "Give a whole number from %(low)s to %(high)s."),
    ({"due_working_days": "three"}, "due_working_days", "Give a whole number from %(low)s to %(high)s."),
    ({"due_working_days": None, "due_hours": -1}, "due_hours", "Give a whole number from %(low)s to %(high)s."),
    ({"met_by_state": None}, "met_by_milestone", "Choose the milestone or the state that meets the obligation."),
    ({"met_by_milestone": "reported_to_av"}, "met_by_milestone",
     "A rule is met by one milestone or one state, not both."),
    ({"met_by_state": "sleeping"}, "met_by_state", "Unknown value: %(value)s."),
    ({"met_by_state": "received"}, "met_by_state",
     "Choose a state the case reaches while it is handled, from acknowledged to closed."),
    ({"met_by_state": "rejected"}, "met_by_state",
     "Choose a state the case reaches while it is handled, from acknowledged to closed."),
    ({"start": "milestone", "start_milestone": "investigation_started", "met_by_state": None,
      "met_by_milestone": "investigation_started"}, "met_by_milestone",
     "A rule cannot start and be met by the same milestone."),
    ({"escalate_after_hours": MAX_HOURS + 1}, "escalate_after_hours", "Give a whole number from %(low)s to %(high)s."),
    ({"escalate_after_hours": True}, "escalate_after_hours", "Give a whole number from %(low)s to %(high)s."),
])
def test_each_invalid_value_is_reported_at_its_field_and_nothing_is_stored(db, people, spec, path, message):
    before = count(db)
    with pytest.raises(ValidationFailed) as excinfo:
        add_deadline_rule(db, people.admin, {**FIRE, **spec})
    assert errors_of(excinfo) == {path: [message]}
    assert count(db) == before


def test_several_errors_at_once_and_a_refused_change_leaves_the_rule_as_it_was(db, people):
    with pytest.raises(ValidationFailed) as excinfo:
        add_deadline_rule(db, people.admin, {"code": "half_a_rule", "name_sv": "Halv"})
    assert set(errors_of(excinfo)) == {"name_en", "start", "due_hours", "met_by_milestone"}
    rule = add_deadline_rule(db, people.admin, FIRE, now=NOW)
    rule.needs_resync = False
    db.commit()
    for changes in ({"due_working_days": 2, "met_by_state": "rejected"}, {"code": "renamed"}):
        with pytest.raises(ValidationFailed):
            change_deadline_rule(db, people.admin, rule.id, changes)
    db.expire_all()
    assert (rule.code, rule.due_working_days, rule.met_by_state, rule.needs_resync) == (
        "fire_followed_up", 3, CaseState.INVESTIGATING, False)


@pytest.mark.parametrize("roles", [(("admin", "UTBF"),), (("handler", "STHLM"),), (("analyst", "STHLM"),)])
def test_only_a_city_wide_admin_changes_the_rules(db, make, tree, people, roles):
    other = make.actor(*roles)
    rule = db.scalar(select(DeadlineRule).where(DeadlineRule.code == "report_to_imy"))
    for attempt in (lambda: list_deadline_rules(db, other), lambda: get_deadline_rule(db, other, rule.id),
                    lambda: add_deadline_rule(db, other, FIRE),
                    lambda: change_deadline_rule(db, other, rule.id, {"due_hours": 96}),
                    lambda: set_deadline_rule_active(db, other, rule.id, False),
                    lambda: replace_rules(db, other, [])):
        with pytest.raises(Forbidden):
            attempt()
    db.expire_all()
    assert (rule.due_hours, rule.active, rule.changed_by_id) == (72, True, None)
    assert db.scalar(select(DeadlineRule).where(DeadlineRule.code == FIRE["code"])) is None


def test_an_unknown_rule_is_not_found(db, people):
    for attempt in (lambda: get_deadline_rule(db, people.admin, 999_999),
                    lambda: change_deadline_rule(db, people.admin, 999_999, {"due_hours": 1}),
                    lambda: set_deadline_rule_active(db, people.admin, 999_999, False)):
        with pytest.raises(NotFound):
            attempt()


def test_replacing_the_set_marks_only_the_rules_it_changes(db, people):
    rules = [rule_spec(r) for r in list_deadline_rules(db, people.admin)]
    renamed = next(s for s in rules if s["code"] == "report_to_imy")
    renamed["name_en"] = "Report to IMY (GDPR art. 33)"
    dropped = next(s for s in rules if s["code"] == "report_to_fk")
    rules.remove(dropped)
    replace_rules(db, people.admin, rules, now=NOW)
    changed = {r.code for r in list_deadline_rules(db, people.admin) if r.changed_by_id == people.admin.user_id}
    assert changed == {"report_to_imy", "report_to_fk"}
    fk = db.scalar(select(DeadlineRule).where(DeadlineRule.code == "report_to_fk"))
    assert (fk.active, fk.changed_at, fk.needs_resync) == (False, NOW, True)
