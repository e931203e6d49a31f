"""What no log line may hold, and a handler that keeps every record of the test run to look for it.

Personal numbers, follow-up codes and API tokens are found by their shape; passwords are the ones the run itself
hashed or checked (recorded at the password hasher, so a wrong password typed at sign-in counts too); the
notification tests' pupil and what was written about her by their literal values.
"""
from __future__ import annotations

import logging
import re
import threading

from kia.auth import passwords
from kia.logs import JsonFormatter, formatter

# 19/20 optional, a date (day + 60 for a samordningsnummer), an optional - or +, four digits.
PERSONAL_NUMBER = re.compile(r"(?<![\d.])(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-9]\d)[-+]?\d{4}(?![\d.])")
# kia.feedback.services.new_code: 32 base32 characters in groups of 4, or typed without the dashes.
FOLLOW_UP_CODE = re.compile(r"\b[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}\b|\b[A-Z2-7]{32}\b")
API_TOKEN = re.compile(r"kia_[A-Za-z0-9_-]{30,}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SHAPES = {"personal number": PERSONAL_NUMBER, "follow-up code": FOLLOW_UP_CODE, "API token": API_TOKEN,
          "e-mail address": EMAIL}
SHORTEST_PASSWORD = 8   # shorter ones ("kort", refused anyway) would match ordinary words


def literal_secrets() -> dict[str, str]:
    from tests.notifications.conftest import PUPIL_NAME, SECRET_TEXT

    return {PUPIL_NAME: "a pupil's name", SECRET_TEXT: "a report's text"}


class PasswordRecorder:
    """Stands in for kia.auth.passwords' argon2 hasher, noting every password the run hashes or checks."""

    def __init__(self):
        self.seen: set[str] = set()
        self._hasher = passwords._hasher

    def install(self) -> None:
        passwords._hasher = self

    def uninstall(self) -> None:
        passwords._hasher = self._hasher

    def hash(self, password, *args, **kwargs):
        self._note(password)
        return self._hasher.hash(password, *args, **kwargs)

    def verify(self, password_hash, password):
        self._note(password)
        return self._hasher.verify(password_hash, password)

    def __getattr__(self, name):
        return getattr(self._hasher, name)

    def _note(self, password) -> None:
        text = password.decode() if isinstance(password, bytes) else str(password)
        if len(text) >= SHORTEST_PASSWORD:
            self.seen.add(text)


def leaks(text: str, secrets: dict[str, str] | None = None) -> list[str]:
    """Each personal datum or secret found in `text`, as 'what: the line'."""
    found = []
    secrets = {**literal_secrets(), **(secrets or {})}
    for line in text.splitlines():
        for what, shape in SHAPES.items():
            if shape.search(line):
                found.append(f"{what}: {line}")
        for value, what in secrets.items():
            if value and value in line:
                found.append(f"{what}: {line}")
    return found


class RunLog(logging.Handler):
    """Every record of the run, kept formatted both ways (text and JSON lines), since either may be deployed."""

    LOGGERS = ("kia", "api", "web", "notifications")
    # Not KIA: the tests' stand-in for the city's mail server (aiosmtpd) logs its SMTP conversation.
    STAND_INS = ("mail.log",)

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.text, self.json = formatter("text"), JsonFormatter()
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.STAND_INS):
            return
        try:
            lines = [self.text.format(record), self.json.format(record)]
        except Exception:   # a record that cannot be formatted is the logging call's bug, shown by its test
            return
        with self._guard:
            self.lines.extend(lines)

    def install(self) -> None:
        logging.getLogger().addHandler(self)
        for name in self.LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)
