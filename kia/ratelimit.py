"""Rate limits kept in the database, so every worker on every host shares them.

A limit is "at most N hits in any window": hits are counted in buckets of a fifteenth of the window, and
the last fifteen buckets are summed. So a window's end does not hand out a fresh allowance at once (as a
fixed window would, letting twice the limit through around its boundary)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import String, func, select
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


def hits_so_far(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Hits for `key` in the last window (its last fifteen buckets, this one included), without counting
    one: to refuse before doing work."""
    bucket = _bucket(window)
    current = window_start(now or utcnow(), bucket)
    return session.scalar(select(func.coalesce(func.sum(RateLimitWindow.hits), 0)).where(
        RateLimitWindow.key == key, RateLimitWindow.window_start.between(current - bucket * (BUCKETS - 1), current)))


def seconds_until_fewer(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """For a refusal's Retry-After: seconds until the oldest hits still counted for `key` stop counting."""
    now = now or utcnow()
    bucket = _bucket(window)
    current = window_start(now, bucket)
    oldest = session.scalar(select(func.min(RateLimitWindow.window_start)).where(
        RateLimitWindow.key == key, RateLimitWindow.window_start.between(current - bucket * (BUCKETS - 1), current),
        RateLimitWindow.hits > 0))
    leaves = (oldest or current) + bucket * BUCKETS
    return max(1, math.ceil((leaves - now).total_seconds()))


def hit(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one hit for `key`; False when the window's limit is exceeded. Commits its own update,
    so a refused request still counts."""
    now = now or utcnow()
    start = window_start(now, _bucket(window))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = RateLimitWindow.__table__
    statement = (
        dialect.insert(table).values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(index_elements=[table.c.key, table.c.window_start],
                               set_={"hits": table.c.hits + 1})
    )
    session.execute(statement)
    hits = hits_so_far(session, key, window, now)
    session.commit()
    return hits <= limit


def purge_before(session: Session, before: datetime, key_prefix: str = "") -> int:
    """Housekeeping: drop windows that started before `before` (of keys starting with `key_prefix`)."""
    table = RateLimitWindow.__table__
    condition = table.c.window_start < before
    if key_prefix:
        condition &= table.c.key.startswith(key_prefix, autoescape=True)
    result = session.execute(table.delete().where(condition))
    session.commit()
    return result.rowcount
