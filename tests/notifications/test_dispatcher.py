"""The dispatcher against a real SMTP server: mails arrive once, in the recipient's language; an outage loses
nothing and sends nothing twice; backoff, the maximum of attempts, and an admin's resend."""
from dataclasses import replace
from datetime import timedelta

import pytest

from kia.deadlines.escalation import sweep
from kia.errors import Forbidden, NotFound
from kia.outbox.models import Channel, DeliveryStatus, NotificationKind
from notifications import admin
from notifications.dispatcher import dispatch, retry_delay
from notifications.mailbox import list_local_mail, read_local_mail
from tests.notifications.conftest import NOW, SmtpServer, file_victimisation, notify, rows_of


@pytest.fixture
def people(make, reporter):
    handler_sv = make.user(("handler", "S1"), language="sv")
    handler_en = make.user(("handler", "S1"), language="en")
    return handler_sv, handler_en, reporter


def test_mails_arrive_once_in_the_recipients_language(db, session_factory, smtp, smtp_settings, people):
    handler_sv, handler_en, reporter = people
    case = file_victimisation(db, reporter)
    assert notify(db, case, NotificationKind.NEW_CASE, [handler_sv, handler_en]) == 2   # one each: in the app, by e-mail
    assert notify(db, case, NotificationKind.NEW_CASE, [handler_sv, handler_en]) == 0   # the same event again

    stats = dispatch(session_factory, smtp_settings, NOW)
    again = dispatch(session_factory, smtp_settings, NOW + timedelta(hours=1))

    assert (stats.sent, stats.retried, again.sent) == (2, 0, 0)
    [swedish], [english] = smtp.to(handler_sv.email), smtp.to(handler_en.email)
    assert swedish["Subject"] == f"Nytt ärende {case.number}: Kränkande behandling"
    assert english["Subject"].startswith(f"New case {case.number}: ")
    assert f"https://kia.example.se/cases/{case.id}" in english.get_content()
    assert (swedish["Content-Language"], english["Content-Language"]) == ("sv", "en")
    assert swedish["Auto-Submitted"] == "auto-generated"
    assert all(r.status == DeliveryStatus.SENT and r.sent_at == NOW for r in rows_of(db, "test:"))


def test_escalation_steps_reach_the_handler_by_mail(db, session_factory, smtp, smtp_settings, people, make):
    handler_sv, _, _ = people
    case = file_victimisation(db, make.actor(("reporter", "S1")), org_unit="S1")   # routed to handler_sv
    sweep(db, NOW + timedelta(days=30))   # the real producer: every step of every obligation has come due
    dispatch(session_factory, smtp_settings, NOW + timedelta(days=30))
    subjects = [m["Subject"] for m in smtp.to(handler_sv.email)]
    assert any(s.startswith(f"Tiden har gått ut: ärende {case.number}") for s in subjects)
    assert max(smtp.count_by_message_id().values()) == 1


def test_smtp_down_then_up_delivers_all_none_twice(db, session_factory, smtp_port, smtp_settings, people):
    handler_sv, handler_en, reporter = people
    cases = [file_victimisation(db, reporter) for _ in range(3)]
    for case in cases:
        notify(db, case, NotificationKind.NEW_CASE, [handler_sv, handler_en])

    down = dispatch(session_factory, smtp_settings, NOW)   # nothing listens on the port
    assert (down.sent, down.retried) == (0, 6)
    waiting = [r for r in rows_of(db, "test:") if r.channel == Channel.EMAIL]
    assert {(r.status, r.attempts, r.next_attempt_at) for r in waiting} == {
        (DeliveryStatus.PENDING, 1, NOW + timedelta(minutes=1))}
    assert "SMTP connection failed" in waiting[0].last_error

    with SmtpServer(smtp_port, delay=0.01) as server:
        server.refuse_next = 2                               # up, but busy for the first two
        early = dispatch(session_factory, smtp_settings, NOW + timedelta(seconds=30))
        assert early.sent == 0                               # before the backoff: not tried again
        first = dispatch(session_factory, smtp_settings, NOW + timedelta(minutes=1))
        second = dispatch(session_factory, smtp_settings, NOW + timedelta(minutes=4))
        dispatch(session_factory, smtp_settings, NOW + timedelta(hours=1))
    assert (first.sent, first.retried, second.sent) == (4, 2, 2)
    counts = server.count_by_message_id()
    assert len(counts) == 6 and set(counts.values()) == {1}
    assert {r.status for r in rows_of(db, "test:")} == {DeliveryStatus.SENT}


def test_server_stopped_between_runs(db, session_factory, smtp, smtp_settings, people):
    handler_sv, _, reporter = people
    first_case, second_case = file_victimisation(db, reporter), file_victimisation(db, reporter)
    notify(db, first_case, NotificationKind.ASSIGNED, [handler_sv])
    assert dispatch(session_factory, smtp_settings, NOW).sent == 1
    smtp.stop()
    notify(db, second_case, NotificationKind.ASSIGNED, [handler_sv])
    assert dispatch(session_factory, smtp_settings, NOW).retried == 1
    smtp.start()
    assert dispatch(session_factory, smtp_settings, NOW + timedelta(minutes=2)).sent == 1
    assert sorted(smtp.count_by_message_id().values()) == [1, 1]


def test_backoff_then_failed_then_an_admin_sends_it_again(db, session_factory, smtp_port, smtp_settings, people,
                                                          make):
    handler_sv, _, reporter = people
    case = file_victimisation(db, reporter)
    notify(db, case, NotificationKind.ASSIGNED, [handler_sv])
    at, attempts_at = NOW, []
    for _ in range(smtp_settings.notification_max_attempts):    # 4 attempts: 1, 2 and 4 minutes apart
        dispatch(session_factory, smtp_settings, at)
        [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.EMAIL]
        attempts_at.append(at)
        at = row.next_attempt_at
    assert [b - a for a, b in zip(attempts_at, attempts_at[1:])] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 4)
    assert dispatch(session_factory, smtp_settings, NOW + timedelta(days=1)).sent == 0   # failed stays failed

    city_admin = make.actor(("admin", "STHLM"))
    assert [r.id for r in admin.failed_deliveries(db, city_admin)[0]] == [row.id]
    admin.resend(db, city_admin, row.id, NOW + timedelta(days=1))
    with SmtpServer(smtp_port) as server:
        assert dispatch(session_factory, smtp_settings, NOW + timedelta(days=1)).sent == 1
    assert len(server.messages) == 1
    assert rows_of(db, "test:")[-1].status == DeliveryStatus.SENT


def test_retry_delay_doubles_up_to_a_cap():
    assert [retry_delay(n) for n in (1, 2, 3, 9, 10, 30)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(hours=4), timedelta(hours=4),
        timedelta(hours=4)]


def test_inactive_recipient_fails_at_once(db, session_factory, smtp, smtp_settings, people):
    handler_sv, _, reporter = people
    case = file_victimisation(db, reporter)
    notify(db, case, NotificationKind.ASSIGNED, [handler_sv])
    handler_sv.active = False
    db.commit()
    assert dispatch(session_factory, smtp_settings, NOW).failed == 1
    assert smtp.messages == []


def test_smtp_login_failure_never_shows_the_password(db, session_factory, smtp_port, smtp_settings, people,
                                                     caplog):
    from aiosmtpd.smtp import AuthResult

    handler_sv, _, reporter = people
    case = file_victimisation(db, reporter)
    notify(db, case, NotificationKind.ASSIGNED, [handler_sv])
    settings = replace(smtp_settings, smtp_user="kia", smtp_password="hunter2-very-secret")
    caplog.set_level("DEBUG")
    with SmtpServer(smtp_port, authenticator=lambda *args: AuthResult(success=False, handled=False)):
        assert dispatch(session_factory, settings, NOW).retried == 1
    [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.EMAIL]
    assert "hunter2" not in row.last_error and "hunter2" not in caplog.text and "hunter2" not in repr(settings)
    assert "SMTPAuthenticationError" in row.last_error


def test_a_refused_recipient_is_not_named_in_the_error_or_the_log(db, session_factory, smtp, smtp_settings, people,
                                                                  caplog):
    handler_sv, _, reporter = people
    smtp.unknown.add(handler_sv.email)
    notify(db, file_victimisation(db, reporter), NotificationKind.ASSIGNED, [handler_sv])
    caplog.set_level("DEBUG")
    assert dispatch(session_factory, smtp_settings, NOW).retried == 1
    [row] = [r for r in rows_of(db, "test:") if r.channel == Channel.EMAIL]
    assert "SMTPRecipientsRefused" in row.last_error and "550" in row.last_error
    # KIA's own lines (the test's SMTP server, aiosmtpd, logs the conversation under mail.log).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("notifications"))
    assert handler_sv.email not in row.last_error and handler_sv.email not in logged
    assert row.last_error in logged   # the cause is logged, without the address


def test_without_smtp_host_mails_go_to_the_local_folder(db, session_factory, settings, people, make):
    handler_sv, _, reporter = people
    case = file_victimisation(db, reporter)
    notify(db, case, NotificationKind.NEW_CASE, [handler_sv])
    assert not settings.smtp_host
    assert dispatch(session_factory, settings, NOW).sent == 1

    city_admin = make.actor(("admin", "STHLM"))
    [mail] = list_local_mail(settings, city_admin)
    assert (mail.to, mail.subject) == (handler_sv.email, f"Nytt ärende {case.number}: Kränkande behandling")
    assert f"/cases/{case.id}" in read_local_mail(settings, city_admin, mail.name).body
    with pytest.raises(Forbidden):
        list_local_mail(settings, make.actor(("handler", "S1")))
    with pytest.raises(NotFound):
        read_local_mail(settings, city_admin, "../secret_key")
