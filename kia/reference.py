"""Reference data – event types with their fields, the org tree, deadline and routing rules, webhooks – read once per
process and kept while it holds. Every write to one of those tables, from any session or connection, gives the one
version row a new random token in the same transaction (so a rolled-back change rolls its token back too, and a
token is never reused); a filing reads the token, one small query, and reloads only when it moved.

The objects kept are detached and shared between threads: they are read, never changed and never added to a
session. Where a new row needs one as its relationship, `in_session` gives the session's own copy (no query).

What SQLAlchemy does not execute (SQL typed into psql, a migration's op.execute of a text) is not seen: such a
change sets a new token itself (UPDATE reference_version SET token = md5(random()::text)), or the servers restart."""
from __future__ import annotations

import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import String, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from kia.db import Base
from kia.deadlines.models import DeadlineRule
from kia.incidents.models import IncidentType, IncidentTypeField
from kia.orgs.models import OrgUnit
from kia.outbox.models import WebhookSubscription
from kia.routing.models import RoutingRule

T = TypeVar("T")


class ReferenceVersion(Base):
    """One row: the token of the reference data as it now stands."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


WATCHED_TABLES = frozenset(model.__tablename__ for model in (
    IncidentType, IncidentTypeField, OrgUnit, DeadlineRule, RoutingRule, WebhookSubscription))
_TOKEN = select(ReferenceVersion.token).where(ReferenceVersion.id == 1)
_NEW_TOKEN = update(ReferenceVersion.__table__).where(ReferenceVersion.__table__.c.id == 1)


_SEEN = "kia.reference"            # session.info: (connection, its moves, the data) as last read
_MOVES = "kia.reference.moves"      # connection.info: how often what it sees may have moved


def _moved(connection: Connection, *_args) -> None:
    if connection.invalidated:
        # The database went away under it (a restart): its info is out of reach (PendingRollbackError, so a 500 at
        # the request's end), and no session reads through this Connection object again, so nothing is to mark.
        return
    connection.info[_MOVES] = connection.info.get(_MOVES, 0) + 1


@event.listens_for(Engine, "after_execute")
def _bump_on_change(connection: Connection, clause, _multiparams, _params, _options, _result) -> None:
    """A write to a watched table, by the ORM's flush or a statement of its own, moves the token with it."""
    if isinstance(clause, UpdateBase) and getattr(clause.table, "name", None) in WATCHED_TABLES:
        connection.execute(_NEW_TOKEN.values(token=uuid.uuid4().hex))
        _moved(connection)


# A transaction's end, or a savepoint's, may show another token: the next read asks the database again.
for _name in ("commit", "rollback", "release_savepoint", "rollback_savepoint"):
    event.listen(Engine, _name, _moved)


@dataclass(frozen=True)
class ReferenceData:
    token: str
    types: dict[str, IncidentType]          # by code, with their fields
    units: dict[int, OrgUnit]               # by id
    unit_ids: dict[str, int]                # code → id
    deadline_rules: list[DeadlineRule]      # the active ones
    routing_rules: list[RoutingRule]        # the active ones
    webhooks: list[WebhookSubscription]     # the active ones

    def active_type(self, code: str) -> IncidentType | None:
        incident_type = self.types.get(code)
        return incident_type if incident_type is not None and incident_type.active else None

    def active_unit_with_ancestors(self, code: str) -> list[OrgUnit]:
        """The active unit with this code and the units above it, root first (empty if there is none)."""
        unit = self.units.get(self.unit_ids.get(code, -1))
        if unit is None or not unit.active:
            return []
        return [self.units[unit_id] for unit_id in unit.ancestor_ids]


class _Cache:
    def __init__(self):
        self.data: ReferenceData | None = None
        self.lock = threading.Lock()


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_of(session: Session) -> _Cache:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with _caches_lock:
        return _caches.setdefault(engine, _Cache())


def _load(session: Session, token: str) -> ReferenceData:
    # A session of its own on the same connection (the same transaction), closed at once: what it loaded is
    # detached, fully loaded, and in no request's identity map.
    with Session(bind=session.connection(), expire_on_commit=False, autoflush=False) as loading:
        types = loading.scalars(select(IncidentType)).all()   # their fields come with them (selectin)
        units = loading.scalars(select(OrgUnit)).all()
        rules = loading.scalars(select(DeadlineRule).where(DeadlineRule.active.is_(True))
                                .order_by(DeadlineRule.id)).all()
        routing = loading.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                                  .order_by(RoutingRule.id)).all()
        hooks = loading.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
                                .order_by(WebhookSubscription.id)).all()
    return ReferenceData(token=token, types={t.code: t for t in types}, units={u.id: u for u in units},
                         unit_ids={u.code: u.id for u in units}, deadline_rules=list(rules),
                         routing_rules=list(routing), webhooks=list(hooks))


def reference_data(session: Session) -> ReferenceData:
    """The reference data as the session's transaction sees it: this process's copy, reloaded if it moved on. The
    token is read once a transaction, and again after a write to a watched table or a savepoint's end."""
    connection = session.connection()
    seen = session.info.get(_SEEN)
    if seen is not None and seen[0] is connection and seen[1] == connection.info.get(_MOVES, 0):
        return seen[2]
    token = session.scalar(_TOKEN)
    cache = _cache_of(session)
    data = cache.data
    if data is None or data.token != token:
        with cache.lock:   # one thread reloads; the others take what it loaded
            data = cache.data
            if data is None or data.token != token:
                data = cache.data = _load(session, token)
    session.info[_SEEN] = (connection, connection.info.get(_MOVES, 0), data)
    return data


def in_session(session: Session, instance: T) -> T:
    """The session's own copy of a kept object, for a new row's relationship (the identity map's, or a copy
    made without a query); the kept object itself stays out of every session."""
    return session.merge(instance, load=False)
