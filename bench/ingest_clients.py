"""The ingest benchmark's clients: one request to each endpoint (the baseline, the API, the anonymous API, the
web form, signed in with a cookie jar), tallied per phase, sent back to back (closed loop) or at planned
arrival times (open loop)."""
from __future__ import annotations

import http.client
import math
import queue
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.ingest_data import PASSWORD, Reporter

BASELINE, API, ANONYMOUS, WEB = "baseline", "api", "anonymous", "web"
FILINGS = (API, ANONYMOUS, WEB)
ENDPOINTS = (BASELINE, *FILINGS)
PATHS = {BASELINE: "/bench/baseline", API: "/api/v1/incidents", ANONYMOUS: "/api/v1/public/incidents",
         WEB: "/report"}
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
RECEIPT = b'<p class="receipt">'   # web/report/receipt.html: a 422 form or a sign-in page has none
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')


@dataclass
class Phase:
    endpoint: str
    duration: float
    latencies_ms: list[float] = field(default_factory=list)  # of requests answered inside the window
    filed: int = 0  # filings acknowledged, the window's and the tail's (for the database check)
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
            total.filed += part.filed
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


@dataclass
class WebSession:
    """A signed-in browser as the server sees it: its cookies (the session carries the CSRF token too)."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        return headers | ({"Content-Type": content_type} if content_type else {})

    def keep(self, response: http.client.HTTPResponse) -> None:
        """The cookies a response sets (an empty value is Flask deleting one)."""
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)

    def exchange(self, connection: http.client.HTTPConnection, method: str, path: str,
                 body: dict | None = None) -> tuple[int, bytes]:
        encoded = urlencode(body).encode() if body is not None else None
        connection.request(method, path, body=encoded, headers=self.headers(FORM if body is not None else None))
        response = connection.getresponse()
        payload = response.read()
        self.keep(response)
        return response.status, payload


def sign_in(port: int, reporter: Reporter, type_code: str) -> WebSession:
    """Sign in as a browser does (the login page's CSRF token, then the form), and open the report form once:
    the token its page carries is the session's, good for every POST of it."""
    web, connection = WebSession(), http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        _, page = web.exchange(connection, "GET", "/login")
        status, page = web.exchange(connection, "POST", "/login", {
            "email": reporter.email, "password": PASSWORD, "csrf_token": _csrf(page).decode()})
        if status != 302:
            raise RuntimeError(f"signing in as {reporter.email}: {_sample(status, page)}")
        status, page = web.exchange(connection, "GET", "/report?" + urlencode(
            {"type": type_code, "org_unit": reporter.unit_code}))
        if status != 200:
            raise RuntimeError(f"the report form for {reporter.email}: {_sample(status, page)}")
        web.csrf = _csrf(page).decode()
    finally:
        connection.close()
    return web


def _csrf(page: bytes) -> bytes:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError(f"no csrf_token in the page: {_sample(200, page)}")
    return found.group(1)


@dataclass
class Client:
    """One client's share of the work: it speaks for every reporter in turn (like a proxy), starting at its own;
    bodies[endpoint][i] was written for reporters[i % len(reporters)]."""

    name: str
    reporters: list[Reporter]
    bodies: dict[str, list[bytes]]
    sessions: dict[str, WebSession] = field(default_factory=dict)   # e-mail → the reporter's signed-in session

    def nth(self, endpoint: str, n: int) -> tuple[Reporter, bytes]:
        """The n-th request's reporter and body, however far past the end of the bodies n is."""
        bodies = self.bodies[endpoint]
        i = n % len(bodies)
        return self.reporters[i % len(self.reporters)], bodies[i]

    def request(self, endpoint: str, n: int, key: str) -> tuple[dict[str, str], bytes, WebSession | None]:
        """Headers and body of the n-th request; `key` makes a retry of it harmless (as a careful client and
        the web form's hidden input do)."""
        reporter, body = self.nth(endpoint, n)
        if endpoint == WEB:
            web = self.sessions[reporter.email]
            return web.headers(FORM), body + b"&" + urlencode({"csrf_token": web.csrf, "idempotency_key": key}
                                                               ).encode(), web
        if endpoint == ANONYMOUS:   # no account, nothing that names the sender
            return {"Content-Type": JSON}, body, None
        headers = {"Authorization": f"Bearer {reporter.token}", "Content-Type": JSON}
        if endpoint == API:
            headers["Idempotency-Key"] = key
        return headers, body, None


def _is_filed(endpoint: str, status: int, payload: bytes) -> bool:
    # The web form answers its receipt page with 200; a form with errors is 422, a lost session a redirect.
    return status == 200 and RECEIPT in payload if endpoint == WEB else status == 201


def _sample(status: int, payload: bytes) -> str:
    """An error answer, shortened: for an HTML page its title and the messages beside its fields."""
    text = payload.decode(errors="replace")
    if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        messages = [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'class="field-error"[^>]*>(.*?)</p>',
                                                                          text, re.S)]
        text = " | ".join([title.group(1).strip() if title else "(no title)", *messages])
    return f"{status}: {text[:300]}"


def _send(connection: http.client.HTTPConnection, endpoint: str, client: Client, n: int, key: str,
          out: Phase, began: float, counted_until: float) -> None:
    """One request on a keep-alive connection, tallied in `out`; its latency counts from `began` if it is
    answered by `counted_until`."""
    headers, body, web = client.request(endpoint, n, key)
    try:
        connection.request("POST", PATHS[endpoint], body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        status = response.status
        if web is not None:
            web.keep(response)
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # reconnects on the next request
        status, payload = 0, repr(exc).encode()
    ended = time.monotonic()
    out.answered += 1
    if _is_filed(endpoint, status, payload):
        out.filed += 1
        if ended <= counted_until:
            out.latencies_ms.append((ended - began) * 1000)
    else:
        out.errors += 1
        if len(out.error_samples) < 5:
            out.error_samples.append(_sample(status, payload))


def _client(port: int, endpoint: str, client: Client, start: float, deadline: float, out: Phase) -> None:
    """One client on one keep-alive connection: requests back to back until the deadline."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent, run = 0, secrets.token_hex(4)  # idempotency keys unique across phases
    while time.monotonic() < start:
        time.sleep(0.001)
    while (began := time.monotonic()) < deadline:
        _send(connection, endpoint, client, sent, f"{client.name}-{run}-{sent}", out, began, deadline)
        sent += 1
    connection.close()


def client_process(port: int, endpoint: str, duration: float, start: float, clients: list[Client]) -> Phase:
    """A few clients as threads of one process (the load generator must not be the GIL-bound bottleneck)."""
    results = [Phase(endpoint, duration) for _ in clients]
    threads = [threading.Thread(target=_client, args=(port, endpoint, client, start, start + duration, result))
               for client, result in zip(clients, results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Phase.combined(endpoint, duration, results)


def open_loop(port: int, endpoint: str, rate: float, duration: float, clients: list[Client], seed: int) -> Phase:
    """Requests arriving at `rate` a second (Poisson) for `duration`, each sent by whichever of the clients'
    connections is free. Latency counts from the planned arrival, so a request queued behind a slow one
    waits in the figures too (no coordinated omission)."""
    arrivals: queue.Queue = queue.Queue()
    rng, run = random.Random(seed), secrets.token_hex(4)
    parts = [Phase(endpoint, duration) for _ in clients]   # one a connection: no tally shared between threads

    def send(client: Client, out: Phase) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (item := arrivals.get()) is not None:
            planned, sent = item
            _send(connection, endpoint, client, sent, f"open-{client.name}-{run}-{sent}", out, planned, math.inf)
        connection.close()

    senders = [threading.Thread(target=send, args=(client, part)) for client, part in zip(clients, parts)]
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
