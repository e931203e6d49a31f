"""Benchmark: the safety officer's inbox over 200,000 cases on PostgreSQL – open, overdue, in the ~50 units
of their administration, soonest due first, first page of 50 – through kia.cases.services.list_cases, next
to the same query written by hand in SQL, interleaved in one run. Exits non-zero when the service's p95
misses 100 ms or it is more than 3× the hand-written query (at the median or at p95)."""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/inbox.py` puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import kia.models  # noqa: E402,F401 – every mapper, so relationships named by string resolve
from bench.tertial import copy, recreate_database  # noqa: E402 – the benches' shared loading helpers
from kia import migrate  # noqa: E402
from kia.access import Actor  # noqa: E402
from kia.cases.models import OPEN_STATES, CaseState  # noqa: E402
from kia.cases.services import CaseFilter, list_cases  # noqa: E402
from kia.db import make_engine  # noqa: E402
from kia.incidents.models import IncidentType  # noqa: E402
from kia.orgs.models import User  # noqa: E402
from kia.seed import ensure_reference_data  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_inbox"
TARGET_P95_MS, TARGET_RATIO = 100.0, 3.0
ADMINISTRATIONS, DEPARTMENTS_EACH, UNITS, INBOX_UNITS = 14, 3, 600, 50
OFFICER_ADMIN, OFFICER_EMAIL = "ADM01", "sakerhet@bench.kia"
NOW = datetime.now(timezone.utc)
# A realistic mix: most cases closed, a third open; one in six a (confidential) kränkning case.
STATE_WEIGHTS = {CaseState.RECEIVED: 8, CaseState.ACKNOWLEDGED: 6, CaseState.INVESTIGATING: 10,
                 CaseState.ACTIONS: 6, CaseState.FOLLOW_UP: 5, CaseState.CLOSED: 60, CaseState.REJECTED: 5}

# The inbox as one would write it by hand for this officer: non-confidential cases in their subtree,
# with what the list shows beside each (type, unit, handler), as the service loads them.
HAND_SQL = text("""
    SELECT c.*, t.code AS type_code, t.name_sv AS type_name, u.code AS unit_code, u.name AS unit_name,
           a.name AS assignee_name
    FROM cases c
    JOIN org_units u ON u.id = c.org_unit_id
    JOIN incident_types t ON t.id = c.incident_type_id
    LEFT JOIN users a ON a.id = c.assignee_id
    WHERE u.path LIKE :path AND NOT t.confidential
      AND c.state IN ('received', 'acknowledged', 'investigating', 'actions', 'follow_up')
      AND c.next_due_at < :now
    ORDER BY c.next_due_at, c.id
    LIMIT 50""")


# ---- the data -----------------------------------------------------------------------------------

def org_tree() -> list[tuple]:
    """(id, code, name, kind, parent_id, path): a city, 14 administrations with 3 departments each, and
    600 units – INBOX_UNITS of them in the officer's administration, the rest spread over the others."""
    units = [(1, "CITY", "Staden", "city", None, "/1/")]
    per_admin = [INBOX_UNITS] + [(UNITS - INBOX_UNITS) // (ADMINISTRATIONS - 1)] * (ADMINISTRATIONS - 1)
    per_admin[-1] += UNITS - sum(per_admin)
    next_id = 2
    for a, unit_count in enumerate(per_admin, start=1):
        admin_id, next_id = next_id, next_id + 1
        units.append((admin_id, f"ADM{a:02d}", f"Förvaltning {a}", "administration", 1, f"/1/{admin_id}/"))
        departments = []
        for d in range(DEPARTMENTS_EACH):
            departments.append((next_id, f"/1/{admin_id}/{next_id}/"))
            units.append((next_id, f"ADM{a:02d}-D{d}", f"Avdelning {a}.{d}", "department", admin_id,
                          departments[-1][1]))
            next_id += 1
        for u in range(unit_count):
            department_id, department_path = departments[u % DEPARTMENTS_EACH]
            units.append((next_id, f"ADM{a:02d}-U{u:03d}", f"Skola {a}.{u}", "unit", department_id,
                          f"{department_path}{next_id}/"))
            next_id += 1
    return units


def build(url: str, cases: int, seed: int) -> None:
    recreate_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_reference_data(session)
        types = session.execute(select(IncidentType.id, IncidentType.confidential)).all()
    rng = random.Random(seed)
    units = org_tree()
    leaf_ids = [u[0] for u in units if u[3] == "unit"]
    officer_unit = next(u[0] for u in units if u[1] == OFFICER_ADMIN)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        copy(cursor, "org_units", ["id", "code", "name", "kind", "parent_id", "path"], units)
        # One handler per unit (the cases' assignees, user id = unit id), and the officer (id 1).
        handlers = [(u, f"rektor{u}@bench.kia", f"Rektor {u}") for u in leaf_ids]
        copy(cursor, "users", ["id", "email", "name"], [(1, OFFICER_EMAIL, "Säkerhetssamordnare")] + handlers)
        copy(cursor, "memberships", ["id", "user_id", "org_unit_id", "role"],
             [(1, 1, officer_unit, "safety_officer")] + [(u, u, u, "handler") for u in leaf_ids])
        _load_cases(cursor, rng, cases, leaf_ids, types)
        for table in ("org_units", "users", "memberships", "incidents", "cases"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    engine.dispose()


def _load_cases(cursor, rng: random.Random, count: int, leaf_ids: list[int], types) -> None:
    """One incident per case; open cases carry a due time from 10 days ago to 20 days ahead (a third overdue)."""
    states, weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    type_ids = [t for t, confidential in types for _ in range(2 if confidential else 1)]
    incidents, cases = [], []
    for n in range(1, count + 1):
        unit, type_id = rng.choice(leaf_ids), rng.choice(type_ids)
        created = NOW - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
        state = rng.choices(states, weights)[0]
        is_open = state in OPEN_STATES
        due = NOW + timedelta(minutes=rng.randint(-10 * 24 * 60, 20 * 24 * 60)) if is_open else None
        incidents.append((n, f"B-{n:07d}", type_id, unit, created, created, created, "Det hände."))
        cases.append((n, f"B-{n:07d}-1", n, type_id, unit, state.value, unit, rng.random() < 0.02,
                      None if is_open else created + timedelta(days=20), due, created, created))
    copy(cursor, "incidents", ["id", "number", "incident_type_id", "org_unit_id", "occurred_at", "known_at",
                               "reported_at", "description"], incidents)
    copy(cursor, "cases", ["id", "number", "incident_id", "incident_type_id", "org_unit_id", "state", "assignee_id",
                           "serious", "closed_at", "next_due_at", "created_at", "updated_at"], cases)


# ---- the measurement ----------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure(url: str, runs: int, warmup: int) -> tuple[list[float], list[float], int]:
    engine = make_engine(url)
    query = CaseFilter(state=["open"], overdue=True, org_unit=OFFICER_ADMIN, sort="due", limit=50)
    with Session(engine) as session:
        officer = Actor.for_user(session.scalar(select(User).where(User.email == OFFICER_EMAIL)))
        path = session.scalar(text("SELECT path FROM org_units WHERE code = :c"), {"c": OFFICER_ADMIN})
        session.expunge_all()

    def service() -> list[int]:
        # A fresh session per request, as in the app: nothing served from an earlier identity map.
        with Session(engine) as session:
            items, _ = list_cases(session, officer, query, now=NOW)
            return [c.id for c in items]

    def hand() -> list[int]:
        with engine.connect() as connection:
            return [row.id for row in connection.execute(HAND_SQL, {"path": path + "%", "now": NOW})]

    expected = hand()
    if service() != expected or len(expected) != 50:
        raise SystemExit(f"the service and the hand-written SQL disagree ({len(expected)} rows by hand)")
    timings: dict[str, list[float]] = {"service": [], "hand": []}
    for i in range(warmup + runs):
        # Interleaved, the order alternating, so both see the same cache and machine state.
        for name, run in ((("service", service), ("hand", hand)) if i % 2 else (("hand", hand), ("service", service))):
            began = time.perf_counter()
            run()
            if i >= warmup:
                timings[name].append((time.perf_counter() - began) * 1000)
    with engine.connect() as connection:
        plan = connection.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + HAND_SQL.text),
                                  {"path": path + "%", "now": NOW}).scalars().all()
    print("hand-written query plan:\n  " + "\n  ".join(plan))
    engine.dispose()
    return timings["service"], timings["hand"], len(expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier run as it is")
    args = parser.parse_args()
    if not args.reuse:
        began = time.perf_counter()
        build(args.database_url, args.cases, args.seed)
        print(f"loaded {args.cases:,} cases in {time.perf_counter() - began:.1f} s")
    service, hand, rows = measure(args.database_url, args.runs, args.warmup)
    figures = {name: (percentile(t, 50), percentile(t, 95)) for name, t in (("service", service), ("hand", hand))}
    for name, (p50, p95) in figures.items():
        print(f"{name:<8} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   ({len(service)} runs, {rows} rows)")
    ratios = (figures["service"][0] / figures["hand"][0], figures["service"][1] / figures["hand"][1])
    print(f"ratio service/hand: p50 {ratios[0]:.2f}×   p95 {ratios[1]:.2f}×")
    missed = []
    if figures["service"][1] >= TARGET_P95_MS:
        missed.append(f"service p95 {figures['service'][1]:.1f} ms ≥ {TARGET_P95_MS:.0f} ms")
    if max(ratios) > TARGET_RATIO:
        missed.append(f"service/hand {max(ratios):.2f}× > {TARGET_RATIO:.0f}×")
    print("MISSED: " + "; ".join(missed) if missed else "targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
