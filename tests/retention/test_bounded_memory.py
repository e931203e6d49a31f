"""Gallring holds one batch at a time and never loads the texts it erases: four times as many expired events cost
about the same peak memory (loading the events as objects in one batch would take four times as much: checked by
hand, 20 MB against 6 MB)."""
from __future__ import annotations

import tracemalloc
from datetime import datetime

from sqlalchemy import func, select

from kia.cases.models import Case
from kia.db import bulk_insert
from kia.incidents.models import Incident, IncidentPerson, IncidentType
from kia.retention.gallring import run_gallring
from tests.conftest import TZ
from tests.retention.conftest import GALLRING_AT, PERSONAL_NUMBER

BATCH = 100
WHEN = datetime(2023, 3, 1, 9, tzinfo=TZ)
CLOSED = datetime(2023, 3, 20, 9, tzinfo=TZ)


def _expired_events(db, tree, count: int, start: int) -> None:
    """`count` closed 2023 threat events with a named person each, inserted in bulk (no ORM objects kept)."""
    kind = db.scalar(select(IncidentType).where(IncidentType.code == "threat_violence"))
    unit = tree["S1"]
    numbers = [f"M-{start + i}" for i in range(count)]
    bulk_insert(db, Incident.__table__, [
        {"number": n, "incident_type_id": kind.id, "org_unit_id": unit.id, "occurred_at": WHEN, "known_at": WHEN,
         "reported_at": WHEN, "location": "Korridoren", "description": "Olle hotade " + "x" * 2000,
         "reporter_id": None, "anonymous": False, "field_values": {"threat_kind": "verbal_threat"}}
        for n in numbers])
    ids = dict(db.execute(select(Incident.number, Incident.id).where(Incident.number.in_(numbers))).all())
    bulk_insert(db, IncidentPerson.__table__, [
        {"incident_id": ids[n], "incident_type_id": kind.id, "org_unit_id": unit.id, "occurred_at": WHEN,
         "position": 0, "role": "affected", "category": "staff", "gender": "female", "name": "Olle Svensson",
         "class_name": None, "personal_number": PERSONAL_NUMBER} for n in numbers])
    bulk_insert(db, Case.__table__, [
        {"number": f"{n}-1", "incident_id": ids[n], "incident_type_id": kind.id, "org_unit_id": unit.id,
         "subject_person_id": None, "state": "closed", "assignee_id": None, "serious": False, "serious_checklist": {},
         "field_values": {}, "investigation": "Olle " + "y" * 2000, "closing_summary": "", "decision": "",
         "open_actions_reason": "", "rejection_reason": "", "closed_at": CLOSED, "next_due_at": None,
         "created_at": WHEN, "updated_at": CLOSED} for n in numbers])
    db.commit()


def _peak(session_factory) -> tuple[int, int]:
    tracemalloc.start()
    try:
        result = run_gallring(session_factory, GALLRING_AT, None, batch=BATCH)
        return result.records, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_four_times_the_events_take_about_the_same_peak_memory(db, session_factory, tree):
    _expired_events(db, tree, 400, 0)
    small_count, small_peak = _peak(session_factory)
    _expired_events(db, tree, 1600, 400)
    large_count, large_peak = _peak(session_factory)
    assert (small_count, large_count) == (400, 1600)
    assert db.scalar(select(func.count()).select_from(IncidentPerson).where(
        IncidentPerson.personal_number.is_not(None), IncidentPerson.name == "Olle Svensson")) == 0
    # Holding all the events at once, the large run would need about four times the small one's peak.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
