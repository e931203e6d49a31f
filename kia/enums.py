"""String enums shared by models and schemas; stored as VARCHAR with a CHECK constraint."""
from __future__ import annotations

import enum

from sqlalchemy import Enum


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


def enum_column(enum_class: type[enum.Enum], length: int = 32, name: str | None = None) -> Enum:
    """`name` names the CHECK constraint; give one when a table has two columns of the same enum."""
    return Enum(
        enum_class,
        name=name or enum_class.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
