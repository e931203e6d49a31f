"""The event type form as typed, for adding a type and changing one: read from the request, turned into what
kia.incidents.types and kia.incidents.type_changes take, and their messages placed at the inputs.

Inputs are named by the services' paths ("name.sv", "fields[2].label.sv", "new_fields[0].key"), as on the
report form, so the path of a message names its input. A choice field's choices are typed one a line,
"value | Svensk etikett | English label", and a message about choices[3] is shown at the box, about its line.
Fields are rows added and removed by submit buttons (web.form_rows), as the report form's persons.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from werkzeug.datastructures import MultiDict

from kia.errors import N_, Msg
from kia.incidents.models import FieldKind, IncidentType, IncidentTypeField
from kia.incidents.type_changes import FIXED_ONCE_REPORTED
from kia.incidents.types import CHOICE_KINDS, TYPE_FLAGS
from web.form_rows import apply_row_button, read_rows

ON = "on"   # a ticked checkbox
TEXTS = ("code", "category", "name.sv", "name.en", "help.sv", "help.en")
FLAGS = tuple(TYPE_FLAGS)
ROW_KEYS = ("key", "type", "label.sv", "label.en", "required", "sensitive", "retired", "choices")
MAX_NEW_FIELDS = 40
# The type's settings that may change whether or not reports of it exist.
CHANGEABLE_FLAGS = ("active", "allows_anonymous", "concerns_building")
MAX_FIELDS = 200
# Marked with N_ so `make messages` extracts them; the template and the error summary translate them.
LABELS = {"code": N_("Code"), "category": N_("Category"), "name.sv": N_("Name in Swedish"),
          "name.en": N_("Name in English"), "help.sv": N_("One-line help in Swedish"),
          "help.en": N_("One-line help in English"), "active": N_("Active: can be reported"),
          "allows_anonymous": N_("May be reported anonymously"),
          "confidential": N_("Confidential (like kränkande behandling): only the handler chain sees it"),
          "case_per_affected_pupil": N_("One case per affected pupil"),
          "concerns_building": N_("Concerns the building: its cases offer a fault report to the property owner")}
ROW_LABELS = {"key": N_("Key"), "type": N_("Kind"), "label.sv": N_("Label in Swedish"),
              "label.en": N_("Label in English"), "required": N_("Required"), "sensitive": N_("Sensitive"),
              "retired": N_("Retired: hidden from new reports"), "choices": N_("Choices")}
FIELD_KINDS = {FieldKind.TEXT: N_("Text"), FieldKind.NUMBER: N_("A number"), FieldKind.BOOLEAN: N_("Yes or no"),
               FieldKind.DATE: N_("Date"), FieldKind.DATETIME: N_("Date and time"),
               FieldKind.CHOICE: N_("One of the choices"), FieldKind.MULTICHOICE: N_("Any of the choices")}
CHOICE_PARTS = {"value": N_("the value"), "sv": N_("the Swedish label"), "en": N_("the English label")}
CHOICE_PATH = re.compile(r"^(?P<box>(?:new_)?fields\[\d+\]\.choices)\[(?P<index>\d+)\]\.(?P<part>value|sv|en)$")
ROW_PATH = re.compile(r"^(?P<row>(?:new_)?fields\[\d+\])\.(?P<part>.+)$")


def format_choices(choices: list[dict[str, str]]) -> str:
    return "\n".join(f"{c['value']} | {c['sv']} | {c['en']}" for c in choices)


def parse_choices(text: str) -> tuple[list[dict[str, str]], list[int]]:
    """The choices of a box, and the line each came from (blank lines are skipped). A line short of its parts
    gets empty ones, for the service to say which is missing; a "|" after the second is the English label's."""
    choices, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            value, sv, en = ([part.strip() for part in line.split("|", 2)] + ["", ""])[:3]
            choices.append({"value": value, "sv": sv, "en": en})
            lines.append(number)
    return choices, lines


def _row_of(definition: IncidentTypeField) -> dict[str, str]:
    return {"key": definition.key, "type": definition.kind.value, "label.sv": definition.label_sv,
            "label.en": definition.label_en, "choices": format_choices(definition.choices or []),
            **{flag: ON if getattr(definition, flag) else "" for flag in ("required", "sensitive", "retired")}}


@dataclass
class TypeForm:
    """Everything typed, kept as strings so a form shown again shows it exactly. `incident_type` is the type
    being changed (None: a type being added); `fields` are its fields' rows, `new_fields` the rows being added."""

    values: dict[str, str]
    incident_type: IncidentType | None = None
    fields: list[dict[str, str]] = field(default_factory=list)
    new_fields: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)

    @property
    def new_prefix(self) -> str:
        """The new rows' names: a new type's fields are its fields[i]; on a change they are new_fields[i]."""
        return "fields" if self.incident_type is None else "new_fields"

    @classmethod
    def blank(cls) -> "TypeForm":
        return cls(values={"active": ON})

    @classmethod
    def of_type(cls, incident_type: IncidentType) -> "TypeForm":
        t = incident_type
        values = {"code": t.code, "category": t.category.value, "name.sv": t.name_sv, "name.en": t.name_en,
                  "help.sv": t.help_sv, "help.en": t.help_en, **{flag: ON if getattr(t, flag) else "" for flag in FLAGS}}
        return cls(values, t, [_row_of(d) for d in t.fields])

    @classmethod
    def read(cls, form: MultiDict, incident_type: IncidentType | None = None) -> "TypeForm":
        values = {**{key: form.get(key, "").strip() for key in TEXTS},
                  **{flag: ON if form.get(flag) == ON else "" for flag in FLAGS}}
        typed = cls(values, incident_type)
        typed.new_fields = read_rows(form, typed.new_prefix, ROW_KEYS, MAX_NEW_FIELDS)
        if incident_type is not None:
            # The rows of the type's fields, by the key each carries (a row for no field of it was not our form's).
            keys = {d.key for d in incident_type.fields}
            typed.fields = [row for row in read_rows(form, "fields", ROW_KEYS, MAX_FIELDS) if row["key"] in keys]
        return typed

    def definition(self, key: str) -> IncidentTypeField:
        return next(d for d in self.incident_type.fields if d.key == key)

    def apply_row_button(self, action: str) -> bool:
        """"Add a field" and "Remove" (web.form_rows): True when it was one of them (shown again, not saved)."""
        return apply_row_button(self.new_fields, action, "field", MAX_NEW_FIELDS)

    def spec(self) -> dict[str, Any]:
        """A new type, as create_incident_type takes it."""
        return {"code": self.values["code"], "category": self.values["category"], "name": self._texts("name"),
                "help": self._texts("help"), **{flag: self.values[flag] == ON for flag in FLAGS},
                "fields": self._new_fields()}

    def changes(self) -> dict[str, Any]:
        """The change, as change_incident_type takes it: every setting the page offered, as it now stands."""
        changes: dict[str, Any] = {"name": self._texts("name"), "help": self._texts("help"),
                                   **{flag: self.values[flag] == ON for flag in CHANGEABLE_FLAGS}}
        if self.values["category"]:   # offered while no reports exist; the service refuses it should some now
            changes.update(category=self.values["category"],
                           **{flag: self.values[flag] == ON for flag in FIXED_ONCE_REPORTED if flag != "category"})
        changes["fields"] = [self._field_change(index, row) for index, row in enumerate(self.fields)]
        changes["new_fields"] = self._new_fields()
        return changes

    def _texts(self, name: str) -> dict[str, str]:
        return {lang: self.values[f"{name}.{lang}"] for lang in ("sv", "en")}

    def _row_spec(self, path: str, row: dict[str, str]) -> dict[str, Any]:
        spec = {"key": row.get("key", ""), "label": {lang: row.get(f"label.{lang}", "") for lang in ("sv", "en")},
                **{flag: row.get(flag) == ON for flag in ("required", "sensitive")}}
        spec["choices"], self.lines[f"{path}.choices"] = parse_choices(row.get("choices", ""))
        return spec

    def _new_fields(self) -> list[dict[str, Any]]:
        return [{**self._row_spec(f"{self.new_prefix}[{index}]", row), "type": row.get("type", "")}
                for index, row in enumerate(self.new_fields)]

    def _field_change(self, index: int, row: dict[str, str]) -> dict[str, Any]:
        change = {**self._row_spec(f"fields[{index}]", row), "retired": row.get("retired") == ON}
        if self.definition(row["key"]).kind not in CHOICE_KINDS:
            del change["choices"]   # the page has no box for them
        return change

    def show_errors(self, errors: dict[str, list[Msg]], gettext: Callable[[str], str]) -> None:
        """The services' messages by input; one about a choice goes to its box, naming the line and the part."""
        shown: dict[str, list[str]] = {}
        for path, messages in errors.items():
            texts = [m.render(gettext) for m in messages]
            choice = CHOICE_PATH.match(path)
            if choice:
                lines, index = self.lines.get(choice["box"], []), int(choice["index"])
                line = lines[index] if index < len(lines) else index + 1
                part = gettext(CHOICE_PARTS[choice["part"]])
                texts = [gettext("Line %(n)s, %(part)s: %(message)s") % {"n": line, "part": part, "message": text}
                         for text in texts]
                path = choice["box"]
            shown.setdefault(path, []).extend(texts)
        self.errors = shown

    def legends(self, gettext: Callable[[str], str], language: str) -> dict[str, str]:
        """Each row's legend by its path: the field's label and key, or "Field 2" for one being added."""
        legends = {}
        for index, row in enumerate(self.fields):
            definition = self.definition(row["key"])
            label = definition.label_en if language == "en" else definition.label_sv
            legends[f"fields[{index}]"] = f"{label} ({definition.key})"
        text = gettext("New field %(n)s") if self.incident_type is not None else gettext("Field %(n)s")
        for index in range(len(self.new_fields)):
            legends[f"{self.new_prefix}[{index}]"] = text % {"n": index + 1}
        return legends

    def summary_labels(self, gettext: Callable[[str], str], legends: dict[str, str]) -> dict[str, str]:
        """What the error summary names each message by ("Field 2, Label in Swedish")."""
        labels = {}
        for path in self.errors:
            row = ROW_PATH.match(path)
            if row and row["row"] in legends and row["part"] in ROW_LABELS:
                labels[path] = f"{legends[row['row']]}, {gettext(ROW_LABELS[row['part']])}"
            elif path in LABELS:
                labels[path] = gettext(LABELS[path])
        return labels
