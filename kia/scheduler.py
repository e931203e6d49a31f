"""The scheduler process (`kia scheduler`): sweeps due obligations every minute, dispatches the outbox
every few seconds, and does the nightly housekeeping and gallring and the morning's drill reminders.

Like kia/app.py and kia/cli.py this module wires things together, so it may import notifications/.
Its job store is in memory and never shared: running two schedulers by mistake is safe because every
step and every delivery is claimed in the database (row locks and unique rows), not here.
"""
from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from kia.alarms.drills import ensure_default_drill_requirements, sweep_drills
from kia.alarms.services import queue_missed_notices
from kia.config import Settings
from kia.db import database_unavailable, make_engine, make_session_factory, unavailable_cause, utcnow
from kia.deadlines.admin import resync_if_rules_changed
from kia.deadlines.escalation import sweep_side_by_side
from kia.ratelimit import purge_before
from kia.retention.runs import nightly_gallring

log = logging.getLogger("kia.scheduler")

SWEEP_EVERY = timedelta(minutes=1)
DISPATCH_EVERY = timedelta(seconds=5)


class Jobs:
    """The scheduler's jobs, each with its own session; also called directly by `kia` commands and tests."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session] | None = None):
        self.settings = settings
        if session_factory is None:
            # The side-by-side sweeps, the dispatcher and the housekeeping each hold a connection at times.
            pool_size = max(3, settings.sweep_workers + 2)
            session_factory = make_session_factory(make_engine(settings.database_url, pool_size=pool_size))
        self.session_factory = session_factory
        self.attachments_root = settings.attachments_path

    def sweep_deadlines(self, now: datetime | None = None):
        now = now or utcnow()
        with self.session_factory() as session:
            recomputed = resync_if_rules_changed(session, self.settings.timezone, now)
            if recomputed:
                log.info("deadline rules changed: %s open cases recomputed", recomputed)
        result = sweep_side_by_side(self.session_factory, now, self.settings.sweep_workers)
        if result.obligations:
            steps = ", ".join(f"{count} {step}" for step, count in result.steps.items() if count)
            log.info("deadline sweep: %s obligations due, steps taken: %s; %s notifications queued",
                     result.obligations, steps or "none", result.notifications)
        return result

    def dispatch_notifications(self, now: datetime | None = None):
        from notifications.dispatcher import dispatch

        with self.session_factory() as session:
            caught_up = queue_missed_notices(session, now)
        if caught_up:
            log.warning("alarms: the deliveries of %s raised alarms were queued late (a server stopped mid-raise)",
                        caught_up)
        stats = dispatch(self.session_factory, self.settings, now or utcnow())
        if stats.sent or stats.retried or stats.failed:
            log.info("notifications: %s sent, %s to retry, %s failed for good",
                     stats.sent, stats.retried, stats.failed)
        return stats

    def send_digests(self, now: datetime | None = None):
        from notifications.digest import send_digests

        stats = send_digests(self.session_factory, self.settings, now or utcnow())
        if stats.mails or stats.retried or stats.failed:
            log.info("daily digests: %s sent carrying %s notifications, %s to retry, %s failed for good",
                     stats.mails, stats.items, stats.retried, stats.failed)
        return stats

    def housekeeping(self, now: datetime | None = None):
        now = now or utcnow()
        with self.session_factory() as session:
            purged = purge_before(session, now - timedelta(days=1))
        if purged:
            log.info("housekeeping: %s rate-limit windows purged", purged)
        return purged

    def drill_reminders(self, now: datetime | None = None):
        """Every unit's yearly drill requirement (brand unless an admin set others), and the day's reminder steps."""
        now = now or utcnow()
        with self.session_factory() as session:
            added = ensure_default_drill_requirements(session, now)
            result = sweep_drills(session, self.settings.timezone, now)
        if added or result.notifications:
            steps = ", ".join(f"{count} {step}" for step, count in result.steps.items() if count)
            log.info("drills: %s requirements added, steps taken: %s; %s notifications queued",
                     added, steps or "none", result.notifications)
        return result

    def gallring(self, now: datetime | None = None):
        """Tonight's gallring, unless another scheduler has taken the night (the run's row says so)."""
        result = nightly_gallring(self.session_factory, self.settings.timezone, self.attachments_root, now)
        if result is not None and result.counts:
            totals = {what: sum(c[what] for c in result.counts.values())
                      for what in ("anonymised", "destroyed", "files")}
            per_type = ", ".join(f"{code} {c['anonymised'] + c['destroyed']}" for code, c in result.counts.items())
            log.info("gallring: %s records anonymised, %s destroyed, %s files removed (%s)",
                     totals["anonymised"], totals["destroyed"], totals["files"], per_type)
        return result


def logged(job: Callable[[], object], what: str) -> Callable[[], None]:
    """The job as the scheduler runs it: a failure is one log record with its cause and traceback, and the
    job runs again at its next time (APScheduler's executor, kept at WARNING, would otherwise be the one to say). While
    the database is unavailable (a restart, a fail-over) each failure is one warning line, without the traceback."""
    def run_job() -> None:
        try:
            job()
        except Exception as error:
            if database_unavailable(error):   # not KIA's fault, and every job of the outage would repeat the trace
                log.warning("%s failed: database unavailable (%s); it runs again at its next time",
                            what, unavailable_cause(error))
            else:
                log.exception("%s failed", what)

    run_job.__name__ = run_job.__qualname__ = f"{what} (logged)"
    return run_job


def run(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM. Jobs never overlap themselves (max_instances=1, coalesce)."""
    jobs = Jobs(settings)
    scheduler = BlockingScheduler(timezone=settings.timezone, executors={"default": ThreadPoolExecutor(4)},
                                  job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    scheduler.add_job(logged(jobs.sweep_deadlines, "deadline sweep"),
                      IntervalTrigger(seconds=SWEEP_EVERY.total_seconds()),
                      id="sweep", next_run_time=datetime.now(settings.timezone))
    scheduler.add_job(logged(jobs.dispatch_notifications, "notification dispatch"),
                      IntervalTrigger(seconds=DISPATCH_EVERY.total_seconds()),
                      id="dispatch", next_run_time=datetime.now(settings.timezone))
    scheduler.add_job(logged(jobs.send_digests, "daily digests"), CronTrigger(hour=7, minute=0), id="digests")
    scheduler.add_job(logged(jobs.housekeeping, "housekeeping"), CronTrigger(hour=3, minute=30), id="housekeeping")
    scheduler.add_job(logged(jobs.gallring, "gallring"), CronTrigger(hour=2, minute=30), id="gallring")
    scheduler.add_job(logged(jobs.drill_reminders, "drill reminders"), CronTrigger(hour=6, minute=30), id="drills")

    def stop(_signum, _frame):
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler started (%s)", settings.timezone.key)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
