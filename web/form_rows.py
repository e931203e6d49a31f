"""Rows a form adds and removes without JavaScript (the report form's persons, the event type form's fields).

"Add a …" and "Remove" are submit buttons (action add_<noun>, remove_<noun>-<index>) that send the whole form
back: the server reads every row as typed and shows the form again with one row more or less. Row inputs are
named "<prefix>[<index>].<key>", with the number of rows in "<prefix>-count" (templates: web/_rows.html).
"""
from __future__ import annotations

from werkzeug.datastructures import MultiDict


def read_rows(form: MultiDict, prefix: str, keys: tuple[str, ...], limit: int) -> list[dict[str, str]]:
    """The rows as typed, stripped; a checkbox's key is "on" when ticked, else empty."""
    count = min(to_int(form.get(f"{prefix}-count"), 0), limit)
    return [{key: form.get(f"{prefix}[{i}].{key}", "").strip() for key in keys} for i in range(count)]


def apply_row_button(rows: list[dict[str, str]], action: str, noun: str, limit: int) -> bool:
    """Add or remove a row when `action` is one of the row buttons; True when it was (the form is shown
    again, not sent on)."""
    if action == f"add_{noun}":
        if len(rows) < limit:
            rows.append({})
        return True
    if action.startswith(f"remove_{noun}-"):
        index = to_int(action.removeprefix(f"remove_{noun}-"), -1)
        if 0 <= index < len(rows):
            del rows[index]
        return True
    return False


def to_int(raw: str | None, default: int) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return default
