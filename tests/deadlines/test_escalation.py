"""The escalation ladder: each step once, to the right people, stopping when the obligation is met;
two schedulers sweeping at once take every step once."""
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from kia.cases.models import CaseState, TimelineEntry
from kia.deadlines.escalation import sweep, sweep_side_by_side
from kia.deadlines.models import DeadlineRule, Escalation, EscalationStep, Obligation
from kia.deadlines.services import resync_open_cases, sync_obligations
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.outbox.models import Channel, Notification
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

FILED = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)          # a Monday
ACK_DUE = datetime(2026, 11, 25, 23, 59, 59, tzinfo=TZ)   # end of the second working day


def threat(unit="S1") -> IncidentInput:
    return IncidentInput(type="threat_violence", org_unit=unit, occurred_at=FILED - timedelta(hours=1),
                         known_at=FILED - timedelta(minutes=30), description="Hot.", fields=dict(THREAT_FIELDS),
                         persons=[PersonInput(role="affected", category="staff", gender="female")])


@pytest.fixture
def people(tree, make):
    return {
        "rektor": make.user(("handler", "S1")),
        "manager": make.user(("handler", "GRU")),       # the handler on the parent unit
        "officer": make.user(("safety_officer", "UTBF")),
        "huvudman": make.user(("principal_org", "UTBF")),
        "staff": make.actor(("reporter", "S1")),
    }


def notified(db, kind: str) -> set[int]:
    return set(db.scalars(select(Notification.user_id).where(Notification.kind == kind,
                                                             Notification.channel == Channel.EMAIL)))


def test_the_ladder_reminds_then_overdue_then_escalates_each_once(db, people):
    incident, _ = file_incident(db, people["staff"], threat(), TZ, now=FILED)
    case = incident.cases[0]
    obligation = db.scalar(select(Obligation).where(Obligation.case_id == case.id))
    assert obligation.rule.code == "acknowledged" and obligation.due_at == ACK_DUE

    assert sweep(db, FILED + timedelta(hours=1)).obligations == 0
    halfway = obligation.starts_at + (ACK_DUE - obligation.starts_at) / 2
    result = sweep(db, halfway + timedelta(minutes=1))
    assert result.steps["reminder"] == 1
    assert notified(db, "reminder") == {people["rektor"].id}
    assert sweep(db, halfway + timedelta(minutes=2)).steps["reminder"] == 0   # once

    assert sweep(db, ACK_DUE + timedelta(seconds=1)).steps["due"] == 1
    assert notified(db, "overdue") == {people["rektor"].id, people["manager"].id}

    assert sweep(db, ACK_DUE + timedelta(hours=23)).steps["escalated"] == 0
    assert sweep(db, ACK_DUE + timedelta(hours=24, seconds=1)).steps["escalated"] == 1
    assert notified(db, "escalated") == {people["officer"].id}
    assert sweep(db, ACK_DUE + timedelta(days=30)).obligations == 0

    assert db.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.obligation_id == obligation.id)) == 3
    entries = db.scalars(select(TimelineEntry.new).where(TimelineEntry.case_id == case.id,
                                                         TimelineEntry.kind == "escalation")).all()
    assert entries == ["reminder", "due", "escalated"]
    # In-app and e-mail for each recipient; the e-mail goes in the user's language.
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.case_id == case.id, Notification.channel == Channel.EMAIL,
        Notification.kind.in_(["reminder", "overdue", "escalated"]))) == 4


def test_a_met_obligation_never_escalates(db, people):
    incident, _ = file_incident(db, people["staff"], threat(), TZ, now=FILED)
    case = incident.cases[0]
    case.state = CaseState.ACKNOWLEDGED
    sync_obligations(db, case, TZ, FILED + timedelta(hours=2))
    db.commit()
    assert sweep(db, ACK_DUE + timedelta(days=5)).obligations == 0
    assert notified(db, "overdue") == set()


def test_a_disabled_rule_never_escalates_again(db, people):
    file_incident(db, people["staff"], threat(), TZ, now=FILED)
    assert sweep(db, ACK_DUE + timedelta(seconds=1)).steps["due"] == 1
    db.scalar(select(DeadlineRule).where(DeadlineRule.code == "acknowledged")).active = False
    db.commit()
    resync_open_cases(db, TZ, ACK_DUE)
    assert sweep(db, ACK_DUE + timedelta(days=2)).obligations == 0
    assert notified(db, "escalated") == set()


def test_a_late_sweep_skips_the_reminder_but_not_the_due_step(db, people):
    file_incident(db, people["staff"], threat(), TZ, now=FILED)
    result = sweep(db, ACK_DUE + timedelta(hours=1))
    assert result.steps == {"reminder": 0, "due": 1, "escalated": 0}


def test_confidential_cases_escalate_to_the_principal_organiser(db, people):
    data = threat()
    data.type, data.fields = "victimisation", {"classification": "harassment"}
    data.persons = [PersonInput(role="affected", category="pupil", gender="male")]
    file_incident(db, people["staff"], data, TZ, now=FILED)
    sweep(db, FILED + timedelta(days=30))
    escalated = notified(db, "escalated")
    assert people["huvudman"].id in escalated and people["officer"].id not in escalated


def test_a_ladder_put_back_does_not_take_its_steps_again(db, people):
    """A due time moved back restarts the ladder; the steps already taken are claimed and stay taken."""
    incident, _ = file_incident(db, people["staff"], threat(), TZ, now=FILED)
    obligation = db.scalar(select(Obligation).where(Obligation.case_id == incident.cases[0].id))
    assert sweep(db, ACK_DUE + timedelta(seconds=1)).steps["due"] == 1
    obligation = db.get(Obligation, obligation.id)
    obligation.next_step, obligation.next_step_at = EscalationStep.REMINDER, FILED + timedelta(minutes=5)
    db.flush()
    result = sweep(db, ACK_DUE + timedelta(seconds=2))
    assert result.obligations == 1 and result.steps == {"reminder": 0, "due": 0, "escalated": 0}
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "overdue", Notification.case_id == incident.cases[0].id)) == 2   # rektor, manager


@pytest.mark.parametrize("how", ["two schedulers", "one scheduler, three sweeps side by side"])
def test_sweeps_at_once_take_every_step_once(engine, is_postgres, how):
    """Real commits: two threads sweep the same obligations concurrently, or one sweep in three workers."""
    from kia.access import Actor
    from kia.orgs.models import User
    from kia.orgs.services import create_org_unit, create_user

    suffix = uuid.uuid4().hex[:6].upper()
    with Session(engine, expire_on_commit=False) as session:
        root = create_org_unit(session, f"R{suffix}", "Root", "city")
        admin = create_org_unit(session, f"A{suffix}", "Adm", "administration", root)
        school = create_org_unit(session, f"S{suffix}", "School", "unit", admin)
        create_user(session, f"h{suffix.lower()}@t.se", "H", None, [("handler", school.code)])
        staff = create_user(session, f"s{suffix.lower()}@t.se", "S", None, [("reporter", school.code)])
        actor = Actor.for_user(staff)
        case_ids = [file_incident(session, actor, threat(school.code), TZ, now=FILED)[0].cases[0].id
                    for _ in range(30)]
    barrier = threading.Barrier(2)
    results = []

    def scheduler():
        with Session(engine) as session:
            barrier.wait()
            results.append(sweep(session, ACK_DUE + timedelta(days=3), batch=7))

    if how == "two schedulers":
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        results.append(sweep_side_by_side(sessionmaker(engine), ACK_DUE + timedelta(days=3), workers=3, batch=4))
    try:
        with Session(engine) as session:
            steps = session.scalars(select(Escalation.step).join(Obligation).where(
                Obligation.case_id.in_(case_ids))).all()
            notes = session.scalars(select(Notification.dedupe_key).where(Notification.case_id.in_(case_ids))).all()
        assert sorted(steps) == sorted(["due", "escalated"] * 30)
        assert len(notes) == len(set(notes))
        assert sum(r.steps["due"] for r in results) == 30
    finally:
        with Session(engine) as session:
            from kia.incidents.models import Incident, RegistrationCounter
            session.execute(delete(Incident).where(Incident.reporter_id == staff.id))
            session.execute(delete(RegistrationCounter).where(RegistrationCounter.administration_id == admin.id))
            session.commit()
            for user in session.scalars(select(User).where(User.email.like(f"%{suffix.lower()}@t.se"))):
                session.delete(user)
            session.flush()
            for code in (school.code, admin.code, root.code):
                session.execute(delete(type(root)).where(type(root).code == code))
            session.commit()


def test_filing_tells_the_handler_and_the_informed_of_the_new_case(db, people, make):
    safety_rep = make.user(("safety_rep", "S1"))   # informed of work-environment cases by routing
    incident, _ = file_incident(db, people["staff"], threat(), TZ, now=FILED)
    assert notified(db, "new_case") == {people["rektor"].id, safety_rep.id}
    emails = db.scalars(select(Notification).where(Notification.kind == "new_case",
                                                   Notification.channel == Channel.EMAIL)).all()
    assert {n.payload["case_number"] for n in emails} == {incident.cases[0].number}


def test_a_handler_who_has_left_is_passed_over_for_the_units_other_handlers(db, people, make):
    incident, _ = file_incident(db, people["staff"], threat(), TZ, now=FILED)
    case = incident.cases[0]
    assert case.assignee_id == people["rektor"].id
    deputy = make.user(("handler", "S1"))   # a second rektor of the school, after the first
    people["rektor"].active = False         # deactivated by an admin; the case is still theirs
    db.commit()
    obligation = db.scalar(select(Obligation).where(Obligation.case_id == case.id))
    halfway = obligation.starts_at + (ACK_DUE - obligation.starts_at) / 2
    assert sweep(db, halfway + timedelta(minutes=1)).steps["reminder"] == 1
    assert notified(db, "reminder") == {deputy.id}   # not nobody
    sweep(db, ACK_DUE + timedelta(minutes=1))
    assert notified(db, "overdue") == {deputy.id, people["manager"].id}
