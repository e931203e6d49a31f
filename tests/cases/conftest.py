"""The people around a school, and cases filed through the real filing service, for the case tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from kia.access import Actor
from kia.cases.models import Case, CaseState, TimelineEntry
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

OCCURRED = datetime(2026, 3, 10, 9, 30)   # local time


@dataclass
class People:
    handler: Actor          # rektor of S1
    safety_rep: Actor       # skyddsombud of S1
    safety_officer: Actor   # säkerhetssamordnare of UTBF
    principal_org: Actor    # huvudman: UTBF
    reporter: Actor         # staff of S1
    other_handler: Actor    # rektor of S2, a sibling school
    admin: Actor            # systemförvaltare of the city


@pytest.fixture
def people(tree, make) -> People:
    # The handler first: routing gives new cases to the nearest one, and that must be this one.
    return People(handler=make.actor(("handler", "S1")), safety_rep=make.actor(("safety_rep", "S1")),
                  safety_officer=make.actor(("safety_officer", "UTBF")),
                  principal_org=make.actor(("principal_org", "UTBF")), reporter=make.actor(("reporter", "S1")),
                  other_handler=make.actor(("handler", "S2")), admin=make.actor(("admin", "STHLM")))


class Filing:
    """Files incidents as the reporter and returns their cases."""

    def __init__(self, db, people: People):
        self.db, self.people = db, people

    def file(self, type: str, fields: dict, persons: list[PersonInput], org_unit: str = "S1",
             reporter: Actor | None = None) -> list[Case]:
        data = IncidentInput(type=type, org_unit=org_unit, occurred_at=OCCURRED, description="Det hände.",
                             fields=fields, persons=persons)
        incident, _ = file_incident(self.db, reporter or self.people.reporter, data, TZ)
        return list(incident.cases)

    def threat(self, **kwargs) -> Case:
        return self.file("threat_violence", dict(THREAT_FIELDS),
                         [PersonInput(role="affected", category="staff", gender="female", name="Anna Lärare")],
                         **kwargs)[0]

    def pupil_injury(self, **kwargs) -> Case:
        return self.file("pupil_injury", {"injury_kind": "fracture", "body_part": "arm_hand"},
                         [PersonInput(role="affected", category="pupil", gender="male")], **kwargs)[0]

    def fire(self) -> Case:
        return self.file("fire", {"fire_kind": "fire"}, [])[0]

    def victimisation(self, pupils: int = 1, **kwargs) -> list[Case]:
        persons = [PersonInput(role="affected", category="pupil", gender="female", name=f"Elev {i}",
                               personal_number="20121212-1212") for i in range(pupils)]
        return self.file("victimisation", {"classification": "harassment"}, persons, **kwargs)

    def in_state(self, case: Case, state: CaseState) -> Case:
        """Put a case in a state directly (what the workflow would take several steps to reach)."""
        case.state = state
        self.db.commit()
        return case


@pytest.fixture
def filing(db, people) -> Filing:
    return Filing(db, people)


def timeline(db, case: Case, kind: str | None = None) -> list[tuple]:
    """(kind, field, old, new, actor_id, note) of the case's entries, oldest first."""
    query = select(TimelineEntry).where(TimelineEntry.case_id == case.id).order_by(TimelineEntry.id)
    entries = db.scalars(query).all()
    return [(e.kind, e.field, e.old, e.new, e.actor_id, e.note) for e in entries if kind is None or e.kind == kind]


def errors_of(excinfo) -> dict[str, list[str]]:
    return {path: [m.text for m in msgs] for path, msgs in excinfo.value.errors.items()}
