"""REST API v1 under /api/v1: JSON in and out, problem+json errors, OpenAPI 3 at /api/v1/openapi.json."""
from __future__ import annotations

import logging

from flask import Blueprint, request
from marshmallow import ValidationError as SchemaError
from werkzeug.exceptions import HTTPException, InternalServerError

from api import (
    alarms, case_work, cases, deadlines, feedback, incidents, notifications, openapi, property_owners, public,
    reference, retention, routing, statistics, subject_access,
)
from api.auth import authenticate
from api.problems import QueryProblem, domain_problem, http_problem, query_problem, schema_problem, unavailable_problem
from kia.db import DATABASE_UNAVAILABLE, database_unavailable, unavailable_cause
from kia.errors import DomainError

log = logging.getLogger(__name__)

api_blueprint = Blueprint("api", __name__, url_prefix="/api")
v1 = Blueprint("v1", __name__, url_prefix="/v1")


@api_blueprint.before_request
def _authenticate():
    authenticate()


@api_blueprint.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return domain_problem(error)


@api_blueprint.errorhandler(SchemaError)
def _schema_error(error: SchemaError):
    return schema_problem(error)


@api_blueprint.errorhandler(QueryProblem)
def _query_error(error: QueryProblem):
    return query_problem(error)


@api_blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return http_problem(error)


def _database_unavailable(error: Exception):
    if not database_unavailable(error):   # a statement that failed: a bug, with its traceback
        return _unexpected(error)
    # One line without a traceback: the cause is outside KIA, and the outage's every request would repeat it.
    log.warning("database unavailable in %s %s: %s", request.method, request.path, unavailable_cause(error))
    return unavailable_problem()


for _unavailable in DATABASE_UNAVAILABLE:   # found before the catch-all below: it is the nearer class
    api_blueprint.register_error_handler(_unavailable, _database_unavailable)


@api_blueprint.errorhandler(Exception)
def _unexpected(error: Exception):
    # The body is never logged (it may hold personal data); the path and the traceback are.
    log.exception("unhandled error in %s %s", request.method, request.path)
    return http_problem(InternalServerError())


@api_blueprint.record_once
def _unrouted_api_paths(setup_state):
    """404/405 for paths no API view matched are raised before any blueprint: answer those in JSON too."""
    def handle(error: HTTPException):
        return http_problem(error) if request.path.startswith("/api/") else error
    setup_state.app.register_error_handler(HTTPException, handle)


for module in (incidents, reference, statistics, feedback, public, cases, case_work, deadlines, routing, notifications,
               retention, property_owners, subject_access, alarms):
    v1.register_blueprint(module.bp)
api_blueprint.register_blueprint(v1)
api_blueprint.register_blueprint(openapi.bp)
