"""The nightly run: the scheduler's job claims the night with a unique row, so two schedulers at once erase each
event once and log one run; two gallring runs racing batch by batch (threads, each with its own sessions, real
commits) erase every event once between them: SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite."""
from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kia.db import make_session_factory
from kia.incidents.models import Incident
from kia.orgs.models import Membership, OrgUnit, User
from kia.orgs.services import create_org_unit, create_user
from kia.retention.gallring import run_gallring
from kia.retention.models import RetentionRun
from kia.retention.runs import STALE, claim_night, nightly_gallring
from kia.scheduler import Jobs
from tests.conftest import TZ
from tests.logcheck import leaks
from tests.retention.conftest import GALLRING_AT, PERSONAL_NUMBER, Builder

EVENTS = 12


@pytest.fixture
def committed_events(engine, tmp_path):
    """EVENTS expired threat events in a tree of their own, committed for real, removed after with the run row."""
    suffix = uuid.uuid4().hex[:6].upper()
    store = tmp_path / "attachments"
    with Session(engine, expire_on_commit=False) as session:
        root = create_org_unit(session, f"R{suffix}", "Retention city", "city")
        administration = create_org_unit(session, f"RA{suffix}", "Retention administration", "administration", root)
        school = create_org_unit(session, f"RS{suffix}", "Retention school", "unit", administration)
        handler = create_user(session, f"h{suffix.lower()}@test.kia.se", "Handler", None, [("handler", school.code)])
        reporter = create_user(session, f"r{suffix.lower()}@test.kia.se", "Reporter", None,
                               [("reporter", school.code)])
        build = Builder(session, {"S1": school}, handler, reporter, store)
        staff = (("affected", "staff", "female"),)
        ids = [build.event("threat_violence", "S1", datetime(2023, 1 + i % 12, 3, 9, tzinfo=TZ),
                           datetime(2023, 1 + i % 12, 20, 9, tzinfo=TZ), staff).id for i in range(EVENTS)]
        units, users = [school.id, administration.id, root.id], [handler.id, reporter.id]
    yield {"ids": ids, "store": store, "root": root.id}
    with Session(engine) as session:
        session.execute(delete(Incident).where(Incident.org_unit_id == units[0]))   # cascades to cases
        session.execute(delete(RetentionRun).where(RetentionRun.night == GALLRING_AT.date()))
        session.execute(delete(Membership).where(Membership.user_id.in_(users)))
        session.execute(delete(User).where(User.id.in_(users)))
        for unit_id in units:
            session.execute(delete(OrgUnit).where(OrgUnit.id == unit_id))
        session.commit()


def _race(job):
    start = threading.Barrier(2)

    def one(_):
        start.wait()
        return job()

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(2)))


def _anonymised(engine, ids) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Incident).where(
            Incident.id.in_(ids), Incident.anonymised_at.is_not(None)))


def test_two_schedulers_run_the_night_once(engine, committed_events):
    results = _race(lambda: nightly_gallring(make_session_factory(engine), TZ, committed_events["store"],
                                             GALLRING_AT))
    ran = [r for r in results if r is not None]
    assert len(ran) == 1, "exactly one scheduler takes the night"
    assert ran[0].counts["threat_violence"] == {"anonymised": EVENTS, "destroyed": 0, "files": EVENTS}
    assert _anonymised(engine, committed_events["ids"]) == EVENTS
    with Session(engine) as session:
        [run] = session.scalars(select(RetentionRun).where(RetentionRun.night == GALLRING_AT.date())).all()
        assert (run.status, run.counts, run.finished_at is not None) == ("finished", ran[0].counts, True)
    # The same night again: nothing, and still one row.
    assert nightly_gallring(make_session_factory(engine), TZ, committed_events["store"], GALLRING_AT) is None


def test_two_runs_racing_batch_by_batch_erase_each_event_once(engine, is_postgres, committed_events):
    results = _race(lambda: run_gallring(make_session_factory(engine), GALLRING_AT, committed_events["store"],
                                         batch=2))
    taken = [r.counts.get("threat_violence", {}).get("anonymised", 0) for r in results]
    assert sum(taken) == EVENTS
    assert _anonymised(engine, committed_events["ids"]) == EVENTS


def test_the_scheduler_job_logs_counts_per_type_and_no_content(caplog, engine, settings, committed_events):
    jobs = Jobs(replace(settings, sweep_workers=1), make_session_factory(engine))
    jobs.attachments_root = committed_events["store"]
    caplog.set_level(logging.DEBUG)
    jobs.gallring(GALLRING_AT)
    [line] = [r for r in caplog.records if r.name == "kia.scheduler"]
    assert line.getMessage() == (f"gallring: {EVENTS} records anonymised, 0 destroyed, {EVENTS} files removed "
                                 f"(threat_violence {EVENTS})")
    assert leaks(caplog.text, {PERSONAL_NUMBER: "a personal number"}) == []
    assert "Olle" not in caplog.text
    caplog.clear()
    jobs.gallring(GALLRING_AT)   # the night has run: nothing said
    assert [r for r in caplog.records if r.name == "kia.scheduler"] == []


def test_an_event_locked_by_a_hold_being_placed_is_passed_by(engine, is_postgres, committed_events):
    """PostgreSQL: placing a hold locks the event first; a run meanwhile skips it (SKIP LOCKED) instead of erasing
    what is about to be held. (SQLite lets one writer at a time: the run waits for the hold, then sees it.)"""
    if not is_postgres:
        pytest.skip("row locks are PostgreSQL's; SQLite serialises the writers")
    first, *rest = committed_events["ids"]
    with Session(engine) as holding:
        holding.execute(select(Incident.id).where(Incident.id == first).with_for_update())
        result = run_gallring(make_session_factory(engine), GALLRING_AT, committed_events["store"])
        holding.rollback()
    assert result.counts["threat_violence"]["anonymised"] == EVENTS - 1
    with Session(engine) as session:
        assert session.get(Incident, first).anonymised_at is None


class Killed(BaseException):
    """What a scheduler killed midway leaves: its batches so far committed, its run row still saying running."""


def _a_run_that_dies_after_its_first_batch(engine, store) -> None:
    with Session(engine) as session:
        assert claim_night(session, GALLRING_AT.date(), GALLRING_AT) is not None

    def die(_result):
        raise Killed

    with pytest.raises(Killed):
        run_gallring(make_session_factory(engine), GALLRING_AT, store, batch=2, after_batch=die)


def test_a_run_whose_scheduler_died_is_taken_over_once_it_has_been_silent(engine, committed_events):
    store, ids = committed_events["store"], committed_events["ids"]
    _a_run_that_dies_after_its_first_batch(engine, store)
    assert _anonymised(engine, ids) == 2
    # Silent for less than STALE: it may be working still, so nobody takes the night.
    assert nightly_gallring(make_session_factory(engine), TZ, store, GALLRING_AT + STALE / 2) is None
    results = _race(lambda: nightly_gallring(make_session_factory(engine), TZ, store,
                                             GALLRING_AT + STALE + timedelta(minutes=1)))
    ran = [r for r in results if r is not None]
    assert len(ran) == 1, "exactly one scheduler takes the dead run over"
    assert ran[0].counts["threat_violence"]["anonymised"] == EVENTS - 2
    assert _anonymised(engine, ids) == EVENTS
    with Session(engine) as session:
        [run] = session.scalars(select(RetentionRun).where(RetentionRun.night == GALLRING_AT.date())).all()
        assert (run.status, run.taken_over_at) == ("finished", GALLRING_AT + STALE + timedelta(minutes=1))
    # Finished: not taken over again, however late.
    assert nightly_gallring(make_session_factory(engine), TZ, store, GALLRING_AT + 4 * STALE) is None

