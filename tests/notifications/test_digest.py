"""Daily digest: users who chose one get one e-mail a day carrying all their non-urgent notifications;
urgent ones still come at once; a failed digest is retried, never sent twice."""
from datetime import timedelta

import pytest

from kia.access import Actor
from kia.outbox.models import Channel, DeliveryStatus, NotificationKind
from notifications.digest import send_digests
from notifications.dispatcher import dispatch
from notifications.inbox import set_daily_digest
from tests.notifications.conftest import NOW, SmtpServer, file_victimisation, notify, rows_of


@pytest.fixture
def people(make, db, reporter):
    digest_user = make.user(("handler", "S1"), language="en")
    digest_user.daily_digest = True
    immediate_user = make.user(("handler", "S1"))
    db.commit()
    return digest_user, immediate_user, reporter


def test_one_digest_with_several_items(db, session_factory, smtp, smtp_settings, people):
    digest_user, immediate_user, reporter = people
    cases = [file_victimisation(db, reporter) for _ in range(3)]
    for case in cases:
        notify(db, case, NotificationKind.NEW_CASE, [digest_user, immediate_user])
    notify(db, cases[0], NotificationKind.OVERDUE, [digest_user])   # urgent: never waits for the digest

    dispatched = dispatch(session_factory, smtp_settings, NOW)
    assert dispatched.sent == 3 + 1
    assert [m["Subject"] for m in smtp.to(digest_user.email)] == [f"Overdue: case {cases[0].number}"]

    morning = NOW + timedelta(days=1)
    stats = send_digests(session_factory, smtp_settings, morning)
    again = send_digests(session_factory, smtp_settings, morning + timedelta(hours=3))
    assert (stats.mails, stats.items, again.mails) == (1, 3, 0)
    digest = smtp.to(digest_user.email)[-1]
    assert digest["Subject"] == "KIA: your summary for 11 March 2026 (3)"
    body = digest.get_content()
    for case in cases:
        assert f"New case {case.number}" in body and f"/cases/{case.id}" in body
    assert len(smtp.to(immediate_user.email)) == 3
    assert {r.status for r in rows_of(db, "test:") if r.user_id == digest_user.id} == {DeliveryStatus.SENT}


def test_only_one_digest_a_day_later_items_wait_for_tomorrow(db, session_factory, smtp, smtp_settings, people):
    digest_user, _, reporter = people
    first, second = file_victimisation(db, reporter), file_victimisation(db, reporter)
    notify(db, first, NotificationKind.CLOSED, [digest_user])
    morning = NOW + timedelta(days=1)
    assert send_digests(session_factory, smtp_settings, morning).mails == 1
    notify(db, second, NotificationKind.CLOSED, [digest_user], now=morning + timedelta(hours=1))
    later = send_digests(session_factory, smtp_settings, morning + timedelta(hours=2))
    assert (later.mails, later.skipped) == (0, 1)
    assert send_digests(session_factory, smtp_settings, morning + timedelta(days=1)).mails == 1
    assert len(smtp.to(digest_user.email)) == 2
    assert max(smtp.count_by_message_id().values()) == 1


def test_a_failed_digest_is_retried_once_the_server_is_back(db, session_factory, smtp_port, smtp_settings, people):
    digest_user, _, reporter = people
    notify(db, file_victimisation(db, reporter), NotificationKind.ASSIGNED, [digest_user])
    morning = NOW + timedelta(days=1)
    assert send_digests(session_factory, smtp_settings, morning).retried == 1
    with SmtpServer(smtp_port) as server:
        assert send_digests(session_factory, smtp_settings, morning + timedelta(hours=1)).mails == 1
    assert len(server.messages) == 1


def test_turning_the_digest_off_sends_what_waits(db, session_factory, smtp, smtp_settings, people):
    digest_user, _, reporter = people
    notify(db, file_victimisation(db, reporter), NotificationKind.ASSIGNED, [digest_user])
    assert dispatch(session_factory, smtp_settings, NOW).sent == 0
    set_daily_digest(db, Actor.for_user(digest_user), False)
    assert dispatch(session_factory, smtp_settings, NOW).sent == 1
    [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.EMAIL]
    assert not row.digest and row.status == DeliveryStatus.SENT
