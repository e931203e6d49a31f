"""Benchmark: tertial statistics over 1,000,000 incidents in 600 units on PostgreSQL. A T2 query for
the whole city grouped by type and unit, through the service and through the HTTP API, against the
hand-written SQL of the same figures, measured interleaved in the same run: the counts alone, and the
full default request with the case figures. Exits non-zero when the counts' median misses 250 ms or
either ratio of service to hand-written SQL exceeds 1.5."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/tertial.py` puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import kia.models  # noqa: E402,F401
from kia import migrate  # noqa: E402
from kia.access import Actor  # noqa: E402
from kia.db import Base, make_engine  # noqa: E402
from kia.incidents.builtin_types import ensure_builtin_types  # noqa: E402
from kia.incidents.models import IncidentType  # noqa: E402
from kia.orgs.services import create_user, user_by_email  # noqa: E402
from kia.stats.periods import Period, Tertial  # noqa: E402
from kia.stats.services import StatisticsQuery, tertial_statistics  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_tertial"
TZ = ZoneInfo("Europe/Stockholm")
TARGET_MEDIAN_MS, TARGET_RATIO = 250.0, 1.5
ADMINISTRATIONS, DEPARTMENTS_EACH, UNITS = 14, 3, 600
FIRST_DAY, DAYS = date(2021, 12, 1), 5 * 365
STATES = ["received"] * 2 + ["acknowledged", "investigating", "actions", "follow_up"] + ["closed"] * 6 + ["rejected"]

# The same figures as the service, written by hand: the incidents that occurred in the period per
# child of the root and type, and the case figures of the cases opened in it (shares closed, overdue,
# serious reported to Arbetsmiljöverket; the median days to close per group and overall with
# PostgreSQL's percentile_cont). Three statements, as a hand-written client would send them; one
# statement joining them runs the parts serially and is slower.
CHILD_OF = """
    WITH child_of AS (
        SELECT u.id AS unit_id, coalesce(c.id, :root) AS group_id
        FROM org_units u LEFT JOIN org_units c ON c.parent_id = :root AND u.path LIKE c.path || '%'
        WHERE u.path LIKE :root_path || '%')"""
HAND_COUNTS = text(CHILD_OF + """
    SELECT m.group_id, i.incident_type_id, count(*) AS incidents
    FROM incidents i JOIN child_of m ON m.unit_id = i.org_unit_id
    WHERE i.occurred_at >= :start AND i.occurred_at < :end
    GROUP BY 1, 2""")
HAND_CASES = text(CHILD_OF + """
    SELECT m.group_id, c.incident_type_id, count(*) AS cases,
           count(*) FILTER (WHERE c.state = 'closed') AS closed,
           count(*) FILTER (WHERE c.state NOT IN ('closed', 'rejected') AND c.next_due_at < :now) AS overdue,
           count(*) FILTER (WHERE c.serious) AS serious,
           count(*) FILTER (WHERE c.serious AND c.id IN (SELECT case_id FROM case_milestones
                                                          WHERE kind = 'reported_to_av')) AS av
    FROM cases c JOIN child_of m ON m.unit_id = c.org_unit_id
    WHERE c.created_at >= :start AND c.created_at < :end
    GROUP BY 1, 2""")
HAND_MEDIAN = text(CHILD_OF + """
    SELECT m.group_id, c.incident_type_id,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY floor(extract(epoch FROM c.closed_at - c.created_at) / 86400))
    FROM cases c JOIN child_of m ON m.unit_id = c.org_unit_id
    WHERE c.created_at >= :start AND c.created_at < :end AND c.state = 'closed' AND c.closed_at IS NOT NULL
    GROUP BY GROUPING SETS ((1, 2), ())""")


def recreate_database(url: str) -> None:
    """Drop and create the bench's own database (never any other)."""
    target = make_url(url)
    assert target.database == "kia_bench_tertial" or "bench" in (target.database or ""), target.database
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def org_tree() -> list[tuple[int, str, str, str, int | None, str]]:
    """(id, code, name, kind, parent_id, path): a city, 14 administrations with 3 departments each,
    and schools under the departments, 600 units in all."""
    units = [(1, "STHLM", "Stockholms stad", "city", None, "/1/")]
    departments = []
    for a in range(ADMINISTRATIONS):
        admin_id = len(units) + 1
        units.append((admin_id, f"ADM{a:02d}", f"Förvaltning {a}", "administration", 1, f"/1/{admin_id}/"))
        for d in range(DEPARTMENTS_EACH):
            dep_id = len(units) + 1
            units.append((dep_id, f"DEP{a:02d}{d}", f"Avdelning {a}.{d}", "department", admin_id,
                          f"/1/{admin_id}/{dep_id}/"))
            departments.append(units[-1])
    school = 0
    while len(units) < UNITS:
        dep = departments[school % len(departments)]
        unit_id = len(units) + 1
        units.append((unit_id, f"SK{school:04d}", f"Skola {school}", "unit", dep[0], f"{dep[5]}{unit_id}/"))
        school += 1
    return units


def copy(cursor, table: str, columns: list[str], rows) -> None:
    """COPY rows in; the columns not given get the model's default (the bench writes no SQL defaults)."""
    model = Base.metadata.tables[table]
    rest = [c for c in model.columns if c.name not in columns and not c.primary_key]
    constants = [_default(c) for c in rest]
    with cursor.copy(f"COPY {table} ({', '.join(columns + [c.name for c in rest])}) FROM STDIN") as sink:
        for row in rows:
            sink.write_row((*row, *constants))


def _default(column):
    if column.default is None:
        assert column.nullable, f"{column} needs a value"
        return None
    value = column.default.arg
    value = value(None) if callable(value) else value
    if isinstance(value, (dict, list)):
        import json
        return json.dumps(value)
    return value.value if hasattr(value, "value") else value


def load(url: str, incidents: int, seed: int) -> None:
    recreate_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_builtin_types(session)
        type_ids = list(session.scalars(select(IncidentType.id).order_by(IncidentType.id)))
    rng = random.Random(seed)
    units = org_tree()
    unit_ids = [u[0] for u in units if u[3] in ("unit", "department")]
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=timezone.utc)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        copy(cursor, "org_units", ["id", "code", "name", "kind", "parent_id", "path"], units)
        cursor.execute("SELECT setval('org_units_id_seq', %s)", (len(units),))
        weights = [rng.randint(1, 20) for _ in type_ids]
        chosen_types = rng.choices(type_ids, weights, k=incidents)
        occurred = [start + timedelta(seconds=rng.randrange(DAYS * 86400)) for _ in range(incidents)]
        chosen_units = [rng.choice(unit_ids) for _ in range(incidents)]
        print(f"loading {incidents:,} incidents, their persons and cases …", flush=True)
        copy(cursor, "incidents", ["id", "number", "incident_type_id", "org_unit_id", "occurred_at", "known_at",
                                   "reported_at", "description"],
             ((i + 1, f"B-{i + 1}", chosen_types[i], chosen_units[i], occurred[i], occurred[i], occurred[i], "-")
              for i in range(incidents)))
        copy(cursor, "incident_persons", ["id", "incident_id", "incident_type_id", "org_unit_id", "occurred_at", "role",
                                          "category", "gender"],
             ((i + 1, i + 1, chosen_types[i], chosen_units[i], occurred[i], "affected", rng.choice(("staff", "pupil")),
               rng.choice(("female", "male")))
              for i in range(incidents)))
        states = rng.choices(STATES, k=incidents)
        serious = [rng.random() < 0.02 for _ in range(incidents)]
        copy(cursor, "cases", ["id", "number", "incident_id", "incident_type_id", "org_unit_id", "state",
                               "created_at", "updated_at", "serious", "closed_at", "next_due_at"],
             ((i + 1, f"B-{i + 1}-1", i + 1, chosen_types[i], chosen_units[i], states[i], occurred[i], occurred[i],
               serious[i], occurred[i] + timedelta(days=rng.randint(0, 60)) if states[i] == "closed" else None,
               occurred[i] + timedelta(days=rng.randint(1, 10)) if states[i] not in ("closed", "rejected") else None)
              for i in range(incidents)))
        copy(cursor, "case_milestones", ["id", "case_id", "kind", "at"],
             ((n + 1, i + 1, "reported_to_av", occurred[i])
              for n, i in enumerate(i for i in range(incidents) if serious[i] and i % 2 == 0)))
        for table in ("incidents", "incident_persons", "cases", "case_milestones"):
            cursor.execute(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))")
        raw.commit()
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    engine.dispose()


def timed(run) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-load", action="store_true", help="reuse the data of a previous run")
    args = parser.parse_args()
    if not args.no_load:
        began = time.perf_counter()
        load(args.url, args.incidents, args.seed)
        print(f"loaded in {time.perf_counter() - began:.0f} s")

    engine = make_engine(args.url)
    session = Session(engine)
    analyst = user_by_email(session, "analytiker@bench.kia.se") or create_user(
        session, "analytiker@bench.kia.se", "Analytiker", None, [("analyst", "STHLM")])
    actor = Actor.for_user(analyst)
    period = Period.of(Tertial(2026, 2), "period", TZ)
    now = datetime(2026, 9, 15, 12, tzinfo=timezone.utc)
    params = {"root": 1, "root_path": "/1/", "start": period.start, "end": period.end, "now": now}

    def service(case_figures: bool):
        query = StatisticsQuery(2026, 2, "STHLM", group_by=("type", "unit"), case_figures=case_figures)

        def run():
            tertial_statistics(session, actor, query, TZ, threshold=5, now=now)
            session.rollback()  # nothing cached across runs
        return run

    def hand(*statements):
        def run():
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(statement, params).all()
        return run

    # Counts (the default figures less the case figures) and the full default request, each beside
    # the hand-written SQL of the same figures; interleaved, so drift in the machine hits all alike.
    runners = {"counts: service": service(False), "counts: HTTP API": http_runner(engine, analyst, False),
               "counts: hand SQL": hand(HAND_COUNTS),
               "full: service": service(True), "full: HTTP API": http_runner(engine, analyst, True),
               "full: hand SQL": hand(HAND_COUNTS, HAND_CASES, HAND_MEDIAN)}
    for run in runners.values():  # warm-up: plans, caches, imports
        for _ in range(3):
            run()
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.runs):
        for name, run in runners.items():
            samples[name].append(timed(run))

    report = tertial_statistics(session, actor, StatisticsQuery(2026, 2, "STHLM", group_by=("type", "unit")), TZ, 5)
    print(f"T2 2026, whole city, type × unit: {len(report.rows)} rows, total {report.total.count.value:,} "
          f"incidents; {args.runs} runs each after warm-up")
    for name, values in samples.items():
        print(f"  {name:17s} {summary(values)}")
    median = {name: statistics.median(values) for name, values in samples.items()}
    missed = []
    for part in ("counts", "full"):
        for way in ("service", "HTTP API"):
            ratio = median[f"{part}: {way}"] / median[f"{part}: hand SQL"]
            print(f"  {part}: {way} / hand SQL = {ratio:.2f}")
            if way == "service" and ratio > TARGET_RATIO:
                missed.append(f"{part}: service/hand SQL > {TARGET_RATIO}")
    if median["counts: service"] >= TARGET_MEDIAN_MS:
        missed.append(f"counts: service median ≥ {TARGET_MEDIAN_MS:.0f} ms")
    print("(counts: the incident GROUP BY; full: with the case figures, three GROUP BYs by hand)")
    print("targets met" if not missed else "MISSED: " + "; ".join(missed))
    session.close()
    engine.dispose()
    return 1 if missed else 0


def http_runner(engine, analyst, case_figures: bool):
    """GET /api/v1/statistics/tertial through the Flask test client with a real token."""
    from kia.app import create_app, serving
    from kia.auth.tokens import create_token
    from kia.config import Settings
    from kia.db import make_session_factory

    app = serving(create_app(Settings.from_env(database_url=engine.url.render_as_string(hide_password=False),
                                               secret_key="bench"), session_factory=make_session_factory(engine)))
    with Session(engine) as session:
        secret = create_token(session, session.merge(analyst), ["statistics:read"])[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    def run():
        response = client.get("/api/v1/statistics/tertial?year=2026&tertial=2&org_unit=STHLM&group_by=type,unit"
                              f"&case_figures={str(case_figures).lower()}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    return run


if __name__ == "__main__":
    sys.exit(main())
