"""Alarm pages (issue 11): raising from the start page in at most two actions (PDV through its confirm step), the
start page's open alarms and polling without JavaScript, the alarm page's roll call, chat, checklist and all clear
as forms that work without JavaScript, what every signed-in page carries for the banner, and the alarm types' admin."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kia.alarms.models import Alarm, AlarmType, RollCallAnswer
from tests.web.test_admin import EN, html, sign_in


@pytest.fixture
def staff(make, tree):
    return {"teacher": make.user(("reporter", "S1"), name="Lärare Ett"),
            "rektor": make.user(("handler", "S1"), name="Rektor Ett"),
            "colleague": make.user(("reporter", "S1"), name="Kollega Ett"),
            "other_school": make.user(("reporter", "S2"), name="Lärare Två")}


def raise_(client, token, **form):
    return client.post("/alarms", data={"csrf_token": token, "org_unit": "S1", **form})


def alarms(db) -> list[Alarm]:
    db.expire_all()
    return list(db.scalars(select(Alarm).order_by(Alarm.id)))


def test_start_page_has_a_button_per_alarm_type_for_the_users_unit(client, staff):
    sign_in(client, staff["teacher"])
    body = html(client.get("/"))
    form = re.search(r'<form method="post" action="/alarms".*?</form>', body, re.S).group(0)
    assert 'name="org_unit" value="S1"' in form and 'name="csrf_token"' in form
    for code in ("brand", "hot", "inrymning", "utrymning", "pdv"):
        assert f'name="type" value="{code}"' in form
    assert 'name="drill"' in form and "Övning" in form
    # Types that may be silent have a second, silent button; fire has none.
    assert 'value="inrymning" formaction="/alarms?silent=1"' in form
    assert 'value="brand" formaction' not in form
    assert "Inga öppna larm." in body
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in body


def test_signed_out_start_page_has_no_alarm_buttons_nor_polling(client, tree):
    body = html(client.get("/"))
    assert 'action="/alarms"' not in body and "refresh" not in body and "alarms.js" not in body


def test_one_press_raises_fire_and_opens_its_page(client, db, staff):
    token = sign_in(client, staff["teacher"])
    response = raise_(client, token, type="brand")
    alarm = alarms(db)[-1]
    assert response.status_code == 302 and response.location.endswith(f"/alarms/{alarm.id}")
    assert alarm.alarm_type.code == "brand" and not alarm.drill and not alarm.silent
    body = html(client.get(f"/alarms/{alarm.id}"))
    assert "Utrym byggnaden" in body and "Upprop" in body and "Larmet är igång." in body


def test_pdv_goes_through_a_confirm_step_first(client, db, staff):
    token = sign_in(client, staff["teacher"])
    response = raise_(client, token, type="pdv", drill="on")
    body = html(response)
    assert response.status_code == 200 and alarms(db) == []
    assert "Fly – Sök skydd – Larma" in body and "112" in body and "ÖVNING" in body
    form = re.search(r'<form method="post" action="/alarms">.*?</form>', body, re.S).group(0)
    assert 'name="confirm" value="yes"' in form and 'name="drill" value="on"' in form
    response = raise_(client, token, type="pdv", drill="on", confirm="yes")
    assert response.status_code == 302
    alarm = alarms(db)[-1]
    assert alarm.alarm_type.code == "pdv" and alarm.drill
    assert "ÖVNING" in html(client.get(f"/alarms/{alarm.id}"))


def test_silent_raise_and_a_refused_one(client, db, staff):
    token = sign_in(client, staff["teacher"])
    assert client.post("/alarms?silent=1", data={"csrf_token": token, "org_unit": "S1",
                                                 "type": "inrymning"}).status_code == 302
    assert alarms(db)[-1].silent
    # Fire cannot be silent: the message says so, and nothing more is raised.
    response = client.post("/alarms?silent=1", data={"csrf_token": token, "org_unit": "S1", "type": "brand"})
    assert response.status_code == 422 and "tyst" in html(response).lower() and len(alarms(db)) == 1
    # A unit the user holds no role over.
    response = raise_(client, token, type="brand", org_unit="S2")
    assert response.status_code == 422 and len(alarms(db)) == 1


def test_without_csrf_nothing_is_raised(client, db, staff):
    sign_in(client, staff["teacher"])
    assert client.post("/alarms", data={"org_unit": "S1", "type": "brand"}).status_code == 400
    assert alarms(db) == []


def test_second_press_joins_the_first(client, db, staff):
    token = sign_in(client, staff["teacher"])
    raise_(client, token, type="hot")
    sign_in(client, staff["colleague"])
    response = raise_(client, token, type="hot")
    first = alarms(db)[0]
    assert len(alarms(db)) == 1 and response.location.endswith(f"/alarms/{first.id}")


def test_start_page_lists_open_alarms_for_receivers_only(client, db, staff):
    token = sign_in(client, staff["teacher"])
    raise_(client, token, type="brand", drill="on")
    alarm = alarms(db)[-1]
    sign_in(client, staff["colleague"])
    body = html(client.get("/"))
    assert f'href="/alarms/{alarm.id}"' in body and "ÖVNING" in body and "Utrym byggnaden" in body
    sign_in(client, staff["other_school"])
    body = html(client.get("/"))
    assert f'href="/alarms/{alarm.id}"' not in body
    assert client.get(f"/alarms/{alarm.id}").status_code == 404


def test_roll_call_chat_checklist_and_all_clear_without_javascript(client, db, staff):
    token = sign_in(client, staff["teacher"])
    raise_(client, token, type="brand")
    alarm = alarms(db)[-1]
    page = f"/alarms/{alarm.id}"

    sign_in(client, staff["colleague"])
    body = html(client.get(page))
    assert "Kollega Ett" in body.split("<h3>Har inte svarat</h3>")[1] and 'data-count="unanswered">3<' in body
    response = client.post(f"{page}/roll-call", data={"csrf_token": token, "status": "safe"})
    assert response.status_code == 302 and response.location.endswith(f"{page}#roll-call")
    body = html(client.get(page))
    assert 'data-count="safe">1<' in body and 'data-count="unanswered">2<' in body
    assert "Ditt svar: I säkerhet" in body and "Kollega Ett: I säkerhet" in body
    assert client.post(f"{page}/roll-call", data={"csrf_token": token, "status": "maybe"}).status_code == 422

    assert client.post(f"{page}/messages", data={"csrf_token": token, "body": "Alla ute vid flaggstången"}
                       ).status_code == 302
    assert "Alla ute vid flaggstången" in html(client.get(page))
    response = client.post(f"{page}/messages", data={"csrf_token": token, "body": "  "})
    assert response.status_code == 422 and 'aria-invalid="true"' in html(response)

    item = alarm.alarm_type.checklist[0]
    assert client.post(f"{page}/checklist", data={"csrf_token": token, "item": str(item.id)}).status_code == 302
    assert "utfört av Kollega Ett" in html(client.get(page))

    # A colleague may not end it; the rektor may, and the page then says so and has no forms to answer.
    assert "Avsluta larmet (faran över)" not in html(client.get(page))
    assert client.post(f"{page}/end", data={"csrf_token": token}).status_code == 403
    sign_in(client, staff["rektor"])
    assert "Avsluta larmet (faran över)" in html(client.get(page))
    assert client.post(f"{page}/end", data={"csrf_token": token}).status_code == 302
    body = html(client.get(page))
    assert "Faran över: larmet är avslutat." in body and 'name="status"' not in body
    db.expire_all()
    assert alarms(db)[-1].incident_id is not None
    # After the end: answering is refused with a message, not an error page.
    response = client.post(f"{page}/roll-call", data={"csrf_token": token, "status": "safe"}, follow_redirects=True)
    assert "Larmet är avslutat." in html(response)
    assert db.scalar(select(RollCallAnswer).where(RollCallAnswer.user_id == staff["rektor"].id)) is None


def test_every_signed_in_page_loads_the_alarm_script_and_banner(client, staff):
    sign_in(client, staff["teacher"])
    response = client.get("/me")
    body = html(response)
    assert '<script src="/static/alarms.js" defer></script>' in body
    assert 'data-alarm-stream="/api/v1/alarms/stream"' in body
    assert 'role="alertdialog"' in body and 'aria-labelledby="alarm-banner-title"' in body
    assert "<script>" not in body   # the CSP allows no inline script
    assert "script-src" not in response.headers["Content-Security-Policy"] or \
        "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert client.get("/static/alarms.js").status_code == 200


def test_the_stream_takes_the_web_session(client, staff):
    token = sign_in(client, staff["teacher"])
    raise_(client, token, type="brand", drill="on")
    sign_in(client, staff["colleague"])
    response = client.get("/api/v1/alarms/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert "event: alarm.open" in response.get_data(as_text=True)


def test_english_page(client, db, staff):
    staff["teacher"].language = "en"
    db.commit()
    token = sign_in(client, staff["teacher"])
    raise_(client, token, type="brand")
    body = html(client.get(f"/alarms/{alarms(db)[-1].id}", headers=EN))
    assert "Roll call" in body and "I am safe" in body


# ---- admin ---------------------------------------------------------------------------------------------------------


def test_admin_changes_texts_and_checklist_and_adds_a_type(client, db, make, tree):
    token = sign_in(client, make.user(("admin", "STHLM")))
    body = html(client.get("/admin/alarm-types"))
    assert 'href="/admin/alarm-types/pdv"' in body and 'href="/admin/alarm-types/new"' in body
    body = html(client.get("/admin/alarm-types/brand"))
    assert 'id="name.sv"' in body and "Brand" in body and 'name="checklist"' in body
    brand = db.scalar(select(AlarmType).where(AlarmType.code == "brand"))
    first = brand.checklist[0]
    checklist = f"{first.text_sv} | {first.text_en}\nRing fastighetsjouren | Call the caretaker"
    form = {"csrf_token": token, "name.sv": "Brandlarm", "name.en": "Fire alarm", "instruction.sv": "Gå ut.",
            "instruction.en": "Get out.", "event_type": "fire", "active": "on", "asks_roll_call": "on",
            "checklist": checklist}
    assert client.post("/admin/alarm-types/brand", data=form).status_code == 302
    db.expire_all()
    brand = db.scalar(select(AlarmType).where(AlarmType.code == "brand"))
    assert brand.name_sv == "Brandlarm" and brand.instruction_sv == "Gå ut."
    active = [i for i in brand.checklist if i.active]
    assert [i.text_sv for i in active] == [first.text_sv, "Ring fastighetsjouren"] and active[0].id == first.id

    response = client.post("/admin/alarm-types/brand", data={**form, "name.sv": ""})
    assert response.status_code == 422 and 'aria-invalid="true"' in html(response)

    response = client.post("/admin/alarm-types/new", data={**form, "code": "gas", "name.sv": "Gasläcka",
                                                           "name.en": "Gas leak", "checklist": ""})
    assert response.status_code == 302
    assert db.scalar(select(AlarmType).where(AlarmType.code == "gas")).name_en == "Gas leak"
    response = client.post("/admin/alarm-types/new", data={**form, "code": "Bad Code"})
    assert response.status_code == 422 and "Bad Code" in html(response)


def test_admin_pages_are_for_city_admins_only(client, make, tree):
    sign_in(client, make.user(("reporter", "S1")))
    assert client.get("/admin/alarm-types").status_code == 403
    assert client.get("/admin/alarm-types/brand").status_code == 403


def test_many_units_give_one_row_of_buttons_and_a_choice_of_unit(client, db, make, tree):
    token = sign_in(client, make.user(("safety_officer", "UTBF"), ("reporter", "F1")))
    body = html(client.get("/"))
    assert body.count('name="type" value="brand"') == 1
    select_ = re.search(r'<select id="alarm-unit" name="org_unit">.*?</select>', body, re.S).group(0)
    assert all(f'value="{code}"' in select_ for code in ("S1", "S2", "G1", "F1"))
    assert '<label for="alarm-unit">' in body
    assert client.post("/alarms", data={"csrf_token": token, "org_unit": "F1", "type": "brand"}).status_code == 302
    assert alarms(db)[-1].org_unit.code == "F1"
