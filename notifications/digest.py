"""The daily digest: each user who chose one gets their pending non-urgent e-mails as one message a day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from kia.config import Settings
from kia.db import is_postgresql, utcnow
from kia.orgs.models import User
from kia.outbox.models import Channel, DeliveryStatus, Notification
from notifications.channels import DeliveryFailed, DeliveryRefused
from notifications.channels.email import FolderMailer, SmtpMailer, build_message, mailer_for
from notifications.dispatcher import mark_sent, record_failure
from notifications.render import language_of, link_for, render, render_digest


@dataclass
class DigestStats:
    mails: int = 0      # digests sent
    items: int = 0      # notifications they carried
    retried: int = 0    # notifications whose digest failed this time
    failed: int = 0     # notifications given up on
    skipped: int = 0    # users who already had today's digest


def _waiting(*conditions):
    return (Notification.status == DeliveryStatus.PENDING, Notification.digest.is_(True),
            Notification.channel == Channel.EMAIL, *conditions)


def _had_digest_since(session: Session, user_id: int, since: datetime) -> bool:
    return session.scalar(select(exists().where(
        Notification.user_id == user_id, Notification.digest.is_(True), Notification.channel == Channel.EMAIL,
        Notification.status == DeliveryStatus.SENT, Notification.sent_at >= since)))


def _send_digest(session: Session, mailer: SmtpMailer | FolderMailer, settings: Settings, user_id: int,
                 now: datetime, day: date, stats: DigestStats) -> None:
    lock = select(User).where(User.id == user_id)
    if is_postgresql(session):
        # Another scheduler sending digests waits here, then finds today's digest sent: one per user a day.
        lock = lock.with_for_update(of=User)
    user = session.scalars(lock).one()
    if _had_digest_since(session, user_id, datetime.combine(day, time(), tzinfo=settings.timezone)):
        stats.skipped += 1
        return
    rows = session.scalars(select(Notification).where(*_waiting(Notification.user_id == user_id,
                                                                 Notification.created_at <= now))
                           .order_by(Notification.created_at, Notification.id)).all()
    if not rows:
        return
    language = language_of(user.language)
    try:
        if not user.active:
            raise DeliveryRefused("recipient is not an active user")
        items = [{"subject": render(row.kind, language, row.payload, settings).subject,
                  "link": link_for(row.kind, row.payload, settings)} for row in rows]
        message = build_message(settings, user.email, render_digest(language, day, items),
                                f"digest:u{user_id}:{day.isoformat()}", language, now)
        mailer.send(message)
    except DeliveryFailed as error:
        for row in rows:
            if record_failure(row, error, settings, now):
                stats.failed += 1
            else:
                stats.retried += 1
        return
    for row in rows:
        mark_sent(row, now)
    stats.mails += 1
    stats.items += len(rows)


def send_digests(session_factory: sessionmaker[Session], settings: Settings,
                 now: datetime | None = None) -> DigestStats:
    """Send today's digests (the day in KIA_TIMEZONE), for the scheduler's morning job. Running it again
    the same day retries failed digests (after their backoff) and never sends a user a second one."""
    now = now or utcnow()
    day = now.astimezone(settings.timezone).date()
    stats = DigestStats()
    mailer = mailer_for(settings)
    try:
        with session_factory() as session:
            user_ids = session.scalars(select(Notification.user_id).distinct().where(
                *_waiting(Notification.created_at <= now, Notification.next_attempt_at <= now))).all()
            session.commit()
            for user_id in user_ids:
                _send_digest(session, mailer, settings, user_id, now, day, stats)
                session.commit()
                session.expunge_all()
    finally:
        mailer.close()
    return stats
