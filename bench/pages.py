"""Benchmark: the inbox, case and lägesbild pages over 200,000 cases on PostgreSQL, as server time – the Flask
app of create_app() driven in-process by its test client (routing, sign-in, access rules, queries, template
rendering; no network, no browser). Signed in as the safety officer of an administration (~50 units) and
as the handler of one school: GET /inbox (default filters), /inbox?overdue=1, /inbox with a unit
filter, and /cases/<id> for a different case in scope each time, a sensitive one (serious, or a
kränkning case) every few requests, whose read is written to the access log; and GET /lagesbild (their own
unit, this tertial) as each of them and as an analyst of the whole city. Interleaved in the same
rounds: GET /login (anonymous) and GET / (signed in) as a baseline for the machine's speed right now.
Exits non-zero when any page kind's p95 reaches 150 ms.

The cases come from bench/inbox.py's loader; this adds what the case page shows (persons, timeline,
and for the cases opened milestones, actions, comments, obligations and a watcher)."""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/pages.py` puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import inbox as inbox_bench  # noqa: E402 – its loader: org tree, users, 200,000 cases
from bench.inbox import OFFICER_ADMIN, percentile  # noqa: E402
from bench.tertial import copy  # noqa: E402
from kia.auth.signed_in import session_id  # noqa: E402
from kia.db import make_engine, make_session_factory  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_pages"
TARGET_P95_MS = 150.0
OFFICER_ID = 1           # bench/inbox.py: the officer is user 1; each school's handler has the school's id
ANALYST_EMAIL = "analytiker@bench.kia"   # added here: the analyst of the whole city (its root unit)
OPENED_PER_ACTOR = 400   # cases per actor given milestones, actions, comments … and opened by the bench
SENSITIVE_EVERY = 5      # every 5th case request opens a sensitive case (its read is access-logged)


# ---- the data -----------------------------------------------------------------------------------

def build(url: str, cases: int, seed: int) -> None:
    inbox_bench.build(url, cases, seed)
    rng = random.Random(seed + 1)
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT max(id) + 1, (SELECT id FROM org_units WHERE parent_id IS NULL) FROM users")
        analyst_id, city_id = cursor.fetchone()
        copy(cursor, "users", ["id", "email", "name"], [(analyst_id, ANALYST_EMAIL, "Analytiker")])
        copy(cursor, "memberships", ["id", "user_id", "org_unit_id", "role"],
             [(analyst_id, analyst_id, city_id, "analyst")])
        # Every incident has one or two persons, every case a short timeline: the tables the page reads
        # by case/incident are as large as the cases.
        cursor.execute("SELECT id, incident_type_id, org_unit_id, occurred_at FROM incidents ORDER BY id")
        incidents = cursor.fetchall()
        persons, n = [], 0
        for incident_id, *incident in incidents:
            for position in range(rng.choice((1, 1, 2))):
                n += 1
                pupil = rng.random() < 0.6
                persons.append((n, incident_id, *incident, position, "affected" if position == 0 else "perpetrator",
                                "pupil" if pupil else "staff", rng.choice(("female", "male")),
                                f"Person {n}", "7B" if pupil else None,
                                f"20{rng.randint(10, 19)}0101-{rng.randint(1000, 9999)}"))
        copy(cursor, "incident_persons", ["id", "incident_id", "incident_type_id", "org_unit_id", "occurred_at",
                                          "position", "role", "category", "gender", "name", "class_name",
                                          "personal_number"], persons)
        cursor.execute("SELECT id, org_unit_id, state, created_at FROM cases ORDER BY id")
        all_cases = cursor.fetchall()
        timeline, n = [], 0
        for case_id, unit_id, state, created in all_cases:
            n += 1
            timeline.append((n, case_id, created, None, "created", None, None, None, ""))
            if state != "received":
                n += 1
                timeline.append((n, case_id, created + timedelta(hours=2), unit_id, "state_changed", "state",
                                 json.dumps("received"), json.dumps(state), ""))
        copy(cursor, "case_timeline", ["id", "case_id", "at", "actor_id", "kind", "field", "old", "new", "note"],
             timeline)

        # The cases the bench opens get the rest of a worked case.
        cursor.execute("SELECT id FROM deadline_rules ORDER BY id")
        rule_ids = [r[0] for r in cursor.fetchall()]
        opened = [c for actor_cases in sample_cases(cursor, seed).values() for c, _ in actor_cases]
        by_id = {c[0]: c for c in all_cases}
        milestones, actions, comments, obligations, watchers = [], [], [], [], []
        for case_id in sorted(set(opened)):
            _, unit_id, _, created = by_id[case_id]
            for kind in ("principal_notified", "investigation_started"):
                milestones.append((len(milestones) + 1, case_id, kind, created + timedelta(hours=3), "", unit_id,
                                   created + timedelta(hours=3)))
            for k in range(2):
                actions.append((len(actions) + 1, case_id, f"Åtgärd {k + 1}: samtal och uppföljning.", unit_id,
                                (created + timedelta(days=14 * (k + 1))).date(), "planned" if k else "done",
                                "", unit_id, created + timedelta(days=1), None))
            for k in range(3):
                comments.append((len(comments) + 1, case_id, unit_id if k % 2 else OFFICER_ID,
                                 f"Kommentar {k + 1} om ärendet.", created + timedelta(days=k + 1)))
            for rule_id in rng.sample(rule_ids, min(2, len(rule_ids))):
                obligations.append((len(obligations) + 1, case_id, rule_id, None, created,
                                    created + timedelta(days=rng.randint(1, 30)), "open", None, None, None,
                                    created, created))
            watchers.append((len(watchers) + 1, case_id, OFFICER_ID, "safety_officer", created))
        copy(cursor, "case_milestones", ["id", "case_id", "kind", "at", "reference", "recorded_by_id", "recorded_at"],
             milestones)
        copy(cursor, "case_actions", ["id", "case_id", "what", "responsible_id", "due_date", "status",
                                      "follow_up_note", "created_by_id", "created_at", "completed_at"], actions)
        copy(cursor, "case_comments", ["id", "case_id", "author_id", "body", "created_at"], comments)
        copy(cursor, "obligations", ["id", "case_id", "rule_id", "action_id", "starts_at", "due_at", "status",
                                     "met_at", "next_step", "next_step_at", "created_at", "updated_at"], obligations)
        copy(cursor, "case_watchers", ["id", "case_id", "user_id", "reason", "created_at"], watchers)
        for table in ("users", "memberships", "incident_persons", "case_timeline", "case_milestones", "case_actions",
                      "case_comments", "obligations", "case_watchers"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 1) FROM {table}))")
        raw.commit()
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    engine.dispose()


def handler_id(cursor) -> int:
    """The handler of the first school of the officer's administration (user id = unit id)."""
    cursor.execute("SELECT min(u.id) FROM org_units u JOIN org_units a ON u.path LIKE a.path || '%%' "
                   "WHERE a.code = %s AND u.kind = 'unit'", (OFFICER_ADMIN,))
    return cursor.fetchone()[0]


def sample_cases(cursor, seed: int) -> dict[str, list[tuple[int, bool]]]:
    """(case id, sensitive) the bench opens, per actor: for the officer, non-confidential cases of their
    administration (the serious ones are sensitive); for the handler, their school's cases (serious or
    kränkning: sensitive). Chosen the same way when building and when measuring."""
    rng = random.Random(seed + 2)
    cursor.execute("""
        SELECT c.id, c.serious OR t.confidential FROM cases c
        JOIN org_units u ON u.id = c.org_unit_id JOIN incident_types t ON t.id = c.incident_type_id
        WHERE u.path LIKE (SELECT path FROM org_units WHERE code = %s) || '%%' AND NOT t.confidential
        ORDER BY c.id""", (OFFICER_ADMIN,))
    officer = cursor.fetchall()
    cursor.execute("""
        SELECT c.id, c.serious OR t.confidential FROM cases c JOIN incident_types t ON t.id = c.incident_type_id
        WHERE c.org_unit_id = %s ORDER BY c.id""", (handler_id(cursor),))
    handler = cursor.fetchall()
    chosen = {}
    for name, rows in (("officer", officer), ("handler", handler)):
        sensitive = [r for r in rows if r[1]]
        plain = [r for r in rows if not r[1]]
        k = min(len(sensitive), OPENED_PER_ACTOR // SENSITIVE_EVERY)
        picked = rng.sample(sensitive, k) + rng.sample(plain, min(len(plain), OPENED_PER_ACTOR - k))
        chosen[name] = [(case_id, bool(s)) for case_id, s in picked]
    return chosen


# ---- the measurement ----------------------------------------------------------------------------

def make_app(url: str):
    from kia.app import create_app, serving
    from kia.config import Settings

    engine = make_engine(url)
    settings = Settings.from_env(database_url=url, secret_key="bench-pages", session_cookie_secure=False)
    # As a server process holds it (kia.wsgi), start-up frozen out of the garbage collector's way.
    return serving(create_app(settings, session_factory=make_session_factory(engine))), engine


def signed_in(app, user_id: int):
    client = app.test_client()
    with client.session_transaction() as session:   # as tests/web sign in: the session Flask-Login reads
        session["_user_id"] = session_id(user_id, 0)   # loaded users: no password set since
        session["_fresh"] = True
    return client


def measure(url: str, runs: int, warmup: int, seed: int) -> tuple[dict[str, list[float]], dict]:
    app, engine = make_app(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        samples = sample_cases(cursor, seed)
        handler = handler_id(cursor)
        cursor.execute("SELECT code FROM org_units WHERE code = %s", (f"{OFFICER_ADMIN}-D0",))
        department = cursor.fetchone()[0]
        cursor.execute("SELECT code FROM org_units WHERE id = %s", (handler,))
        school = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM users WHERE email = %s", (ANALYST_EMAIL,))
        analyst = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM access_log")
        logged_before = cursor.fetchone()[0]
        raw.commit()
    finally:
        raw.close()
    clients = {"officer": signed_in(app, OFFICER_ID), "handler": signed_in(app, handler),
               "analyst": signed_in(app, analyst), "anonymous": app.test_client()}
    headers = {"Accept-Language": "sv"}
    rng = random.Random(seed + 3)
    # Each request opens a case not opened before in the timed rounds; every SENSITIVE_EVERY-th a sensitive one.
    queues = {}
    for actor, picked in samples.items():
        sensitive = [c for c, s in picked if s]
        plain = [c for c, s in picked if not s]
        rng.shuffle(sensitive)
        rng.shuffle(plain)
        queues[actor] = (sensitive, plain)
    counters = {"officer": 0, "handler": 0}
    opened_sensitive = {"officer": 0, "handler": 0}

    def next_case(actor: str) -> str:
        sensitive, plain = queues[actor]
        counters[actor] += 1
        pool = sensitive if counters[actor] % SENSITIVE_EVERY == 0 and sensitive else plain
        pool.append(case_id := pool.pop(0))   # round-robin: different each request until the pool wraps
        if pool is sensitive:
            opened_sensitive[actor] += 1
        return f"/cases/{case_id}"

    kinds = {
        "baseline: /login (anonymous)": ("anonymous", lambda: "/login"),
        "baseline: / (signed in)": ("officer", lambda: "/"),
        "officer: /inbox": ("officer", lambda: "/inbox"),
        "officer: /inbox?overdue=1": ("officer", lambda: "/inbox?overdue=1"),
        f"officer: /inbox?org_unit={department}": ("officer", lambda: f"/inbox?org_unit={department}"),
        "officer: /cases/<id>": ("officer", lambda: next_case("officer")),
        "handler: /inbox": ("handler", lambda: "/inbox"),
        "handler: /inbox?overdue=1": ("handler", lambda: "/inbox?overdue=1"),
        f"handler: /inbox?org_unit={school}": ("handler", lambda: f"/inbox?org_unit={school}"),
        "handler: /cases/<id>": ("handler", lambda: next_case("handler")),
        # Each one's own unit, this tertial: the school, the administration (~50 units), the city (600).
        "handler: /lagesbild": ("handler", lambda: "/lagesbild"),
        "officer: /lagesbild": ("officer", lambda: "/lagesbild"),
        "analyst: /lagesbild": ("analyst", lambda: "/lagesbild"),
    }
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    names = list(kinds)
    for i in range(warmup + runs):
        if i == warmup:
            counters.update(officer=0, handler=0)
            opened_sensitive.update(officer=0, handler=0)
        rng.shuffle(names)   # interleaved in a new order each round: drift in the machine hits all alike
        for name in names:
            actor, path = kinds[name]
            target = path()
            began = time.perf_counter()
            response = clients[actor].get(target, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: GET {target} answered {response.status_code}")
            if i >= warmup:
                timings[name].append(elapsed)
    with engine.connect() as connection:
        logged = connection.scalar(text("SELECT count(*) FROM access_log")) - logged_before
    engine.dispose()
    return timings, {"sensitive": opened_sensitive, "access_logged": logged, "handler": handler}


def drop_database(url: str) -> None:
    target = make_url(url)
    assert "bench" in (target.database or ""), target.database
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=150, help="timed requests per page kind (at least 100)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="leave the database for --reuse (else dropped)")
    args = parser.parse_args()
    if args.runs < 100:
        parser.error("--runs must be at least 100")
    try:
        if not args.reuse:
            began = time.perf_counter()
            build(args.database_url, args.cases, args.seed)
            print(f"loaded {args.cases:,} cases with persons, timelines and worked cases in "
                  f"{time.perf_counter() - began:.1f} s")
        load = os.getloadavg()
        timings, facts = measure(args.database_url, args.runs, args.warmup, args.seed)
        load_after = os.getloadavg()
    finally:
        if not args.keep:
            drop_database(args.database_url)
    print(f"server time per request, Flask test client in-process, {args.runs} timed requests per kind after "
          f"{args.warmup} warm-up rounds, interleaved; load average {load[0]:.2f} before, "
          f"{load_after[0]:.2f} after ({os.cpu_count()} CPUs; the machine is shared)")
    print(f"{'page kind':<40} {'p50':>8} {'p95':>8} {'p99':>8}")
    missed = []
    for name, values in timings.items():
        p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
        print(f"{name:<40} {p50:6.1f} ms {p95:6.1f} ms {p99:6.1f} ms")
        if not name.startswith("baseline") and p95 >= TARGET_P95_MS:
            missed.append(f"{name} p95 {p95:.1f} ms ≥ {TARGET_P95_MS:.0f} ms")
    print(f"case pages opened on sensitive cases (timed): officer {facts['sensitive']['officer']}, handler "
          f"{facts['sensitive']['handler']}; access-log rows written during the run: {facts['access_logged']}")
    print("MISSED: " + "; ".join(missed) if missed else f"targets met (every page kind's p95 < {TARGET_P95_MS:.0f} ms)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
