"""Obligations from the default rules: due times in Swedish working days, met by milestones or state,
recomputed when the case or a rule changes."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from kia.cases.models import ActionStatus, CaseAction, CaseState, Milestone, MilestoneKind
from kia.deadlines.models import DeadlineRule, Obligation, ObligationStatus
from kia.deadlines.services import resync_open_cases, sync_obligations
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

# Skärtorsdag 2026, 10:00 in Stockholm (CEST: UTC+2).
MAUNDY_THURSDAY = datetime(2026, 4, 2, 10, 0, tzinfo=TZ)


def local(value: datetime) -> str:
    return value.astimezone(TZ).isoformat()


def obligations_by_code(db, case) -> dict[str, Obligation]:
    rows = db.scalars(select(Obligation).where(Obligation.case_id == case.id, Obligation.rule_id.is_not(None)))
    return {o.rule.code: o for o in rows}


@pytest.fixture
def staff(tree, make):
    make.user(("handler", "S1"))   # a rektor to route to
    return make.actor(("reporter", "S1"))


def victimisation(known_at=MAUNDY_THURSDAY):
    return IncidentInput(
        type="victimisation", org_unit="S1", occurred_at=known_at, known_at=known_at,
        description="Eleven blev hånad.", fields={"classification": "degrading_treatment"},
        persons=[PersonInput(role="affected", category="pupil", gender="female")])


def test_victimisation_known_the_thursday_before_easter(db, staff):
    incident, _ = file_incident(db, staff, victimisation(), TZ, now=MAUNDY_THURSDAY)
    case = incident.cases[0]
    obligations = obligations_by_code(db, case)
    assert set(obligations) == {"staff_to_principal", "principal_to_principal_org", "investigation_started",
                                "acknowledged"}
    # Routed to the rektor at filing: the staff → rektor duty is met at once.
    assert obligations["staff_to_principal"].status == ObligationStatus.MET
    # Seven calendar days (Stockholm's "inom en vecka").
    assert local(obligations["principal_to_principal_org"].due_at) == "2026-04-09T10:00:00+02:00"
    # Five working days: långfredag, the weekend and annandag påsk do not count.
    assert local(obligations["investigation_started"].due_at) == "2026-04-13T23:59:59+02:00"
    # Two working days to acknowledge, from the report.
    assert local(obligations["acknowledged"].due_at) == "2026-04-08T23:59:59+02:00"
    assert local(case.next_due_at) == "2026-04-08T23:59:59+02:00"


def test_without_a_handler_the_principal_duty_stays_open(db, tree, make):
    lonely = make.actor(("reporter", "F1"))   # no handler anywhere above F1
    data = victimisation()
    data.org_unit = "F1"
    incident, _ = file_incident(db, lonely, data, TZ, now=MAUNDY_THURSDAY)
    obligation = obligations_by_code(db, incident.cases[0])["staff_to_principal"]
    assert obligation.status == ObligationStatus.OPEN
    assert local(obligation.due_at) == "2026-04-02T23:59:59+02:00"   # the same day


def test_milestones_and_state_meet_obligations_and_move_the_next_due_time(db, staff):
    incident, _ = file_incident(db, staff, victimisation(), TZ, now=MAUNDY_THURSDAY)
    case = incident.cases[0]
    later = datetime(2026, 4, 7, 9, 0, tzinfo=timezone.utc)
    case.state = CaseState.ACKNOWLEDGED
    case.milestones.append(Milestone(kind=MilestoneKind.PRINCIPAL_ORG_NOTIFIED, at=later))
    sync_obligations(db, case, TZ, later)
    db.commit()
    obligations = obligations_by_code(db, case)
    assert obligations["acknowledged"].status == ObligationStatus.MET
    assert obligations["principal_to_principal_org"].status == ObligationStatus.MET
    assert obligations["principal_to_principal_org"].met_at == later
    assert obligations["investigation_started"].status == ObligationStatus.OPEN
    assert case.next_due_at == obligations["investigation_started"].due_at


def test_serious_case_must_be_reported_to_av_within_24_hours(db, staff):
    data = IncidentInput(type="threat_violence", org_unit="S1", occurred_at=datetime(2026, 3, 10, 9, 0),
                         known_at=datetime(2026, 3, 10, 9, 30), description="Kniv.",
                         fields=dict(THREAT_FIELDS, weapon="knife"),
                         persons=[PersonInput(role="affected", category="staff", gender="male")])
    incident, _ = file_incident(db, staff, data, TZ, now=datetime(2026, 3, 10, 10, 0, tzinfo=TZ))
    case = incident.cases[0]
    assert "report_to_av" not in obligations_by_code(db, case)
    case.serious = True
    sync_obligations(db, case, TZ, datetime(2026, 3, 10, 11, 0, tzinfo=TZ))
    db.commit()
    assert local(obligations_by_code(db, case)["report_to_av"].due_at) == "2026-03-11T09:30:00+01:00"


def test_data_breach_is_due_at_imy_72_hours_after_discovery(db, staff):
    data = IncidentInput(type="data_breach", org_unit="S1", occurred_at=datetime(2026, 3, 9, 8, 0),
                         description="Fel mottagare.", fields={
                             "discovered_at": "2026-03-10T14:00", "data_categories": ["contact"],
                             "people_affected": 30, "breach_kind": "confidentiality"})
    incident, _ = file_incident(db, staff, data, TZ, now=datetime(2026, 3, 10, 15, 0, tzinfo=TZ))
    assert local(obligations_by_code(db, incident.cases[0])["report_to_imy"].due_at) == "2026-03-13T14:00:00+01:00"


def test_rule_change_recomputes_and_a_disabled_rule_cancels(db, staff):
    incident, _ = file_incident(db, staff, victimisation(), TZ, now=MAUNDY_THURSDAY)
    case = incident.cases[0]
    rule = db.scalar(select(DeadlineRule).where(DeadlineRule.code == "investigation_started"))
    rule.due_working_days = 3
    db.commit()
    assert resync_open_cases(db, TZ, MAUNDY_THURSDAY) >= 1
    assert local(obligations_by_code(db, case)["investigation_started"].due_at) == "2026-04-09T23:59:59+02:00"
    rule = db.scalar(select(DeadlineRule).where(DeadlineRule.code == "investigation_started"))
    rule.active = False
    db.commit()
    resync_open_cases(db, TZ, MAUNDY_THURSDAY)
    assert obligations_by_code(db, case)["investigation_started"].status == ObligationStatus.CANCELLED


def test_action_due_dates_are_obligations(db, staff, make):
    incident, _ = file_incident(db, staff, victimisation(), TZ, now=MAUNDY_THURSDAY)
    case = incident.cases[0]
    action = CaseAction(what="Samtal med vårdnadshavare", responsible_id=staff.user_id,
                        due_date=date(2026, 4, 3), created_by_id=staff.user_id)
    case.actions.append(action)
    db.flush()
    sync_obligations(db, case, TZ, MAUNDY_THURSDAY)
    db.commit()
    obligation = db.scalar(select(Obligation).where(Obligation.action_id == action.id))
    assert local(obligation.due_at) == "2026-04-03T23:59:59+02:00" and obligation.status == ObligationStatus.OPEN
    assert case.next_due_at == obligation.due_at   # earlier than every rule's due time
    action.status, action.completed_at = ActionStatus.DONE, MAUNDY_THURSDAY
    sync_obligations(db, case, TZ, MAUNDY_THURSDAY)
    db.commit()
    assert obligation.status == ObligationStatus.MET


def test_closing_a_case_cancels_what_is_still_open(db, staff):
    incident, _ = file_incident(db, staff, victimisation(), TZ, now=MAUNDY_THURSDAY)
    case = incident.cases[0]
    case.state = CaseState.REJECTED
    sync_obligations(db, case, TZ, MAUNDY_THURSDAY)
    db.commit()
    statuses = {code: o.status for code, o in obligations_by_code(db, case).items()}
    assert statuses["investigation_started"] == ObligationStatus.CANCELLED
    assert statuses["staff_to_principal"] == ObligationStatus.MET
    assert case.next_due_at is None
