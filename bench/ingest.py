"""Benchmark: POST /api/v1/incidents with 16 concurrent clients against gunicorn on PostgreSQL, next to a
baseline endpoint that only inserts one row of similar width. Exits non-zero if the targets are missed.

The 16 clients send back to back (a closed loop), so their latency is 16 / throughput whatever the code
does (Little's law). The run ends with both endpoints at the same open-loop rate, half the filing
throughput just measured, which shows the latency a filing has when the server is not saturated."""
from __future__ import annotations

import argparse
import http.client
import math
import multiprocessing
import os
import queue
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/ingest.py` (make bench-ingest) puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import text  # noqa: E402

from bench.ingest_data import Reporter, incident_body, prepare_database  # noqa: E402
from kia.db import make_engine, utcnow  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_ingest"
INCIDENTS, BASELINE = "incidents", "baseline"
PATHS = {INCIDENTS: "/api/v1/incidents", BASELINE: "/bench/baseline"}
TARGET_RATIO, TARGET_P95_MS = 0.4, 50.0
BODIES_PER_CLIENT = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Phase:
    endpoint: str
    duration: float
    latencies_ms: list[float] = field(default_factory=list)  # of requests answered inside the window
    created: int = 0  # 201s, the window's and the tail's (for the database check)
    answered: int = 0  # every response, the tail's too: what the server's CPU time was spent on
    errors: int = 0
    server_cpu_s: float = 0.0
    lock_waits: float = float("nan")  # connections waiting for a row lock, on average
    busy: float = float("nan")  # connections running a statement or waiting, on average
    error_samples: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.duration

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    @classmethod
    def combined(cls, endpoint: str, duration: float, parts: list["Phase"]) -> "Phase":
        """Parts measured side by side share one window; rounds one after another add their windows up."""
        total = cls(endpoint, duration)
        sampled = [p for p in parts if not math.isnan(p.busy)]  # measured by a LockSampler
        if sampled:
            total.lock_waits = sum(p.lock_waits for p in sampled) / len(sampled)
            total.busy = sum(p.busy for p in sampled) / len(sampled)
        for part in parts:
            total.latencies_ms += part.latencies_ms
            total.created += part.created
            total.answered += part.answered
            total.server_cpu_s += part.server_cpu_s
            total.errors += part.errors
            total.error_samples += part.error_samples[: 5 - len(total.error_samples)]
        return total

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu_s * 1000 / self.answered if self.answered else float("nan")

    def line(self, label: str) -> str:
        return (f"{label:<22} {len(self.latencies_ms):6d} req {self.throughput:7.1f} req/s   "
                f"p50 {self.percentile(50):6.1f}  p95 {self.percentile(95):6.1f}  p99 {self.percentile(99):6.1f} ms"
                f"   server CPU {self.server_cpu_ms:5.2f} ms/req   lock waits {self.lock_waits:4.1f} of"
                f" {self.busy:4.1f} busy   errors {self.errors}")


# ---- the server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(args, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, KIA_DATABASE_URL=args.database_url, KIA_SECRET_KEY=secrets.token_urlsafe(32),
               KIA_INSTANCE_PATH=str(log_path.parent), KIA_SESSION_COOKIE_SECURE="0")
    command = [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
               "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
               # Longer than any pause between phases, so every client keeps its one connection.
               "--keep-alive", "30", "--log-level", "warning",
               "bench.ingest_app:create_bench_app()"]
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()}")
        try:  # any answer (405 for a GET) means a worker has loaded the app, not just that the port is bound
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            probe.request("GET", PATHS[BASELINE])
            probe.getresponse().read()
            probe.close()
            return server
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(server)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()  # the master stops its workers gracefully on SIGTERM
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


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

def _nth(reporters: list[Reporter], bodies: list[bytes], n: int) -> tuple[Reporter, bytes]:
    """The n-th request of a client: a body and the reporter it was written for (bodies[i] is for reporters[i %
    len(reporters)]), however far past the end of the bodies n is."""
    i = n % len(bodies)
    return reporters[i % len(reporters)], bodies[i]


def _send(connection: http.client.HTTPConnection, endpoint: str, reporter: Reporter, body: bytes, key: str,
          out: Phase, began: float, counted_until: float) -> None:
    """One request on a keep-alive connection, tallied in `out`; its latency counts from `began` if it is
    answered by `counted_until`."""
    headers = {"Authorization": f"Bearer {reporter.token}", "Content-Type": "application/json"}
    if endpoint == INCIDENTS:  # as a careful client sends it, so a retry cannot file twice
        headers["Idempotency-Key"] = key
    try:
        connection.request("POST", PATHS[endpoint], body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # reconnects on the next request
        status, payload = 0, repr(exc).encode()
    ended = time.monotonic()
    out.answered += 1
    if status == 201:
        out.created += 1
        if ended <= counted_until:
            out.latencies_ms.append((ended - began) * 1000)
    else:
        out.errors += 1
        if len(out.error_samples) < 5:
            out.error_samples.append(f"{status}: {payload[:300].decode(errors='replace')}")


def _client(port: int, endpoint: str, reporters: list[Reporter], bodies: list[bytes], start: float,
            deadline: float, out: Phase, name: str) -> None:
    """One client on one keep-alive connection: requests back to back until the deadline."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent, run = 0, secrets.token_hex(4)  # idempotency keys unique across phases
    while time.monotonic() < start:
        time.sleep(0.001)
    while (began := time.monotonic()) < deadline:
        _send(connection, endpoint, *_nth(reporters, bodies, sent),
              f"{name}-{run}-{sent}", out, began, deadline)
        sent += 1
    connection.close()


def _client_process(port, endpoint, duration, start, work: list[tuple[str, list[Reporter], list[bytes]]]) -> Phase:
    """A few clients as threads of one process (the load generator must not be the GIL-bound bottleneck)."""
    results = [Phase(endpoint, duration) for _ in work]
    threads = [threading.Thread(target=_client, args=(port, endpoint, reporters, bodies, start, start + duration,
                                                       result, name))
               for (name, reporters, bodies), result in zip(work, results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Phase.combined(endpoint, duration, results)


def run_phase(pool, args, server_pid: int, port: int, endpoint: str, duration: float,
              clients: list[tuple[str, list[Reporter], list[bytes]]], label: str) -> Phase:
    start = time.monotonic() + 0.5  # every client is ready and waiting before anyone sends
    shares = [clients[i::args.client_processes] for i in range(args.client_processes)]
    cpu_before = server_cpu_seconds(server_pid)
    with LockSampler(args.database_url) as locks:
        parts = pool.starmap(_client_process, [(port, endpoint, duration, start, share) for share in shares])
    phase = Phase.combined(endpoint, duration, parts)
    phase.server_cpu_s = server_cpu_seconds(server_pid) - cpu_before
    phase.lock_waits, phase.busy = locks.means()
    print(phase.line(label), flush=True)
    return phase


def open_loop(port: int, endpoint: str, rate: float, duration: float,
              clients: list[tuple[str, list[Reporter], list[bytes]]], seed: int) -> Phase:
    """Requests arriving at `rate` a second (Poisson) for `duration`, each sent by whichever of the clients'
    connections is free. Latency counts from the planned arrival, so a request queued behind a slow one
    waits in the figures too (no coordinated omission)."""
    arrivals: queue.Queue = queue.Queue()
    rng, run = random.Random(seed), secrets.token_hex(4)
    parts = [Phase(endpoint, duration) for _ in clients]   # one a connection: no tally shared between threads

    def send(name: str, reporters: list[Reporter], bodies: list[bytes], out: Phase) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (item := arrivals.get()) is not None:
            planned, sent = item
            _send(connection, endpoint, *_nth(reporters, bodies, sent),
                  f"open-{name}-{run}-{sent}", out, planned, math.inf)
        connection.close()

    senders = [threading.Thread(target=send, args=(*client, part)) for client, part in zip(clients, parts)]
    for sender in senders:
        sender.start()
    start = planned = time.monotonic()
    sent = 0
    while (planned := planned + rng.expovariate(rate)) < start + duration:
        time.sleep(max(0.0, planned - time.monotonic()))
        arrivals.put((planned, sent))
        sent += 1
    for _ in senders:
        arrivals.put(None)
    for sender in senders:
        sender.join()
    return Phase.combined(endpoint, duration, parts)


# ---- the run -------------------------------------------------------------------------------

def check_numbering(url: str, filed: int) -> list[str]:
    """Every 201 is one stored incident, and each administration's numbers run 1..n without a gap."""
    problems = []
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT count(*) FROM incidents"))
        if stored != filed:
            problems.append(f"{filed} incidents answered 201 but {stored} are stored")
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
    parser.add_argument("--rounds", type=int, default=3, help="baseline, incidents, baseline, incidents, …")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds per endpoint before measuring")
    parser.add_argument("--open-rate", type=float, default=0.0,
                        help="requests/s of the open-loop phases (default: half the filing throughput measured)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"preparing {args.database_url} …", flush=True)
    reporters, types = prepare_database(args.database_url)
    now = utcnow()
    clients = []
    for index in range(args.clients):
        rng = random.Random(index)
        # Each client speaks for every reporter in turn (like a proxy), starting at its own.
        mine = reporters[index % len(reporters):] + reporters[:index % len(reporters)]
        bodies = [incident_body(rng, mine[i % len(mine)].unit_code, types, now) for i in range(BODIES_PER_CLIENT)]
        clients.append((f"c{index}", mine, bodies))

    port = free_port()
    print(f"gunicorn on 127.0.0.1:{port}: gthread, {args.workers} workers x {args.threads} threads; "
          f"{args.clients} keep-alive clients in {args.client_processes} processes; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} before the run", flush=True)
    warmup = [(f"warm-up {e}", e, args.warmup) for e in (BASELINE, INCIDENTS)]
    # Interleaved, so that noise from the rest of the machine hits both endpoints alike.
    rounds = [(f"round {n} {e}", e, args.seconds) for n in range(1, args.rounds + 1) for e in (BASELINE, INCIDENTS)]
    measured: dict[str, list[Phase]] = {BASELINE: [], INCIDENTS: []}
    filed = 0
    open_measured: dict[str, Phase] = {}
    with tempfile.TemporaryDirectory(prefix="kia-bench-") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        server = start_gunicorn(args, port, log_path)
        try:
            with multiprocessing.get_context("fork").Pool(args.client_processes) as pool:
                for label, endpoint, seconds in warmup + rounds:
                    phase = run_phase(pool, args, server.pid, port, endpoint, seconds, clients, label)
                    filed += phase.created if endpoint == INCIDENTS else 0
                    if not label.startswith("warm-up"):
                        measured[endpoint].append(phase)
            rate = args.open_rate or max(1.0, 0.5 * sum(len(p.latencies_ms) for p in measured[INCIDENTS]) / (
                args.rounds * args.seconds))
            print(f"\nopen loop: {rate:.1f} requests/s arriving at random (Poisson), {args.seconds:.0f} s each")
            for endpoint in (BASELINE, INCIDENTS):
                cpu_before = server_cpu_seconds(server.pid)
                phase = open_loop(port, endpoint, rate, args.seconds, clients, seed=len(open_measured))
                phase.server_cpu_s = server_cpu_seconds(server.pid) - cpu_before
                filed += phase.created if endpoint == INCIDENTS else 0
                open_measured[endpoint] = phase
                print(phase.line(f"open loop {endpoint}"), flush=True)
        finally:
            stop_gunicorn(server)
            log = log_path.read_text().strip()
            if log:
                print("gunicorn log (last lines):\n" + "\n".join(log.splitlines()[-20:]))
    print(f"load average {os.getloadavg()[0]:.1f} after the run (other work on the machine slows both endpoints)")
    return report(measured, open_measured, check_numbering(args.database_url, filed), args.clients)


def _ratio(incidents: Phase, baseline: Phase) -> float:
    return incidents.throughput / baseline.throughput if baseline.throughput else 0.0


def report(measured: dict[str, list[Phase]], open_measured: dict[str, Phase], numbering_problems: list[str],
           clients: int) -> int:
    baseline, incidents = (Phase.combined(e, sum(p.duration for p in measured[e]), measured[e])
                           for e in (BASELINE, INCIDENTS))
    ratio, p95 = _ratio(incidents, baseline), incidents.percentile(95)
    errors = baseline.errors + incidents.errors + sum(p.errors for p in open_measured.values())
    print("\nsummary over all rounds")
    print(baseline.line("baseline"))
    print(incidents.line("POST /incidents"))
    print("throughput ratio per round: " + ", ".join(
        f"{_ratio(i, b):.2f}" for b, i in zip(measured[BASELINE], measured[INCIDENTS])))
    print(f"server CPU per request: incidents / baseline = {incidents.server_cpu_ms / baseline.server_cpu_ms:.1f}")
    for phase in (baseline, incidents):  # Little's law: what the closed loop alone makes them wait
        if phase.throughput:
            print(f"{clients} clients back to back at {phase.throughput:.1f} req/s ({phase.endpoint}): "
                  f"{clients / phase.throughput * 1000:.1f} ms mean latency")
    print(f"open loop at the same rate: incident p95 {open_measured[INCIDENTS].percentile(95):.1f} ms, "
          f"baseline p95 {open_measured[BASELINE].percentile(95):.1f} ms")
    for phase in (baseline, incidents, *open_measured.values()):
        for sample in phase.error_samples:
            print(f"  {phase.endpoint} error {sample}")
    checks = [
        (f"throughput ratio {ratio:.2f} >= {TARGET_RATIO}", ratio >= TARGET_RATIO),
        (f"incident p95 {p95:.1f} ms < {TARGET_P95_MS:.0f} ms", p95 < TARGET_P95_MS),
        (f"no errors ({errors})", errors == 0),
        ("registration numbers gapless and unique" + "".join(f"\n    {p}" for p in numbering_problems),
         not numbering_problems),
    ]
    for description, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
