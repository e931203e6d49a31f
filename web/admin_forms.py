"""What the admin forms share: values read as typed (the services say what is wrong with them) and written back
as a form would send them, and the event types to choose from."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import get_locale

from kia.http import db_session
from kia.incidents.types import list_types

WHOLE_NUMBER = re.compile(r"[-+]?\d{1,9}")


def typed_number(text: str, blank: Any = None) -> Any:
    """A whole number as an int; something else goes as typed, for the service's message at the field
    ("high" stays "high", not a 400), and an empty input as `blank`."""
    text = text.strip()
    if not text:
        return blank
    return int(text) if WHOLE_NUMBER.fullmatch(text) else text


def form_of(values: dict[str, Any]) -> dict[str, str]:
    """Stored values as their form's inputs send them: text, "" for none, a ticked checkbox's key present."""
    return {key: "on" if value is True else "" if value is None else str(value)
            for key, value in values.items() if value is not False}


def type_options() -> list[tuple[str, str]]:
    """(code, "name (code)") of every event type, in the reader's language: the names are data, not msgids."""
    language = str(get_locale())
    return [(t.code, f"{t.name(language)} ({t.code})") for t in list_types(db_session())]
