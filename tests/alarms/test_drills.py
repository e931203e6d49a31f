"""Drill reminders over a dated year: a requirement per unit (brand by default), the rektor reminded 30 days before
the drill is overdue, the rektor and the rektor's manager at the due date, the safety officers two weeks later; each
step once; a drill held moves the due date a year on."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kia.access import Actor
from kia.alarms.drills import add_months, drill_due_at, ensure_default_drill_requirements, sweep_drills
from kia.alarms.models import DrillRequirement
from kia.alarms.services import AlarmInput, end_alarm, raise_alarm
from kia.outbox.models import Notification, NotificationKind
from kia.scheduler import Jobs
from notifications.render import render
from tests.conftest import TZ

START = datetime(2026, 1, 15, 8, 0, tzinfo=TZ)


def _sent(db, kind: NotificationKind) -> list[str]:
    return sorted(n.user.name for n in db.scalars(select(Notification).where(Notification.kind == kind)))


def test_every_unit_gets_a_yearly_brand_drill_once(db, tree):
    assert ensure_default_drill_requirements(db, START) == 4   # S1, S2, G1, F1; not the departments
    assert ensure_default_drill_requirements(db, START) == 0
    requirement = db.scalar(select(DrillRequirement).where(DrillRequirement.org_unit_id == tree["S1"].id))
    assert requirement.alarm_type.code == "brand" and requirement.every_months == 12
    assert drill_due_at(db, requirement, TZ) == datetime(2027, 1, 15, 8, 0, tzinfo=TZ)


def test_the_ladder_over_a_dated_year(db, tree, make, settings):
    make.user(("handler", "S1"), name="Rektor")
    make.user(("handler", "GRU"), name="Avdelningschef")
    make.user(("safety_officer", "UTBF"), name="Samordnare")
    ensure_default_drill_requirements(db, START)
    due = datetime(2027, 1, 15, 8, 0, tzinfo=TZ)

    assert sweep_drills(db, TZ, due - timedelta(days=31)).notifications == 0
    reminded = sweep_drills(db, TZ, due - timedelta(days=29))
    assert reminded.steps["reminder"] == 4
    assert "Rektor" in _sent(db, NotificationKind.DRILL_REMINDER)
    assert sweep_drills(db, TZ, due - timedelta(days=28)).notifications == 0   # once

    sweep_drills(db, TZ, due + timedelta(hours=1))
    overdue = _sent(db, NotificationKind.DRILL_OVERDUE)
    assert "Rektor" in overdue and "Avdelningschef" in overdue
    sweep_drills(db, TZ, due + timedelta(days=15))
    assert "Samordnare" in _sent(db, NotificationKind.DRILL_ESCALATED)

    mail = db.scalars(select(Notification).where(Notification.kind == NotificationKind.DRILL_OVERDUE)).first()
    rendered = render(str(mail.kind), "sv", mail.payload, settings)
    assert "Övningen är försenad: Brand" in rendered.subject and "15 januari 2027" in rendered.body


def test_holding_the_drill_moves_the_due_date_and_stops_the_ladder(db, tree, make):
    rektor = Actor.for_user(make.user(("handler", "S1"), name="Rektor"))
    make.user(("handler", "S2"), name="Rektor Två")
    ensure_default_drill_requirements(db, START)
    held = START + timedelta(days=200)
    alarm = raise_alarm(db, rektor, AlarmInput(type="brand", org_unit="S1", drill=True), now=held)
    end_alarm(db, rektor, alarm.id, TZ, now=held + timedelta(minutes=20))
    requirement = db.scalar(select(DrillRequirement).where(DrillRequirement.org_unit_id == tree["S1"].id))
    assert drill_due_at(db, requirement, TZ) == add_months(held, 12, TZ)
    sweep_drills(db, TZ, datetime(2027, 1, 10, tzinfo=TZ))
    reminded = db.scalars(select(Notification).where(Notification.kind == NotificationKind.DRILL_REMINDER)).all()
    assert {n.payload["unit"] for n in reminded} == {"S2"}   # S1 held its drill; G1 and F1 have no one to tell


def test_the_scheduler_job_adds_requirements_and_sweeps(settings, session_factory, tree, make):
    make.user(("handler", "S1"), name="Rektor")
    jobs = Jobs(settings, session_factory)
    jobs.drill_reminders(START)
    result = jobs.drill_reminders(datetime(2027, 1, 1, tzinfo=TZ))
    assert result.steps["reminder"] == 4


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(datetime(2026, 1, 31, 9, tzinfo=TZ), 1, TZ) == datetime(2026, 2, 28, 9, tzinfo=TZ)
    assert add_months(datetime(2027, 3, 1, 9, tzinfo=TZ), 12, TZ) == datetime(2028, 3, 1, 9, tzinfo=TZ)


def test_the_drill_requirements_api(api, make, tree):
    rektor = api.as_user(make.user(("handler", "S1")))
    teacher = api.as_user(make.user(("reporter", "S1")))
    set_ = rektor.put("/api/v1/drill-requirements", json={"org_unit": "S1", "type": "inrymning", "every_months": 6})
    assert set_.status_code == 200, set_.get_json()
    assert set_.get_json()["type"] == "inrymning" and set_.get_json()["last_drill_at"] is None
    listed = teacher.get("/api/v1/drill-requirements").get_json()
    assert [(r["org_unit"], r["type"], r["every_months"]) for r in listed] == [("S1", "inrymning", 6)]
    assert teacher.put("/api/v1/drill-requirements", json={"org_unit": "S1"}).status_code == 403
    bad = rektor.put("/api/v1/drill-requirements", json={"org_unit": "F1", "type": "meteor", "every_months": 0})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"org_unit", "type", "every_months"}
