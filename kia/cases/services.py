"""Reading cases: one case (every read written to the read log, kia.cases.read_log) and the inbox list."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kia.access import (
    HANDLES_INCIDENTS, Actor, case_visibility, may_handle_case, may_see_personal_data, roles_taking_on, subtree_ids,
)
from kia.cases.lookup import visible_case
from kia.cases.models import OPEN_STATES, Case, CaseLink, CaseState, CaseWatcher, TimelineEntry
from kia.cases.read_log import log_case_read
from kia.cases.workflow import next_states
from kia.db import as_id, aware, utcnow
from kia.errors import N_, FieldErrors, Forbidden, InvalidQuery, Msg, NotFound
from kia.incidents.models import IncidentPerson, IncidentType
from kia.orgs.models import Membership, OrgUnit, User

OPEN = "open"   # the state filter's name for every open state at once


def get_case(session: Session, actor: Actor, case_id: int, action: str = "read") -> Case:
    """The case if `actor` may read it (404 otherwise). Every read is written to the read log."""
    case = visible_case(session, actor, case_id)
    log_case_read(session, actor, case, action)
    return case


@dataclass
class RelatedCase:
    case: Case
    relation: str   # same_incident, linked


@dataclass
class CaseView:
    """A case with what its page shows beside it, each part already limited to what the actor may see."""

    case: Case
    related: list[RelatedCase]
    watchers: list[CaseWatcher]
    may_handle: bool
    next_states: list[CaseState]


def read_case(session: Session, actor: Actor, case_id: int) -> CaseView:
    case = get_case(session, actor, case_id)
    handles = may_handle_case(actor, case)
    watchers = session.scalars(select(CaseWatcher).where(CaseWatcher.case_id == case.id)
                               .order_by(CaseWatcher.id)).all()
    return CaseView(case, related_cases(session, actor, case), list(watchers), handles,
                    next_states(session, case) if handles else [])


def related_cases(session: Session, actor: Actor, case: Case) -> list[RelatedCase]:
    """The other cases of the same incident and the manually linked ones – only those `actor` may read
    (a threat case must not reveal the pupil's kränkning case of the same fight to a skyddsombud)."""
    # The candidates' ids as one UNION, not `incident_id = … OR id IN (…)`: PostgreSQL cannot use an index
    # for that OR and walked every case (40 ms at 200,000 cases); this is a few index lookups.
    candidate_ids = select(Case.id).where(Case.incident_id == case.incident_id).union(
        select(CaseLink.linked_case_id).where(CaseLink.case_id == case.id),
        select(CaseLink.case_id).where(CaseLink.linked_case_id == case.id))
    rows = session.scalars(select(Case).where(
        Case.id != case.id, case_visibility(actor), Case.id.in_(candidate_ids),
    ).order_by(Case.id)).all()
    return [RelatedCase(c, "same_incident" if c.incident_id == case.incident_id else "linked") for c in rows]


def read_timeline(session: Session, actor: Actor, case_id: int) -> tuple[Case, list[TimelineEntry]]:
    """The timeline holds the case's texts old → new, so reading it is logged like reading the case."""
    case = get_case(session, actor, case_id, action="read_timeline")
    return case, case_timeline(session, case, actor)


# Timeline fields whose value is another case's number (kia.cases.related).
NAMES_ANOTHER_CASE = {"links", "related_cases", "related_to"}


def case_timeline(session: Session, case: Case, actor: Actor) -> list[TimelineEntry]:
    """The entries of a case already read through get_case (the case page: one read, one log entry). An entry
    naming a case the actor may not read (a link, a related case) is left out, as that case is of the related
    cases: its number would tell a skyddsombud that the threat they follow has a kränkning case beside it."""
    entries = list(session.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id)
                                   .options(selectinload(TimelineEntry.actor)).order_by(TimelineEntry.id)))
    named = {entry.new or entry.old for entry in entries if entry.field in NAMES_ANOTHER_CASE}
    if not named:
        return entries
    readable = set(session.scalars(select(Case.number).where(Case.number.in_(named), case_visibility(actor))))
    return [entry for entry in entries
            if entry.field not in NAMES_ANOTHER_CASE or (entry.new or entry.old) in readable]


def reveal_personal_number(session: Session, actor: Actor, case_id: int, person_id: int) -> str | None:
    """The unmasked personal number of a person in the case's incident, for the handler chain only; every
    reveal is written to the access log (committed before the number is shown), sensitive case or not."""
    case = visible_case(session, actor, case_id)
    if not may_see_personal_data(actor, case.incident):
        raise Forbidden(Msg(N_("You may not see personal data of this case.")))
    person = session.scalar(select(IncidentPerson).where(IncidentPerson.id == person_id,
                                                         IncidentPerson.incident_id == case.incident_id))
    if person is None:
        raise NotFound(N_("No such person."))
    log_case_read(session, actor, case, "reveal_personal_number", detail=f"person {person.id}")
    return person.personal_number


def assignable_users(session: Session, case: Case, limit: int = 500) -> list[User]:
    """Who can be given work on the case (händelseansvarig, an action): roles held on its unit or above,
    the same rule as kia.access.may_take_on, as a query."""
    roles = roles_taking_on(case.incident_type)
    unit_ids = [int(part) for part in case.org_unit.path.strip("/").split("/")]   # "/1/4/17/": the unit and its ancestors
    held = select(Membership.user_id).where(Membership.org_unit_id.in_(unit_ids), Membership.role.in_(roles))
    return list(session.scalars(select(User).where(User.id.in_(held), User.active.is_(True))
                                .order_by(User.name, User.id).limit(limit)))


# ---- the inbox ----------------------------------------------------------------------------------

# sort name → (column, descending). Ties are broken by id in the same direction; nulls come last.
SORTS = {
    "due": (Case.next_due_at, False), "-due": (Case.next_due_at, True),
    "reported": (Case.created_at, False), "-reported": (Case.created_at, True),
    "number": (Case.number, False), "-number": (Case.number, True),
}
NULLABLE_SORT_COLUMNS = {"next_due_at"}


@dataclass
class CaseFilter:
    state: list[str] = field(default_factory=list)   # states, or "open" for all open ones
    type: str | None = None
    org_unit: str | None = None                      # a unit code; its whole subtree
    assigned: str | None = None                      # "me"
    serious: bool | None = None
    overdue: bool | None = None
    sort: str = "due"
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(sort: str, case: Case) -> str:
    column, _ = SORTS[sort]
    value = getattr(case, column.key)
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, case.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, case_id = json.loads(raw)
        if cursor_sort != sort:
            raise ValueError("the cursor belongs to another sort order")
        column, _ = SORTS[sort]
        if column.key == "number":
            if not isinstance(value, str):
                raise ValueError("a case number is text")
        elif value is not None:
            value = aware(datetime.fromisoformat(value))
        return value, as_id(case_id)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidQuery({"cursor": [Msg(N_("Not a valid cursor."))]}) from exc


def _after(sort: str, value, last_id: int):
    """Keyset condition: the rows after (value, last_id) in the sort order, nulls last."""
    column, descending = SORTS[sort]
    beyond = column < value if descending else column > value
    next_id = Case.id < last_id if descending else Case.id > last_id
    if value is None:
        return and_(column.is_(None), next_id)
    condition = or_(beyond, and_(column == value, next_id))
    return or_(condition, column.is_(None)) if column.key in NULLABLE_SORT_COLUMNS else condition


def _order_by(sort: str) -> list:
    column, descending = SORTS[sort]
    ordered = column.desc() if descending else column.asc()
    if column.key in NULLABLE_SORT_COLUMNS:
        ordered = ordered.nulls_last()
    return [ordered, Case.id.desc() if descending else Case.id.asc()]


def _states(names: list[str], errors: FieldErrors) -> set[CaseState]:
    states: set[CaseState] = set()
    for name in names:
        if name == OPEN:
            states.update(OPEN_STATES)
            continue
        try:
            states.add(CaseState(name))
        except ValueError:
            errors.add("state", N_("Unknown state: %(state)s."), state=name)
    return states


def is_overdue(case: Case, now: datetime) -> bool:
    """The same rule as the overdue filter below: a closed case is never overdue."""
    return case.is_open and case.next_due_at is not None and case.next_due_at < now


def _filters(session: Session, actor: Actor, query: CaseFilter, now: datetime, errors: FieldErrors) -> list:
    conditions = [case_visibility(actor)]
    states = _states(query.state, errors) if query.state else set(CaseState)
    if query.overdue:
        states &= set(OPEN_STATES)   # a closed case has met or dropped its obligations: never overdue
        conditions.append(Case.next_due_at < now)
    if states != set(CaseState):
        # One IN list (two would make the planner count the same restriction twice); sorted, so a
        # filter always gives the same SQL.
        conditions.append(Case.state.in_(sorted(states)))
    if query.type:
        type_id = session.scalar(select(IncidentType.id).where(IncidentType.code == query.type))
        if type_id is None:
            errors.add("type", N_("Unknown event type: %(code)s."), code=query.type)
        conditions.append(Case.incident_type_id == type_id)
    if query.org_unit:
        # The unit ids themselves, not a subquery: then the planner knows how few units they are and
        # walks the inbox index for each instead of every open case. A unit is in its own subtree, so
        # none at all means there is no such unit.
        path = select(OrgUnit.path).where(OrgUnit.code == query.org_unit).scalar_subquery()
        unit_ids = session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=False))).all()
        if not unit_ids:
            errors.add("org_unit", N_("Unknown org unit: %(code)s."), code=query.org_unit)
        conditions.append(Case.org_unit_id.in_(unit_ids))
    if query.assigned is not None:
        if query.assigned != "me":
            errors.add("assigned", N_("Only assigned=me is supported."))
        conditions.append(Case.assignee_id == actor.user_id)
    if query.serious is not None:
        conditions.append(Case.serious.is_(query.serious))
    if query.overdue is False:
        # Spelled out: NOT (next_due_at < now) would be NULL for the cases with nothing due, and drop them.
        conditions.append(or_(Case.state.not_in(OPEN_STATES), Case.next_due_at.is_(None),
                              Case.next_due_at >= now))
    if query.sort not in SORTS:
        errors.add("sort", N_("Sort by one of: %(sorts)s."), sorts=", ".join(SORTS))
    return conditions


@dataclass
class InboxCounts:
    open: int
    overdue: int
    serious: int


def inbox_counts(session: Session, actor: Actor, now: datetime | None = None) -> InboxCounts:
    """The open cases in the actor's scope, how many are overdue and how many are serious (one query)."""
    overdue = and_(Case.next_due_at.is_not(None), Case.next_due_at < (now or utcnow()))
    row = session.execute(select(func.count(), func.count().filter(overdue), func.count().filter(Case.serious))
                          .select_from(Case).where(case_visibility(actor), Case.state.in_(OPEN_STATES))).one()
    return InboxCounts(*row)


def inbox_units(session: Session, actor: Actor, limit: int = 1000) -> list[OrgUnit]:
    """The units an inbox can be filtered by: those under the actor's roles, in tree order."""
    paths = actor.paths_for(HANDLES_INCIDENTS)
    if not paths:
        return []
    return list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(subtree_ids(paths)))
                                .order_by(OrgUnit.path).limit(limit)))


# What a list shows beside each case. Joined only to the page once it is chosen (joined to the main
# query, every candidate row would be joined before the sort and limit); the types' field definitions
# are not shown in a list.
PAGE_LOADS = (joinedload(Case.incident_type).lazyload(IncidentType.fields), joinedload(Case.org_unit),
              joinedload(Case.assignee))


def list_cases(session: Session, actor: Actor, query: CaseFilter,
               now: datetime | None = None) -> tuple[list[Case], str | None]:
    """Cases the actor may read, filtered and sorted, a page at a time (keyset cursor)."""
    errors = FieldErrors()
    conditions = _filters(session, actor, query, now or utcnow(), errors)
    errors.raise_if_any(InvalidQuery)
    if query.cursor:
        conditions.append(_after(query.sort, *_decode_cursor(query.cursor, query.sort)))
    order = _order_by(query.sort)
    chosen = select(Case.id).where(*conditions).order_by(*order).limit(query.limit + 1).subquery()
    rows = session.scalars(select(Case).join(chosen, Case.id == chosen.c.id).options(*PAGE_LOADS)
                           .order_by(*order)).all()
    page = list(rows[: query.limit])
    return page, _encode_cursor(query.sort, page[-1]) if len(rows) > query.limit else None
