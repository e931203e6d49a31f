"""Loading one case for an actor: not found outside their scope, forbidden to change when they may only read it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor, case_visibility, may_handle_case
from kia.cases.models import Case
from kia.errors import N_, Conflict, Forbidden, Msg, NotFound


def visible_case(session: Session, actor: Actor, case_id: int, for_update: bool = False) -> Case:
    """The case if `actor` may read it, else 404 (a case out of scope does not exist for them)."""
    query = select(Case).where(Case.id == case_id, case_visibility(actor))
    if for_update:
        # Two handlers changing one case at once: the second waits and sees the first one's state.
        query = query.with_for_update(of=Case)
    case = session.scalar(query)
    if case is None:
        raise NotFound(N_("No such case."))
    return case


def handled_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, locked, if `actor` may work it; 404 out of scope, 403 when they may only read it."""
    case = visible_case(session, actor, case_id, for_update=True)
    if not may_handle_case(actor, case):
        raise Forbidden(Msg(N_("You may read this case but not change it.")))
    return case


def open_handled_case(session: Session, actor: Actor, case_id: int) -> Case:
    """As handled_case, and still open: a closed or rejected case is the documented record (409)."""
    case = handled_case(session, actor, case_id)
    if not case.is_open:
        raise Conflict(Msg(N_("The case is %(state)s: reopen it to change it."), {"state": case.state.value}))
    return case
