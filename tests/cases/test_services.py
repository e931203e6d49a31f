"""Reading cases: scope, the access log of sensitive reads, the inbox's filters, sorting and pages, related
cases, and the admins' review of the access log."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kia.access import Actor
from kia.cases.models import AccessLogEntry, Case, CaseLink, CaseState
from kia.cases.read_log import AccessLogFilter, list_access_log
from kia.cases.services import CaseFilter, get_case, list_cases, read_case, read_timeline
from kia.errors import Forbidden, InvalidQuery, NotFound
from kia.incidents.models import IncidentType
from kia.orgs.models import User
from tests.cases.conftest import errors_of

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def log_of(db, case) -> list[tuple[int, str]]:
    return list(db.execute(select(AccessLogEntry.user_id, AccessLogEntry.action)
                           .where(AccessLogEntry.case_id == case.id).order_by(AccessLogEntry.id)))


def numbers(cases) -> list[str]:
    return [c.number for c in cases]


# ---- one case -------------------------------------------------------------------------------------

def test_a_case_out_of_scope_is_not_found(db, people, filing):
    case = filing.threat()
    with pytest.raises(NotFound):
        get_case(db, people.other_handler, case.id)
    with pytest.raises(NotFound):
        get_case(db, people.handler, case.id + 1000)


def test_a_safety_rep_reads_the_units_work_environment_cases_but_never_a_victimisation_case(db, people, filing):
    threat, victimisation, fire = filing.threat(), filing.victimisation()[0], filing.fire()
    assert get_case(db, people.safety_rep, threat.id) is threat
    for case in (victimisation, fire):
        with pytest.raises(NotFound):
            get_case(db, people.safety_rep, case.id)
    assert numbers(list_cases(db, people.safety_rep, CaseFilter())[0]) == [threat.number]


def test_the_safety_officer_reads_non_confidential_cases_of_the_administration_only(db, people, filing):
    threat, victimisation = filing.threat(), filing.victimisation()[0]
    assert get_case(db, people.safety_officer, threat.id) is threat
    with pytest.raises(NotFound):
        get_case(db, people.safety_officer, victimisation.id)


def test_every_read_of_a_case_is_logged_sensitive_or_not(db, people, filing):
    threat, victimisation, serious = filing.threat(), filing.victimisation()[0], filing.pupil_injury()
    serious.serious = True
    db.commit()
    get_case(db, people.handler, threat.id)
    get_case(db, people.handler, victimisation.id)
    get_case(db, people.principal_org, victimisation.id)
    read_timeline(db, people.safety_officer, serious.id)
    assert log_of(db, threat) == [(people.handler.user_id, "read")]
    assert log_of(db, victimisation) == [(people.handler.user_id, "read"), (people.principal_org.user_id, "read")]
    assert log_of(db, serious) == [(people.safety_officer.user_id, "read_timeline")]


def test_the_log_entry_is_committed_with_the_read_itself(db, people, filing):
    case = filing.victimisation()[0]
    read_case(db, people.handler, case.id)
    db.rollback()   # whatever else the request did fails afterwards
    assert log_of(db, case) == [(people.handler.user_id, "read")]


def test_a_read_out_of_scope_is_not_logged(db, people, filing):
    case = filing.victimisation()[0]
    with pytest.raises(NotFound):
        get_case(db, people.safety_rep, case.id)
    assert log_of(db, case) == []


def test_related_cases_are_those_of_the_incident_and_the_linked_ones_the_reader_may_see(db, people, filing):
    threat, other_threat = filing.threat(), filing.threat()
    pupil_case = Case(number=threat.number[:-1] + "2", incident=threat.incident, org_unit=threat.org_unit,
                      incident_type=db.scalar(select(IncidentType).where(IncidentType.code == "victimisation")))
    db.add_all([pupil_case, CaseLink(case_id=threat.id, linked_case_id=other_threat.id,
                                     created_by_id=people.handler.user_id)])
    db.commit()
    as_handler = read_case(db, people.handler, threat.id)
    assert [(r.case.number, r.relation) for r in as_handler.related] == [
        (other_threat.number, "linked"), (pupil_case.number, "same_incident")]
    as_safety_rep = read_case(db, people.safety_rep, threat.id)
    assert [r.case.number for r in as_safety_rep.related] == [other_threat.number]
    assert not as_safety_rep.may_handle and as_safety_rep.next_states == []
    assert as_handler.may_handle and as_handler.next_states == [CaseState.ACKNOWLEDGED, CaseState.REJECTED]


def test_pupils_of_one_victimisation_incident_see_each_others_cases(db, people, filing):
    first, second = filing.victimisation(pupils=2)
    assert [r.case for r in read_case(db, people.handler, first.id).related] == [second]


# ---- the inbox ------------------------------------------------------------------------------------

@pytest.fixture
def inbox(db, make, people, filing):
    """Cases across the administration, with due times relative to NOW (None: nothing due)."""
    staff = make.actor(("reporter", "UTBF"))
    s1 = filing.threat()
    s1_ack = filing.in_state(filing.threat(), CaseState.ACKNOWLEDGED)
    s2 = filing.threat(org_unit="S2", reporter=staff)
    g1_fire = filing.file("fire", {"fire_kind": "arson"}, [], org_unit="G1", reporter=staff)[0]
    s1_closed = filing.in_state(filing.pupil_injury(), CaseState.CLOSED)
    s1_victim = filing.victimisation()[0]
    due = {s1: -2, s1_ack: None, s2: 3, g1_fire: -1, s1_closed: -5, s1_victim: 1}
    for case, hours in due.items():
        case.next_due_at = None if hours is None else NOW + timedelta(hours=hours)
    s2.serious = True
    db.commit()
    return dict(s1=s1, s1_ack=s1_ack, s2=s2, g1_fire=g1_fire, s1_closed=s1_closed, s1_victim=s1_victim)


def listed(db, actor: Actor, **filters) -> list[str]:
    return numbers(list_cases(db, actor, CaseFilter(**filters), now=NOW)[0])


def test_the_reporter_lists_no_cases_not_even_those_of_their_own_reports(db, people, inbox):
    assert listed(db, people.reporter) == []   # their view of their reports is kia.feedback


@pytest.mark.parametrize("filters, expected", [
    ({}, ["s1_closed", "s1", "g1_fire", "s2", "s1_ack"]),
    ({"state": ["received"]}, ["s1", "g1_fire", "s2"]),
    ({"state": ["acknowledged", "closed"]}, ["s1_closed", "s1_ack"]),
    ({"state": ["open"]}, ["s1", "g1_fire", "s2", "s1_ack"]),
    ({"type": "fire"}, ["g1_fire"]),
    ({"org_unit": "GRU"}, ["s1_closed", "s1", "s2", "s1_ack"]),
    ({"org_unit": "G1"}, ["g1_fire"]),
    ({"serious": True}, ["s2"]),
    ({"serious": False, "org_unit": "S1"}, ["s1_closed", "s1", "s1_ack"]),
    ({"overdue": True}, ["s1", "g1_fire"]),   # the closed case's old due time does not count
    ({"overdue": False}, ["s1_closed", "s2", "s1_ack"]),
    ({"state": ["open"], "overdue": True, "org_unit": "GRU"}, ["s1"]),
])
def test_the_safety_officers_inbox_filters(db, people, inbox, filters, expected):
    assert listed(db, people.safety_officer, **filters) == numbers(inbox[name] for name in expected)


def test_assigned_to_me(db, people, inbox):
    assert listed(db, people.handler, assigned="me", state=["open"]) == numbers(
        inbox[n] for n in ("s1", "s1_victim", "s1_ack"))
    assert listed(db, people.safety_officer, assigned="me") == []


SORT_KEYS = {
    "due": lambda c: (c.next_due_at is None, c.next_due_at and c.next_due_at.timestamp(), c.id),
    "-due": lambda c: (c.next_due_at is None, c.next_due_at and -c.next_due_at.timestamp(), -c.id),
    "reported": lambda c: (c.created_at, c.id),
    "-reported": lambda c: (-c.created_at.timestamp(), -c.id),
    "number": lambda c: c.number,
}


def test_due_is_the_default_order(db, people, inbox):
    assert listed(db, people.safety_officer) == numbers(
        inbox[n] for n in ("s1_closed", "s1", "g1_fire", "s2", "s1_ack"))


@pytest.mark.parametrize("sort", ["due", "-due", "reported", "-reported", "number", "-number"])
def test_sorting_and_every_page_in_turn(db, people, inbox, sort):
    visible = [c for name, c in inbox.items() if name != "s1_victim"]
    expected = sorted(visible, key=SORT_KEYS[sort.lstrip("-") if sort == "-number" else sort],
                      reverse=sort == "-number")
    pages, cursor = [], None
    while True:
        page, cursor = list_cases(db, people.safety_officer, CaseFilter(sort=sort, limit=2, cursor=cursor), now=NOW)
        pages.append(numbers(page))
        if cursor is None:
            break
    assert [n for page in pages for n in page] == numbers(expected)
    assert [len(p) for p in pages] == [2, 2, 1]


def test_due_puts_cases_without_a_due_time_last_whatever_the_direction(db, people, inbox):
    assert listed(db, people.safety_officer, sort="due")[-1] == inbox["s1_ack"].number
    assert listed(db, people.safety_officer, sort="-due")[-1] == inbox["s1_ack"].number


@pytest.mark.parametrize("filters, path", [
    ({"state": ["open", "done"]}, "state"),
    ({"type": "nope"}, "type"),
    ({"org_unit": "NOPE"}, "org_unit"),
    ({"assigned": "someone"}, "assigned"),
    ({"sort": "colour"}, "sort"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_bad_filters_are_invalid_queries(db, people, inbox, filters, path):
    with pytest.raises(InvalidQuery) as excinfo:
        list_cases(db, people.safety_officer, CaseFilter(**filters), now=NOW)
    assert list(errors_of(excinfo)) == [path]


def test_a_cursor_is_only_good_for_its_own_sort_order(db, people, inbox):
    _, cursor = list_cases(db, people.safety_officer, CaseFilter(sort="due", limit=1), now=NOW)
    with pytest.raises(InvalidQuery):
        list_cases(db, people.safety_officer, CaseFilter(sort="number", cursor=cursor), now=NOW)


# ---- the access log -------------------------------------------------------------------------------

def test_admins_review_the_reads_of_sensitive_cases_in_their_subtree(db, make, people, filing):
    first, second = filing.victimisation(), filing.victimisation()
    get_case(db, people.handler, first[0].id)
    get_case(db, people.principal_org, second[0].id)
    rows, cursor = list_access_log(db, people.admin, AccessLogFilter())
    assert [(r.case_number, r.user_name, r.entry.action) for r in rows] == [
        (second[0].number, db.get(User, people.principal_org.user_id).name, "read"),
        (first[0].number, db.get(User, people.handler.user_id).name, "read")]
    assert cursor is None
    only_first, _ = list_access_log(db, people.admin, AccessLogFilter(case_id=first[0].id))
    assert [r.case_number for r in only_first] == [first[0].number]
    page, cursor = list_access_log(db, people.admin, AccessLogFilter(limit=1))
    assert len(page) == 1 and list_access_log(db, people.admin, AccessLogFilter(cursor=cursor))[0][0].case_number \
        == first[0].number

    other_admin = make.actor(("admin", "HAGALV"))
    assert list_access_log(db, other_admin, AccessLogFilter())[0] == []


def test_only_admins_with_the_admin_scope_review_the_access_log(db, people):
    for actor in (people.handler, people.principal_org,
                  Actor.for_user(db.get(User, people.admin.user_id), frozenset({"cases:read"}))):
        with pytest.raises(Forbidden):
            list_access_log(db, actor, AccessLogFilter())
