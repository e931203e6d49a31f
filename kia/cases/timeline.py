"""Write the append-only case timeline. Every service that changes a case records here, in its own transaction."""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from kia.cases.models import Case, TimelineEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# The note of what a reporter does as the reporter (answers the checklist, gives a file), so the timeline can hide
# who did it from those who may not see who reported, and show the same person by name where they handle the case.
AS_REPORTER = "reporter"


def made_as_reporter(entry: TimelineEntry, reporter_id: int | None) -> bool:
    return reporter_id is not None and entry.actor_id == reporter_id and (
        entry.kind == "case_created" or entry.note == AS_REPORTER)


def record(session: Session, case: Case, actor_id: int | None, kind: str, field: str | None = None,
           old: Any = None, new: Any = None, note: str = "") -> TimelineEntry:
    """Append one entry; `actor_id` None means the system (routing, the scheduler)."""
    entry = TimelineEntry(case=case, actor_id=actor_id, kind=kind, field=field,
                          old=_jsonable(old), new=_jsonable(new), note=note)
    session.add(entry)
    return entry


def change_field(session: Session, case: Case, actor_id: int | None, field: str, value: Any,
                 note: str = "") -> bool:
    """Set one attribute of the case and record old → new; nothing is recorded when it does not change."""
    old = getattr(case, field)
    if old == value:
        return False
    setattr(case, field, value)
    record(session, case, actor_id, "field_changed", field=field, old=old, new=value, note=note)
    return True
