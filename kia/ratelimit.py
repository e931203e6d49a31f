"""Rate limits kept in the database, so every worker on every host shares them.

A limit is "at most N hits in any window": hits are counted in buckets of a fifteenth of the window, and
the last fifteen buckets are summed. So a window's end does not hand out a fresh allowance at once (as a
fixed window would, letting twice the limit through around its boundary)."""
from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, func, select, text
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


_AT = {name: bindparam(name, type_=_TABLE.c.window_start.type) for name in ("start", "first", "before")}
_UPSERT = ("INSERT INTO rate_limit_windows (key, window_start, hits) VALUES (:key, :start, 1) "
           "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1")
_PURGING = ("DELETE FROM rate_limit_windows WHERE window_start < :before "
            "AND key LIKE :prefix || '%' ESCAPE '/'")
_COUNT_EARLIER = ("SELECT COALESCE(SUM(hits), 0) FROM rate_limit_windows "
                  "WHERE key = :key AND window_start >= :first AND window_start < :start")


@functools.cache
def _counting(purging: bool):
    """PostgreSQL: count a hit and sum the window in one statement (with the purge of old windows, when asked). The
    statement's sum sees the table as it was before the statement, so it adds the earlier buckets' hits to the
    current bucket's count that the upsert returns."""
    purge = f"purged AS ({_PURGING}), " if purging else ""
    return text(f"WITH {purge}counted AS ({_UPSERT} RETURNING hits) "
                f"SELECT (SELECT hits FROM counted) + ({_COUNT_EARLIER})").bindparams(
        *(_AT[name] for name in ("start", "first", "before" if purging else None) if name))


_COUNT_ONE = text(_UPSERT).bindparams(_AT["start"])


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


def hit(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None,
        purge: tuple[datetime, str] | None = None, commit: bool = True) -> bool:
    """Count one hit for `key`; False when the window's limit is exceeded. Commits its own update (and whatever
    the session holds), so a refused request still counts and the counter's row lock is held no longer.
    `purge` = (before, key prefix): also drop the windows of that prefix that started before `before`, in the
    same round trip on PostgreSQL. Without `commit`, an allowed hit waits for the caller's next commit, which
    must come soon, as the row stays locked until then; a refused one is committed at once all the same."""
    now = now or utcnow()
    span = _span(window, now) | {"key": key, "start": window_start(now, _bucket(window))}
    if session.get_bind().dialect.name == "postgresql":
        before, prefix = purge or (None, "")
        hits = session.connection().scalar(_counting(purge is not None),
                                           span | ({"before": before, "prefix": _as_written(prefix)} if purge else {}))
    else:
        if purge:
            purge_before(session, purge[0], purge[1], commit=False)
        session.connection().execute(_COUNT_ONE, span)
        hits = session.connection().scalar(_HITS, span)
    if commit or hits > limit:
        session.commit()
    return hits <= limit


def _as_written(prefix: str) -> str:
    """A key prefix for LIKE … ESCAPE '/': its own "%" and "_" are no wildcards."""
    return prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")


def purge_before(session: Session, before: datetime, key_prefix: str = "", commit: bool = True) -> int:
    """Housekeeping: drop windows that started before `before` (of keys starting with `key_prefix`); without
    `commit`, in the caller's transaction (a request's purge goes with its hit)."""
    result = session.execute(_PURGE, {"before": before, "prefix": _as_written(key_prefix)})
    if commit:
        session.commit()
    return result.rowcount
