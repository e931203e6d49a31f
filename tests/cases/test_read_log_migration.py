"""The read_log migration: the reads logged before it get their event and unit from their case, and afterwards the
log refuses changes (SQLite here; the PostgreSQL trigger is tried by tests/cases/test_read_log.py)."""
from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError

from kia import migrate
from kia.db import make_engine


def test_earlier_reads_get_their_event_and_unit_and_the_log_is_insert_only(tmp_path):
    path = tmp_path / "read_log.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrate.upgrade(connection, "session_epoch")
    engine.dispose()
    plain = sqlite3.connect(path)   # foreign keys off: the rows a case needs (type, event) do not matter here
    plain.execute("INSERT INTO users (id, email, name, active, language, daily_digest, created_at, session_epoch) "
                  "VALUES (1, 'a@example.se', 'A', 1, 'sv', 0, '2026-11-01 08:00:00', 0)")
    plain.execute("INSERT INTO org_units (id, code, name, kind, path, active) VALUES (3, 'S1', 'S1', 'unit', '/3/', 1)")
    plain.execute("INSERT INTO cases (id, number, incident_id, incident_type_id, org_unit_id, state, created_at, "
                  "updated_at, serious, serious_checklist, investigation, closing_summary, decision, "
                  "open_actions_reason, rejection_reason, field_values) VALUES (5, 'X-1', 7, 1, 3, 'received', "
                  "'2026-11-01', '2026-11-01', 0, '{}', '', '', '', '', '', '{}')")
    plain.execute("INSERT INTO access_log (case_id, user_id, at, action, detail) "
                  "VALUES (5, 1, '2026-11-02 08:00:00', 'read', '')")
    plain.commit()
    plain.close()
    with engine.begin() as connection:
        migrate.upgrade(connection)
        assert connection.exec_driver_sql("SELECT case_id, incident_id, org_unit_id FROM access_log").all() \
            == [(5, 7, 3)]
    for statement in ("UPDATE access_log SET action = 'x'", "DELETE FROM access_log"):
        with engine.begin() as connection:
            try:
                connection.exec_driver_sql(statement)
            except DBAPIError as error:
                assert "never changed or deleted" in str(error)
            else:
                raise AssertionError(f"{statement} was allowed")
    engine.dispose()
