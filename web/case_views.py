"""What the case pages share: domain errors as form messages, local times, and the vocabulary's labels."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime, get_locale, gettext as _

from kia.errors import DomainError, ValidationFailed
from web import labels, web_blueprint


def field_messages(error: ValidationFailed) -> dict[str, list[str]]:
    """Per field path, the messages in the reader's language."""
    return {path: [msg.render(_) for msg in msgs] for path, msgs in error.errors.items()}


def message_of(error: DomainError) -> str:
    return error.detail.render(_) if error.detail else _(error.title)


@web_blueprint.app_template_filter("case_time")
def case_time(value: datetime | date | None) -> str:
    """Stockholm time (the database keeps UTC), short enough for a table cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    return format_date(value, "yyyy-MM-dd")


def local_name(thing) -> str:
    """An event type's or deadline rule's name in the page's language."""
    return thing.name_sv if str(get_locale()) == "sv" else thing.name_en


@web_blueprint.app_context_processor
def _case_labels():
    def label(kind: str, key) -> str:
        return _(getattr(labels, kind).get(key, key)) if key is not None else ""
    return {"label": label, "local_name": local_name}
