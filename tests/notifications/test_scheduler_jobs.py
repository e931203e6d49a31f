"""The scheduler's notification jobs reach the dispatcher and the digest (they import them only when run)."""
from kia.scheduler import Jobs
from notifications.digest import DigestStats
from notifications.dispatcher import DispatchStats
from tests.notifications.conftest import NOW


def test_scheduler_jobs_call_the_dispatcher_and_the_digest(engine, settings):
    jobs = Jobs(settings)
    try:
        assert isinstance(jobs.dispatch_notifications(NOW), DispatchStats)
        assert isinstance(jobs.send_digests(NOW), DigestStats)
    finally:
        jobs.session_factory.kw["bind"].dispose()
