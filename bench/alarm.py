"""Benchmark: N connected SSE subscribers (1,000 by default) of one school's alarms, on gunicorn workers over
PostgreSQL, and the time from raising an alarm (the POST sent) to each subscriber's receipt of its alarm.raised
event: p50, p99 and the last, and how many subscribers missed it. With Redis (KIA_REDIS_URL) across 4 workers, and
for comparison the in-process broker on 1 worker (which can only fan out inside its process). Each subscriber is
one staff member of the school with a token of their own; the raise also queues their N e-mails in its
transaction. Exits non-zero when a subscriber missed an alarm or the Redis run's p99 reaches 1 s.

    .venv/bin/python bench/alarm.py [--subscribers 1000] [--rounds 5] [--database-url …] [--redis-url …]"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/alarm.py` puts bench/, not the root, first
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from bench.server import free_port, kill_gunicorn, server_env, start_gunicorn  # noqa: E402
from kia import migrate  # noqa: E402
from kia.auth.models import ApiToken  # noqa: E402
from kia.auth.tokens import TOKEN_PREFIX, _digest  # noqa: E402
from kia.db import make_engine, recreate_postgres_database  # noqa: E402
from kia.orgs.models import Membership, Role, User  # noqa: E402
from kia.orgs.services import create_org_unit  # noqa: E402
from kia.seed import ensure_reference_data  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_alarm"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
TARGET_P99_S = 1.0
CONNECT_AT_ONCE = 25   # subscribers connecting together: each one's connect reads the database once


def build(url: str, subscribers: int) -> list[str]:
    """A fresh database with one school and its staff: a token (alarms:raise, alarms:read) for each."""
    recreate_postgres_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    tokens = []
    with Session(engine) as session:
        ensure_reference_data(session)
        city = create_org_unit(session, "STHLM", "Stockholms stad", "city")
        utbf = create_org_unit(session, "UTBF", "Utbildningsförvaltningen", "administration", city)
        school = create_org_unit(session, "S1", "Skola Ett", "unit", utbf)
        for n in range(subscribers):
            secret = f"{TOKEN_PREFIX}bench-alarm-{n:06d}"
            user = User(email=f"personal.{n}@bench.kia", name=f"Personal {n}")
            user.memberships.append(Membership(org_unit_id=school.id, role=Role.HANDLER if n == 0 else Role.REPORTER))
            session.add_all([user, ApiToken(user=user, name="bench", token_hash=_digest(secret),
                                            scopes="alarms:raise alarms:read")])
            tokens.append(secret)
        session.commit()
    engine.dispose()
    return tokens


class Subscriber:
    """One SSE connection; `received[alarm id]` is when its alarm.raised event arrived (time.perf_counter)."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.received: dict[int, float] = {}
        self.ready = asyncio.Event()

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write((f"GET /api/v1/alarms/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}"
                      "\r\nAccept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        event = None
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"retry:"):
                    self.ready.set()   # the view subscribed before it answered
                elif line.startswith(b"event: "):
                    event = line[7:].strip().decode()
                elif line.startswith(b"data: ") and event == "alarm.raised":
                    arrived = time.perf_counter()
                    self.received[json.loads(line[6:])["alarm"]["id"]] = arrived
        finally:
            writer.close()


async def _post(port: int, token: str, path: str, body: dict) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode()
    writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data)
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"chunked" in head.lower():   # one chunk: its size line, the body, the end
        payload = payload.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    return status, json.loads(payload or b"{}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(port: int, tokens: list[str], rounds: int) -> dict:
    subscribers = [Subscriber(port, token) for token in tokens]
    tasks = []
    started = time.perf_counter()
    for first in range(0, len(subscribers), CONNECT_AT_ONCE):
        batch = subscribers[first:first + CONNECT_AT_ONCE]
        tasks += [asyncio.create_task(s.run()) for s in batch]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in batch)), timeout=120)
    connect_seconds = time.perf_counter() - started
    latencies, missed = [], 0
    raiser = tokens[0]
    for round_number in range(rounds):
        sent = time.perf_counter()
        status, alarm = await _post(port, raiser, "/api/v1/alarms",
                                    {"type": "brand", "org_unit": "S1", "drill": True})
        if status != 201:
            raise RuntimeError(f"raising answered {status}: {alarm}")
        raised_seconds = time.perf_counter() - sent
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(alarm["id"] not in s.received for s in subscribers):
            await asyncio.sleep(0.01)
        round_latencies = [s.received[alarm["id"]] - sent for s in subscribers if alarm["id"] in s.received]
        missed += len(subscribers) - len(round_latencies)
        latencies += round_latencies
        print(f"  round {round_number + 1}: POST answered in {raised_seconds * 1000:.0f} ms, last subscriber "
              f"{max(round_latencies) * 1000:.0f} ms, missed {len(subscribers) - len(round_latencies)}", flush=True)
        await _post(port, raiser, f"/api/v1/alarms/{alarm['id']}/end", {})
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"subscribers": len(subscribers), "rounds": rounds, "connect_s": round(connect_seconds, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1), "missed": missed}


def run(url: str, tokens: list[str], workers: int, redis_url: str, rounds: int) -> dict:
    """One server, the subscribers connected, `rounds` alarms raised and ended; killed after (its streams would
    hold a graceful stop for its whole timeout)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as instance:
        env = server_env(url, Path(instance), KIA_REDIS_URL=redis_url, KIA_ALARM_STREAM_SECONDS="3600",
                         KIA_DB_POOL_SIZE="5")
        # gthread: one thread per connected subscriber, and room for the kernel handing a worker more than its share.
        threads = int(len(tokens) / workers * (1.6 if workers > 1 else 1)) + 20
        # gthread also caps a worker's open connections (1,000 by default): the subscribers and the raiser's.
        server = start_gunicorn(env, port, Path(instance) / "gunicorn.log", workers=workers, threads=threads,
                                worker_connections=threads + 20)
        try:
            return asyncio.run(measure(port, tokens, rounds))
        finally:
            kill_gunicorn(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    # The raiser's rate limit (5 in 10 minutes) counts every round; each run raises with its own staff member.
    tokens = build(args.database_url, args.subscribers + 2)
    results = {}
    for name, workers, redis_url, raiser in (("redis, 4 workers", 4, args.redis_url, 0),
                                             ("in-process, 1 worker", 1, "", 1)):
        print(f"{name}: {args.subscribers} subscribers, {args.rounds} alarms", flush=True)
        ordered = [tokens[raiser]] + [t for i, t in enumerate(tokens[:args.subscribers + 1]) if i != raiser]
        results[name] = run(args.database_url, ordered[:args.subscribers], workers, redis_url, args.rounds)
        print(f"  {json.dumps(results[name])}", flush=True)
    redis_result = results["redis, 4 workers"]
    failed = any(r["missed"] for r in results.values()) or redis_result["p99_ms"] >= TARGET_P99_S * 1000
    print("FAILED" if failed else "OK", f"(target: p99 < {TARGET_P99_S * 1000:.0f} ms, no subscriber missed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
