"""Incidents inserted directly (many, at exact times) for the statistics tests."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kia.cases.models import Case, CaseState, Milestone, MilestoneKind
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from tests.conftest import TZ

_numbers = itertools.count(1)


class Incidents:
    def __init__(self, db, tree):
        self.db, self.tree = db, tree
        self.types = {t.code: t for t in db.scalars(select(IncidentType))}

    def add(self, unit: str, when: datetime, type: str = "threat_violence", n: int = 1,
            persons: tuple[tuple[str, str], ...] = (("staff", "female"),),
            states: tuple[str, ...] = ("received",), opened: datetime | None = None,
            days_to_close: int = 0, serious: bool = False, reported_to_av: bool = False,
            due: datetime | None = None) -> None:
        """`n` incidents at local time `when`, each with affected persons (category, gender) and
        one case per state in `states`, opened at `opened` (default: when it happened); closed cases
        closed `days_to_close` days later; `due`: the earliest due time of the case's obligations."""
        occurred = when.replace(tzinfo=TZ) if when.tzinfo is None else when
        opened = occurred if opened is None else opened.replace(tzinfo=TZ)
        due = None if due is None else due.replace(tzinfo=TZ)
        for _ in range(n):
            number = f"T-{next(_numbers)}"
            incident = Incident(
                number=number, incident_type=self.types[type], org_unit=self.tree[unit],
                occurred_at=occurred, known_at=occurred, description="-",
                persons=[IncidentPerson(position=i, role="affected", category=c, gender=g,
                                        incident_type_id=self.types[type].id, org_unit_id=self.tree[unit].id,
                                        occurred_at=occurred)
                         for i, (c, g) in enumerate(persons)])
            incident.cases = [Case(
                number=f"{number}-{i}", incident_type=self.types[type], org_unit=self.tree[unit],
                state=CaseState(state), created_at=opened, serious=serious, next_due_at=due,
                closed_at=opened + timedelta(days=days_to_close) if state == "closed" else None,
                milestones=[Milestone(kind=MilestoneKind.REPORTED_TO_AV, at=opened)] if reported_to_av else [])
                for i, state in enumerate(states, start=1)]
            self.db.add(incident)
        self.db.commit()  # the API's session shares the test's connection


@pytest.fixture
def incidents(db, tree) -> Incidents:
    return Incidents(db, tree)
