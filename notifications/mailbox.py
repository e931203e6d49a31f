"""The local mail folder (no KIA_SMTP_HOST): what would have been sent, newest first, for the admin to read."""
from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

from kia.access import Actor, may_read_local_mailbox
from kia.config import Settings
from kia.errors import N_, Forbidden, Msg, NotFound
from notifications.channels.email import mail_folder

# Only names the folder mailer writes: never a path outside the folder.
FILE_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[A-Za-z0-9._-]+\.eml$")


@dataclass(frozen=True)
class LocalMail:
    name: str
    subject: str
    to: str
    date: str
    message_id: str
    body: str | None = None   # only when one message is read


def _require(actor: Actor) -> None:
    if not may_read_local_mailbox(actor):
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation reads the local mail folder.")))


def _parse(path: Path, with_body: bool) -> LocalMail:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain",)) if with_body else None
    return LocalMail(name=path.name, subject=str(message["Subject"] or ""), to=str(message["To"] or ""),
                     date=str(message["Date"] or ""), message_id=str(message["Message-ID"] or ""),
                     body=body.get_content() if body is not None else None)


def list_local_mail(settings: Settings, actor: Actor, limit: int = 100) -> list[LocalMail]:
    _require(actor)
    folder = mail_folder(settings)
    if not folder.is_dir():
        return []
    # Names start with the UTC time of writing, so the newest sort last.
    names = sorted((p.name for p in folder.iterdir() if FILE_NAME.match(p.name)), reverse=True)[:limit]
    return [_parse(folder / name, with_body=False) for name in names]


def read_local_mail(settings: Settings, actor: Actor, name: str) -> LocalMail:
    _require(actor)
    path = mail_folder(settings) / name
    if not FILE_NAME.match(name) or not path.is_file():
        raise NotFound(N_("No such message."))
    return _parse(path, with_body=True)
