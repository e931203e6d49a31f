"""The Open311 GeoReport v2 calls KIA makes to a property owner: POST /requests.json (form-encoded), GET
/requests/{id}.json and GET /tokens/{token}.json. The API key goes only in the POST body: never in a URL, an
error message or a log line."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from kia.property.models import PropertyOwner

TIMEOUT = 10   # seconds
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Answers worth trying again later: the server's trouble, or asked to slow down; any other 4xx never gets better.
RETRYABLE = {408, 425, 429}


class Open311Failed(Exception):
    """Not accepted this time (unreachable, 5xx, a timeout): try again later."""


class Open311Refused(Open311Failed):
    """The owner's server refuses the request as it stands (a 4xx): trying again would not help."""


@dataclass(frozen=True)
class Accepted:
    service_request_id: str | None
    token: str | None


@dataclass(frozen=True)
class RequestStatus:
    status: str          # "open" or "closed"
    status_notes: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the API key to an address the admin never configured.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _url(owner: PropertyOwner, path: str, query: dict[str, str] | None = None) -> str:
    url = owner.endpoint_url.rstrip("/") + path
    query = {k: v for k, v in (query or {}).items() if v}
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def _call(request: urllib.request.Request) -> Any:
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code not in RETRYABLE:
            raise Open311Refused(f"Open311 server answered HTTP {error.code}") from error
        raise Open311Failed(f"Open311 server answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Open311Failed(f"Open311 server not reachable: {type(reason).__name__}") from error
    if not 200 <= status < 300:
        raise Open311Failed(f"Open311 server answered HTTP {status}")
    try:
        return json.loads(body)
    except ValueError as error:
        raise Open311Failed("Open311 server answered with something other than JSON") from error


def _first(document: Any) -> dict[str, Any]:
    """GeoReport v2 answers with a list of one object (some servers send the object alone)."""
    if isinstance(document, list) and document and isinstance(document[0], dict):
        return document[0]
    if isinstance(document, dict):
        return document
    raise Open311Failed("Open311 server answered with an empty or unexpected document")


def post_request(owner: PropertyOwner, fields: dict[str, str], idempotency_key: str) -> Accepted:
    """POST /requests.json with `fields` (service_code, address_string or lat/long, description,
    attribute[…]) and the owner's api_key and jurisdiction_id; the service request id, or a token for it."""
    form = {**fields, "api_key": owner.api_key, "jurisdiction_id": owner.jurisdiction_id}
    body = urllib.parse.urlencode({k: v for k, v in form.items() if v}).encode()
    request = urllib.request.Request(_url(owner, "/requests.json"), data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        "User-Agent": "KIA-open311/1", IDEMPOTENCY_HEADER: idempotency_key})
    answer = _first(_call(request))
    request_id, token = answer.get("service_request_id"), answer.get("token")
    if not request_id and not token:
        raise Open311Failed("Open311 server gave neither a service_request_id nor a token")
    return Accepted(str(request_id) if request_id else None, str(token) if token else None)


def request_id_for_token(owner: PropertyOwner, token: str) -> str | None:
    """GET /tokens/{token}.json: the service request id, once the owner has made one of the token."""
    request = urllib.request.Request(_url(owner, f"/tokens/{urllib.parse.quote(token, safe='')}.json",
                                          {"jurisdiction_id": owner.jurisdiction_id}),
                                     headers={"Accept": "application/json", "User-Agent": "KIA-open311/1"})
    request_id = _first(_call(request)).get("service_request_id")
    return str(request_id) if request_id else None


def request_status(owner: PropertyOwner, service_request_id: str) -> RequestStatus:
    """GET /requests/{id}.json: the request's status (open/closed) and the owner's status notes."""
    path = f"/requests/{urllib.parse.quote(service_request_id, safe='')}.json"
    request = urllib.request.Request(_url(owner, path, {"jurisdiction_id": owner.jurisdiction_id}),
                                     headers={"Accept": "application/json", "User-Agent": "KIA-open311/1"})
    answer = _first(_call(request))
    status = str(answer.get("status") or "").lower()
    if status not in ("open", "closed"):
        raise Open311Failed("Open311 server gave an unknown status")
    return RequestStatus(status, str(answer.get("status_notes") or "")[:2000])
