"""Reference data every installation starts with; `kia db upgrade` and the tests both run this.
Each step adds only what is missing and never overwrites what an admin has changed."""
from __future__ import annotations

from sqlalchemy.orm import Session

from kia.alarms.builtin import ensure_builtin_alarm_types
from kia.cases.workflow import ensure_default_workflow
from kia.deadlines.rules import ensure_default_deadline_rules
from kia.incidents.builtin_types import ensure_builtin_types
from kia.retention.defaults import ensure_default_retention_rules
from kia.routing.defaults import ensure_default_routing_rules


def ensure_reference_data(session: Session) -> dict[str, int]:
    """Returns how many rows each step added."""
    return {
        "event types": ensure_builtin_types(session),
        "default workflow transitions": ensure_default_workflow(session),
        "deadline rules": ensure_default_deadline_rules(session),   # after the types they name
        "routing rules": ensure_default_routing_rules(session),   # after the types they name
        "retention rules": ensure_default_retention_rules(session),   # after the types they name
        "alarm types": ensure_builtin_alarm_types(session),   # after the event types they become
    }
