"""The alarm rules in the domain core: who raises, who receives, roll call, chat, checklist, ending and the event it
files, drills, and the bad input the issue names."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kia.access import Actor
from kia.alarms.broker import InProcessBroker
from kia.alarms.models import Alarm, AlarmEvent, AlarmType
from kia.alarms.services import (
    AlarmAlreadyRaised, AlarmInput, AlarmRateLimited, alarm_receivers, answer_roll_call, end_alarm, events_since,
    get_alarm, list_alarm_types, open_alarms_for, post_message, raise_alarm, roll_call_summary, subscribe_to_alarms,
    tick_checklist,
)
from kia.db import utcnow
from kia.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kia.incidents.models import Incident
from kia.orgs.models import OrgUnit
from kia.outbox.models import Channel, Notification, NotificationKind, WebhookSubscription
from tests.conftest import TZ


@pytest.fixture
def school(make, tree):
    """Staff of S1: a teacher (reporter), the rektor (handler); a teacher of S2; a safety officer of UTBF."""
    users = {"teacher": make.user(("reporter", "S1"), name="Lärare Ett"),
             "rektor": make.user(("handler", "S1"), name="Rektor Ett"),
             "other_school": make.user(("reporter", "S2"), name="Lärare Två"),
             "safety": make.user(("safety_officer", "UTBF"), name="Samordnare")}
    return {name: Actor.for_user(user) for name, user in users.items()} | {"users": users}


def fire(**overrides) -> AlarmInput:
    return AlarmInput(**{"type": "brand", "org_unit": "S1", **overrides})


def test_builtin_types_are_seeded_with_texts_and_their_event_types(db):
    types = {t.code: t for t in list_alarm_types(db)}
    assert set(types) >= {"brand", "hot", "inrymning", "utrymning", "pdv"}
    pdv = types["pdv"]
    assert pdv.needs_confirm and pdv.may_be_silent and "Fly – Sök skydd – Larma" in pdv.instruction_sv
    assert "112" in pdv.instruction_sv and pdv.event_type.code == "threat_violence"
    assert types["brand"].event_type.code == "fire" and not types["brand"].may_be_silent
    assert types["brand"].checklist and types["brand"].name_en == "Fire"


def test_raise_reaches_the_units_staff_and_subscribers_above_but_not_other_schools(db, school):
    subscribe_to_alarms(db, school["safety"], "UTBF")
    broker = InProcessBroker()
    with broker.subscribe() as subscription:
        alarm = raise_alarm(db, school["teacher"], fire(location="Matsalen"), broker)
        message = subscription.get(timeout=1)
    assert message["event"] == "alarm.raised" and message["alarm_id"] == alarm.id
    assert message["unit_path"] == alarm.org_unit.path and message["data"]["alarm"]["location"] == "Matsalen"
    assert message["id"] == db.scalar(select(func.max(AlarmEvent.id)))
    receivers = {u.name for u in alarm_receivers(db, alarm)}
    assert receivers == {"Lärare Ett", "Rektor Ett", "Samordnare"}
    mails = db.scalars(select(Notification).where(Notification.kind == NotificationKind.ALARM)).all()
    assert {m.user.name for m in mails} == receivers and all(not m.digest for m in mails)
    assert all(m.payload["alarm_id"] == alarm.id and m.channel == Channel.EMAIL for m in mails)
    assert [a.id for a in open_alarms_for(db, school["rektor"])] == [alarm.id]
    assert open_alarms_for(db, school["other_school"]) == []
    with pytest.raises(NotFound):
        get_alarm(db, school["other_school"], alarm.id)


def test_an_unsubscribed_safety_officer_reads_but_is_not_pushed(db, school):
    alarm = raise_alarm(db, school["teacher"], fire())
    assert get_alarm(db, school["safety"], alarm.id).id == alarm.id
    assert open_alarms_for(db, school["safety"]) == []
    assert "Samordnare" not in {u.name for u in alarm_receivers(db, alarm)}


def test_webhooks_of_the_unit_get_the_alarm(db, school, tree):
    db.add_all([WebhookSubscription(name="SMS", url="http://127.0.0.1:9/sms", secret="s", org_unit_id=tree["UTBF"].id,
                                    kinds="alarm alarm_ended"),
                WebhookSubscription(name="Other", url="http://127.0.0.1:9/x", secret="s",
                                    org_unit_id=tree["HAGALV"].id)])
    db.commit()
    alarm = raise_alarm(db, school["teacher"], fire())
    hooks = db.scalars(select(Notification).where(Notification.channel == Channel.WEBHOOK)).all()
    assert [(h.kind, h.payload["alarm_id"]) for h in hooks] == [(NotificationKind.ALARM, alarm.id)]


def test_bad_input_is_refused_with_a_message_per_field(db, school, tree):
    with pytest.raises(ValidationFailed) as unknown:
        raise_alarm(db, school["teacher"], fire(type="meteor", org_unit="NOPE"))
    assert set(unknown.value.errors) == {"type", "org_unit"}
    with pytest.raises(ValidationFailed) as out_of_reach:
        raise_alarm(db, school["other_school"], fire())
    assert set(out_of_reach.value.errors) == {"org_unit"}
    with pytest.raises(ValidationFailed) as not_silent:
        raise_alarm(db, school["teacher"], fire(silent=True))
    assert set(not_silent.value.errors) == {"silent"}
    with pytest.raises(ValidationFailed) as unconfirmed:
        raise_alarm(db, school["teacher"], fire(type="pdv"))
    assert set(unconfirmed.value.errors) == {"confirm"}
    db.get(OrgUnit, tree["S1"].id).active = False
    db.commit()
    with pytest.raises(ValidationFailed) as closed:
        raise_alarm(db, school["teacher"], fire())
    assert set(closed.value.errors) == {"org_unit"}
    assert db.scalar(select(func.count(Alarm.id))) == 0


def test_pdv_with_confirm_may_be_silent(db, school):
    alarm = raise_alarm(db, school["teacher"], fire(type="pdv", confirm=True, silent=True))
    assert alarm.silent and alarm.alarm_type.code == "pdv"


def test_a_second_identical_alarm_within_a_minute_joins_the_first(db, school):
    now = utcnow()
    first = raise_alarm(db, school["teacher"], fire(), now=now)
    with pytest.raises(AlarmAlreadyRaised) as joined:
        raise_alarm(db, school["rektor"], fire(), now=now + timedelta(seconds=30))
    assert joined.value.alarm.id == first.id and isinstance(joined.value, Conflict)
    other = raise_alarm(db, school["rektor"], fire(type="hot"), now=now + timedelta(seconds=30))
    later = raise_alarm(db, school["rektor"], fire(), now=now + timedelta(seconds=61))
    assert len({first.id, other.id, later.id}) == 3


def test_raising_is_rate_limited_per_user(db, school):
    now = utcnow()
    for n in range(5):   # a minute apart, so none joins the one before
        raise_alarm(db, school["teacher"], fire(drill=True), now=now + timedelta(seconds=61 * n))
    with pytest.raises(AlarmRateLimited) as limited:
        raise_alarm(db, school["teacher"], fire(type="hot"), now=now + timedelta(minutes=9))
    assert limited.value.retry_after > 0
    raise_alarm(db, school["rektor"], fire(type="hot"), now=now + timedelta(minutes=9))


def test_roll_call_counts_and_who_has_not_answered(db, school):
    alarm = raise_alarm(db, school["teacher"], fire())
    answer_roll_call(db, school["teacher"], alarm.id, "safe")
    answer_roll_call(db, school["rektor"], alarm.id, "need_help")
    answer_roll_call(db, school["rektor"], alarm.id, "safe")   # a second answer replaces the first
    summary = roll_call_summary(db, alarm)
    assert summary.counts == {"safe": 2, "need_help": 0, "not_on_site": 0, "unanswered": 0}
    with pytest.raises(ValidationFailed):
        answer_roll_call(db, school["teacher"], alarm.id, "maybe")
    with pytest.raises(NotFound):
        answer_roll_call(db, school["other_school"], alarm.id, "safe")
    last = db.scalars(select(AlarmEvent).order_by(AlarmEvent.id.desc())).first()
    assert last.kind == "alarm.roll_call" and last.data["alarm"]["roll_call"]["safe"] == 2


def test_chat_and_checklist_are_kept_on_the_alarm(db, school):
    alarm = raise_alarm(db, school["teacher"], fire())
    post_message(db, school["rektor"], alarm.id, "Alla ute vid fotbollsplanen")
    with pytest.raises(ValidationFailed):
        post_message(db, school["rektor"], alarm.id, "   ")
    item = alarm.alarm_type.checklist[0]
    first = tick_checklist(db, school["rektor"], alarm.id, item.id)
    assert tick_checklist(db, school["teacher"], alarm.id, item.id).id == first.id
    with pytest.raises(NotFound):
        tick_checklist(db, school["rektor"], alarm.id, 10**6)
    db.expire_all()
    assert [m.body for m in db.get(Alarm, alarm.id).messages] == ["Alla ute vid fotbollsplanen"]


def test_only_the_raiser_a_rektor_or_a_safety_officer_ends_it(db, school, make):
    colleague = Actor.for_user(make.user(("reporter", "S1")))
    alarm = raise_alarm(db, school["teacher"], fire(drill=True))
    with pytest.raises(Forbidden):
        end_alarm(db, colleague, alarm.id, TZ)
    end_alarm(db, school["safety"], alarm.id, TZ)
    with pytest.raises(Conflict):
        end_alarm(db, school["teacher"], alarm.id, TZ)
    with pytest.raises(Conflict):
        answer_roll_call(db, school["teacher"], alarm.id, "safe")
    assert open_alarms_for(db, school["teacher"]) == []


def test_ending_files_an_event_with_the_roll_call_and_the_chat_and_opens_a_case(db, school):
    broker = InProcessBroker()
    alarm = raise_alarm(db, school["teacher"], fire(location="Kemisalen"))
    answer_roll_call(db, school["teacher"], alarm.id, "safe")
    post_message(db, school["rektor"], alarm.id, "Räddningstjänsten är på plats")
    with broker.subscribe() as subscription:
        ended = end_alarm(db, school["rektor"], alarm.id, TZ, broker)
        message = subscription.get(timeout=1)
    assert message["event"] == "alarm.ended" and message["data"]["alarm"]["ended_at"]
    incident = db.get(Incident, ended.incident_id)
    assert incident.incident_type.code == "fire" and incident.org_unit.code == "S1"
    assert incident.reporter_id == school["teacher"].user_id and incident.occurred_at == alarm.raised_at
    assert incident.field_values["fire_kind"] == "fire" and incident.location == "Kemisalen"
    assert "Lärare Ett: i säkerhet" in incident.description and "Räddningstjänsten är på plats" in incident.description
    assert "Rektor Ett" in incident.description   # who has not answered
    assert not incident.number.startswith("P") and len(incident.cases) == 1
    assert incident.cases[0].assignee_id is not None   # routed
    ended_mails = db.scalars(select(Notification).where(Notification.kind == NotificationKind.ALARM_ENDED)).all()
    assert len(ended_mails) == 2


def test_a_drill_is_marked_and_files_no_event(db, school):
    alarm = raise_alarm(db, school["teacher"], fire(drill=True))
    ended = end_alarm(db, school["teacher"], alarm.id, TZ)
    assert ended.drill and ended.incident_id is None and ended.ended_at is not None
    assert db.scalar(select(func.count(Incident.id))) == 0
    assert db.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id)).all()[0].data["alarm"]["drill"]


def test_a_reconnecting_client_is_sent_what_it_missed(db, school):
    alarm = raise_alarm(db, school["teacher"], fire())
    first = db.scalar(select(func.max(AlarmEvent.id)))
    answer_roll_call(db, school["rektor"], alarm.id, "safe")
    post_message(db, school["rektor"], alarm.id, "Hej")
    missed = events_since(db, school["teacher"], first)
    assert [e.kind for e in missed] == ["alarm.roll_call", "alarm.message"]
    assert events_since(db, school["other_school"], 0) == []


def test_alarms_are_never_deleted(db):
    assert not hasattr(Alarm, "delete") and AlarmType.__tablename__ == "alarm_types"


def test_deliveries_a_crash_left_unqueued_are_queued_by_the_scheduler(db, school, settings, session_factory):
    from kia.alarms.services import NOTICES_GRACE, queue_missed_notices
    from kia.scheduler import Jobs

    alarm = raise_alarm(db, school["teacher"], fire())
    assert alarm.notices_queued_at is not None
    # As if the process had died between the raise's commit and its deliveries' transaction.
    db.execute(Notification.__table__.delete().where(Notification.kind == NotificationKind.ALARM))
    db.get(Alarm, alarm.id).notices_queued_at = None
    db.commit()
    assert queue_missed_notices(db, alarm.raised_at + NOTICES_GRACE / 2) == 0   # the raise may still be at it
    Jobs(settings, session_factory).dispatch_notifications(alarm.raised_at + NOTICES_GRACE * 2)
    db.expire_all()
    assert db.get(Alarm, alarm.id).notices_queued_at is not None
    assert len(db.scalars(select(Notification).where(Notification.kind == NotificationKind.ALARM)).all()) == 2
    assert queue_missed_notices(db, alarm.raised_at + NOTICES_GRACE * 3) == 0
