"""A user's in-app notifications (newest first, unread count, mark read) and their e-mail preference."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from kia.access import Actor, own_notifications, unread_notifications_of
from kia.errors import N_, NotFound
from kia.orgs.models import User
from kia.outbox.models import Channel, DeliveryStatus, Notification


@dataclass
class InboxPage:
    items: list[Notification]
    next_cursor: int | None
    unread_count: int


def list_inbox(session: Session, actor: Actor, unread: bool = False, cursor: int | None = None,
               limit: int = 50) -> InboxPage:
    """Newest first (by id: the order they were queued); `cursor` is the last id of the previous page."""
    query = select(Notification).where(own_notifications(actor))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if cursor is not None:
        query = query.where(Notification.id < cursor)
    rows = session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return InboxPage(page, page[-1].id if len(rows) > limit else None, unread_count(session, actor))


# Built once: every signed-in page's header shows the count.
_UNREAD = unread_notifications_of(bindparam("user_id"))


def unread_count(session: Session, actor: Actor) -> int:
    return session.connection().scalar(_UNREAD, {"user_id": actor.user_id})


def mark_all_read(session: Session, actor: Actor, now: datetime) -> int:
    """Mark every unread notification of one's own read; how many were."""
    marked = session.execute(update(Notification).where(own_notifications(actor), Notification.read_at.is_(None))
                             .values(read_at=now)).rowcount
    session.commit()
    return marked


def mark_read(session: Session, actor: Actor, notification_id: int, now: datetime) -> Notification:
    """Mark one's own notification read (again: keeps the first time); anyone else's is not found."""
    row = session.scalar(select(Notification).where(Notification.id == notification_id, own_notifications(actor)))
    if row is None:
        raise NotFound(N_("No such notification."))
    if row.read_at is None:
        row.read_at = now
        session.commit()
    return row


def set_daily_digest(session: Session, actor: Actor, daily_digest: bool) -> User:
    """Choose a daily digest or immediate e-mail for non-urgent notifications."""
    user = session.get(User, actor.user_id)
    user.daily_digest = daily_digest
    if not daily_digest:
        # Whatever still waits for a digest goes out with the next dispatch instead of never.
        session.execute(update(Notification).where(
            Notification.user_id == user.id, Notification.channel == Channel.EMAIL,
            Notification.status == DeliveryStatus.PENDING, Notification.digest.is_(True)).values(digest=False))
    session.commit()
    return user
