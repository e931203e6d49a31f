"""The read log: every way of opening a case is logged with the read, auditors review their subtree's log per case
and per user, and the database refuses any change or deletion of it (the read_log migration's trigger)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from kia.access import Actor
from kia.cases.attachments import AttachmentStore, add_attachment, open_attachment
from kia.cases.models import AccessLogEntry
from kia.cases.read_log import AccessLogFilter, list_access_log, subject_hash
from kia.cases.services import read_case, read_timeline, reveal_personal_number
from kia.cases.work import read_comments
from kia.errors import Forbidden, NotFound
from kia.incidents.services import PersonInput, get_incident
from kia.orgs.models import User
from kia.retention.gallring import destroy
from tests.factories import THREAT_FIELDS


def logged(db) -> list[tuple]:
    return [(e.user_id, e.action, e.case_id, e.incident_id, e.org_unit_id) for e in
            db.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))]


def test_every_way_of_opening_a_case_is_one_row_of_the_read_log(db, people, filing, tree, tmp_path):
    case = filing.file("threat_violence", dict(THREAT_FIELDS), [PersonInput(
        role="affected", category="staff", gender="female", name="Anna Lärare", personal_number="19900101-0009")])[0]
    store = AttachmentStore(tmp_path)
    attachment = add_attachment(db, people.handler, store, case.id, io.BytesIO(b"%PDF-1.4 x"), "bilaga.pdf", 1000)
    before = len(logged(db))
    handler = people.handler.user_id
    read_case(db, people.handler, case.id)                       # the case page, and GET /api/v1/cases/<id>
    read_timeline(db, people.safety_rep, case.id)
    open_attachment(db, people.safety_rep, store, case.id, attachment.id)
    assert reveal_personal_number(db, people.handler, case.id, case.incident.persons[0].id) == "19900101-0009"
    get_incident(db, people.principal_org, case.incident_id)     # GET /api/v1/incidents/<id>
    read_comments(db, people.safety_rep, case.id)                # GET /api/v1/cases/<id>/comments
    s1 = tree["S1"].id
    assert logged(db)[before:] == [
        (handler, "read", case.id, case.incident_id, s1),
        (people.safety_rep.user_id, "read_timeline", case.id, case.incident_id, s1),
        (people.safety_rep.user_id, "download", case.id, case.incident_id, s1),
        (handler, "reveal_personal_number", case.id, case.incident_id, s1),
        (people.principal_org.user_id, "read_incident", None, case.incident_id, s1),
        (people.safety_rep.user_id, "read_comments", case.id, case.incident_id, s1)]
    assert "19900101" not in " ".join(e.detail for e in db.scalars(select(AccessLogEntry)))


def test_an_auditor_reviews_the_reads_of_their_subtree_per_case_and_per_user(db, make, people, filing):
    threat, fire = filing.threat(), filing.pupil_injury()
    read_case(db, people.handler, threat.id)
    read_case(db, people.safety_officer, fire.id)
    get_incident(db, people.principal_org, threat.incident_id)
    auditor = make.actor(("auditor", "UTBF"))
    rows, cursor = list_access_log(db, auditor, AccessLogFilter())
    assert [(r.entry.action, r.case_number) for r in rows] == [
        ("read_incident", None), ("read", fire.number), ("read", threat.number)] and cursor is None
    per_case, _ = list_access_log(db, auditor, AccessLogFilter(case_id=threat.id))
    assert [(r.entry.action, r.entry.user_id) for r in per_case] == [   # the API read of its event too
        ("read_incident", people.principal_org.user_id), ("read", people.handler.user_id)]
    per_user, _ = list_access_log(db, auditor, AccessLogFilter(user_id=people.safety_officer.user_id))
    assert [r.case_number for r in per_user] == [fire.number]
    page, cursor = list_access_log(db, auditor, AccessLogFilter(limit=2))
    assert len(page) == 2 and [r.case_number for r in list_access_log(
        db, auditor, AccessLogFilter(cursor=cursor, limit=2))[0]] == [threat.number]
    assert list_access_log(db, make.actor(("auditor", "HAGALV")), AccessLogFilter())[0] == []


def test_only_auditors_and_admins_with_the_admin_scope_review_the_log(db, make, people):
    auditor = make.user(("auditor", "UTBF"))
    for actor in (people.handler, people.principal_org, make.actor(("data_protection_officer", "STHLM")),
                  make.actor(("analyst", "STHLM")), Actor.for_user(auditor, frozenset({"cases:read"}))):
        with pytest.raises(Forbidden):
            list_access_log(db, actor, AccessLogFilter())
    list_access_log(db, Actor.for_user(auditor, frozenset({"admin"})), AccessLogFilter())


def test_neither_new_role_reads_cases(db, make, filing, people):
    case = filing.threat()
    for role in ("auditor", "data_protection_officer"):
        with pytest.raises(NotFound):
            read_case(db, make.actor((role, "STHLM")), case.id)


def test_a_search_naming_no_unit_is_reviewed_from_the_root_only(db, make, people, tree):
    searcher = make.user(("data_protection_officer", "STHLM"))
    db.add(AccessLogEntry(user_id=searcher.id, action="subject_access_search", detail="0 found",
                          subject_hash=subject_hash("k", "19900101-0009")))
    db.commit()
    assert [r.entry.action for r in list_access_log(db, make.actor(("auditor", "STHLM")), AccessLogFilter())[0]] \
        == ["subject_access_search"]
    assert list_access_log(db, make.actor(("auditor", "UTBF")), AccessLogFilter())[0] == []


def refused(db, statement) -> bool:
    try:
        with db.begin_nested():
            db.execute(statement)
    except DBAPIError as error:
        return "never changed or deleted" in str(error)
    return False


def test_the_database_refuses_to_change_or_delete_the_log(db, people, filing):
    case = filing.threat()
    read_case(db, people.handler, case.id)
    assert refused(db, update(AccessLogEntry).values(action="nothing"))
    assert refused(db, delete(AccessLogEntry))
    assert refused(db, text("UPDATE access_log SET user_id = user_id"))
    assert refused(db, text("DELETE FROM access_log WHERE case_id = :id").bindparams(id=case.id))
    assert [e.action for e in db.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case.id))] == ["read"]


def test_a_destroyed_case_leaves_its_reads_behind(db, people, filing):
    """Gallring's destroy deletes the event and its cases; the log has no foreign key that would cascade into it."""
    case = filing.threat()
    read_case(db, people.handler, case.id)
    number, case_id, incident_id = case.number, case.id, case.incident_id
    destroy(db, [incident_id])
    db.commit()
    db.expire_all()
    auditor = Actor.for_user(db.get(User, people.admin.user_id))
    rows, _ = list_access_log(db, auditor, AccessLogFilter(user_id=people.handler.user_id))
    assert [(r.entry.case_id, r.case_number) for r in rows] == [(case_id, None)] and number


def test_a_read_costs_one_insert(db, people, filing, connection, request):
    from tests.conftest import record_statements
    case = filing.threat()
    statements = record_statements(connection, request)
    read_case(db, people.handler, case.id)
    writes = [s.split("(")[0].strip() for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE",
                                                                                          "DELETE"))]
    assert writes == ["INSERT INTO access_log"]
