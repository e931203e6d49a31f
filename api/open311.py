"""KIA's read-only Open311 GeoReport v2 API at /open311/v2 (JSON only), off unless KIA_GEOREPORT_API=1: thin views over
kia.open311. No login; counted against the public API's allowance per client address. Errors are GeoReport's
list of {code, description}."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from kia.db import utcnow
from kia.errors import InvalidQuery
from kia.feedback.limits import ClientGuard, RateLimited
from kia.http import db_session, state
from kia.open311 import ServiceRequest, local_midnight, service_request, service_requests, services

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")


def _error(code: int, description: str):
    response = jsonify([{"code": code, "description": description}])
    response.status_code = code
    return response


@bp.before_request
def _switched_on_and_counted():
    if not state().settings.open311_enabled:
        return _error(404, "Open311 is not enabled on this KIA.")
    g.open311_guard = ClientGuard(db_session(), state().settings, request.remote_addr or "")
    g.open311_guard.request(commit=False)
    return None


@bp.after_request
def _commit_count(response):
    if "open311_guard" in g and response.status_code < 500:
        db_session().commit()
    response.headers.setdefault("Access-Control-Allow-Origin", "*")   # read-only open data
    return response


@bp.errorhandler(RateLimited)
def _rate_limited(error: RateLimited):
    response = _error(429, "Too many requests: wait a minute.")
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(InvalidQuery)
def _invalid(error: InvalidQuery):
    return _error(400, "; ".join(f"{path}: {m.render(lambda s: s)}" for path, msgs in error.errors.items()
                                 for m in msgs))


@bp.errorhandler(HTTPException)
def _http(error: HTTPException):
    return _error(error.code or 500, error.description or error.name)


def _request_out(found: ServiceRequest) -> dict:
    requested = local_midnight(found.requested_on, state().settings.timezone).isoformat()
    return {"service_request_id": str(found.id), "status": found.status, "service_code": found.service_code,
            "service_name": found.service_name, "requested_datetime": requested, "address": found.address,
            "lat": found.latitude, "long": found.longitude}


def _when(name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuery({name: []}) from None
    return value if value.tzinfo else value.replace(tzinfo=state().settings.timezone)


def _list(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in request.args.get(name, "").split(",") if part.strip())


@bp.get("/services.json")
def index_services():
    return jsonify([{"service_code": t.code, "service_name": t.name_sv, "description": t.help_sv or t.name_sv,
                     "metadata": False, "type": "batch", "keywords": "", "group": t.category.value}
                    for t in services(db_session())])


@bp.get("/requests.json")
def index_requests():
    settings = state().settings
    try:
        start, end = _when("start_date"), _when("end_date")
    except InvalidQuery:
        return _error(400, "start_date and end_date are W3C date-times, e.g. 2026-05-01T00:00:00+02:00.")
    found = service_requests(db_session(), settings.timezone, settings.stats_suppression_threshold, utcnow(),
                             _list("service_code"), start, end, _list("status"))
    return jsonify([_request_out(r) for r in found])


@bp.get("/requests/<id:request_id>.json")
def show_request(request_id: int):
    settings = state().settings
    found = service_request(db_session(), settings.timezone, settings.stats_suppression_threshold, request_id)
    if found is None:
        return _error(404, "No such service request.")
    return jsonify([_request_out(found)])
