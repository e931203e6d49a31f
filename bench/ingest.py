"""Benchmark: filing an incident three ways – POST /api/v1/incidents (a token), POST /api/v1/public/incidents
(anonymous, no login) and the web form's POST /report (signed in, CSRF token) – against gunicorn on
PostgreSQL, next to a baseline endpoint that only inserts one row of similar width. Exits non-zero if a
target of issue 12 is missed.

Rounds interleave the four endpoints, 16 keep-alive clients sending back to back (a closed loop), for the
server's CPU time per request: a filing may cost at most 4x the baseline's in the same run, which the
machine's other work moves much less than it moves throughput. Closed-loop latency is 16 / throughput
whatever the code does (Little's law), so latency is measured after, at Poisson arrivals of a fixed rate
(20/s) per endpoint: p95 under 100 ms and p99 under 200 ms for each way of filing."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/ingest.py` (make bench-ingest) puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import text  # noqa: E402

from bench.ingest_clients import (  # noqa: E402
    ANONYMOUS, API, BASELINE, ENDPOINTS, FILINGS, WEB, Client, Phase, WebSession, client_process, open_loop,
    sign_in,
)
from bench.ingest_data import BenchData, as_form, as_json, incident_report, prepare_database  # noqa: E402
from bench.server import free_port, server_env, start_gunicorn, stop_gunicorn  # noqa: E402
from kia.db import make_engine, utcnow  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_ingest"
TARGET_CPU_RATIO, TARGET_P95_MS, TARGET_P99_MS = 4.0, 100.0, 200.0
BODIES_PER_CLIENT = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---- measuring the server ----------------------------------------------------------------

def server_cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by the gunicorn master and its workers (Linux /proc; 0 elsewhere). It moves
    much less than throughput does when other work shares the machine."""
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(entry.parent.name) == master_pid or int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class LockSampler:
    """Samples pg_stat_activity ten times a second while a phase runs: how many of the bench database's
    connections are busy, and how many of those wait for a lock (for filing: the registration counter)."""

    QUERY = text("SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE state = 'active') "
                 "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")

    def __init__(self, url: str):
        # Autocommit: within a transaction PostgreSQL would show the same snapshot every time.
        self.engine = make_engine(url, pool_size=1, isolation_level="AUTOCOMMIT")
        self.samples: list[tuple[int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with self.engine.connect() as connection:
            while not self.stop.wait(0.1):
                self.samples.append(tuple(connection.execute(self.QUERY).one()))

    def __enter__(self) -> "LockSampler":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()
        self.engine.dispose()

    def means(self) -> tuple[float, float]:
        if not self.samples:
            return float("nan"), float("nan")
        return (sum(w for w, _ in self.samples) / len(self.samples),
                sum(b for _, b in self.samples) / len(self.samples))


# ---- the clients ---------------------------------------------------------------------------

def make_clients(data: BenchData, count: int) -> list[Client]:
    """Each client speaks for every reporter in turn (like a proxy), starting at its own. The API and the web
    form file the same reports; the anonymous endpoint files reports of the types that allow it."""
    now, anonymous = utcnow(), {c: f for c, f in data.types.items() if c in data.anonymous_types}
    clients = []
    for index in range(count):
        rng = random.Random(index)
        shift = index % len(data.reporters)
        mine = data.reporters[shift:] + data.reporters[:shift]
        reports = [incident_report(rng, mine[i % len(mine)].unit_code, data.types, now)
                   for i in range(BODIES_PER_CLIENT)]
        anonymous_bodies = [as_json(incident_report(rng, mine[i % len(mine)].unit_code, anonymous, now))
                            for i in range(BODIES_PER_CLIENT)]
        json_bodies = [as_json(r) for r in reports]
        clients.append(Client(f"c{index}", mine, {
            BASELINE: json_bodies, API: json_bodies, ANONYMOUS: anonymous_bodies,
            WEB: [as_form(r, data.types) for r in reports]}))
    return clients


def sign_in_clients(port: int, data: BenchData, clients: list[Client]) -> None:
    """One sign-in per reporter, its session given to every client (each a copy of the cookie jar of its
    own). A Flask session is a signed cookie the server keeps nothing of, so sixteen sign-ins per reporter
    would cost a filing nothing more, only 330 argon2 verifications (a fifth of a CPU second each) more."""
    type_code = next(iter(data.types))
    with ThreadPoolExecutor(4) as signing:
        sessions = dict(zip((r.email for r in data.reporters),
                            signing.map(lambda r: sign_in(port, r, type_code), data.reporters)))
    for client in clients:
        client.sessions = {email: WebSession(dict(s.cookies), s.csrf) for email, s in sessions.items()}


def run_phase(pool, args, server_pid: int, port: int, endpoint: str, duration: float, clients: list[Client],
              label: str) -> Phase:
    start = time.monotonic() + 0.5  # every client is ready and waiting before anyone sends
    # Only the phase's bodies go to the client processes.
    slim = [Client(c.name, c.reporters, {endpoint: c.bodies[endpoint]}, c.sessions if endpoint == WEB else {})
            for c in clients]
    shares = [slim[i::args.client_processes] for i in range(args.client_processes)]
    cpu_before = server_cpu_seconds(server_pid)
    with LockSampler(args.database_url) as locks:
        parts = pool.starmap(client_process, [(port, endpoint, duration, start, share) for share in shares])
    phase = Phase.combined(endpoint, duration, parts)
    phase.server_cpu_s = server_cpu_seconds(server_pid) - cpu_before
    phase.lock_waits, phase.busy = locks.means()
    print(phase.line(label), flush=True)
    return phase


# ---- the run -------------------------------------------------------------------------------

def check_numbering(url: str, filed: int) -> list[str]:
    """Every filing acknowledged (a 201, the web form's receipt) is one stored incident, and each
    administration's numbers run 1..n without a gap."""
    problems = []
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT count(*) FROM incidents"))
        if stored != filed:
            problems.append(f"{filed} filings acknowledged but {stored} incidents stored")
        rows = connection.execute(text(
            "SELECT c.year, c.last_number, count(i.id), count(DISTINCT i.number), "
            "       min(substring(i.number from '\\d+$')::int), max(substring(i.number from '\\d+$')::int) "
            "FROM registration_counters c JOIN org_units a ON a.id = c.administration_id "
            "LEFT JOIN incidents i ON i.number LIKE a.code || '-' || c.year || '-%' "
            "GROUP BY c.administration_id, c.year, c.last_number")).all()
        for year, last, count, distinct, low, high in rows:
            if not (last == count == distinct == high and low == 1):
                problems.append(f"{year}: counter {last}, {count} incidents, {distinct} numbers, {low}..{high}")
    engine.dispose()
    return problems


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("KIA_BENCH_DATABASE_URL", DEFAULT_URL),
                        help="a database of the bench's own: it is dropped and created (default %(default)s)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=4, help="the clients are spread over these")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--rounds", type=int, default=3, help="baseline, api, anonymous, web, baseline, …")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each closed-loop phase")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds per endpoint before measuring")
    parser.add_argument("--open-rate", type=float, default=20.0, help="requests/s of the open-loop phases")
    parser.add_argument("--open-seconds", type=float, default=15.0, help="length of each open-loop phase")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"preparing {args.database_url} …", flush=True)
    data = prepare_database(args.database_url)
    clients = make_clients(data, args.clients)
    port = free_port()
    print(f"gunicorn on 127.0.0.1:{port}: gthread, {args.workers} workers x {args.threads} threads; "
          f"{args.clients} keep-alive clients in {args.client_processes} processes; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} before the run", flush=True)
    warmup = [(f"warm-up {e}", e, args.warmup) for e in ENDPOINTS]
    # Interleaved, so that noise from the rest of the machine hits every endpoint alike.
    rounds = [(f"round {n} {e}", e, args.seconds) for n in range(1, args.rounds + 1) for e in ENDPOINTS]
    measured: dict[str, list[Phase]] = {e: [] for e in ENDPOINTS}
    open_measured: dict[str, Phase] = {}
    filed = 0
    with tempfile.TemporaryDirectory(prefix="kia-bench-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        # Longer keep-alive than any pause between phases, so every client keeps its one connection.
        server = start_gunicorn(server_env(args.database_url, log_path.parent), port, log_path, args.workers,
                                args.threads, app="bench.ingest_app:create_bench_app()")
        try:
            sign_in_clients(port, data, clients)
            print(f"signed in {len(data.reporters)} reporters for the web form", flush=True)
            with multiprocessing.get_context("fork").Pool(args.client_processes) as pool:
                for label, endpoint, seconds in warmup + rounds:
                    phase = run_phase(pool, args, server.pid, port, endpoint, seconds, clients, label)
                    filed += phase.filed if endpoint != BASELINE else 0
                    if not label.startswith("warm-up"):
                        measured[endpoint].append(phase)
            print(f"\nopen loop: {args.open_rate:.1f} requests/s arriving at random (Poisson), "
                  f"{args.open_seconds:.0f} s each", flush=True)
            for seed, endpoint in enumerate(ENDPOINTS):
                cpu_before = server_cpu_seconds(server.pid)
                phase = open_loop(port, endpoint, args.open_rate, args.open_seconds, clients, seed)
                phase.server_cpu_s = server_cpu_seconds(server.pid) - cpu_before
                filed += phase.filed if endpoint != BASELINE else 0
                open_measured[endpoint] = phase
                print(phase.line(f"open loop {endpoint}"), flush=True)
        finally:
            stop_gunicorn(server)
            log = log_path.read_text().strip()
            if log:
                print("gunicorn log (last lines):\n" + "\n".join(log.splitlines()[-20:]))
    print(f"load average {os.getloadavg()[0]:.1f} after the run (other work on the machine slows every endpoint)")
    return report(measured, open_measured, check_numbering(args.database_url, filed), args.clients)


def _cpu_ratio(filing: Phase, baseline: Phase) -> float:
    return filing.server_cpu_ms / baseline.server_cpu_ms if baseline.answered and filing.answered else float("nan")


def _checks(name: str, closed: Phase, closed_baseline: Phase, opened: Phase, open_baseline: Phase
            ) -> list[tuple[str, bool]]:
    """Issue 12's targets for one way of filing, each figure beside the baseline's."""
    ratio = _cpu_ratio(closed, closed_baseline)
    p95, p99 = opened.percentile(95), opened.percentile(99)
    base95, base99 = open_baseline.percentile(95), open_baseline.percentile(99)
    return [
        (f"{name}: server CPU per filing <= {TARGET_CPU_RATIO:.0f}x baseline: {closed.server_cpu_ms:.2f} ms, "
         f"{ratio:.1f}x the baseline's {closed_baseline.server_cpu_ms:.2f} ms", ratio <= TARGET_CPU_RATIO),
        (f"{name}: open-loop p95 < {TARGET_P95_MS:.0f} ms: {p95:.1f} ms (baseline {base95:.1f} ms)",
         p95 < TARGET_P95_MS),
        (f"{name}: open-loop p99 < {TARGET_P99_MS:.0f} ms: {p99:.1f} ms (baseline {base99:.1f} ms)",
         p99 < TARGET_P99_MS),
    ]


def report(measured: dict[str, list[Phase]], open_measured: dict[str, Phase], numbering_problems: list[str],
           clients: int) -> int:
    closed = {e: Phase.combined(e, sum(p.duration for p in phases), phases) for e, phases in measured.items()}
    baseline = closed[BASELINE]
    print(f"\nsummary over all rounds ({clients} clients back to back)")
    for endpoint, phase in closed.items():
        print(phase.line(endpoint))
    for endpoint in FILINGS:
        print(f"server CPU per request {endpoint} / baseline: {_cpu_ratio(closed[endpoint], baseline):.1f}"
              f" (rounds: " + ", ".join(f"{_cpu_ratio(f, b):.1f}" for b, f in zip(measured[BASELINE],
                                                                                measured[endpoint])) + ")")
    for phase in closed.values():  # Little's law: what the closed loop alone makes them wait
        if phase.throughput:
            print(f"{clients} clients back to back at {phase.throughput:.1f} req/s ({phase.endpoint}): "
                  f"{clients / phase.throughput * 1000:.1f} ms mean latency")
    print("open loop")
    for endpoint, phase in open_measured.items():
        print(phase.line(endpoint))
    errors = sum(p.errors for p in (*closed.values(), *open_measured.values()))
    for phase in (*closed.values(), *open_measured.values()):
        for sample in phase.error_samples:
            print(f"  {phase.endpoint} error {sample}")
    checks = [check for e in FILINGS
              for check in _checks(e, closed[e], baseline, open_measured[e], open_measured[BASELINE])]
    checks += [
        (f"no errors ({errors})", errors == 0),
        ("every filing acknowledged stored once, registration numbers gapless and unique"
         + "".join(f"\n    {p}" for p in numbering_problems), not numbering_problems),
    ]
    print()
    for description, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
