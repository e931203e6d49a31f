"""An alarm's deliveries through the existing channels, against real endpoints: the e-mail to each receiver over
SMTP (aiosmtpd) with the instruction, and the signed webhook POST to the city's SMS/push gateway (an HTTP server
on 127.0.0.1), both sent by the dispatcher from the outbox rows the raising wrote."""
from __future__ import annotations

from kia.access import Actor
from kia.alarms.services import AlarmInput, end_alarm, raise_alarm
from notifications import admin
from notifications.dispatcher import dispatch
from tests.conftest import TZ
from tests.notifications.conftest import receiver, smtp, smtp_port, smtp_settings  # noqa: F401 (fixtures)


def test_alarm_mails_and_webhooks_go_out_through_the_dispatcher(db, session_factory, smtp, smtp_settings, receiver,
                                                                  make, tree):
    teacher = make.user(("reporter", "S1"), name="Lärare Ett")
    rektor = make.user(("handler", "S1"), name="Rektor Ett", language="en")
    city_admin = Actor.for_user(make.user(("admin", "STHLM")))
    admin.create_webhook(db, city_admin, "SMS-gateway", receiver.url, org_unit="UTBF", kinds=["alarm", "alarm_ended"])
    alarm = raise_alarm(db, Actor.for_user(teacher), AlarmInput(type="pdv", org_unit="S1", confirm=True, silent=True,
                                                                message="Hemlig-fritext"))

    assert dispatch(session_factory, smtp_settings).sent == 3
    swedish = smtp.to(teacher.email)[0]
    assert swedish["Subject"] == "LARM: PDV – pågående dödligt våld – Skola Ett"
    body = swedish.get_content()
    assert "Fly – Sök skydd – Larma" in body and f"https://kia.example.se/alarms/{alarm.id}" in body
    english = smtp.to(rektor.email)[0]
    assert english["Subject"].startswith("ALARM: Ongoing lethal violence") and "Run – Hide – Tell" in \
        english.get_content()
    [document] = receiver.documents()
    assert document["kind"] == "alarm" and document["alarm"]["alarm_id"] == alarm.id
    assert document["alarm"]["silent"] is True and document["alarm"]["unit"] == "S1"
    assert "Hemlig-fritext" not in str(document) and "Lärare Ett" not in str(document)

    end_alarm(db, Actor.for_user(rektor), alarm.id, TZ)
    assert dispatch(session_factory, smtp_settings).sent >= 3   # all clear to both, the gateway (and the new case)
    assert smtp.to(teacher.email)[-1]["Subject"] == "Faran över: PDV – pågående dödligt våld – Skola Ett"
    assert [d["kind"] for d in receiver.documents()] == ["alarm", "alarm_ended"]


def test_a_drill_is_marked_in_the_mail(db, session_factory, smtp, smtp_settings, make, tree):
    teacher = make.user(("reporter", "S1"))
    raise_alarm(db, Actor.for_user(teacher), AlarmInput(type="brand", org_unit="S1", drill=True))
    dispatch(session_factory, smtp_settings)
    mail = smtp.to(teacher.email)[0]
    assert mail["Subject"].startswith("ÖVNING: LARM: Brand") and "ÖVNING – detta är en övning." in mail.get_content()
