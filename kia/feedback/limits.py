"""Rate limits of the public (no-login) endpoints per client, keyed by a keyed hash of its address, never the address."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kia import ratelimit
from kia.config import Settings
from kia.db import utcnow
from kia.errors import N_, DomainError, Msg

KEY_PREFIX = "public:"


class RateLimited(DomainError):
    status = 429
    title = N_("Too many requests.")

    def __init__(self, retry_after: int):
        super().__init__(Msg(N_("Too many requests from your network. Try again in %(seconds)s seconds."),
                             {"seconds": retry_after}))
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta


def client_of(address: str) -> str:
    """The unit a limit applies to: an IPv4 address, or an IPv6 /64 (one subscriber's network, whose
    2^64 addresses would otherwise each get an allowance of their own)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


class ClientGuard:
    """The public endpoints' limits for one client address. The address is kept only as an HMAC keyed with
    the secret key, so the database never holds it and nobody without the key can test a guess against it.
    Windows are dropped an hour after they start (at the next public request), so the trace is short-lived."""

    def __init__(self, session: Session, settings: Settings, address: str, now: datetime | None = None):
        self.session = session
        self.now = now or utcnow()
        self._client = hmac.new(settings.secret_key.encode(), client_of(address).encode(), hashlib.sha256).hexdigest()
        self.requests = Limit("requests", settings.public_requests_per_minute, timedelta(minutes=1))
        self.reports = Limit("reports", settings.public_reports_per_hour, timedelta(hours=1))
        self.followup_failures = Limit("followup-failures", settings.followup_failures_per_hour, timedelta(hours=1))

    def _key(self, limit: Limit) -> str:
        return f"{KEY_PREFIX}{limit.name}:{self._client}"

    def _refuse(self, limit: Limit) -> RateLimited:
        return RateLimited(ratelimit.seconds_until_fewer(self.session, self._key(limit), limit.window, self.now))

    def count(self, limit: Limit, purge: tuple[datetime, str] | None = None, commit: bool = True) -> None:
        """Count this request against `limit`; RateLimited once the window's allowance is spent (`purge`, `commit`:
        see kia.ratelimit.hit)."""
        if not ratelimit.hit(self.session, self._key(limit), limit.limit, limit.window, self.now, purge, commit):
            raise self._refuse(limit)

    def refuse_if_spent(self, limit: Limit) -> None:
        """RateLimited if `limit` is already spent, without counting: guards work whose failure is what counts."""
        if ratelimit.hits_so_far(self.session, self._key(limit), limit.window, self.now) >= limit.limit:
            raise self._refuse(limit)

    def request(self, commit: bool = True) -> None:
        """Every public request: forget windows that are over, then count this one (without `commit`, the count
        goes with the request's next commit, which the caller makes sure of when the answer is made)."""
        longest = max(self.requests.window, self.reports.window, self.followup_failures.window)
        self.count(self.requests, purge=(self.now - longest, KEY_PREFIX), commit=commit)
