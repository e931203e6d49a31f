"""Tertials (T1 Jan–Apr, T2 May–Aug, T3 Sep–Dec) in local time, as half-open UTC ranges for queries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from kia.enums import StrEnum


class Scope(StrEnum):
    PERIOD = "period"  # the four months of the tertial
    YTD = "ytd"        # 1 January to the end of the tertial ("per den 31 augusti")


@dataclass(frozen=True, order=True)
class Tertial:
    year: int
    number: int  # 1, 2 or 3

    def __post_init__(self):
        if self.number not in (1, 2, 3):
            raise ValueError("a tertial is 1, 2 or 3")

    @classmethod
    def containing(cls, day: date) -> "Tertial":
        return cls(day.year, (day.month - 1) // 4 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 4 * (self.number - 1) + 1, 1)

    @property
    def end_day(self) -> date:
        """The first day after the tertial (exclusive end)."""
        return date(self.year + 1, 1, 1) if self.number == 3 else date(self.year, 4 * self.number + 1, 1)

    def previous(self) -> "Tertial":
        return Tertial(self.year - 1, 3) if self.number == 1 else Tertial(self.year, self.number - 1)

    def last_year(self) -> "Tertial":
        return Tertial(self.year - 1, self.number)

    def recent(self, count: int) -> list["Tertial"]:
        """The `count` tertials ending with this one, oldest first (for trends)."""
        tertials = [self]
        while len(tertials) < count:
            tertials.append(tertials[-1].previous())
        return tertials[::-1]

    def label(self) -> str:
        return f"T{self.number} {self.year}"


@dataclass(frozen=True)
class Period:
    """A tertial in a scope: local first and last day, and the UTC range [start, end) for occurred_at."""

    tertial: Tertial
    scope: Scope
    start: datetime
    end: datetime

    @classmethod
    def of(cls, tertial: Tertial, scope: Scope | str, tz: ZoneInfo) -> "Period":
        scope = Scope(scope)
        first = date(tertial.year, 1, 1) if scope == Scope.YTD else tertial.first_day
        # Local midnight converted on its own date, so each bound gets that day's offset (CET or CEST).
        return cls(tertial, scope, _utc_midnight(first, tz), _utc_midnight(tertial.end_day, tz))

    @property
    def first_day(self) -> date:
        return date(self.tertial.year, 1, 1) if self.scope == Scope.YTD else self.tertial.first_day

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.tertial.end_day.toordinal() - 1)

    def shifted(self, tertial: Tertial, tz: ZoneInfo) -> "Period":
        return Period.of(tertial, self.scope, tz)


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
