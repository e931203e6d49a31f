"""kia.ratelimit: at most N hits in any window's length, not per window on the clock."""
from datetime import datetime, timedelta, timezone

from kia.ratelimit import hit, hits_so_far, seconds_until_fewer

WINDOW = timedelta(minutes=15)
BEFORE_THE_QUARTER = datetime(2026, 11, 22, 5, 59, 50, tzinfo=timezone.utc)


def test_a_window_ending_on_the_clock_gives_no_fresh_allowance(db):
    assert all(hit(db, "test:guesser", 5, WINDOW, BEFORE_THE_QUARTER) for _ in range(5))
    after = BEFORE_THE_QUARTER + timedelta(seconds=20)   # 06:00:10, a new quarter of an hour
    assert hits_so_far(db, "test:guesser", WINDOW, after) == 5
    assert not hit(db, "test:guesser", 5, WINDOW, after)
    # The 05:59 bucket stops counting at 06:14, 13 min 50 s after 06:00:10.
    assert seconds_until_fewer(db, "test:guesser", WINDOW, after) == 13 * 60 + 50
    a_window_later = BEFORE_THE_QUARTER.replace(second=0) + WINDOW
    assert hits_so_far(db, "test:guesser", WINDOW, a_window_later) == 1   # only the refused one, at 06:00:10
    assert hits_so_far(db, "test:someone-else", WINDOW, after) == 0
