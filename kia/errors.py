"""Domain errors; the API and web layers turn them into problem+json or form messages in the user's language."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


def N_(text: str) -> str:
    """Mark a message for translation; it is translated where it is shown, in the reader's language."""
    return text


@dataclass(frozen=True)
class Msg:
    """A translatable message: an English msgid with %(name)s placeholders and their values."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, gettext=lambda s: s) -> str:
        translated = gettext(self.text)
        return translated % self.params if self.params else translated


class DomainError(Exception):
    status = 400
    title = N_("The request could not be processed.")

    def __init__(self, detail: Msg | str | None = None):
        super().__init__(detail.text if isinstance(detail, Msg) else detail)
        self.detail = Msg(detail) if isinstance(detail, str) else detail


class ValidationFailed(DomainError):
    """Bad input: a message list per field path ("fields.weapon", "persons[0].personal_number")."""

    status = 422
    title = N_("The input is not valid.")

    def __init__(self, errors: dict[str, list[Msg]]):
        super().__init__(Msg(N_("One or more fields are not valid.")))
        self.errors = errors


class InvalidQuery(ValidationFailed):
    """Bad query parameters (filters, cursors): 400 rather than 422."""

    status = 400
    title = N_("The query parameters are not valid.")


class NotFound(DomainError):
    status = 404
    title = N_("Not found.")


class Forbidden(DomainError):
    status = 403
    title = N_("You may not do this.")


class Conflict(DomainError):
    status = 409
    title = N_("Conflict with the current state.")


class FieldErrors:
    """Collects messages per field path while validating, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Msg]] = {}

    def add(self, path: str, text: str, **params: Any) -> None:
        self.errors.setdefault(path, []).append(Msg(text, params))

    def convert(self, path: str, convert: Callable[[Any], Any], value: Any, text: str, /, **params: Any) -> Any:
        """`convert(value)` (an enum, say), or None and the message for `path` when it raises ValueError; the
        message's own parameters may be named anything, `value` too."""
        try:
            return convert(value)
        except ValueError:
            self.add(path, text, **params)
            return None

    def member(self, path: str, enum_class, value: Any, text: str = N_("Unknown value: %(value)s."), /,
               **params: Any) -> Any:
        """The enum member named by `value`; None when it is left empty (the caller says whether it may be), or
        when it names none, with the message for `path`."""
        if value in (None, ""):
            return None
        return self.convert(path, enum_class, value, text, **{"value": value, **params})

    def whole_number(self, path: str, value: Any, low: int, high: int) -> int | None:
        """`value` when it is a whole number from low to high (a form sends what was typed, the API a number);
        otherwise None and the message for `path`."""
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.add(path, N_("Give a whole number from %(low)s to %(high)s."), low=low, high=high)
        return None

    def yes_no(self, path: str, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        self.add(path, N_("Give yes or no."))
        return None

    def extend(self, other: "FieldErrors", prefix: str = "") -> None:
        """Take over another's messages, their paths under `prefix` (the rule "[2]." of a list)."""
        for path, messages in other.errors.items():
            self.errors.setdefault(prefix + path, []).extend(messages)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, error_class: type[ValidationFailed] = ValidationFailed) -> None:
        if self.errors:
            raise error_class(self.errors)
