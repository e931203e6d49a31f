"""The work on a case: delegating it (händelseansvarig), its action plan and internal comments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor, may_complete_action, may_handle_case, may_take_on
from kia.cases.lookup import handled_case, visible_case
from kia.cases.models import ActionStatus, Case, CaseAction, Comment
from kia.cases.notices import notify_assigned
from kia.cases.read_log import log_case_read
from kia.cases.timeline import record
from kia.db import utcnow
from kia.deadlines.services import sync_obligations
from kia.errors import N_, Conflict, FieldErrors, Forbidden, Msg, NotFound
from kia.orgs.models import User

MAX_TEXT_LENGTH = 10_000
MAX_NOTE_LENGTH = 2000


def open_case_to_change(session: Session, actor: Actor, case_id: int) -> Case:
    """A case the actor may work on that is still open (404 out of scope, 403 read-only, 409 closed)."""
    case = handled_case(session, actor, case_id)
    if not case.is_open:
        raise Conflict(Msg(N_("The case is closed; reopen it first.")))
    return case


def _person_in_scope(session: Session, case: Case, user_id: int, path: str, errors: FieldErrors) -> User | None:
    """The user, if they may be given work on this case (a role over its unit, see kia.access.may_take_on)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        errors.add(path, N_("No such user."))
    elif not may_take_on(Actor.for_user(user), case):
        errors.add(path, N_("This person has no role on the case's unit that lets them take this on."))
    else:
        return user
    return None


def delegate_case(session: Session, actor: Actor, case_id: int, user_id: int, note: str = "",
                  now: datetime | None = None) -> Case:
    """Make another user in scope the händelseansvarig; the timeline keeps old → new, and they are told."""
    now = now or utcnow()
    case = open_case_to_change(session, actor, case_id)
    errors = FieldErrors()
    _person_in_scope(session, case, user_id, "user", errors)
    if len(note) > MAX_NOTE_LENGTH:
        errors.add("note", N_("At most %(n)s characters."), n=MAX_NOTE_LENGTH)
    errors.raise_if_any()
    if case.assignee_id != user_id:
        record(session, case, actor.user_id, "delegated", field="assignee", old=case.assignee_id, new=user_id,
               note=note.strip())
        case.assignee_id = user_id
        notify_assigned(session, case, now)
    session.commit()
    return case


# ---- actions (åtgärder) -----------------------------------------------------------------------

@dataclass
class ActionInput:
    what: str
    responsible: int
    due_date: date


def _check_what(what: str, errors: FieldErrors) -> None:
    if not what.strip():
        errors.add("what", N_("Say what is to be done."))
    elif len(what) > MAX_NOTE_LENGTH:
        errors.add("what", N_("At most %(n)s characters."), n=MAX_NOTE_LENGTH)


def _check_due_date(due_date: date, tz: ZoneInfo, now: datetime, errors: FieldErrors) -> None:
    if due_date < now.astimezone(tz).date():
        errors.add("due_date", N_("The due date cannot be in the past."))


def add_action(session: Session, actor: Actor, case_id: int, data: ActionInput, tz: ZoneInfo,
               now: datetime | None = None) -> CaseAction:
    now = now or utcnow()
    case = open_case_to_change(session, actor, case_id)
    errors = FieldErrors()
    _check_what(data.what, errors)
    _person_in_scope(session, case, data.responsible, "responsible", errors)
    _check_due_date(data.due_date, tz, now, errors)
    errors.raise_if_any()
    action = CaseAction(case=case, what=data.what.strip(), responsible_id=data.responsible,
                        due_date=data.due_date, created_by_id=actor.user_id)
    session.add(action)
    session.flush()   # the timeline names the action by its id
    record(session, case, actor.user_id, "action_added", field=f"actions[{action.id}]",
           new={"what": action.what, "responsible": action.responsible_id, "due_date": action.due_date.isoformat()})
    sync_obligations(session, case, tz, now)   # the due date is an obligation of its own
    session.commit()
    return action


# What the responsible user (not handling the case) may change on their own action.
RESPONSIBLE_MAY_CHANGE = {"status", "follow_up_note"}


def _action_of(session: Session, actor: Actor, case_id: int, action_id: int) -> tuple[Case, CaseAction]:
    """The action, if the actor may read its case or is responsible for it; 404 otherwise."""
    action = session.scalar(select(CaseAction).where(CaseAction.id == action_id, CaseAction.case_id == case_id))
    if action is None:
        raise NotFound(N_("No such action."))
    if action.responsible_id != actor.user_id:
        visible_case(session, actor, case_id)
    return action.case, action


def update_action(session: Session, actor: Actor, case_id: int, action_id: int, changes: dict[str, Any],
                  tz: ZoneInfo, now: datetime | None = None) -> CaseAction:
    """Change status (planned/done/cancelled), follow-up note, what, responsible or due date; only the
    keys given. Marking done sets completed_at. The responsible user may only mark it done and note."""
    now = now or utcnow()
    case, action = _action_of(session, actor, case_id, action_id)
    if not may_complete_action(actor, case, action):
        raise Forbidden(Msg(N_("You may read this case but not change it.")))
    if not may_handle_case(actor, case) and (set(changes) - RESPONSIBLE_MAY_CHANGE
                                            or changes.get("status", ActionStatus.DONE) != ActionStatus.DONE):
        raise Forbidden(Msg(N_("As the one responsible you may mark the action done and add a note.")))
    if not case.is_open:
        raise Conflict(Msg(N_("The case is closed; reopen it first.")))
    errors = FieldErrors()
    if "what" in changes:
        _check_what(changes["what"], errors)
    if "responsible" in changes:
        _person_in_scope(session, case, changes["responsible"], "responsible", errors)
    if "due_date" in changes and changes["due_date"] != action.due_date:
        _check_due_date(changes["due_date"], tz, now, errors)
    if len(changes.get("follow_up_note", "")) > MAX_TEXT_LENGTH:
        errors.add("follow_up_note", N_("At most %(n)s characters."), n=MAX_TEXT_LENGTH)
    errors.raise_if_any()

    values = {("responsible_id" if k == "responsible" else k): v.strip() if isinstance(v, str) else v
              for k, v in changes.items()}
    if "status" in values:
        values["status"] = ActionStatus(values["status"])
        if values["status"] != action.status:
            values["completed_at"] = now if values["status"] == ActionStatus.DONE else None
    for attribute, value in values.items():
        old = getattr(action, attribute)
        if old != value:
            setattr(action, attribute, value)
            if attribute != "completed_at":   # follows from the status entry
                record(session, case, actor.user_id, "action_updated",
                       field=f"actions[{action.id}].{attribute.removesuffix('_id')}", old=old, new=value)
    sync_obligations(session, case, tz, now)   # done or cancelled meets the action's obligation
    session.commit()
    return action


# ---- comments (internal: never shown to the reporter) -----------------------------------------

def add_comment(session: Session, actor: Actor, case_id: int, body: str) -> Comment:
    case = handled_case(session, actor, case_id)
    errors = FieldErrors()
    if not body.strip():
        errors.add("body", N_("Write something."))
    elif len(body) > MAX_TEXT_LENGTH:
        errors.add("body", N_("At most %(n)s characters."), n=MAX_TEXT_LENGTH)
    errors.raise_if_any()
    comment = Comment(case_id=case.id, author_id=actor.user_id, body=body.strip())
    session.add(comment)
    session.flush()
    # The text stays on the comment: the timeline only says one was written.
    record(session, case, actor.user_id, "comment_added", field=f"comments[{comment.id}]")
    session.commit()
    return comment


def list_comments(session: Session, actor: Actor, case_id: int) -> list[Comment]:
    """Everyone who may read the case reads its comments (the skyddsombud investigates with the chef). The case
    page's read is logged once, by kia.cases.services.read_case; read_comments is the comments read alone."""
    case = visible_case(session, actor, case_id)
    return list(session.scalars(select(Comment).where(Comment.case_id == case.id).order_by(Comment.id)))


def read_comments(session: Session, actor: Actor, case_id: int) -> list[Comment]:
    """The comments without the case page (GET /api/v1/cases/<id>/comments): a read of the case's texts, logged."""
    comments = list_comments(session, actor, case_id)
    log_case_read(session, actor, session.get(Case, case_id), "read_comments")
    return comments
