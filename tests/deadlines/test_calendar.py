from datetime import date
from zoneinfo import ZoneInfo

import pytest

from kia.deadlines.calendar import add_working_days, end_of_day, is_working_day


@pytest.mark.parametrize("day, working", [
    (date(2026, 4, 2), True),     # skärtorsdag is a working day
    (date(2026, 4, 3), False),    # långfredag
    (date(2026, 4, 6), False),    # annandag påsk
    (date(2026, 6, 19), False),   # midsommarafton (not in the holidays package; lag 1930:173)
    (date(2026, 12, 24), False),  # julafton
    (date(2026, 12, 31), False),  # nyårsafton
    (date(2026, 11, 21), False),  # a Saturday
    (date(2026, 11, 23), True),   # a Monday
    (date(2027, 6, 25), False),   # midsommarafton 2027
])
def test_swedish_working_days(day, working):
    assert is_working_day(day) is working


def test_five_working_days_from_the_thursday_before_easter():
    # Fri (långfredag), weekend, Mon (annandag påsk) are skipped: Tue 7, Wed 8, Thu 9, Fri 10, Mon 13.
    assert add_working_days(date(2026, 4, 2), 5) == date(2026, 4, 13)
    assert add_working_days(date(2026, 4, 2), 2) == date(2026, 4, 8)


def test_zero_working_days_is_the_day_itself_or_the_next_working_day():
    assert add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert add_working_days(date(2026, 12, 24), 0) == date(2026, 12, 28)


def test_end_of_day_is_local_time():
    tz = ZoneInfo("Europe/Stockholm")
    assert end_of_day(date(2026, 7, 1), tz).isoformat() == "2026-07-01T23:59:59+02:00"
    assert end_of_day(date(2026, 1, 1), tz).isoformat() == "2026-01-01T23:59:59+01:00"
