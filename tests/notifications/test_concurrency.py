"""Two dispatchers at once (threads, each with its own sessions, real commits) on the same database deliver
every notification exactly once: row locks with SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.db import make_session_factory
from kia.incidents.models import Incident, RegistrationCounter
from kia.orgs.models import Membership, OrgUnit, User
from kia.orgs.services import create_org_unit, create_user
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind
from notifications.dispatcher import dispatch
from tests.notifications.conftest import NOW, SmtpServer, file_victimisation, notify

CASES = 8
HANDLERS = 3


@pytest.fixture
def committed_cases(engine):
    """A tree, handlers and cases committed for real (each thread needs its own connection), removed after."""
    suffix = uuid.uuid4().hex[:6].upper()
    with Session(engine, expire_on_commit=False) as session:
        root = create_org_unit(session, f"N{suffix}", "Notification city", "city")
        administration = create_org_unit(session, f"NA{suffix}", "Notification administration", "administration",
                                         root)
        school = create_org_unit(session, f"NS{suffix}", "Notification school", "unit", administration)
        reporter = create_user(session, f"r{suffix.lower()}@test.kia.se", "Reporter", None,
                               [("reporter", school.code)])
        cases = [file_victimisation(session, Actor.for_user(reporter), org_unit=school.code) for _ in range(CASES)]
        # The handlers come after the filing, which thus tells nobody: these rows are all there is.
        handlers = [create_user(session, f"h{i}{suffix.lower()}@test.kia.se", f"Handler {i}", None,
                                [("handler", school.code)], language="sv" if i % 2 else "en")
                    for i in range(HANDLERS)]
        for case in cases:
            notify(session, case, NotificationKind.NEW_CASE, handlers, event=f"race{suffix}:{case.id}")
        ids = dict(root=root.id, admin=administration.id, users=[u.id for u in handlers] + [reporter.id],
                   prefix=f"race{suffix}:")
    yield ids
    with Session(engine) as session:
        session.execute(delete(Incident).where(Incident.reporter_id.in_(ids["users"])))   # cascades to cases
        session.execute(delete(RegistrationCounter).where(RegistrationCounter.administration_id == ids["admin"]))
        session.execute(delete(Membership).where(Membership.user_id.in_(ids["users"])))
        session.execute(delete(User).where(User.id.in_(ids["users"])))   # cascades to their notifications
        for unit in session.scalars(select(OrgUnit).where(OrgUnit.path.like(f"/{ids['root']}/%"))
                                    .order_by(OrgUnit.path.desc())):
            session.delete(unit)
            session.flush()
        session.commit()


def test_two_dispatchers_at_once_send_each_mail_once(engine, is_postgres, settings, smtp_port, committed_cases):
    smtp_settings = replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_starttls=False)
    start = threading.Barrier(2)

    def dispatcher(_):
        start.wait()
        return dispatch(make_session_factory(engine), smtp_settings, NOW, batch=CASES * HANDLERS)

    with SmtpServer(smtp_port, delay=0.005) as server, ThreadPoolExecutor(2) as pool:   # slow: the two overlap
        results = list(pool.map(dispatcher, range(2)))

    expected = CASES * HANDLERS
    assert sum(r.sent for r in results) == expected
    if is_postgres:   # SQLite lets one writer through at a time, so there one thread may well take them all
        assert all(r.sent > 0 for r in results), "both dispatchers should have taken a share"
    counts = server.count_by_message_id()
    assert len(counts) == expected and set(counts.values()) == {1}
    with Session(engine) as session:
        statuses = session.scalars(select(Notification.status).where(
            Notification.dedupe_key.startswith(committed_cases["prefix"]),
            Notification.channel == Channel.EMAIL)).all()
    assert statuses == [DeliveryStatus.SENT] * expected
