"""The work on a case: delegation (händelseansvarig), actions and comments – who may, and the timeline."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kia.cases.models import ActionStatus, CaseState
from kia.cases.work import ActionInput, add_action, add_comment, delegate_case, list_comments, update_action
from kia.db import utcnow
from kia.deadlines.models import Obligation, ObligationStatus
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.outbox.models import Notification, NotificationKind
from tests.cases.conftest import errors_of, timeline
from tests.conftest import TZ

TOMORROW = (utcnow() + timedelta(days=1)).astimezone(TZ).date()


# ---- delegation ---------------------------------------------------------------------------------

def test_a_handler_delegates_to_a_colleague_of_the_unit(db, filing, people):
    case = filing.threat()
    delegate_case(db, people.handler, case.id, people.reporter.user_id, note="Du utreder.")
    assert case.assignee_id == people.reporter.user_id
    assert timeline(db, case, "delegated") == [
        ("delegated", "assignee", people.handler.user_id, people.reporter.user_id, people.handler.user_id,
         "Du utreder.")]
    told = db.scalars(select(Notification).where(Notification.kind == NotificationKind.ASSIGNED)).all()
    assert {(n.user_id, n.case_id) for n in told} == {(people.reporter.user_id, case.id)}
    # The new händelseansvarig may now work the case, and may hand it on.
    delegate_case(db, people.reporter, case.id, people.handler.user_id)
    assert case.assignee_id == people.handler.user_id


def test_delegation_out_of_scope_is_refused(db, filing, people, make):
    case = filing.threat()
    for outsider in (people.other_handler, make.actor(("analyst", "STHLM")), make.actor(("reporter", "S2"))):
        with pytest.raises(ValidationFailed) as excinfo:
            delegate_case(db, people.handler, case.id, outsider.user_id)
        assert list(errors_of(excinfo)) == ["user"]
    assert case.assignee_id == people.handler.user_id
    assert timeline(db, case, "delegated") == []


def test_a_victimisation_case_is_never_delegated_to_the_safety_rep(db, filing, people):
    case = filing.victimisation()[0]
    with pytest.raises(ValidationFailed):
        delegate_case(db, people.handler, case.id, people.safety_rep.user_id)
    delegate_case(db, people.handler, case.id, people.reporter.user_id)   # a teacher may investigate


def test_who_may_delegate(db, filing, people):
    case = filing.threat()
    with pytest.raises(Forbidden):   # reads work-environment cases, does not handle them
        delegate_case(db, people.safety_rep, case.id, people.reporter.user_id)
    with pytest.raises(NotFound):    # another school's case does not exist for them
        delegate_case(db, people.other_handler, case.id, people.reporter.user_id)
    with pytest.raises(ValidationFailed):
        delegate_case(db, people.handler, case.id, 10**9)


def test_a_closed_case_is_not_delegated(db, filing, people):
    case = filing.in_state(filing.threat(), CaseState.CLOSED)
    with pytest.raises(Conflict):
        delegate_case(db, people.handler, case.id, people.reporter.user_id)


# ---- actions ------------------------------------------------------------------------------------

def action(people, **overrides) -> ActionInput:
    values = dict(what="Se över rutinen för rastvakter.", responsible=people.reporter.user_id, due_date=TOMORROW)
    values.update(overrides)
    return ActionInput(**values)


def test_an_action_is_added_and_recorded(db, filing, people):
    case = filing.threat()
    added = add_action(db, people.handler, case.id, action(people), TZ)
    assert (added.status, added.responsible_id, added.created_by_id) == (
        ActionStatus.PLANNED, people.reporter.user_id, people.handler.user_id)
    assert timeline(db, case, "action_added") == [(
        "action_added", f"actions[{added.id}]", None,
        {"what": "Se över rutinen för rastvakter.", "responsible": people.reporter.user_id,
         "due_date": TOMORROW.isoformat()}, people.handler.user_id, "")]


def test_action_input_is_checked(db, filing, people):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        add_action(db, people.handler, case.id,
                   action(people, what=" ", responsible=people.other_handler.user_id,
                          due_date=date(2020, 1, 1)), TZ)
    assert set(errors_of(excinfo)) == {"what", "responsible", "due_date"}


def test_only_whoever_handles_the_case_adds_actions(db, filing, people):
    case = filing.threat()
    with pytest.raises(Forbidden):
        add_action(db, people.safety_rep, case.id, action(people), TZ)
    add_action(db, people.safety_officer, case.id, action(people), TZ)   # non-confidential: may handle


def test_marking_done_sets_completed_at_and_records_each_change(db, filing, people):
    case = filing.threat()
    planned = add_action(db, people.handler, case.id, action(people), TZ)
    update_action(db, people.handler, case.id, planned.id, {"status": "done", "follow_up_note": "Klart."}, TZ)
    assert planned.status == ActionStatus.DONE and planned.completed_at is not None
    assert planned.follow_up_note == "Klart."
    assert [(f, o, n) for _, f, o, n, _, _ in timeline(db, case, "action_updated")] == [
        (f"actions[{planned.id}].status", "planned", "done"),
        (f"actions[{planned.id}].follow_up_note", "", "Klart.")]
    update_action(db, people.handler, case.id, planned.id, {"status": "cancelled"}, TZ)
    assert planned.completed_at is None


def test_an_actions_due_date_is_an_obligation_met_when_done(db, filing, people):
    case = filing.threat()
    planned = add_action(db, people.handler, case.id, action(people), TZ)
    obligation = db.scalar(select(Obligation).where(Obligation.action_id == planned.id))
    assert obligation.status == ObligationStatus.OPEN
    assert obligation.due_at.astimezone(TZ).date() == TOMORROW
    update_action(db, people.reporter, case.id, planned.id, {"status": "done"}, TZ)
    assert obligation.status == ObligationStatus.MET


def test_the_responsible_user_may_mark_their_action_done_and_nothing_else(db, filing, people):
    case = filing.threat()
    planned = add_action(db, people.handler, case.id, action(people), TZ)
    with pytest.raises(Forbidden):
        update_action(db, people.reporter, case.id, planned.id, {"due_date": TOMORROW + timedelta(days=3)}, TZ)
    with pytest.raises(Forbidden):
        update_action(db, people.reporter, case.id, planned.id, {"status": "cancelled"}, TZ)
    update_action(db, people.reporter, case.id, planned.id, {"status": "done", "follow_up_note": "Gjort."}, TZ)
    assert planned.status == ActionStatus.DONE
    # Someone else, not responsible and not handling, does not even find it.
    other = add_action(db, people.handler, case.id, action(people, responsible=people.safety_rep.user_id), TZ)
    with pytest.raises(NotFound):
        update_action(db, people.other_handler, case.id, other.id, {"status": "done"}, TZ)


def test_actions_of_a_closed_case_do_not_change(db, filing, people):
    case = filing.threat()
    planned = add_action(db, people.handler, case.id, action(people), TZ)
    filing.in_state(case, CaseState.CLOSED)
    with pytest.raises(Conflict):
        update_action(db, people.handler, case.id, planned.id, {"status": "done"}, TZ)
    with pytest.raises(Conflict):
        add_action(db, people.handler, case.id, action(people), TZ)


def test_an_action_of_another_case_is_not_found(db, filing, people):
    first, second = filing.threat(), filing.threat()
    planned = add_action(db, people.handler, first.id, action(people), TZ)
    with pytest.raises(NotFound):
        update_action(db, people.handler, second.id, planned.id, {"status": "done"}, TZ)


# ---- comments -----------------------------------------------------------------------------------

def test_comments_are_written_by_handlers_and_read_by_case_readers(db, filing, people):
    case = filing.threat()
    comment = add_comment(db, people.handler, case.id, "  Pratat med eleven.  ")
    assert comment.body == "Pratat med eleven."
    assert timeline(db, case, "comment_added") == [
        ("comment_added", f"comments[{comment.id}]", None, None, people.handler.user_id, "")]
    assert list_comments(db, people.safety_rep, case.id) == [comment]   # skyddsombud reads the case
    with pytest.raises(Forbidden):
        add_comment(db, people.safety_rep, case.id, "Jag med.")
    with pytest.raises(NotFound):
        list_comments(db, people.other_handler, case.id)
    with pytest.raises(ValidationFailed):
        add_comment(db, people.handler, case.id, "   ")
