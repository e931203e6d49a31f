"""Reference data every installation starts with; `kia db upgrade` and the tests both run this.
Each step adds only what is missing and never overwrites what an admin has changed."""
from __future__ import annotations

from sqlalchemy.orm import Session

from kia.incidents.builtin_types import ensure_builtin_types


def ensure_reference_data(session: Session) -> dict[str, int]:
    """Returns how many rows each step added."""
    return {
        "event types": ensure_builtin_types(session),
    }
