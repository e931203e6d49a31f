"""Real delivery endpoints in the test process: an SMTP server (aiosmtpd) and a webhook receiver (http.server)
on 127.0.0.1, and cases filed through the real service, about a named pupil."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
from collections import Counter
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.outbox.models import Notification, NotificationKind
from kia.outbox.services import case_payload, queue
from tests.conftest import TZ

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
PUPIL_NAME = "Tilda Hemligsson"
PUPIL_NUMBER = "20121212-1212"
SECRET_TEXT = "slog Tilda i matsalen"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """aiosmtpd on a fixed free port, so it can be down (not started, stopped) and come back on the same one."""

    def __init__(self, port: int, delay: float = 0.0, authenticator=None):
        self.port, self.delay, self.authenticator = port, delay, authenticator
        self.messages: list[EmailMessage] = []
        self.refuse_next = 0   # answer 451 (try later) to this many messages
        self.unknown: set[str] = set()   # recipients answered 550 (no such mailbox)
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"

    def start(self) -> "SmtpServer":
        kwargs = {"authenticator": self.authenticator, "auth_require_tls": False} if self.authenticator else {}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count_by_message_id(self) -> Counter:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    with SmtpServer(smtp_port) as server:
        yield server


@pytest.fixture
def smtp_settings(settings, smtp_port):
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_starttls=False,
                               base_url="https://kia.example.se", notification_max_attempts=4)


class WebhookReceiver:
    """Records each POST (headers, body) and answers with the next of `statuses` (then 200)."""

    def __init__(self):
        self.requests: list[tuple[Message, bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.headers, body))   # an HTTPMessage: names in any case
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kia-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def documents(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def reporter(tree, make):
    """Staff of S2, a school without a handler: filing there tells nobody (kia.cases.notices), so what a test
    queues itself is all the dispatcher finds."""
    return make.actor(("reporter", "S2"))


def file_victimisation(db, reporter, org_unit: str = "S2", now: datetime = NOW):
    """A kränkning report naming the pupil, with a personal number and a description: what e-mails must never say."""
    data = IncidentInput(
        type="victimisation", org_unit=org_unit, occurred_at=datetime(2026, 3, 10, 8, 30), description=SECRET_TEXT,
        fields={"classification": "harassment", "discrimination_grounds": ["ethnicity"]},
        persons=[PersonInput(role="affected", category="pupil", gender="female", name=PUPIL_NAME,
                             class_name="4B", personal_number=PUPIL_NUMBER),
                 PersonInput(role="perpetrator", category="pupil", gender="male", name="Olle Okänd")])
    incident, _ = file_incident(db, reporter, data, TZ, now=now)
    return incident.cases[0]


def notify(db, case, kind: NotificationKind, users, event: str | None = None, now: datetime = NOW, **extra) -> int:
    """Queue `kind` about `case` through the real producer, as a service does in its own transaction."""
    count = queue(db, kind, event or f"test:{kind}:{case.id}", case, [u.id for u in users],
                  case_payload(case, **extra), now)
    db.commit()
    return count


def rows_of(db, event_prefix: str) -> list[Notification]:
    from sqlalchemy import select

    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.dedupe_key.startswith(event_prefix))
                           .order_by(Notification.id)))
