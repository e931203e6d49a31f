"""The KIA app plus a bench-only baseline endpoint; served by gunicorn in bench/ingest.py, never in production."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, request
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, func, insert
from sqlalchemy.dialects.postgresql import JSONB

from kia.app import create_app, serving
from kia.http import db_session, state

metadata = MetaData()

# As wide as an `incidents` row (the same kinds and sizes of column) but with no foreign keys, no
# indexes beyond the primary key and the number, and no related rows: "one INSERT" through Flask.
baseline_rows = Table(
    "bench_baseline_rows", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), unique=True, nullable=False),
    Column("type_code", String(40), nullable=False),
    Column("org_unit_code", String(32), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("known_at", DateTime(timezone=True)),
    Column("reported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("location", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("field_values", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)

bp = Blueprint("bench", __name__, url_prefix="/bench")


def _moment(raw: str | None, tz: ZoneInfo) -> datetime | None:
    value = datetime.fromisoformat(raw) if raw else None
    return value.replace(tzinfo=tz) if value is not None and value.tzinfo is None else value


@bp.post("/baseline")
def baseline():
    """Take the same JSON body as POST /api/v1/incidents and store it as one row, unchecked."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    tz = state().settings.timezone
    session = db_session()
    row_id = session.execute(insert(baseline_rows).values(
        number=f"BENCH-{uuid.uuid4().hex[:16]}", type_code=body["type"], org_unit_code=body["org_unit"],
        occurred_at=_moment(body["occurred_at"], tz), known_at=_moment(body.get("known_at"), tz),
        location=body.get("location", ""), description=body["description"],
        anonymous=body.get("anonymous", False), field_values=body.get("fields", {}),
    ).returning(baseline_rows.c.id)).scalar_one()
    session.commit()
    return {"id": row_id}, 201


def create_bench_app():
    app = create_app()
    app.register_blueprint(bp)
    return serving(app)   # as kia.wsgi serves it
