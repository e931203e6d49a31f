"""E-mail: over SMTP, one connection per run; without KIA_SMTP_HOST as .eml files in <instance>/mail/."""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from kia.config import Settings
from notifications.channels import DeliveryFailed
from notifications.render import Rendered

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10   # seconds; on SQLite a send holds the write lock, so never wait long
MAIL_FOLDER = "mail"


def mail_folder(settings: Settings) -> Path:
    return settings.instance_path / MAIL_FOLDER


def message_id(key: str, settings: Settings) -> str:
    """The same Message-ID for every attempt at one notification, so a receiver can tell a repeat."""
    domain = settings.mail_from.rpartition("@")[2].strip(" >") or "kia.localhost"
    return f"<{re.sub(r'[^A-Za-z0-9._-]', '.', key)}@{domain}>"


def build_message(settings: Settings, to: str, rendered: Rendered, key: str, language: str,
                  now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now.astimezone(timezone.utc))
    message["Message-ID"] = message_id(key, settings)
    message["Auto-Submitted"] = "auto-generated"   # RFC 3834: no out-of-office replies to the sender
    message.set_content(rendered.body)
    message["Content-Language"] = language        # after set_content, which clears the Content-* headers
    return message


ADDRESS = re.compile(r"[^\s<>()'\",;:@]+@[^\s<>()'\",;:]+")


def _describe(error: Exception) -> str:
    """The error as kept on the row and logged: a refused recipient's address (SMTPRecipientsRefused names it)
    is not repeated, since the row already says whom it was for."""
    return ADDRESS.sub("<address>", f"{type(error).__name__}: {error}")[:300]


class SmtpMailer:
    """Sends over one SMTP connection; once the server is unreachable, the rest of the run fails fast."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._down: str | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
        try:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._down:
            raise DeliveryFailed(self._down)
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                self._down = "SMTP connection failed: " + _describe(error)
                log.warning("%s (%s:%s)", self._down, self.settings.smtp_host, self.settings.smtp_port)
                raise DeliveryFailed(self._down) from error
        try:
            self._smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            self.close()   # the next message starts on a fresh connection
            raise DeliveryFailed("SMTP: " + _describe(error)) from error

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


class FolderMailer:
    """The embedded default: each e-mail becomes an .eml file an admin can open (notifications.mailbox)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        local_part = str(message["Message-ID"]).strip("<>").partition("@")[0]
        # Written owner-only under a temporary name, then renamed: a reader never sees half a file.
        fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
            os.replace(tmp_name, self.folder / f"{stamp}-{local_part}.eml")
        except OSError as error:
            Path(tmp_name).unlink(missing_ok=True)
            raise DeliveryFailed("mail folder: " + _describe(error)) from error

    def close(self) -> None:
        pass


def mailer_for(settings: Settings) -> SmtpMailer | FolderMailer:
    return SmtpMailer(settings) if settings.smtp_host else FolderMailer(mail_folder(settings))
