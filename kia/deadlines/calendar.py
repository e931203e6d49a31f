"""Swedish working days: weekends, public holidays (the `holidays` package) and the eves that the law
on computing statutory time (lag 1930:173) treats like holidays: midsommarafton, julafton, nyårsafton."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _non_working_days(year: int) -> frozenset[date]:
    days = set(holidays.country_holidays("SE", years=year).keys())
    midsummer_day = next(d for d in days if d.month == 6 and 20 <= d.day <= 26 and d.weekday() == 5)
    days |= {midsummer_day - timedelta(days=1), date(year, 12, 24), date(year, 12, 31)}
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _non_working_days(day.year)


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (0: `day` itself if it is a working day, else the next)."""
    current = day
    if count == 0:
        while not is_working_day(current):
            current += timedelta(days=1)
        return current
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last second of `day` in local time, as an aware datetime ("by the end of the day")."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)
