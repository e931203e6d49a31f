"""kia.ratelimit: at most N hits in any window's length, not per window on the clock."""
from datetime import datetime, timedelta, timezone

from kia.ratelimit import hit, hits_so_far, purge_before, seconds_until_fewer

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


def test_purge_drops_only_old_windows_of_keys_that_start_with_the_prefix_as_written(db):
    old, recent = datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc), datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc)
    for key in ("public_x:a", "publicXx:b", "other:c"):
        hit(db, key, 100, WINDOW, old)
    hit(db, "public_x:a", 100, WINDOW, recent)
    assert purge_before(db, recent - timedelta(minutes=30), key_prefix="public_x:") == 1
    assert hits_so_far(db, "public_x:a", WINDOW, recent) == 1
    assert hits_so_far(db, "publicXx:b", WINDOW, old) == 1   # "_" is no wildcard in a prefix
    assert hits_so_far(db, "other:c", WINDOW, old) == 1
    assert purge_before(db, recent - timedelta(minutes=30)) == 2   # no prefix: every key's old windows


def test_a_hit_can_purge_old_windows_of_a_prefix_as_it_counts(db):
    old, recent = datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc), datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc)
    for key in ("public_x:a", "publicXx:b"):
        hit(db, key, 100, WINDOW, old)
    hit(db, "public_x:a", 100, WINDOW, recent - timedelta(minutes=5))
    assert hit(db, "public_x:a", 2, WINDOW, recent, purge=(recent - timedelta(minutes=30), "public_x:"))
    assert hits_so_far(db, "public_x:a", WINDOW, old) == 0   # purged
    assert hits_so_far(db, "publicXx:b", WINDOW, old) == 1   # "_" is no wildcard in the prefix
    assert hits_so_far(db, "public_x:a", WINDOW, recent) == 2   # this hit and the one five minutes earlier
    assert not hit(db, "public_x:a", 2, WINDOW, recent, purge=(recent - timedelta(minutes=30), "public_x:"))

