"""Tertial bounds in Stockholm time as UTC ranges, across daylight saving time."""
from datetime import date, datetime, timezone

import pytest

from kia.stats.periods import Period, Tertial
from tests.conftest import TZ


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("number, start, end", [
    (1, utc(2025, 12, 31, 23), utc(2026, 4, 30, 22)),   # CET at the start, CEST at the end
    (2, utc(2026, 4, 30, 22), utc(2026, 8, 31, 22)),    # summer time throughout
    (3, utc(2026, 8, 31, 22), utc(2026, 12, 31, 23)),   # CEST at the start, CET at the end
])
def test_bounds_are_local_midnights(number, start, end):
    period = Period.of(Tertial(2026, number), "period", TZ)
    assert (period.start, period.end) == (start, end)


def test_year_to_date_starts_on_new_years_day():
    period = Period.of(Tertial(2026, 2), "ytd", TZ)
    assert (period.start, period.end) == (utc(2025, 12, 31, 23), utc(2026, 8, 31, 22))
    assert (period.first_day, period.last_day) == (date(2026, 1, 1), date(2026, 8, 31))


def test_previous_last_year_and_recent():
    assert Tertial(2026, 1).previous() == Tertial(2025, 3)
    assert Tertial(2026, 3).previous() == Tertial(2026, 2)
    assert Tertial(2026, 2).last_year() == Tertial(2025, 2)
    assert [t.label() for t in Tertial(2026, 2).recent(4)] == ["T2 2025", "T3 2025", "T1 2026", "T2 2026"]
    assert Tertial.containing(date(2026, 8, 31)) == Tertial(2026, 2)
    assert Tertial.containing(date(2026, 9, 1)) == Tertial(2026, 3)


def test_no_fourth_tertial():
    with pytest.raises(ValueError):
        Tertial(2026, 4)
