"""RFC 9457 problem+json responses, with a translated message per field path."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, json, request
from flask_babel import gettext
from marshmallow import ValidationError as SchemaError
from werkzeug.exceptions import HTTPException

from kia.errors import N_, DomainError, InvalidQuery, Msg, ValidationFailed

PROBLEM_TYPE = "application/problem+json"

HTTP_TITLES = {
    400: N_("The request could not be understood."),
    401: N_("Authentication is required."),
    403: N_("You may not do this."),
    404: N_("Not found."),
    405: N_("Method not allowed."),
    409: N_("Conflict with the current state."),
    413: N_("The request body is too large."),
    415: N_("Send the body as application/json."),
    429: N_("Too many requests."),
    500: N_("Something went wrong on our side."),
    503: N_("KIA is unavailable just now."),
}
# What a 503 asks a client to wait: about as long as a database restart or a fail-over takes.
RETRY_AFTER_SECONDS = 5


def problem(status: int, title: str, detail: str | None = None,
            errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_schema_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {"persons": {0: {"gender": [...]}}} → {"persons[0].gender": [...]}."""
    if isinstance(messages, list):
        return {prefix or "_body": [gettext(str(m)) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == "_schema":
            path = prefix or "_body"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        for sub_path, texts in flatten_schema_errors(value, path).items():
            flat.setdefault(sub_path, []).extend(texts)
    return flat


def _render(message: Msg | None) -> str | None:
    return message.render(gettext) if message else None


def domain_problem(error: DomainError) -> Response:
    errors = None
    if isinstance(error, ValidationFailed):
        errors = {path: [m.render(gettext) for m in msgs] for path, msgs in error.errors.items()}
    return problem(error.status, gettext(error.title), _render(error.detail), errors)


def schema_problem(error: SchemaError) -> Response:
    return problem(422, gettext("The input is not valid."), gettext("One or more fields are not valid."),
                   flatten_schema_errors(error.messages))


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    headers = {"WWW-Authenticate": 'Bearer realm="kia"'} if status == 401 else None
    return problem(status, gettext(HTTP_TITLES.get(status, error.name)), headers=headers)


def unavailable_problem() -> Response:
    """The database cannot be reached: try again soon. A filing sent again with its Idempotency-Key is stored once,
    whether or not the first try was."""
    return problem(503, gettext(HTTP_TITLES[503]),
                   gettext("KIA cannot reach its database. Try again in a moment: a report sent again with the same "
                           "Idempotency-Key is stored only once."),
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class QueryProblem(Exception):
    def __init__(self, error: SchemaError):
        self.error = error


def load_query(schema, args) -> dict:
    """Load query parameters; bad ones are a 400 (a body's are a 422)."""
    try:
        return schema.load(args)
    except SchemaError as error:
        raise QueryProblem(error) from error


def query_problem(wrapper: QueryProblem) -> Response:
    return problem(400, gettext(InvalidQuery.title), gettext("One or more fields are not valid."),
                   flatten_schema_errors(wrapper.error.messages))


def json_body() -> dict:
    """The request's JSON object; 415 for another content type (which also keeps cross-site forms
    from posting with a session cookie), 400 for malformed JSON."""
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body
