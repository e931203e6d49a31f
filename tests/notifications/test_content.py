"""What notifications say: every kind renders in Swedish and English from the payload alone, links to the
case, and an e-mail about a case naming a pupil never carries the name, the personal number or free text."""
from dataclasses import replace

import pytest

from kia.access import Actor
from kia.orgs.models import User
from kia.outbox.models import UNIT_KINDS, NotificationKind
from notifications.dispatcher import dispatch
from notifications.inbox import unread_count
from notifications.render import TEMPLATES, render
from tests.notifications.conftest import NOW, PUPIL_NAME, PUPIL_NUMBER, SECRET_TEXT, file_victimisation, notify

PAYLOAD = {"case_id": 7, "case_number": "UTBF-2026-00042-1", "incident_id": 5, "type": "victimisation",
           "type_name": {"sv": "Kränkande behandling", "en": "Degrading treatment"}, "unit": "S1",
           "unit_name": "Skola Ett", "state": "received", "obligation": {"sv": "Anmälan till huvudman",
                                                                         "en": "Report to the principal organiser"},
           "due_at": "2026-04-09T08:00:00+00:00", "step": "due"}


CASE_KINDS = [kind for kind in NotificationKind if kind not in UNIT_KINDS]
ALARM_PAYLOAD = {"alarm_id": 9, "alarm_type": "brand", "type_name": {"sv": "Brand", "en": "Fire"},
                 "instruction": {"sv": "Utrym byggnaden.", "en": "Evacuate the building."}, "unit": "S1",
                 "unit_name": "Skola Ett", "silent": False, "drill": False, "raised_at": "2026-04-09T08:00:00+00:00",
                 "ended_at": None, "due_at": "2026-04-09T08:00:00+00:00", "step": "due"}


@pytest.mark.parametrize("kind", CASE_KINDS)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_kind_renders_in_both_languages(kind, language, settings):
    rendered = render(kind, language, PAYLOAD, replace(settings, base_url="https://kia.example.se"))
    assert rendered.subject and "\n" not in rendered.subject and "UTBF-2026-00042-1" in rendered.subject
    link = ("https://kia.example.se/my/incidents/5" if kind == NotificationKind.CLOSED
            else "https://kia.example.se/cases/7")
    assert link in rendered.body
    assert ("Ärende:" if language == "sv" else "Case:") in rendered.body


@pytest.mark.parametrize("kind", sorted(UNIT_KINDS))
@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_alarm_and_drill_kind_renders_in_both_languages(kind, language, settings):
    rendered = render(kind, language, ALARM_PAYLOAD, replace(settings, base_url="https://kia.example.se"))
    assert rendered.subject and "\n" not in rendered.subject and "Skola Ett" in rendered.subject
    assert "https://kia.example.se/" in rendered.body and ("Brand" if language == "sv" else "Fire") in rendered.body
    if kind == NotificationKind.ALARM:
        assert ("Utrym byggnaden." if language == "sv" else "Evacuate the building.") in rendered.body
        assert "https://kia.example.se/alarms/9" in rendered.body


def test_deadline_notices_show_the_due_time_in_stockholm(settings):
    assert render("overdue", "sv", PAYLOAD, settings).body.count("9 april 2026 kl. 10:00") == 1
    assert "Due: 9 April 2026, 10:00" in render("reminder", "en", PAYLOAD, settings).body


def test_both_languages_have_the_same_templates():
    def names(language):
        return sorted(p.name for p in (TEMPLATES / language).glob("*.txt"))
    assert names("sv") == names("en")
    assert {f"{kind}.txt" for kind in NotificationKind} <= set(names("sv"))


def test_mails_never_carry_the_pupils_name_number_or_the_description(db, session_factory, smtp, smtp_settings,
                                                                      make, reporter):
    handler = make.user(("handler", "S1"))
    case = file_victimisation(db, reporter)
    assert case.subject_person.name == PUPIL_NAME   # the case really is about the named pupil
    for kind in CASE_KINDS:
        notify(db, case, kind, [handler, db.get(User, reporter.user_id)])
    dispatch(session_factory, smtp_settings, NOW)
    assert len(smtp.messages) == 2 * len(CASE_KINDS)
    digits = PUPIL_NUMBER.replace("-", "")
    for message in smtp.messages:
        text = message.as_string() + message.get_content()
        for secret in (PUPIL_NAME, "Tilda", "Hemligsson", "Olle", PUPIL_NUMBER, digits, digits[2:], SECRET_TEXT):
            assert secret not in text, (message["Subject"], secret)


def test_filing_tells_the_handler_without_the_pupils_details(db, session_factory, smtp, smtp_settings, tree, make):
    handler = make.user(("handler", "S1"), language="en")
    case = file_victimisation(db, make.actor(("reporter", "S1")), org_unit="S1")   # filing queues new_case
    dispatch(session_factory, smtp_settings, NOW)
    [mail] = smtp.to(handler.email)
    assert mail["Subject"] == f"New case {case.number}: Degrading treatment"
    assert all(secret not in mail.get_content() for secret in ("Tilda", "Hemligsson", "121212", SECRET_TEXT))


def test_a_users_notification_is_in_the_app_at_once_and_stays_unread_after_its_mail(
        db, session_factory, smtp, smtp_settings, make, reporter):
    handler = make.user(("handler", "S1"))
    notify(db, file_victimisation(db, reporter), NotificationKind.NEW_CASE, [handler])
    actor = Actor.for_user(handler)
    assert unread_count(db, actor) == 1   # before any dispatch
    assert dispatch(session_factory, smtp_settings, NOW).sent == 1
    db.expire_all()
    assert len(smtp.to(handler.email)) == 1 and unread_count(db, actor) == 1
