"""Benchmark: one gallring run over 10,000 expired events among 20,000 on PostgreSQL (kia.retention.gallring).

The expired events (threats and violence, 2020, their cases closed that year: the 60-month rule has run out) carry a
named person with a personal number, free texts, a comment and an attachment row each; as many events of 2025 (closed
that year, still kept) carry the same. One run as the scheduler starts it: its time, the events erased, and its peak
memory growth (tracemalloc's peak and the process's peak RSS) against a run over a fifth as many expired events in
the same process: bounded means about the same peak (one batch at a time). Then it checks that no expired event still
names anyone, that the kept events' rows are exactly as before, and that the tertial statistics of both years give
the same figures before and after. Attachment rows only: their files are not written (the run removes none).

    .venv/bin/python bench/gallring.py [--expired 10000] [--kept 10000]
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

import kia.models  # noqa: E402,F401
from bench.sweep import DEPARTMENTS, LOAD_TREE, UNITS_PER_DEPARTMENT  # noqa: E402 – the bench org tree and users
from bench.sweep import fresh_database as bench_database  # noqa: E402
from kia.db import make_session_factory  # noqa: E402
from kia.orgs.models import OrgUnit  # noqa: E402
from kia.retention.gallring import run_gallring  # noqa: E402
from kia.stats.services import Scope, StatisticsQuery, statistics_of  # noqa: E402

DATABASE = "kia_bench_gallring"
TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
UNITS = UNITS_PER_DEPARTMENT * DEPARTMENTS
PERSONAL_NUMBER = "20100101-1234"


def fresh_database():
    engine = bench_database(DATABASE)
    with engine.begin() as connection:
        for statement in LOAD_TREE.split(";\n"):
            if statement.strip():
                connection.execute(text(statement), {"departments": DEPARTMENTS,
                                                     "per_department": UNITS_PER_DEPARTMENT, "units": UNITS})
    return engine


# Events first..last of one year, spread over it; each with a person, a closed case, a comment and an attachment.
LOAD_EVENTS = """
INSERT INTO incidents (id, number, incident_type_id, org_unit_id, occurred_at, known_at, reported_at, location,
                       description, reporter_id, anonymous, field_values)
  SELECT n, 'ADM-' || CAST(:year AS text) || '-' || lpad(n::text, 7, '0'), :type_id, 1000 + (n % :units) + 1,
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330) * interval '1 day',
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330) * interval '1 day',
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330) * interval '1 day',
         'Matsalen', 'Olle Svensson hotade Kalle ' || repeat('x', 500), 1000 + (n % :units) + 1, false,
         '{"threat_kind": "verbal_threat", "police_report_number": "K-123456"}'::jsonb
  FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) n;
INSERT INTO incident_persons (id, incident_id, incident_type_id, org_unit_id, occurred_at, position, role, category,
                              gender, name, class_name, personal_number)
  SELECT n, n, :type_id, 1000 + (n % :units) + 1,
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330) * interval '1 day',
         0, 'affected', CASE WHEN n % 3 = 0 THEN 'staff' ELSE 'pupil' END,
         CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END, 'Olle Svensson', '7B', :personal_number
  FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) n;
INSERT INTO cases (id, number, incident_id, incident_type_id, org_unit_id, state, assignee_id, serious,
                   serious_checklist, field_values, investigation, closing_summary, decision,
                   open_actions_reason, rejection_reason, closed_at, created_at, updated_at)
  SELECT n, 'ADM-' || CAST(:year AS text) || '-' || lpad(n::text, 7, '0') || '-1', n, :type_id,
         1000 + (n % :units) + 1, 'closed',
         1000 + (n % :units) + 1, false, '{}'::jsonb, '{}'::jsonb, 'Samtal med Olle ' || repeat('y', 500),
         'Avslutat', 'Åtgärder vidtagna', '', '',
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330 + 20) * interval '1 day',
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330) * interval '1 day',
         make_timestamptz(CAST(:year AS integer), 1, 1, 9, 0, 0, 'UTC') + (n % 330 + 20) * interval '1 day'
  FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) n;
INSERT INTO case_comments (case_id, author_id, body, created_at)
  SELECT n, 1000 + (n % :units) + 1, 'Olles mamma ringde ' || repeat('z', 200), now()
  FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) n;
INSERT INTO case_attachments (case_id, filename, content_type, size, sha256, uploaded_by_id, uploaded_at)
  SELECT n, 'olle-' || n || '.pdf', 'application/pdf', 1000, md5(n::text) || md5((n + 1)::text),
         1000 + (n % :units) + 1, now()
  FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) n
"""


def load_events(engine, year: int, first: int, last: int) -> None:
    with engine.begin() as connection:
        type_id = connection.scalar(text("SELECT id FROM incident_types WHERE code = 'threat_violence'"))
        for statement in LOAD_EVENTS.split(";\n"):
            connection.execute(text(statement), {"type_id": type_id, "units": UNITS, "year": year, "first": first,
                                                 "last": last, "personal_number": PERSONAL_NUMBER})
        for table in ("incidents", "incident_persons", "cases"):
            connection.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def kept_fingerprint(engine, first: int, last: int) -> str:
    """One digest of every row of the kept events (incidents, persons, cases, comments, attachments)."""
    parts = []
    with engine.connect() as connection:
        for table, key in (("incidents", "id"), ("incident_persons", "incident_id"), ("cases", "incident_id"),
                           ("case_comments", "case_id"), ("case_attachments", "case_id")):
            parts.append(connection.scalar(text(
                f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t WHERE {key} BETWEEN :a AND :b"),
                {"a": first, "b": last}))
    return ",".join(parts)


def figures(session_factory, years: tuple[int, ...]) -> dict:
    """Every tertial of these years for the whole bench city, by nothing, type, unit, gender and person category."""
    out = {}
    with session_factory() as session:
        root = session.scalar(select(OrgUnit).where(OrgUnit.code == "CITY"))
        for year in years:
            for tertial in (1, 2, 3):
                for group_by in ((), ("type",), ("unit",), ("gender",), ("person_category",)):
                    report = statistics_of(session, root, StatisticsQuery(year, tertial, "CITY", Scope.PERIOD,
                                                                          group_by), TZ, threshold=1, now=NOW)
                    out[(year, tertial, group_by)] = ([asdict(r) for r in report.rows], asdict(report.total))
    return out


def measured_run(engine, label: str) -> tuple[float, int, int, int]:
    """One run as the nightly job starts it; its time, events erased, tracemalloc peak and peak-RSS growth."""
    session_factory = make_session_factory(engine)
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    result = run_gallring(session_factory, NOW, None)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    print(f"{label}: {elapsed:.2f} s (tracemalloc on), {result.records} events erased {result.counts}, "
          f"tracemalloc peak {peak / 2**20:.1f} MiB, peak RSS grew {rss_growth / 1024:.1f} MiB")
    return elapsed, result.records, peak, rss_growth


def still_named(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("""
            SELECT count(*) FROM incident_persons p JOIN incidents i ON i.id = p.incident_id
            WHERE i.anonymised_at IS NOT NULL AND (p.name IS NOT NULL OR p.personal_number IS NOT NULL)""")) + \
            connection.scalar(text("""
            SELECT count(*) FROM case_comments c JOIN cases k ON k.id = c.case_id
            JOIN incidents i ON i.id = k.incident_id
            WHERE i.anonymised_at IS NOT NULL"""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=10_000)
    parser.add_argument("--kept", type=int, default=10_000)
    args = parser.parse_args()
    small = args.expired // 5

    print(f"Loading {small} expired and {args.kept} kept events (warm-up and memory baseline) …")
    engine = fresh_database()
    load_events(engine, 2020, 1, small)
    load_events(engine, 2025, 1_000_001, 1_000_000 + args.kept)
    _, small_records, small_peak, small_rss = measured_run(engine, f"gallring, {small} expired")
    engine.dispose()

    print(f"Loading {args.expired} expired and {args.kept} kept events …")
    engine = fresh_database()
    load_events(engine, 2020, 1, args.expired)
    load_events(engine, 2025, 1_000_001, 1_000_000 + args.kept)
    session_factory = make_session_factory(engine)
    kept_before = kept_fingerprint(engine, 1_000_001, 1_000_000 + args.kept)
    figures_before = figures(session_factory, (2020, 2025))
    elapsed, records, peak, rss = measured_run(engine, f"gallring, {args.expired} expired")
    kept_same = kept_fingerprint(engine, 1_000_001, 1_000_000 + args.kept) == kept_before
    figures_same = figures(session_factory, (2020, 2025)) == figures_before
    named = still_named(engine)
    engine.dispose()

    ok_counts = small_records == small and records == args.expired and named == 0
    # Bounded: five times the expired events may not cost much more than the small run's peak (batches of 500).
    ok_memory = peak <= 1.5 * small_peak and rss <= max(small_rss * 2, 64 * 1024)
    print(f"\ngallring of {args.expired} expired among {args.expired + args.kept}: {elapsed:.2f} s "
          f"({args.expired / elapsed:.0f} events/s), load average {os.getloadavg()[0]:.1f}")
    print(f"erased {records} (expected {args.expired}), expired events still naming someone or with comments: "
          f"{named}: {'OK' if ok_counts else 'WRONG'}")
    print(f"memory: tracemalloc peak {peak / 2**20:.1f} MiB vs {small_peak / 2**20:.1f} MiB for {small}, "
          f"peak RSS growth {rss / 1024:.1f} MiB vs {small_rss / 1024:.1f} MiB: "
          f"{'bounded' if ok_memory else 'NOT bounded'}")
    counted = {year: sum(figures_before[(year, t, ())][1]["count"]["value"] for t in (1, 2, 3))
               for year in (2020, 2025)}
    print(f"the {args.kept} kept events untouched: {'yes' if kept_same else 'NO'}; "
          f"tertial statistics of 2020 and 2025 ({counted[2020]} and {counted[2025]} events) the same before and "
          f"after: {'yes' if figures_same else 'NO'}")
    return 0 if ok_counts and ok_memory and kept_same and figures_same else 1


if __name__ == "__main__":
    sys.exit(main())
