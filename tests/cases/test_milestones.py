"""Milestones (once per kind, never in the future or before the event) and the investigation text."""
from datetime import datetime, timedelta, timezone

import pytest

from kia.cases.milestones import MilestoneInput, record_milestone, update_case
from kia.cases.models import CaseState, MilestoneKind
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.cases.conftest import errors_of, timeline
from tests.conftest import TZ

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)


def test_a_milestone_is_recorded_with_time_user_reference_and_a_timeline_entry(db, people, filing):
    case = filing.threat()
    milestone = record_milestone(db, people.handler, case.id,
                                 MilestoneInput(kind="police_report_made", reference="K-123456-26"), TZ, now=NOW)
    assert (milestone.kind, milestone.at, milestone.reference, milestone.recorded_by_id) == (
        MilestoneKind.POLICE_REPORT_MADE, NOW, "K-123456-26", people.handler.user_id)
    assert case.milestone(MilestoneKind.POLICE_REPORT_MADE) is milestone
    assert timeline(db, case, "milestone_recorded") == [
        ("milestone_recorded", "police_report_made", None, {"at": NOW.isoformat(), "reference": "K-123456-26"},
         people.handler.user_id, "")]


def test_a_time_without_offset_is_stockholm_time_and_may_be_in_the_past(db, people, filing):
    case = filing.victimisation()[0]
    milestone = record_milestone(db, people.handler, case.id,
                                 MilestoneInput(kind="principal_org_notified", at=datetime(2026, 3, 11, 8, 0)),
                                 TZ, now=NOW)
    assert milestone.at == datetime(2026, 3, 11, 7, 0, tzinfo=timezone.utc)


def test_each_kind_once_per_case(db, people, filing):
    case = filing.threat()
    record_milestone(db, people.handler, case.id, MilestoneInput(kind="support_offered"), TZ, now=NOW)
    with pytest.raises(Conflict):
        record_milestone(db, people.handler, case.id, MilestoneInput(kind="support_offered"), TZ, now=NOW)
    record_milestone(db, people.handler, case.id, MilestoneInput(kind="reported_to_fk"), TZ, now=NOW)
    assert len(timeline(db, case, "milestone_recorded")) == 2
    assert {MilestoneKind.SUPPORT_OFFERED, MilestoneKind.REPORTED_TO_FK} <= {m.kind for m in case.milestones}


@pytest.mark.parametrize("data, path", [
    (MilestoneInput(kind="told_the_press"), "kind"),
    (MilestoneInput(kind="reported_to_av", at=NOW + timedelta(hours=1)), "at"),
    (MilestoneInput(kind="reported_to_av", at=datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)), "at"),
    (MilestoneInput(kind="reported_to_av", reference="x" * 201), "reference"),
])
def test_bad_milestones_are_field_errors_and_nothing_is_stored(db, people, filing, data, path):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        record_milestone(db, people.handler, case.id, data, TZ, now=NOW)
    assert list(errors_of(excinfo)) == [path]
    assert case.milestone(MilestoneKind.REPORTED_TO_AV) is None and timeline(db, case, "milestone_recorded") == []


def test_only_those_who_handle_the_case_record_milestones(db, people, filing):
    case = filing.threat()
    with pytest.raises(Forbidden):
        record_milestone(db, people.safety_rep, case.id, MilestoneInput(kind="support_offered"), TZ, now=NOW)
    with pytest.raises(NotFound):
        record_milestone(db, people.other_handler, case.id, MilestoneInput(kind="support_offered"), TZ, now=NOW)


def test_a_milestone_may_be_recorded_after_the_case_closed(db, people, filing):
    case = filing.in_state(filing.pupil_injury(), CaseState.CLOSED)
    record_milestone(db, people.handler, case.id, MilestoneInput(kind="guardians_informed"), TZ, now=NOW)
    assert case.milestone(MilestoneKind.GUARDIANS_INFORMED) is not None


# ---- the investigation ----------------------------------------------------------------------------

def test_the_investigation_text_is_kept_old_to_new_in_the_timeline(db, people, filing):
    case = filing.threat()
    update_case(db, people.handler, case.id, investigation="Samtal med de inblandade.")
    update_case(db, people.handler, case.id, investigation="Samtal med de inblandade. Skyddsombud deltog.  ")
    update_case(db, people.handler, case.id, investigation="Samtal med de inblandade. Skyddsombud deltog.")
    assert case.investigation == "Samtal med de inblandade. Skyddsombud deltog."
    assert [(old, new) for _, _, old, new, _, _ in timeline(db, case, "field_changed")] == [
        ("", "Samtal med de inblandade."),
        ("Samtal med de inblandade.", "Samtal med de inblandade. Skyddsombud deltog.")]


def test_a_closed_case_is_reopened_before_its_investigation_changes(db, people, filing):
    case = filing.in_state(filing.threat(), CaseState.CLOSED)
    with pytest.raises(Conflict):
        update_case(db, people.handler, case.id, investigation="Tillägg.")
    assert case.investigation == ""


def test_a_reader_cannot_write_the_investigation(db, people, filing):
    case = filing.threat()
    with pytest.raises(Forbidden):
        update_case(db, people.safety_rep, case.id, investigation="Skyddsombudets anteckning.")
