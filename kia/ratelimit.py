"""Fixed-window rate limits kept in the database, so every worker on every host shares them."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from kia.db import Base, utcnow


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)


def window_start(now: datetime, window: timedelta) -> datetime:
    """Start of the fixed window holding `now` (windows are aligned to the epoch)."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def hits_so_far(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Hits counted for `key` in the current window, without counting one: to refuse before doing work."""
    start = window_start(now or utcnow(), window)
    hits = session.scalar(select(RateLimitWindow.hits).where(RateLimitWindow.key == key,
                                                             RateLimitWindow.window_start == start))
    return hits or 0


def hit(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one hit for `key`; False when the window's limit is exceeded. Commits its own update,
    so a refused request still counts."""
    now = now or utcnow()
    start = window_start(now, window)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = RateLimitWindow.__table__
    statement = (
        dialect.insert(table).values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(index_elements=[table.c.key, table.c.window_start],
                               set_={"hits": table.c.hits + 1})
        .returning(table.c.hits)
    )
    hits = session.execute(statement).scalar_one()
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
