"""Alarm pages (issue 11): raising from the start page (one button per alarm type, PDV through a confirm step), the
alarm page (instruction, roll call, chat, checklist, "all clear"), and the alarm types' admin pages. Thin views over
kia.alarms.services and kia.alarms.types. Receiving is static/alarms.js on every signed-in page, reading
GET /api/v1/alarms/stream with the web session; without JavaScript the start page lists the open alarms and polls."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from kia.alarms import services
from kia.alarms.services import AlarmAlreadyRaised, AlarmInput, AlarmRateLimited
from kia.alarms.types import FLAGS, change_alarm_type, create_alarm_type
from kia.alarms.models import AlarmType
from kia.db import MAX_ID
from kia.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from kia.http import db_session, state
from kia.incidents.types import list_types
from web import signed_in_actor, web_blueprint
from web.admin import admin_page

ON = "on"
# Up to this many units, the start page has a row of buttons for each; more (a safety officer over many schools):
# one row of buttons and a choice of the unit.
UNIT_ROWS = 3
STATUSES = {"safe": N_("I am safe"), "need_help": N_("I need help"), "not_on_site": N_("I am not on site")}
COUNT_LABELS = {"safe": N_("Safe"), "need_help": N_("Need help"), "not_on_site": N_("Not on site"),
                "unanswered": N_("Not answered")}
TYPE_LABELS = {"code": N_("Code"), "name.sv": N_("Name in Swedish"), "name.en": N_("Name in English"),
               "instruction.sv": N_("Instruction in Swedish"), "instruction.en": N_("Instruction in English"),
               "event_type": N_("Filed as event type"), "checklist": N_("Checklist"),
               "active": N_("Active: shown as a button"), "may_be_silent": N_("May be raised silently"),
               "asks_roll_call": N_("Asks for a roll call"),
               "needs_confirm": N_("Needs a confirm step before it is raised (as PDV)")}


def start_page_alarms() -> dict:
    """What the start page shows a signed-in user: the buttons per unit, and the open alarms they receive."""
    if not current_user.is_authenticated:
        return {}
    session, actor = db_session(), signed_in_actor()
    alarms = services.open_alarms_for(session, actor)
    return {"alarm_units": services.raisable_units(session, actor), "unit_rows": UNIT_ROWS,
            "alarm_types": services.list_alarm_types(session),
            "open_alarms": [(a, services.roll_call_summary(session, a).counts) for a in alarms]}


def _flag(name: str) -> bool:
    return request.values.get(name) in (ON, "1", "true")


def _detail(error) -> str:
    return error.detail.render(_) if error.detail is not None else _(error.title)


def _messages(error: ValidationFailed) -> list[str]:
    return [m.render(_) for messages in error.errors.values() for m in messages]


@web_blueprint.post("/alarms")
@login_required
def raise_alarm():
    session, actor = db_session(), signed_in_actor()
    data = AlarmInput(type=request.form.get("type", ""), org_unit=request.form.get("org_unit", ""),
                      silent=_flag("silent"), drill=_flag("drill"), confirm=request.form.get("confirm") == "yes",
                      location=request.form.get("location", ""), message=request.form.get("message", ""))
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == data.type, AlarmType.active.is_(True)))
    if alarm_type is not None and alarm_type.needs_confirm and not data.confirm:
        # The second action: "Fly – Sök skydd – Larma" and 112 first, then the one button that raises it.
        unit = next((u for u in services.raisable_units(session, actor) if u.code == data.org_unit), None)
        if unit is None:
            abort(404)
        return render_template("web/alarms/confirm.html", alarm_type=alarm_type, unit=unit, data=data)
    try:
        alarm = services.raise_alarm(session, actor, data, state().broker)
    except AlarmAlreadyRaised as error:
        flash(_detail(error))
        return redirect(url_for("web.alarm_page", alarm_id=error.alarm.id))
    except AlarmRateLimited as error:
        return render_template("web/alarms/refused.html", messages=[_detail(error)]), 429, {
            "Retry-After": str(error.retry_after)}
    except ValidationFailed as error:
        return render_template("web/alarms/refused.html", messages=_messages(error)), 422
    return redirect(url_for("web.alarm_page", alarm_id=alarm.id))


@web_blueprint.get("/alarms")
@login_required
def alarms_page():
    session = db_session()
    alarms = services.list_alarms(session, signed_in_actor())
    return render_template("web/alarms/list.html", alarms=alarms)


def _alarm_or_404(alarm_id: int):
    if alarm_id > MAX_ID:
        abort(404)
    try:
        return services.get_alarm(db_session(), signed_in_actor(), alarm_id)
    except NotFound:
        abort(404)


@web_blueprint.get("/alarms/<id:alarm_id>")
@login_required
def alarm_page(alarm_id: int, status: int = 200, errors: dict | None = None):
    session, actor = db_session(), signed_in_actor()
    alarm = _alarm_or_404(alarm_id)
    summary = services.roll_call_summary(session, alarm)
    mine = next((a for a in summary.answers if a.user_id == actor.user_id), None)
    ticks = {t.item_id: t for t in alarm.ticks}
    checklist = [(item, ticks.get(item.id)) for item in alarm.alarm_type.checklist if item.active or item.id in ticks]
    return render_template("web/alarms/alarm.html", alarm=alarm, summary=summary, mine=mine, checklist=checklist,
                           may_end=services.may_end_alarm(actor, alarm), statuses=STATUSES,
                           count_labels=COUNT_LABELS, errors=errors or {}, language=str(get_locale())), status


def _act(alarm_id: int, action, anchor: str):
    """Run one service on the alarm; back to its page (a message there on a refusal)."""
    _alarm_or_404(alarm_id)
    try:
        action(db_session(), signed_in_actor())
    except NotFound:
        abort(404)
    except ValidationFailed as error:
        db_session().rollback()
        return alarm_page(alarm_id, 422, {path.split("[")[0]: [m.render(_) for m in msgs]
                                         for path, msgs in error.errors.items()})
    except Forbidden:
        db_session().rollback()
        abort(403)
    except Conflict as error:
        db_session().rollback()
        flash(_detail(error))
        return redirect(url_for("web.alarm_page", alarm_id=alarm_id))
    return redirect(url_for("web.alarm_page", alarm_id=alarm_id) + anchor)


@web_blueprint.post("/alarms/<id:alarm_id>/roll-call")
@login_required
def alarm_roll_call(alarm_id: int):
    status = request.form.get("status", "")
    return _act(alarm_id, lambda s, a: services.answer_roll_call(s, a, alarm_id, status, state().broker),
                "#roll-call")


@web_blueprint.post("/alarms/<id:alarm_id>/messages")
@login_required
def alarm_message(alarm_id: int):
    body = request.form.get("body", "")
    return _act(alarm_id, lambda s, a: services.post_message(s, a, alarm_id, body, state().broker), "#chat")


@web_blueprint.post("/alarms/<id:alarm_id>/checklist")
@login_required
def alarm_checklist(alarm_id: int):
    item = request.form.get("item", "")
    if not item.isdigit() or int(item) > MAX_ID:
        abort(404)
    return _act(alarm_id, lambda s, a: services.tick_checklist(s, a, alarm_id, int(item), state().broker),
                "#checklist")


@web_blueprint.post("/alarms/<id:alarm_id>/end")
@login_required
def alarm_end(alarm_id: int):
    kia = state()
    return _act(alarm_id, lambda s, a: services.end_alarm(s, a, alarm_id, kia.settings.timezone, kia.broker), "")


# ---- admin: alarm types ------------------------------------------------------------------------------------------


def _form_of_type(t: AlarmType) -> dict[str, str]:
    return {"code": t.code, "name.sv": t.name_sv, "name.en": t.name_en, "instruction.sv": t.instruction_sv,
            "instruction.en": t.instruction_en, "event_type": t.event_type.code,
            "checklist": "\n".join(f"{i.text_sv} | {i.text_en}" for i in t.checklist if i.active),
            **{flag: ON if getattr(t, flag) else "" for flag in FLAGS}}


def _read_type_form() -> dict[str, str]:
    form = {key: request.form.get(key, "").strip() for key in TYPE_LABELS if key not in FLAGS}
    form.update({flag: ON if request.form.get(flag) == ON else "" for flag in FLAGS})
    return form


def _checklist_steps(text: str, current: AlarmType | None) -> list[dict]:
    """One step a line, "Svensk text | English text"; a line whose Swedish text is a step's keeps that step (and the
    ticks made on it)."""
    kept = {i.text_sv: i.id for i in current.checklist} if current is not None else {}
    steps = []
    for line in text.splitlines():
        if line.strip():
            sv, _sep, en = (part.strip() for part in line.partition("|"))
            step = {"text": {"sv": sv, "en": en or sv}}
            if sv in kept:
                step["id"] = kept.pop(sv)
            steps.append(step)
    return steps


def _type_spec(form: dict[str, str], current: AlarmType | None) -> dict:
    return {"name": {lang: form[f"name.{lang}"] for lang in ("sv", "en")},
            "instruction": {lang: form[f"instruction.{lang}"] for lang in ("sv", "en")},
            "event_type": form["event_type"], "checklist": _checklist_steps(form["checklist"], current),
            **{flag: form[flag] == ON for flag in FLAGS}}


def _type_errors(error: ValidationFailed) -> dict[str, list[str]]:
    shown: dict[str, list[str]] = {}
    for path, messages in error.errors.items():
        name = "checklist" if path.startswith("checklist") else path
        shown.setdefault(name, []).extend(m.render(_) for m in messages)
    return shown


def _type_page(form: dict, alarm_type: AlarmType | None, errors: dict | None = None, status: int = 200):
    language = str(get_locale())
    event_types = [(t.code, t.name(language)) for t in list_types(db_session())
                   if t.active and not t.case_per_affected_pupil]
    return render_template("web/admin/alarm_type.html", form=form, alarm_type=alarm_type, errors=errors or {},
                           labels=TYPE_LABELS, flags=FLAGS, event_types=event_types), status


@web_blueprint.get("/admin/alarm-types")
@admin_page()
def admin_alarm_types():
    return render_template("web/admin/alarm_types.html",
                           types=services.list_alarm_types(db_session(), include_inactive=True))


@web_blueprint.route("/admin/alarm-types/new", methods=["GET", "POST"])
@admin_page()
def admin_new_alarm_type():
    if request.method == "GET":
        return _type_page({"active": ON, "asks_roll_call": ON}, None)
    form = _read_type_form()
    try:
        alarm_type = create_alarm_type(db_session(), signed_in_actor(), {"code": form["code"],
                                                                        **_type_spec(form, None)})
    except ValidationFailed as error:
        db_session().rollback()
        return _type_page(form, None, _type_errors(error), 422)
    flash(_("Alarm type %(code)s added.", code=alarm_type.code))
    return redirect(url_for("web.admin_alarm_types"))


@web_blueprint.route("/admin/alarm-types/<code>", methods=["GET", "POST"])
@admin_page()
def admin_alarm_type(code: str):
    session = db_session()
    alarm_type = session.scalar(select(AlarmType).where(AlarmType.code == code))
    if alarm_type is None:
        abort(404)
    if request.method == "GET":
        return _type_page(_form_of_type(alarm_type), alarm_type)
    form = {**_read_type_form(), "code": alarm_type.code}
    try:
        change_alarm_type(session, signed_in_actor(), code, _type_spec(form, alarm_type))
    except ValidationFailed as error:
        return _type_page(form, alarm_type, _type_errors(error), 422)
    flash(_("Alarm type %(code)s saved.", code=code))
    return redirect(url_for("web.admin_alarm_types"))
