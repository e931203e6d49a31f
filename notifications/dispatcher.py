"""The dispatcher: claims due outbox rows one at a time under a row lock, sends each, commits its status at once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kia.config import Settings
from kia.db import is_postgresql, utcnow
from kia.outbox.models import Channel, DeliveryStatus, Notification, WebhookSubscription
from kia.property.models import FaultReport
from kia.property.services import record_given_up
from notifications.channels import DeliveryFailed, DeliveryRefused, property_owner, webhook
from notifications.channels.email import FolderMailer, SmtpMailer, build_message, mailer_for
from notifications.render import language_of, render

log = logging.getLogger(__name__)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=4)


@dataclass
class DispatchStats:
    sent: int = 0       # e-mails and webhooks delivered
    retried: int = 0    # failed this time, tried again later
    failed: int = 0     # given up on: an admin can send them again


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1 minute, 2, 4, … at most 4 hours."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def mark_sent(row: Notification, now: datetime) -> None:
    row.status = DeliveryStatus.SENT
    row.sent_at = now
    row.last_error = ""


def record_failure(row: Notification, error: Exception, settings: Settings, now: datetime) -> bool:
    """Count the attempt and schedule the next one with backoff; True when it gives up (the maximum reached)."""
    row.attempts += 1
    row.last_error = str(error)[:500]
    if isinstance(error, DeliveryRefused) or row.attempts >= settings.notification_max_attempts:
        row.status = DeliveryStatus.FAILED
        log.warning("notification %s failed for good after %s attempt(s): %s", row.id, row.attempts, row.last_error)
        return True
    row.next_attempt_at = now + retry_delay(row.attempts)
    log.info("notification %s: attempt %s failed, next at %s: %s", row.id, row.attempts,
             row.next_attempt_at.isoformat(), row.last_error)
    return False


def gave_up(session: Session, row: Notification) -> None:
    """A fault report the outbox gave up on is marked so on its case."""
    if row.channel == Channel.PROPERTY_OWNER and row.fault_report_id:
        report = session.get(FaultReport, row.fault_report_id)
        if report is not None:
            record_given_up(session, report, row.last_error)


def _claim_next(session: Session, now: datetime) -> Notification | None:
    query = (select(Notification)
             .where(Notification.status == DeliveryStatus.PENDING, Notification.digest.is_(False),
                    Notification.next_attempt_at <= now)
             .order_by(Notification.next_attempt_at, Notification.id).limit(1))
    if is_postgresql(session):
        # Rows another dispatcher holds are skipped, not waited for. On SQLite, BEGIN IMMEDIATE
        # (kia.db) already lets one writer at a time through.
        query = query.with_for_update(skip_locked=True, of=Notification)
    return session.scalars(query).first()


def _deliver(session: Session, row: Notification, mailer: SmtpMailer | FolderMailer, settings: Settings,
             now: datetime) -> None:
    if row.channel == Channel.WEBHOOK:
        subscription = session.get(WebhookSubscription, row.webhook_id) if row.webhook_id else None
        webhook.post(subscription, row, now)
        return
    if row.channel == Channel.PROPERTY_OWNER:
        property_owner.deliver(session, row, mailer, settings, now)
        return
    user = row.user
    if user is None or not user.active:
        raise DeliveryRefused("recipient is not an active user")
    language = language_of(row.language)
    rendered = render(row.kind, language, row.payload, settings)
    mailer.send(build_message(settings, user.email, rendered, row.dedupe_key, language, now))


def dispatch(session_factory: sessionmaker[Session], settings: Settings, now: datetime | None = None,
             batch: int = 100) -> DispatchStats:
    """Deliver up to `batch` due e-mail and webhook rows; returns what happened.
    Two dispatchers never send one row; an SMTP outage or a crash loses nothing (the row stays pending)."""
    now = now or utcnow()
    stats = DispatchStats()
    mailer = mailer_for(settings)
    try:
        with session_factory() as session:
            for _ in range(batch):
                row = _claim_next(session, now)
                if row is None:
                    break
                # The claim's lock is held while sending: the status is committed right after, before
                # the lock goes, so no other dispatcher can take the row in between.
                try:
                    _deliver(session, row, mailer, settings, now)
                except Exception as error:
                    if not isinstance(error, DeliveryFailed):   # a bug with one row must not stop the queue
                        log.exception("notification %s could not be delivered", row.id)
                        error = DeliveryFailed(type(error).__name__)
                    if record_failure(row, error, settings, now):
                        stats.failed += 1
                        gave_up(session, row)
                    else:
                        stats.retried += 1
                else:
                    mark_sent(row, now)
                    stats.sent += 1
                session.commit()
                session.expunge(row)
            session.commit()
    finally:
        mailer.close()
    return stats
