"""Ersättare: a handler names a substitute for a period; routing then gives the substitute the new cases."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kia.access import HANDLES_CASES, Actor, may_stand_in_for
from kia.db import utcnow
from kia.errors import N_, FieldErrors, Forbidden, Msg, NotFound
from kia.orgs.models import User
from kia.routing.models import Substitute


def set_substitute(session: Session, actor: Actor, substitute_id: int, starts_at: datetime, ends_at: datetime,
                   now: datetime | None = None) -> Substitute:
    """Name a substitute for the actor's own absence (times are timezone-aware). Periods of one handler
    may not overlap, so it is always clear who receives a new case."""
    now = now or utcnow()
    if not actor.paths_for(HANDLES_CASES):
        raise Forbidden(Msg(N_("Only a handler can name a substitute.")))
    errors = FieldErrors()
    substitute = session.get(User, substitute_id)
    if substitute is None or not substitute.active:
        errors.add("substitute", N_("No such user."))
    elif substitute.id == actor.user_id:
        errors.add("substitute", N_("You cannot be your own substitute."))
    elif not may_stand_in_for(Actor.for_user(substitute), actor):
        errors.add("substitute", N_("The substitute must be a handler of every unit where you handle cases."))
    if ends_at <= starts_at:
        errors.add("ends_at", N_("The period must end after it starts."))
    elif ends_at <= now:
        errors.add("ends_at", N_("The period has already ended."))
    elif session.scalar(select(Substitute.id).where(
            Substitute.user_id == actor.user_id, Substitute.starts_at < ends_at, Substitute.ends_at > starts_at)):
        errors.add("starts_at", N_("You already have a substitute during this period."))
    errors.raise_if_any()
    entry = Substitute(user_id=actor.user_id, substitute_id=substitute_id, starts_at=starts_at, ends_at=ends_at,
                       created_by_id=actor.user_id)
    session.add(entry)
    session.commit()
    return entry


def list_substitutes(session: Session, actor: Actor, now: datetime | None = None) -> list[Substitute]:
    """Current and coming periods where the actor is away or stands in, soonest first."""
    return list(session.scalars(
        select(Substitute)
        .where(or_(Substitute.user_id == actor.user_id, Substitute.substitute_id == actor.user_id),
               Substitute.ends_at > (now or utcnow()))
        .order_by(Substitute.starts_at, Substitute.id)
    ))


def remove_substitute(session: Session, actor: Actor, substitute_entry_id: int) -> None:
    """The handler who is away ends the arrangement; cases already routed stay with the substitute."""
    entry = session.scalar(select(Substitute).where(Substitute.id == substitute_entry_id,
                                                    Substitute.user_id == actor.user_id))
    if entry is None:
        raise NotFound(N_("No such substitute."))
    session.delete(entry)
    session.commit()
