"""Where a filing's server time goes, in-process and counted rather than timed: Python function calls and SQL
statements per request for each way of filing (API, anonymous, web form) against the one-row baseline, on
PostgreSQL, then the top of each one's profile. Counts are the same on a busy machine as on an idle one, so two
versions of the code compare in any weather (`make bench-profile`, or `python bench/profile_filing.py`)."""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.ingest_clients import CSRF  # noqa: E402
from bench.ingest_data import PASSWORD, as_form, as_json, incident_report, prepare_database  # noqa: E402
from kia.db import utcnow  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kia_bench_profile"



class Counter:
    def __init__(self):
        self.statements = 0
        self.shown: list[str] | None = None   # when a list, each statement's first line goes in it
        event.listen(Engine, "before_cursor_execute", self._count)

    def _count(self, _connection, _cursor, statement, *_args):
        self.statements += 1
        if self.shown is not None:
            self.shown.append(" ".join(statement.split())[:150])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("KIA_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=200, help="measured requests per way of filing")
    parser.add_argument("--top", type=int, default=25, help="lines of each profile shown (0: none)")
    parser.add_argument("--dump", metavar="DIR", help="also write each way's profile to DIR/<way>.pstats")
    parser.add_argument("--statements", action="store_true", help="also show the SQL statements of one request of each way")
    args = parser.parse_args(argv)

    data = prepare_database(args.database_url)
    os.environ.update(KIA_DATABASE_URL=args.database_url, KIA_SECRET_KEY=secrets.token_urlsafe(32),
                      KIA_INSTANCE_PATH=tempfile.mkdtemp(prefix="kia-profile-"), KIA_SESSION_COOKIE_SECURE="0",
                      KIA_PUBLIC_REQUESTS_PER_MINUTE="1000000000", KIA_PUBLIC_REPORTS_PER_HOUR="1000000000")
    from bench.ingest_app import create_bench_app
    app = create_bench_app()
    rng, now = random.Random(7), utcnow()
    reporter = data.reporters[0]
    browser = app.test_client()
    page = browser.get("/login").data
    browser.post("/login", data={"email": reporter.email, "password": PASSWORD,
                                 "csrf_token": CSRF.search(page).group(1).decode()})
    csrf = CSRF.search(browser.get(f"/report?type=fire&org_unit={reporter.unit_code}").data).group(1).decode()
    api = app.test_client()

    def report(anonymous: bool) -> dict:
        while True:
            body = incident_report(rng, reporter.unit_code, data.types, now)
            if not anonymous or body["type"] in data.anonymous_types:
                return body

    def send(way: str) -> None:
        if way == "web":
            body = as_form(report(False), data.types) + f"&csrf_token={csrf}&idempotency_key={secrets.token_hex(8)}" \
                .encode()
            response = browser.post("/report", data=body, content_type="application/x-www-form-urlencoded")
            ok = response.status_code == 200 and b"receipt" in response.data
        else:
            path = {"api": "/api/v1/incidents", "anonymous": "/api/v1/public/incidents",
                    "baseline": "/bench/baseline"}[way]
            headers = {"Content-Type": "application/json"}
            if way in ("api", "baseline"):
                headers |= {"Authorization": f"Bearer {reporter.token}", "Idempotency-Key": secrets.token_hex(8)}
            response = api.post(path, data=as_json(report(way == "anonymous")), headers=headers)
            ok = response.status_code == 201
        if not ok:
            raise RuntimeError(f"{way}: {response.status_code} {response.data[:300]!r}")

    counter = Counter()
    ways = ("baseline", "api", "anonymous", "web")
    for way in ways:   # warm: reference data loaded, statements compiled
        for _ in range(20):
            send(way)
    if args.statements:
        for way in ways:
            counter.shown = []
            send(way)
            print(f"\n== {way}: {len(counter.shown)} statements of one request")
            print("\n".join(f"  {line}" for line in counter.shown))
        counter.shown = None
    results = {}
    for way in ways:
        profile = cProfile.Profile(time.process_time)
        before = counter.statements
        profile.enable()
        for _ in range(args.requests):
            send(way)
        profile.disable()
        stats = pstats.Stats(profile)
        if args.dump:
            Path(args.dump).mkdir(parents=True, exist_ok=True)
            stats.dump_stats(Path(args.dump) / f"{way}.pstats")
        results[way] = (stats.total_calls / args.requests, (counter.statements - before) / args.requests, stats)
    base_calls = results["baseline"][0]
    print(f"\nper request, {args.requests} each (Flask test client in-process; PostgreSQL)")
    for way in ways:
        calls, statements, _ = results[way]
        print(f"{way:<10} {calls:8.0f} Python calls ({calls / base_calls:4.1f}x the baseline)   "
              f"{statements:5.1f} SQL statements")
    for way in ways[1:] if args.top else ():
        out = io.StringIO()
        results[way][2].stream = out
        results[way][2].sort_stats("cumulative").print_stats(r"/(kia|api|web)/", args.top)
        print(f"\n== {way}: where its time goes (kia, api and web functions, cumulative)")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
