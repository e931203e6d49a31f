"""What a request of the api/ and web/ layers reads of the app: its settings and session factory, the request's
database session and its actor, and the `<id:…>` of their paths. Flask-bound like the factory (kia/app.py), which
builds the state and registers the converter; the layers import this module and never the factory, so the
factory's import of them is no circle."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter

from kia.access import Actor
from kia.alarms.broker import Broker, broker_for
from kia.config import Settings
from kia.db import DATABASE_UNAVAILABLE, MAX_ID, database_unavailable


@dataclass
class KiaState:
    settings: Settings
    session_factory: sessionmaker[Session]
    _broker: Broker | None = field(default=None, repr=False)
    _broker_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def broker(self) -> Broker:
        """The alarm broker of this process (kia.alarms.broker): Redis with KIA_REDIS_URL, else in-process. Made at
        first use, so a server that forks its workers after loading the app starts the Redis listener in each."""
        if self._broker is None:
            with self._broker_lock:
                if self._broker is None:
                    self._broker = broker_for(self.settings.redis_url, self.settings.database_url)
        return self._broker


def state() -> KiaState:
    return current_app.extensions["kia"]


def db_session() -> Session:
    """The request's database session, opened on first use and closed when the request ends (close_db_session)."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def close_db_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except DATABASE_UNAVAILABLE as error:
            if not database_unavailable(error):
                raise
            # The connection died after the answer was made (a restart): its transaction ended with it, on the server,
            # and the answer stands. Without this the closing's ROLLBACK would turn a good answer into a 500.
            session.invalidate()


def current_actor() -> Actor | None:
    """The authenticated actor of this request (API token or web session), or None."""
    return g.get("actor")


def numbers_up_to(limit: int) -> str:
    """A regular expression of the whole numbers from 1 to `limit` (10 or more), written without leading zeros."""
    digits = str(limit)
    alternatives = [rf"[1-9]\d{{0,{len(digits) - 2}}}"]   # the shorter numbers
    # As long as the limit: its first i digits, then a smaller digit (no leading 0), then any digits.
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            alternatives.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    return "|".join([*alternatives, digits])


class IdConverter(IntegerConverter):
    """`<id:case_id>`: a path's id, matched only from 1 to MAX_ID (what the id columns hold). Any other number is no
    route, a 404 (problem+json under /api) before a view runs, instead of a value that fails in the database."""

    # In the pattern, not only in to_python: werkzeug picks a path's rule by pattern and method first, and a number
    # refused only afterwards would be a 405 where another method's rule has the same path.
    regex = numbers_up_to(MAX_ID)

    def __init__(self, map) -> None:
        super().__init__(map, min=1, max=MAX_ID)
