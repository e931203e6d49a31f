"""Benchmark: one deadline sweep over 100,000 open cases of which 10,000 are due, on PostgreSQL.
Target: under 5 s, with memory bounded (the sweep loads a batch at a time). Memory is compared with a
sweep over a fifth as many due obligations in the same run: bounded means it hardly grows. The machine
is shared, so the same run also times the sweep's writes done by hand in set-based SQL (no Python per
row, rolled back): the floor the database alone needs, and the sweep's time as a multiple of it.

    .venv/bin/python bench/sweep.py [--cases 100000] [--due 10000]
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import kia.models  # noqa: E402,F401
from kia import migrate  # noqa: E402
from kia.db import make_engine, make_session_factory, recreate_postgres_database, utcnow  # noqa: E402
from kia.deadlines.escalation import sweep_side_by_side  # noqa: E402
from kia.seed import ensure_reference_data  # noqa: E402

DATABASE = "kia_bench_sweep"
SERVER = os.environ.get("KIA_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
UNITS_PER_DEPARTMENT, DEPARTMENTS = 60, 10


def fresh_database(database: str = DATABASE):
    """A new, migrated database with the reference data (bench/gallring.py makes its own with it too)."""
    recreate_postgres_database(f"{SERVER}/{database}")
    engine = make_engine(f"{SERVER}/{database}", pool_size=4)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_reference_data(session)
    return engine


LOAD_TREE = """
INSERT INTO org_units (id, code, name, kind, parent_id, path, active) VALUES
  (1, 'CITY', 'Bench city', 'city', NULL, '/1/', true),
  (2, 'ADM', 'Bench administration', 'administration', 1, '/1/2/', true);
INSERT INTO org_units (id, code, name, kind, parent_id, path, active)
  SELECT 10 + d, 'D' || d, 'Department ' || d, 'department', 2, '/1/2/' || (10 + d) || '/', true
  FROM generate_series(1, :departments) d;
INSERT INTO org_units (id, code, name, kind, parent_id, path, active)
  SELECT 1000 + u, 'U' || u, 'Unit ' || u, 'unit', 10 + ((u - 1) / :per_department) + 1,
         '/1/2/' || (10 + ((u - 1) / :per_department) + 1) || '/' || (1000 + u) || '/', true
  FROM generate_series(1, :units) u;
SELECT setval('org_units_id_seq', 100000);
-- a handler on every unit and department (the manager), a safety officer on the administration
INSERT INTO users (id, email, name, active, language, daily_digest, created_at)
  SELECT id, 'u' || id || '@bench.kia', 'User ' || id, true, CASE WHEN id % 5 = 0 THEN 'en' ELSE 'sv' END,
         false, now() FROM org_units;
INSERT INTO memberships (user_id, org_unit_id, role, created_at)
  SELECT id, id, CASE WHEN kind = 'administration' THEN 'safety_officer' ELSE 'handler' END, now() FROM org_units;
SELECT setval('users_id_seq', 100000);
"""

LOAD_CASES = """
INSERT INTO incidents (id, number, incident_type_id, org_unit_id, occurred_at, known_at, reported_at, location,
                       description, reporter_id, anonymous, field_values)
  SELECT n, 'ADM-2026-' || lpad(n::text, 6, '0'), :type_id, 1000 + (n % :units) + 1,
         now() - interval '3 days', now() - interval '3 days', now() - interval '3 days', '', 'Bench',
         NULL, true, '{}'::jsonb
  FROM generate_series(1, :cases) n;
INSERT INTO cases (id, number, incident_id, incident_type_id, org_unit_id, state, assignee_id, serious,
                   serious_checklist, field_values, investigation, closing_summary, decision,
                   open_actions_reason, rejection_reason, created_at, updated_at)
  SELECT n, 'ADM-2026-' || lpad(n::text, 6, '0') || '-1', n, :type_id, 1000 + (n % :units) + 1, 'received',
         1000 + (n % :units) + 1, false, '{}'::jsonb, '{}'::jsonb, '', '', '', '', '', now(), now()
  FROM generate_series(1, :cases) n;
"""


def load(engine, cases: int, due: int) -> None:
    units = UNITS_PER_DEPARTMENT * DEPARTMENTS
    with engine.begin() as connection:
        for statement in LOAD_TREE.split(";\n"):
            if statement.strip():
                connection.execute(text(statement), {"departments": DEPARTMENTS,
                                                     "per_department": UNITS_PER_DEPARTMENT, "units": units})
        type_id = connection.scalar(text("SELECT id FROM incident_types WHERE code = 'threat_violence'"))
        rule_id = connection.scalar(text("SELECT id FROM deadline_rules WHERE code = 'acknowledged'"))
        for statement in LOAD_CASES.split(";\n"):
            connection.execute(text(statement), {"type_id": type_id, "units": units, "cases": cases})
        connection.execute(text("""
            INSERT INTO obligations (case_id, rule_id, starts_at, due_at, status, next_step, next_step_at,
                                     created_at, updated_at)
            SELECT n, :rule_id, now() - interval '3 days',
                   CASE WHEN n <= :due THEN now() - interval '1 hour' ELSE now() + (n % 10 + 1) * interval '1 day' END,
                   'open',
                   CASE WHEN n <= :due THEN 'due' ELSE 'reminder' END,
                   CASE WHEN n <= :due THEN now() - interval '1 hour' ELSE now() + (n % 10 + 1) * interval '12 hours' END,
                   now(), now()
            FROM generate_series(1, :cases) n"""), {"rule_id": rule_id, "due": due, "cases": cases})
        connection.execute(text("UPDATE cases SET next_due_at = o.due_at FROM obligations o WHERE o.case_id = cases.id"))
        connection.execute(text("SELECT setval('incidents_id_seq', :n)"), {"n": cases + 1})
        connection.execute(text("SELECT setval('cases_id_seq', :n)"), {"n": cases + 1})
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


# What the sweep writes for 10,000 due obligations, by hand: a claim row and a timeline entry each, a
# notice to the handler and one to the manager (in the bench tree a unit's handler has the unit's id and
# its department's handler the department's), the ladder moved on.
BY_HAND = """
INSERT INTO obligation_escalations (obligation_id, step, at)
  SELECT id, 'due', now() FROM obligations WHERE status = 'open' AND next_step_at <= now();
INSERT INTO case_timeline (case_id, at, actor_id, kind, field, "old", new, note)
  SELECT case_id, now(), NULL, 'escalation', 'Acknowledge', NULL, '"due"'::jsonb, ''
  FROM obligations WHERE status = 'open' AND next_step_at <= now();
INSERT INTO notifications (dedupe_key, user_id, channel, kind, case_id, language, payload, digest, status,
                           attempts, next_attempt_at, last_error, created_at)
  SELECT 'by-hand:' || o.id || ':' || 'u' || r.user_id, r.user_id, 'email', 'overdue', c.id, 'sv',
         jsonb_build_object('case_id', c.id, 'case_number', c.number, 'incident_id', c.incident_id,
                            'type', 'threat_violence', 'type_name', jsonb_build_object('sv', 'Hot och våld',
                            'en', 'Threats and violence'), 'unit', u.code, 'unit_name', u.name, 'state', c.state,
                            'obligation', jsonb_build_object('sv', 'Kvittera', 'en', 'Acknowledge'),
                            'due_at', o.due_at, 'step', 'due'),
         false, 'pending', 0, now(), '', now()
  FROM obligations o JOIN cases c ON c.id = o.case_id JOIN org_units u ON u.id = c.org_unit_id
  CROSS JOIN LATERAL (VALUES (c.assignee_id), (u.parent_id)) AS r(user_id)
  WHERE o.status = 'open' AND o.next_step_at <= now();
UPDATE obligations SET next_step = 'escalated', next_step_at = due_at + interval '24 hours', updated_at = now()
  WHERE status = 'open' AND next_step_at <= now()
"""


def by_hand(engine) -> float:
    """The database's floor for the sweep's writes, rolled back so the sweep finds everything still due."""
    with engine.connect() as connection:
        started = time.perf_counter()
        with connection.begin() as transaction:
            for statement in BY_HAND.split(";\n"):
                connection.execute(text(statement))
            elapsed = time.perf_counter() - started
            transaction.rollback()
    return elapsed


def measured_sweep(engine, label: str, workers: int) -> tuple[float, int, dict]:
    """One sweep as the scheduler runs it (kia.scheduler.Jobs.sweep_deadlines)."""
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = sweep_side_by_side(make_session_factory(engine), utcnow() + timedelta(seconds=1), workers)
    elapsed = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"{label}: {elapsed:.2f} s, {result.obligations} obligations, steps {result.steps}, "
          f"{result.notifications} notifications queued, peak RSS grew {growth / 1024:.1f} MiB")
    return elapsed, growth, result.steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="sweeps side by side (KIA_SWEEP_WORKERS)")
    args = parser.parse_args()

    small_due = args.due // 5
    print(f"Loading {args.cases} open cases, {small_due} due (warm-up and memory baseline) …")
    engine = fresh_database()
    load(engine, args.cases, small_due)
    _, small_growth, _ = measured_sweep(engine, f"sweep, {small_due} due", args.workers)
    engine.dispose()

    print(f"Loading {args.cases} open cases, {args.due} due …")
    engine = fresh_database()
    load(engine, args.cases, args.due)
    floor = by_hand(engine)
    print(f"the same writes by hand in set-based SQL: {floor:.2f} s")
    elapsed, growth, steps = measured_sweep(engine, f"sweep, {args.due} due", args.workers)
    engine.dispose()

    ok_time = elapsed < 5.0 and steps["due"] == args.due
    # Bounded: five times the due work may not cost five times the memory (batches of 500).
    ok_memory = growth <= max(small_growth * 2, 64 * 1024)
    print(f"\nsweep of {args.due} due among {args.cases}: {elapsed:.2f} s (target < 5 s): {'OK' if ok_time else 'MISSED'}"
          f"; {elapsed / floor:.1f}x the same writes by hand, load average {os.getloadavg()[0]:.1f}")
    print(f"memory growth {growth / 1024:.1f} MiB vs {small_growth / 1024:.1f} MiB for {small_due} due: "
          f"{'bounded' if ok_memory else 'NOT bounded'}")
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
