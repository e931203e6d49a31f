"""Gallring over a dated scenario: the expired events lose every piece of personal data (their attachments' files
too), the rest stay as they were, and the tertial statistics of the past periods give the same figures before and
after. Destroying deletes the events, and those statistics count them no longer."""
from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import func, select

from kia.cases.models import Attachment, Case, CaseAction, Comment, Milestone, TimelineEntry
from kia.feedback.models import FollowUpCode, ReporterMessage
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from kia.retention.gallring import months_before, run_gallring
from kia.retention.models import RetentionAction, RetentionRule
from kia.stats.periods import Scope
from kia.stats.services import StatisticsQuery, statistics_of
from kia.orgs.models import OrgUnit
from tests.conftest import TZ
from tests.retention.conftest import GALLRING_AT, PERSONAL_NUMBER

GROUPINGS = [(), ("type",), ("unit",), ("type", "unit"), ("gender",), ("person_category",), ("type", "gender"),
             ("state",), ("category", "person_category")]


def figures(db) -> dict:
    """Every tertial of 2023, period and year to date, in every grouping, with the comparisons and case figures."""
    root = db.scalar(select(OrgUnit).where(OrgUnit.code == "UTBF"))
    out = {}
    for tertial in (1, 2, 3):
        for scope in ("period", "ytd"):
            for group_by in GROUPINGS:
                query = StatisticsQuery(year=2023, tertial=tertial, org_unit="UTBF", scope=Scope(scope),
                                        group_by=group_by, compare=("previous", "last_year"))
                report = statistics_of(db, root, query, TZ, threshold=1, now=GALLRING_AT)
                out[(tertial, scope, group_by)] = (
                    [asdict(r) for r in report.rows], asdict(report.total),
                    {k: [asdict(r) for r in rows] for k, rows in report.subtotals.items()})
    return out


def run(session_factory, scenario, **kwargs):
    return run_gallring(session_factory, GALLRING_AT, scenario.store, **kwargs)


def test_past_tertials_give_the_same_figures_before_and_after(db, session_factory, scenario):
    before = figures(db)
    assert before[(3, "ytd", ())][1]["count"]["value"] == len(scenario.expired) + len(scenario.kept)
    result = run(session_factory, scenario)
    assert result.records == len(scenario.expired)
    db.expire_all()
    assert figures(db) == before


def test_expired_events_lose_their_personal_data(db, session_factory, scenario):
    result = run(session_factory, scenario)
    assert result.counts == {"threat_violence": {"anonymised": 7, "destroyed": 0, "files": 7},
                             "victimisation": {"anonymised": 7, "destroyed": 0, "files": 7},
                             "fire": {"anonymised": 1, "destroyed": 0, "files": 1}}
    db.expire_all()
    for incident in db.scalars(select(Incident).where(Incident.id.in_(scenario.expired))):
        assert incident.anonymised_at == GALLRING_AT
        assert (incident.description, incident.location, incident.reporter_id) == ("", "", None)
        assert incident.number.startswith("R-") and incident.occurred_at.year == 2023   # the register entry stays
        values = incident.field_values
        assert "police_report_number" not in values and "immediate_measures" not in values   # text, sensitive
        assert "discrimination_grounds" not in values                                       # sensitive choice
        if incident.incident_type.code == "threat_violence":
            assert values == {"threat_kind": "verbal_threat", "weapon": "none", "police_report_made": "yes",
                              "injured": False}
        for person in incident.persons:
            assert (person.name, person.class_name, person.personal_number) == (None, None, None)
            assert person.gender and person.category and person.role
        [case] = incident.cases
        assert (case.investigation, case.closing_summary, case.decision, case.rejection_reason) == ("",) * 4
        assert case.state in ("closed", "rejected") and case.serious_checklist == {"death": False}
        assert [m.reference for m in case.milestones] == [""] and case.milestones[0].kind == "police_report_made"
        assert [(a.what, a.follow_up_note, a.status) for a in case.actions] == [("", "", "done")]
        entries = db.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id)
                             .order_by(TimelineEntry.id)).all()
        assert [(e.kind, e.old, e.new, e.note) for e in entries] == [
            ("case_created", None, "received", ""), ("state_changed", "received", case.state, ""),
            ("field_changed", None, None, ""), ("field_changed", False, True, "")]
        assert entries[0].actor_id is None   # who reported it is gone too
        assert not (scenario.store / scenario.files[incident.id][:2] / scenario.files[incident.id]).exists()
    expired = Case.incident_id.in_(scenario.expired)
    case_ids = select(Case.id).where(expired)
    for model in (Comment, Attachment):
        assert db.scalar(select(func.count()).select_from(model).where(model.case_id.in_(case_ids))) == 0
    for model in (ReporterMessage, FollowUpCode):
        assert db.scalar(select(func.count()).select_from(model)
                         .where(model.incident_id.in_(scenario.expired))) == 0


def test_nothing_of_the_kept_events_changes(db, session_factory, scenario):
    run(session_factory, scenario)
    db.expire_all()
    for incident in db.scalars(select(Incident).where(Incident.id.in_(scenario.kept))):
        assert incident.anonymised_at is None
        assert "Olle" in incident.description and incident.reporter_id is not None
        assert all(p.personal_number == PERSONAL_NUMBER for p in incident.persons)
        assert incident.cases[0].investigation == "Olle erkände."
        assert (scenario.store / scenario.files[incident.id][:2] / scenario.files[incident.id]).exists()
    assert db.scalar(select(func.count()).select_from(Comment).where(Comment.case_id.in_(
        select(Case.id).where(Case.incident_id.in_(scenario.kept))))) == len(scenario.kept)


def test_a_second_run_finds_nothing_more(session_factory, scenario):
    assert run(session_factory, scenario).records == len(scenario.expired)
    assert run(session_factory, scenario).counts == {}


@pytest.mark.parametrize("batch", [1, 3])
def test_small_batches_take_them_all(db, session_factory, scenario, batch):
    assert run(session_factory, scenario, batch=batch).records == len(scenario.expired)
    assert db.scalar(select(func.count()).select_from(Incident).where(Incident.anonymised_at.is_not(None))) \
        == len(scenario.expired)


def test_a_longer_rule_keeps_them_and_a_shorter_takes_more(db, session_factory, scenario):
    victimisation = db.scalar(select(RetentionRule).join(IncidentType).where(IncidentType.code == "victimisation"))
    victimisation.months = 120
    accident = db.scalar(select(RetentionRule).join(IncidentType).where(IncidentType.code == "accident"))
    accident.months = 24
    db.commit()
    counts = run(session_factory, scenario).counts
    assert "victimisation" not in counts and counts["accident"]["anonymised"] == 1


def test_destroy_deletes_the_events_and_past_statistics_count_them_no_longer(db, session_factory, scenario):
    fire = db.scalar(select(RetentionRule).join(IncidentType).where(IncidentType.code == "fire"))
    fire.action = RetentionAction.DESTROY
    db.commit()
    before = figures(db)
    result = run(session_factory, scenario)
    assert result.counts["fire"] == {"anonymised": 0, "destroyed": 1, "files": 1}
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Incident).join(IncidentType)
                     .where(IncidentType.code == "fire")) == 0
    after = figures(db)
    assert after[(3, "period", ())][1]["count"]["value"] == before[(3, "period", ())][1]["count"]["value"] - 1
    assert after[(1, "period", ())] == before[(1, "period", ())]   # the tertials without a fire keep theirs


def test_an_attachment_file_shared_with_a_kept_case_stays(db, session_factory, scenario):
    kept_case = db.scalar(select(Case).where(Case.incident_id == scenario.kept[0]))
    expired_sha = scenario.files[scenario.expired[0]]
    db.add(Attachment(case_id=kept_case.id, filename="kopia.pdf", content_type="application/pdf", size=1,
                      sha256=expired_sha, uploaded_by_id=kept_case.assignee_id))
    db.commit()
    run(session_factory, scenario)
    assert (scenario.store / expired_sha[:2] / expired_sha).exists()


def test_months_before_keeps_the_time_and_the_month_end():
    from datetime import datetime

    assert months_before(datetime(2029, 3, 31, 2, tzinfo=TZ), 1) == datetime(2029, 2, 28, 2, tzinfo=TZ)
    assert months_before(datetime(2029, 3, 1, tzinfo=TZ), 60) == datetime(2024, 3, 1, tzinfo=TZ)
    assert months_before(datetime(2029, 1, 15, tzinfo=TZ), 13) == datetime(2027, 12, 15, tzinfo=TZ)


def test_a_related_case_of_a_type_kept_longer_keeps_its_event(db, session_factory, scenario):
    """A pupil's injury case (kept ten years) added to a 2023 threat event keeps the whole event in 2029."""
    threat = db.get(Incident, scenario.expired[0])
    injury = db.scalar(select(IncidentType).where(IncidentType.code == "pupil_injury"))
    [first] = threat.cases
    db.add(Case(number=f"{threat.number}-2", incident_id=threat.id, incident_type=injury, org_unit=threat.org_unit,
                state="closed", created_at=first.created_at, closed_at=first.closed_at, updated_at=first.closed_at))
    db.commit()
    result = run(session_factory, scenario)
    assert result.counts["threat_violence"]["anonymised"] == 6
    db.expire_all()
    assert db.get(Incident, threat.id).anonymised_at is None


def test_a_related_case_of_a_type_without_a_rule_keeps_its_event(db, session_factory, scenario):
    threat = db.get(Incident, scenario.expired[0])
    own = IncidentType(code="own_kind", name_sv="Egen", name_en="Own", category="safety")
    db.add(own)
    db.flush()
    [first] = threat.cases
    db.add(Case(number=f"{threat.number}-2", incident_id=threat.id, incident_type=own, org_unit=threat.org_unit,
                state="closed", created_at=first.created_at, closed_at=first.closed_at, updated_at=first.closed_at))
    db.commit()
    assert run(session_factory, scenario).counts["threat_violence"]["anonymised"] == 6
