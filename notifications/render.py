"""Notification texts from the Jinja templates in notifications/templates/<language>/<kind>.txt: subject + body."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from kia.config import Settings

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("sv", "en")
DATETIME_FORMATS = {"sv": "d MMMM y 'kl.' HH:mm", "en": "d MMMM y, HH:mm"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Plain text, so no HTML escaping; StrictUndefined makes a typo in a template fail loudly in the tests.
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def language_of(language: str | None) -> str:
    return language if language in LANGUAGES else "sv"


def _localised(value: Any, language: str) -> Any:
    """{"sv": …, "en": …} → the text in `language`; anything else as it is."""
    if isinstance(value, dict):
        return value.get(language) or value.get("sv")
    return value


def link_for(kind: str, payload: dict[str, Any], settings: Settings) -> str:
    """Where the reader goes: the case, or for the reporter of a closed case their own report."""
    if payload.get("alarm_id"):
        return f"{settings.base_url}/alarms/{payload['alarm_id']}"
    if kind == "closed" and payload.get("incident_id"):
        return f"{settings.base_url}/my/incidents/{payload['incident_id']}"
    if payload.get("case_id"):
        return f"{settings.base_url}/cases/{payload['case_id']}"
    return settings.base_url + "/"


def _due(value: str | None, language: str, settings: Settings) -> str | None:
    if not value:
        return None
    local = datetime.fromisoformat(value).astimezone(settings.timezone)
    return format_datetime(local, DATETIME_FORMATS[language], locale=language)


def context(kind: str, language: str, payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The names a template may use: only what the payload carries (never names or free text) and a link."""
    return {
        "case_number": payload.get("case_number", ""),
        "type_name": _localised(payload.get("type_name"), language) or payload.get("type", ""),
        "unit_name": payload.get("unit_name", ""),
        "obligation": _localised(payload.get("obligation"), language),
        "due": _due(payload.get("due_at"), language, settings),
        "link": link_for(kind, payload, settings),
        "owner": payload.get("owner", ""),
        # An alarm's (kia.alarms.fanout): the admin's instruction text, the drill mark, when it was raised.
        "instruction": _localised(payload.get("instruction"), language),
        "drill": bool(payload.get("drill")),
        "at": _due(payload.get("raised_at"), language, settings),
    }


def _split(text: str) -> Rendered:
    subject, _, body = text.strip("\n").partition("\n")
    return Rendered(subject=subject.strip(), body=body.strip("\n") + "\n")


def render(kind: str, language: str | None, payload: dict[str, Any], settings: Settings) -> Rendered:
    language = language_of(language)
    template = environment().get_template(f"{language}/{kind}.txt")
    return _split(template.render(context(kind, language, payload, settings)))


def render_digest(language: str | None, day: date, items: list[dict[str, str]]) -> Rendered:
    """One e-mail for a day's non-urgent notifications; items are {"subject", "link"}."""
    language = language_of(language)
    template = environment().get_template(f"{language}/digest.txt")
    return _split(template.render(date=format_date(day, "d MMMM y", locale=language), items=items))


URGENCY = {"sv": {"low": "Låg", "normal": "Normal", "urgent": "Brådskande"},
           "en": {"low": "Low", "normal": "Normal", "urgent": "Urgent"}}


def render_fault_report(report, settings: Settings, language: str = "sv") -> Rendered:
    """The e-mail a property owner gets (kia.property.models.FaultReport): the place and the fault are what it
    needs, the case's number its reference; never the people of the event."""
    language = language_of(language)
    case = report.case
    template = environment().get_template(f"{language}/fault_report_to_owner.txt")
    return _split(template.render(
        owner=report.owner.name, unit_name=case.org_unit.name, place=report.place, description=report.description,
        urgency=URGENCY[language][report.urgency.value], type_name=case.incident_type.name(language),
        case_number=case.number, reference=report.idempotency_key))
