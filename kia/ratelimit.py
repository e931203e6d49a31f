"""Rate limits kept in the database, so every worker on every host shares them.

A limit is "at most N hits in any window": hits are counted in buckets of a fifteenth of the window, and
the last fifteen buckets are summed. So a window's end does not hand out a fresh allowance at once (as a
fixed window would, letting twice the limit through around its boundary)."""
from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from kia.db import Base, utcnow


BUCKETS = 15


class RateLimitWindow(Base):
    """The hits of one key in one bucket (a fifteenth of its limit's window) starting at `window_start`."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)


def window_start(now: datetime, window: timedelta) -> datetime:
    """Start of the fixed window holding `now` (windows are aligned to the epoch)."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def _bucket(window: timedelta) -> timedelta:
    return timedelta(seconds=max(1, int(window.total_seconds()) // BUCKETS))


# Built once: every public request and every sign-in runs them, and building them cost more than running them.
_TABLE = RateLimitWindow.__table__
_HITS = select(func.coalesce(func.sum(_TABLE.c.hits), 0)).where(
    _TABLE.c.key == bindparam("key"), _TABLE.c.window_start.between(bindparam("first"), bindparam("current")))
_OLDEST = select(func.min(_TABLE.c.window_start)).where(
    _TABLE.c.key == bindparam("key"), _TABLE.c.window_start.between(bindparam("first"), bindparam("current")),
    _TABLE.c.hits > 0)
_PURGE = _TABLE.delete().where(_TABLE.c.window_start < bindparam("before"),
                               _TABLE.c.key.startswith(bindparam("prefix"), escape="/"))


@functools.cache
def _count_hit(dialect: str):
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(_TABLE)
    return insert.values(key=bindparam("key"), window_start=bindparam("start"), hits=1).on_conflict_do_update(
        index_elements=[_TABLE.c.key, _TABLE.c.window_start], set_={"hits": _TABLE.c.hits + 1})


def _span(window: timedelta, now: datetime) -> dict[str, datetime]:
    """The first and the current of the fifteen buckets that make up the window ending now."""
    bucket = _bucket(window)
    current = window_start(now, bucket)
    return {"first": current - bucket * (BUCKETS - 1), "current": current}


def hits_so_far(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Hits for `key` in the last window (its last fifteen buckets, this one included), without counting
    one: to refuse before doing work."""
    return session.scalar(_HITS, {"key": key, **_span(window, now or utcnow())})


def seconds_until_fewer(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """For a refusal's Retry-After: seconds until the oldest hits still counted for `key` stop counting."""
    now = now or utcnow()
    span = _span(window, now)
    oldest = session.scalar(_OLDEST, {"key": key, **span})
    leaves = (oldest or span["current"]) + _bucket(window) * BUCKETS
    return max(1, math.ceil((leaves - now).total_seconds()))


def hit(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one hit for `key`; False when the window's limit is exceeded. Commits its own update (and whatever
    the session holds, such as a purge), so a refused request still counts."""
    now = now or utcnow()
    session.execute(_count_hit(session.get_bind().dialect.name),
                    {"key": key, "start": window_start(now, _bucket(window))})
    hits = hits_so_far(session, key, window, now)
    session.commit()
    return hits <= limit


def purge_before(session: Session, before: datetime, key_prefix: str = "", commit: bool = True) -> int:
    """Housekeeping: drop windows that started before `before` (of keys starting with `key_prefix`); without
    `commit`, in the caller's transaction (a request's purge goes with its hit)."""
    prefix = key_prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")   # the prefix as written
    result = session.execute(_PURGE, {"before": before, "prefix": prefix})
    if commit:
        session.commit()
    return result.rowcount
