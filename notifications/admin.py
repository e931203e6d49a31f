"""For admins: deliveries that failed and sending them again; webhook subscriptions (the secret shown once)."""
from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kia.access import Actor, may_administer_notifications, may_manage_webhooks, notification_admin_visibility
from kia.errors import N_, Conflict, FieldErrors, Forbidden, Msg, NotFound
from kia.orgs.models import OrgUnit
from kia.outbox.models import DeliveryStatus, Notification, NotificationKind, WebhookSubscription

LOOPBACK_NAMES = {"localhost"}


def _require_delivery_admin(actor: Actor) -> None:
    # The list and the resend alike: one who is no admin is refused (403), not told a delivery does not exist.
    if not may_administer_notifications(actor):
        raise Forbidden(Msg(N_("Only an administrator sees failed notifications.")))


def failed_deliveries(session: Session, actor: Actor, cursor: int | None = None,
                      limit: int = 100) -> tuple[list[Notification], int | None]:
    """Failed e-mails and webhooks the admin may see, newest first; `cursor` is the last id of the page before."""
    _require_delivery_admin(actor)
    query = (select(Notification).options(joinedload(Notification.user))
             .where(Notification.status == DeliveryStatus.FAILED, notification_admin_visibility(actor)))
    if cursor is not None:
        query = query.where(Notification.id < cursor)
    rows = session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return page, page[-1].id if len(rows) > limit else None


def resend(session: Session, actor: Actor, notification_id: int, now: datetime) -> Notification:
    """A failed delivery goes back in the queue with fresh attempts, on its own even if it was a digest's."""
    _require_delivery_admin(actor)
    row = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                    notification_admin_visibility(actor)))
    if row is None:
        raise NotFound(N_("No such notification."))
    if row.status != DeliveryStatus.FAILED:
        # A sent one would arrive twice; a pending one is on its way.
        raise Conflict(Msg(N_("Only a failed notification can be sent again.")))
    row.status = DeliveryStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.digest = False
    session.commit()
    return row


# ---- webhooks ---------------------------------------------------------------------------------

def _require_webhook_admin(actor: Actor) -> None:
    if not may_manage_webhooks(actor):
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation manages webhooks.")))


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, errors: FieldErrors) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("url", N_("Give an http:// or https:// address."))
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        # Case events leave KIA here: only encrypted, except to a receiver on this very machine.
        errors.add("url", N_("Use https:// (plain http:// only to this machine)."))
    elif parts.username or parts.password:
        errors.add("url", N_("No user name or password in the address: the signature authenticates KIA."))


def list_webhooks(session: Session, actor: Actor) -> list[WebhookSubscription]:
    _require_webhook_admin(actor)
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def create_webhook(session: Session, actor: Actor, name: str, url: str, org_unit: str | None = None,
                   kinds: list[str] | None = None) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to the notifications about cases in `org_unit`'s subtree (all units when None) of
    `kinds` (all when empty). Returns the subscription and its signing secret, which is shown only now."""
    _require_webhook_admin(actor)
    errors = FieldErrors()
    if not name.strip():
        errors.add("name", N_("A name is required."))
    _check_url(url, errors)
    known = {str(kind) for kind in NotificationKind}
    for index, kind in enumerate(kinds or []):
        if kind not in known:
            errors.add(f"kinds[{index}]", N_("Unknown notification kind: %(kind)s."), kind=kind)
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == org_unit)) if org_unit else None
    if org_unit and unit is None:
        errors.add("org_unit", N_("No such org unit."))
    errors.raise_if_any()
    secret = secrets.token_urlsafe(32)
    subscription = WebhookSubscription(name=name.strip(), url=url, secret=secret,
                                       org_unit_id=unit.id if unit else None,
                                       kinds=" ".join(sorted(set(kinds or []))))
    session.add(subscription)
    session.commit()
    return subscription, secret


def delete_webhook(session: Session, actor: Actor, webhook_id: int) -> None:
    """Remove a subscription; its deliveries, sent or waiting, go with it (the database cascades)."""
    _require_webhook_admin(actor)
    subscription = session.get(WebhookSubscription, webhook_id)
    if subscription is None:
        raise NotFound(N_("No such webhook."))
    session.delete(subscription)
    session.commit()
