"""A dated scenario for gallring: events of 2023 whose cases closed that year (expired by 2029), recent ones, an
open one and a held one, each carrying every kind of personal data KIA stores, attachments' files included."""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from kia.cases.models import (
    ActionStatus, Attachment, Case, CaseAction, CaseState, Comment, Milestone, MilestoneKind, TimelineEntry,
)
from kia.feedback.models import FollowUpCode, ReporterMessage
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from kia.retention.models import HoldReason, LegalHold
from tests.conftest import TZ

PERSONAL_NUMBER = "20100101-1234"
# After 2023's cases have been closed five years: every 60-month rule has run out, the 120-month ones not.
GALLRING_AT = datetime(2029, 3, 1, 2, 0, tzinfo=TZ)
_numbers = itertools.count(1)
FIELDS = {
    "threat_violence": {"threat_kind": "verbal_threat", "weapon": "none", "police_report_made": "yes",
                        "police_report_number": "K-123456-23", "injured": False},
    "victimisation": {"classification": "harassment", "discrimination_grounds": ["religion"], "forms": ["verbal"],
                      "by_staff": False, "immediate_measures": "Samtal med Olle och hans mamma."},
    "fire": {"fire_kind": "false_alarm", "evacuated": True, "damage_estimate_sek": 2000},
    "accident": {"cause": "Halkade på Kalles vattenflaska."},
}


@dataclass
class Scenario:
    expired: list[int]        # incident ids gallring takes at GALLRING_AT
    kept: list[int]           # those it leaves: recent, still open, held, or of a type kept longer
    held_case: int
    store: object             # the attachments' folder
    files: dict[int, str]     # incident id -> sha256 of its attachment


class Builder:
    def __init__(self, db, tree, handler, reporter, store):
        self.db, self.tree, self.store = db, tree, store
        self.types = {t.code: t for t in db.scalars(select(IncidentType))}
        self.handler, self.reporter = handler, reporter
        self.files: dict[int, str] = {}

    def event(self, type_code: str, unit: str, when: datetime, closed: datetime | None,
              persons=(("affected", "pupil", "female"),), state: str = "closed") -> Incident:
        kind, org_unit = self.types[type_code], self.tree[unit]
        number = f"R-{next(_numbers)}"
        incident = Incident(
            number=number, incident_type=kind, org_unit=org_unit, occurred_at=when, known_at=when,
            reported_at=when, location="Matsalen vid Olles bord", description=f"Olle Svensson ({PERSONAL_NUMBER}) "
            "hotade Kalle i matsalen.", reporter_id=self.reporter.id, field_values=dict(FIELDS.get(type_code, {})),
            persons=[IncidentPerson(position=i, role=role, category=category, gender=gender, name=f"Person {i} Olle",
                                    class_name="7B", personal_number=PERSONAL_NUMBER, incident_type_id=kind.id,
                                    org_unit_id=org_unit.id, occurred_at=when)
                     for i, (role, category, gender) in enumerate(persons)])
        case = Case(number=f"{number}-1", incident_type=kind, org_unit=org_unit, state=CaseState(state),
                    created_at=when, assignee_id=self.handler.id, closed_at=closed if state == "closed" else None,
                    investigation="Olle erkände.", closing_summary="Olle har bytt klass.", decision="Avstängd.",
                    rejection_reason="Fel typ." if state == "rejected" else "",
                    serious_checklist={"death": False})
        case.updated_at = closed or when
        incident.cases = [case]
        self.db.add(incident)
        self.db.flush()
        case.milestones = [Milestone(kind=MilestoneKind.POLICE_REPORT_MADE, at=when, reference="K-123456-23")]
        case.actions = [CaseAction(what="Samtal med Olles föräldrar", responsible_id=self.handler.id,
                                   due_date=date(when.year, 12, 31), status=ActionStatus.DONE,
                                   follow_up_note="Olle mår bättre.", created_by_id=self.handler.id)]
        content = f"Olles intyg {number}".encode()
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.store / sha256[:2] / sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.db.add_all([
            Comment(case_id=case.id, author_id=self.handler.id, body="Olle är känd sedan tidigare."),
            Attachment(case_id=case.id, filename="olle-intyg.pdf", content_type="application/pdf",
                       size=len(content), sha256=sha256, uploaded_by_id=self.handler.id),
            ReporterMessage(incident_id=incident.id, from_reporter=True, body="Olle hotade igen."),
            FollowUpCode(incident_id=incident.id, code_hash=hashlib.sha256(number.encode()).hexdigest()),
            TimelineEntry(case=case, actor_id=self.reporter.id, kind="case_created", new="received"),
            TimelineEntry(case=case, actor_id=self.handler.id, kind="state_changed", field="state",
                          old="received", new=state, note="Olle pratade med rektor."),
            TimelineEntry(case=case, actor_id=self.handler.id, kind="field_changed", field="investigation",
                          old="", new="Olle erkände."),
            TimelineEntry(case=case, actor_id=self.handler.id, kind="field_changed", field="serious",
                          old=False, new=True),
        ])
        self.db.commit()
        self.files[incident.id] = sha256
        return incident


@pytest.fixture
def scenario(db, tree, make, tmp_path) -> Scenario:
    store = tmp_path / "attachments"
    build = Builder(db, tree, make.user(("handler", "S1"), ("handler", "S2"), ("handler", "G1")),
                    make.user(("reporter", "S1"), ("reporter", "S2"), ("reporter", "G1")), store)

    def at(year, month, day, hour=10):
        return datetime(year, month, day, hour, tzinfo=TZ)

    expired, kept = [], []
    pupils = (("affected", "pupil", "female"), ("affected", "pupil", "male"), ("witness", "staff", "other"))
    staff = (("affected", "staff", "female"), ("perpetrator", "pupil", "male"))
    # 2023 in all three tertials, closed the same year (the last case on the last day of the year).
    for month, unit in ((1, "S1"), (3, "S2"), (5, "G1"), (6, "S1"), (9, "S2"), (11, "S1"), (12, "G1")):
        expired.append(build.event("threat_violence", unit, at(2023, month, 10), at(2023, month, 20), staff).id)
        expired.append(build.event("victimisation", unit, at(2023, month, 12), at(2023, 12, 31, 23), pupils).id)
    expired.append(build.event("fire", "G1", at(2023, 9, 1), None, (), state="rejected").id)
    # Kept: accidents are kept ten years; still open; closed in 2025; held for an appeal.
    kept.append(build.event("accident", "S1", at(2023, 2, 2), at(2023, 3, 1), staff).id)
    kept.append(build.event("threat_violence", "S1", at(2023, 4, 4), None, staff, state="investigating").id)
    kept.append(build.event("victimisation", "S2", at(2023, 10, 3), at(2025, 1, 10), pupils).id)
    held = build.event("victimisation", "S1", at(2023, 8, 28), at(2023, 9, 30), pupils)
    kept.append(held.id)
    db.add(LegalHold(case_id=held.cases[0].id, reason=HoldReason.APPEAL, held_by_id=build.handler.id,
                     held_at=at(2024, 1, 5)))
    db.commit()
    return Scenario(expired, kept, held.cases[0].id, store, build.files)


