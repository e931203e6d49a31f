"""Every route with an id in its path, API and web, taken from the app's URL map (so a new one cannot be left out):
an id no row can have – beyond the id columns' range, or beyond what SQLite can bind – is no route, a 404 (problem+json
under /api), on SQLite and PostgreSQL alike, never a 500."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from kia.db import MAX_ID
from kia.http import IdConverter, numbers_up_to

# Past a PostgreSQL INTEGER, past SQLite's 64-bit integers, and past anything a 64-bit driver binds.
TOO_LARGE = (2**31, 2**63, 10**40)
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def id_arguments(app, rule) -> list[tuple[str, type]]:
    """The rule's numeric path arguments and their converters, read from the rule as written."""
    found = []
    for match in ARGUMENT.finditer(rule.rule):
        converter = app.url_map.converters[match["converter"] or "default"]
        if issubclass(converter, NumberConverter):
            found.append((match["name"], converter))
    return found


def id_routes(app):
    return sorted((rule for rule in app.url_map.iter_rules() if id_arguments(app, rule)), key=lambda r: r.rule)


def url_with(app, rule, name: str, value: int) -> str:
    """The rule's path with `value` for the argument `name` and 1 (or "x") for the others."""
    def fill(match):
        if match["name"] == name:
            return str(value)
        return "1" if match["converter"] in ("id", "int") else "x"
    return ARGUMENT.sub(fill, rule.rule)


@pytest.fixture
def handler(make, tree):
    return make.user(("handler", "S1"), ("safety_officer", "UTBF"), name="Rektor Rut")


@pytest.fixture
def admin(make, tree):
    return make.user(("admin", "STHLM"), ("analyst", "STHLM"), name="Admin Ada")


def test_the_walk_finds_the_routes_of_both_layers(app):
    paths = {rule.rule for rule in id_routes(app)}
    assert "/api/v1/cases/<id:case_id>" in paths and "/api/v1/admin/webhooks/<id:webhook_id>" in paths
    assert "/cases/<id:case_id>" in paths and "/admin/users/<id:user_id>" in paths


def test_every_id_in_a_path_is_taken_by_the_id_converter(app):
    # A plain <int:…> matches any number of digits and hands the view a value no column can hold.
    plain = [f"{rule.rule} ({name})" for rule in id_routes(app) for name, converter in id_arguments(app, rule)
             if converter is not IdConverter]
    assert plain == []


def test_the_id_converter_takes_exactly_the_columns_range(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/api/v1/cases/{MAX_ID}")[1] == {"case_id": MAX_ID}
    for path in ("/api/v1/cases/0", "/api/v1/cases/007", f"/api/v1/cases/{MAX_ID + 1}", "/api/v1/cases/" + "9" * 5000):
        with pytest.raises(Exception) as excinfo:
            adapter.match(path)
        assert getattr(excinfo.value, "code", None) == 404


@pytest.mark.parametrize("limit", [10, 19, 20, 99, 100, 101, 1000, 5099, 20000])
def test_the_pattern_of_numbers_up_to_a_limit_takes_exactly_those(limit):
    pattern = re.compile(f"(?:{numbers_up_to(limit)})\\Z")
    assert [n for n in range(3 * limit) if pattern.match(str(n))] == list(range(1, limit + 1))
    assert not pattern.match(f"0{limit}") and not pattern.match("01")


def answers_other_than(app, in_api: bool, send, mimetype: str) -> list[str]:
    """Every id route of the API (or of the web UI), each method, each id argument in turn too large: what was
    answered otherwise than a 404 of the given type."""
    failures = []
    for rule in id_routes(app):
        if rule.rule.startswith("/api/") != in_api:
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            for name, _ in id_arguments(app, rule):
                for value in TOO_LARGE:
                    url = url_with(app, rule, name, value)
                    response = send(method, url)
                    if response.status_code != 404 or response.mimetype != mimetype:
                        failures.append(f"{method} {url}: {response.status_code} {response.mimetype}")
    return failures


@pytest.mark.parametrize("who", ["handler", "admin"])
def test_an_api_path_id_no_row_can_have_is_a_404_problem(request, api, who):
    user = api.as_user(request.getfixturevalue(who))
    send = lambda method, url: user.request(method, url, json={})   # noqa: E731
    assert answers_other_than(api.client.application, True, send, "application/problem+json") == []


@pytest.mark.parametrize("who", ["handler", "admin"])
def test_a_web_path_id_no_row_can_have_is_a_404_page(request, client, who):
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = request.getfixturevalue(who).get_id(), True
        session["two_factor_verified"] = True   # as after the second step (web.two_factor)
        token = session.setdefault("csrf", "test-csrf-token")
    send = lambda method, url: client.open(url, method=method, data={"csrf_token": token})   # noqa: E731
    assert answers_other_than(client.application, False, send, "text/html") == []
