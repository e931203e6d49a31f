"""kia.db.insert_pending: a new object graph written with the ids and keys a flush gives (on PostgreSQL in two
statements, elsewhere one INSERT per table), what `keep` reaches left in the session as if loaded and the rest let
go; never for changed objects."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, select

from kia.cases.models import Case, CaseState, Milestone, MilestoneKind, TimelineEntry
from kia.db import insert_pending
from kia.incidents.models import Incident, IncidentPerson, IncidentType, PersonCategory, PersonRole
from kia.incidents.numbering import provisional_number
from tests.conftest import record_statements

AT = datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)


def _graph(db, tree):
    kind = db.scalar(select(IncidentType).where(IncidentType.code == "victimisation"))
    pupils = [IncidentPerson(position=i, role=PersonRole.AFFECTED, category=PersonCategory.PUPIL, gender="female",
                             incident_type_id=kind.id, org_unit_id=tree["S1"].id, occurred_at=AT)
              for i in range(2)]
    incident = Incident(number=provisional_number(), incident_type=kind, org_unit=tree["S1"], occurred_at=AT,
                        known_at=AT, reported_at=AT, location="", description="Kränkning på rasten.",
                        field_values={}, persons=pupils)
    incident.cases = [Case(number=f"{incident.number}-{i}", incident_type=kind, org_unit=tree["S1"],
                           subject_person=pupil) for i, pupil in enumerate(pupils, start=1)]
    incident.cases[0].milestones.append(Milestone(kind=MilestoneKind.PRINCIPAL_NOTIFIED, at=AT, reference="KIA"))
    db.add(incident)
    entries = [TimelineEntry(case=case, actor_id=None, kind="case_created", new="received") for case in incident.cases]
    db.add_all(entries)
    return incident, entries


def test_the_graph_is_written_with_its_keys_and_kept_as_loaded(db, connection, request, tree, is_postgres):
    incident, entries = _graph(db, tree)
    statements = record_statements(connection, request)
    insert_pending(db, keep=incident)
    expected = ["incidents", "incident_persons", "cases", "case_milestones", "case_timeline"]
    if is_postgres:
        # The kept rows' ids from the sequences; then all the rows in one statement: the tables as its WITH names
        # them, parents first, each once.
        assert len(statements) == 2 and "nextval" in statements[0]
        assert re.findall(r"INSERT INTO (\w+)", statements[1]) == expected
    else:
        # Parents first; one statement a table (SQLite may send the rows of one one by one).
        tables = re.findall(r"INSERT INTO (\w+)", " ".join(s for s in statements if s.startswith("INSERT")))
        assert list(dict.fromkeys(tables)) == expected
        assert tables == sorted(tables, key=list(dict.fromkeys(tables)).index)
    # The ids a flush would give: in the order the objects were added.
    assert incident.persons[0].id < incident.persons[1].id and incident.cases[0].id < incident.cases[1].id
    assert not db.new and not db.dirty
    first, second = incident.cases
    assert inspect(incident).persistent and inspect(first).persistent and inspect(first.milestones[0]).persistent
    assert inspect(entries[0]).transient   # nothing loaded reaches it: written and let go
    assert first.subject_person_id == incident.persons[0].id and second.subject_person_id == incident.persons[1].id
    assert first.state == CaseState.RECEIVED and first.serious is False   # the columns' defaults, as a flush sets them
    db.commit()
    db.expire_all()
    stored = db.get(Incident, incident.id)
    assert [c.subject_person.position for c in stored.cases] == [0, 1]
    assert [m.kind for m in stored.cases[0].milestones] == [MilestoneKind.PRINCIPAL_NOTIFIED]
    assert db.scalars(select(TimelineEntry.case_id).where(TimelineEntry.case_id.in_([first.id, second.id]))
                      .order_by(TimelineEntry.id)).all() == [first.id, second.id]


def test_nothing_is_written_twice_by_a_later_flush(db, tree):
    incident, _ = _graph(db, tree)
    insert_pending(db, keep=incident)
    incident.cases[0].state = CaseState.ACKNOWLEDGED   # a change after: an UPDATE, not a second INSERT
    db.commit()
    assert db.scalar(select(Case.state).where(Case.id == incident.cases[0].id)) == CaseState.ACKNOWLEDGED
    assert len(db.scalars(select(Case.id).where(Case.incident_id == incident.id)).all()) == 2


def test_changed_objects_are_refused(db, tree):
    incident, _ = _graph(db, tree)
    tree["S1"].name = "Skola Ett (ny)"   # after the graph's reads, so no autoflush writes it first
    with pytest.raises(RuntimeError):
        insert_pending(db, keep=incident)
