"""Shared by the feedback tests: a valid anonymous report, and the whole database as text to search."""
from __future__ import annotations

from kia.db import Base


def risk_body(**overrides) -> dict:
    """A risk observation on S1 (a type that allows anonymous reports), shaped for POST /public/incidents."""
    body = {"type": "risk_observation", "org_unit": "S1", "occurred_at": "2026-03-10T09:30:00",
            "description": "Räcket i trapphus B sitter löst.", "fields": {"risk": "Någon kan falla."}}
    body.update(overrides)
    return body


def database_text(db) -> str:
    """Every row of every table, as text: to show that something is stored nowhere."""
    db.flush()
    return "\n".join(repr(tuple(row)) for table in Base.metadata.sorted_tables for row in db.execute(table.select()))
