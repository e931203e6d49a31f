"""Fault reports to a property owner: by Open311 GeoReport v2 (POST /requests.json) or as an e-mail to its
fault-report address. Once the owner's request id is recorded the report is never sent again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kia.config import Settings
from kia.outbox.models import Notification
from kia.property import open311
from kia.property.models import DeliveryMethod, FaultReport, FaultReportStatus
from kia.property.services import open311_fields, record_delivery
from notifications.channels import DeliveryFailed, DeliveryRefused
from notifications.channels.email import FolderMailer, SmtpMailer, build_message
from notifications.render import render_fault_report


def deliver(session: Session, row: Notification, mailer: SmtpMailer | FolderMailer, settings: Settings,
            now: datetime) -> None:
    report = session.get(FaultReport, row.fault_report_id) if row.fault_report_id else None
    if report is None:
        raise DeliveryRefused("fault report removed")
    if report.service_request_id or report.token or report.status in (FaultReportStatus.SENT,
                                                                      FaultReportStatus.CLOSED):
        return   # the owner has it already (an admin's resend of a row that got through): never twice
    owner = report.owner
    if not owner.active:
        raise DeliveryRefused("property owner inactive")
    if report.method == DeliveryMethod.OPEN311:
        try:
            accepted = open311.post_request(owner, open311_fields(report), report.idempotency_key)
        except open311.Open311Refused as error:
            raise DeliveryRefused(str(error)) from error
        except open311.Open311Failed as error:
            raise DeliveryFailed(str(error)) from error
        record_delivery(session, report, accepted, settings.timezone, now)
        return
    if not owner.email:
        raise DeliveryRefused("property owner has no e-mail address")
    rendered = render_fault_report(report, settings)
    mailer.send(build_message(settings, owner.email, rendered, row.dedupe_key, "sv", now))
    record_delivery(session, report, None, settings.timezone, now)
