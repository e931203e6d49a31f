"""The access matrix: every route of the URL map (API and web), called as each caller, with and without the scope it
needs, on each record of the kind its path names, inside and outside the caller's subtree (tests/access/world.py).
Out of scope is a 404, a missing scope a 403, a caller without the role a 403, no sign-in a 401 or the sign-in page;
and no answer, whatever its status, holds a description, a pupil's name or any other marker of a record the caller
may not read. What each route allows is declared in tests/access/routes.py: a new route fails here until it is."""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

import pytest

from kia.auth.tokens import SCOPES
from tests.access.routes import FILE, ROUTES, Route
from tests.access.world import ANYONE, CALLERS, Variant, build_world

log = logging.getLogger(__name__)

ARGUMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
SIGN_IN = "sign-in"
ALLOWED = "allowed"
EVERY_RECORD = [Variant("no record", {}, ANYONE)]


def route_keys(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_of_the_url_map_is_declared(app):
    undeclared = sorted(route_keys(app) - set(ROUTES))
    assert undeclared == [], "declare who may call these in tests/access/routes.py"
    assert sorted(set(ROUTES) - route_keys(app)) == [], "routes declared that the app no longer has"


def expected(route: Route, caller: str, variant: Variant, has_scope: bool) -> str | int:
    """What the caller should get: SIGN_IN, a status code, or ALLOWED (past every access check)."""
    if caller == "anonymous" and caller not in route.may:
        return SIGN_IN
    if not has_scope:
        return 403
    if caller not in variant.seen_by:
        return 404
    if caller not in route.may:
        return route.otherwise
    return ALLOWED


def outcome(response, in_api: bool) -> str | int:
    # On the web a page that needs a sign-in sends to it; only the sign-in form answers 401 (a wrong password).
    status = response.status_code
    if in_api and status == 401 or not in_api and status == 302 and "/login" in response.headers["Location"]:
        return SIGN_IN
    if status in (403, 404) or in_api and status == 401:
        return status
    return ALLOWED if status < 500 else status


@dataclass
class Cell:
    key: str
    caller: str
    variant: str
    has_scope: bool


class Matrix:
    """Calls the cells of one layer, each in a savepoint rolled back afterwards (a DELETE or a sign-out allowed in one
    cell leaves the next one's record as it was), and keeps what differed from the declaration."""

    def __init__(self, app, connection, make, world, in_api: bool):
        self.app, self.connection, self.world, self.in_api = app, connection, world, in_api
        self.tokens = {(caller, missing): make.token(user, [s for s in SCOPES if s != missing])
                       for caller, user in world.users.items() for missing in (None, *SCOPES)}
        self.cells, self.failures = 0, []

    def run(self) -> None:
        for key, route in sorted(ROUTES.items()):
            method, rule = key.split(" ", 1)
            if rule.startswith("/api") != self.in_api:
                continue
            variants = self.world.records[route.record] if route.record else EVERY_RECORD
            for caller in ["anonymous", *CALLERS]:
                scoped = [True, False] if route.scope and caller != "anonymous" else [True]
                for variant in variants:
                    for has_scope in scoped:
                        self.check(Cell(key, caller, variant.name, has_scope), method, rule, route, variant)

    def check(self, cell: Cell, method: str, rule: str, route: Route, variant: Variant) -> None:
        url = ARGUMENT.sub(lambda m: str(variant.args[m[1]]), rule) + (f"?{variant.query}" if variant.query else "")
        savepoint = self.connection.begin_nested()
        try:
            response = self.send(cell, method, url, route)
            text = response.get_data().decode("utf-8", "replace")
        finally:
            savepoint.rollback()
        self.cells += 1
        want, got = expected(route, cell.caller, variant, cell.has_scope), outcome(response, self.in_api)
        if want != got:
            self.failures.append(f"{cell}: expected {want}, got {got} ({response.status_code})")
        leaked = [secret for secret, readers in self.world.secrets if cell.caller not in readers and secret in text]
        if leaked:
            self.failures.append(f"{cell}: the answer shows {leaked}")

    def body(self, route: Route):
        """The route's declared body: the PDF as a multipart field, or the JSON or form values (None: none)."""
        body = route.body(self.world) if callable(route.body) else route.body
        return {"file": (io.BytesIO(b"%PDF-1.4 matrix"), "bilaga.pdf")} if body == FILE else body

    def send(self, cell: Cell, method: str, url: str, route: Route):
        client = self.app.test_client()
        writes = method in ("POST", "PUT", "PATCH")
        if self.in_api:
            headers = {}
            if cell.caller != "anonymous":
                missing = None if cell.has_scope else route.scope
                headers["Authorization"] = f"Bearer {self.tokens[(cell.caller, missing)]}"
            body = self.body(route)
            if route.body == FILE:
                return client.open(url, method=method, headers=headers, data=body, content_type="multipart/form-data")
            return client.open(url, method=method, headers=headers, json={} if body is None and writes else body)
        token = "matrix-csrf"
        with client.session_transaction() as session:
            session["csrf"] = token
            if cell.caller != "anonymous":
                session["_user_id"] = self.world.users[cell.caller].get_id()
                session["_fresh"] = True
                session["two_factor_verified"] = True   # as after the second step (web.two_factor)
        return client.open(url, method=method, data={"csrf_token": token, **(self.body(route) or {})} if writes else None)


@pytest.mark.parametrize("layer", ["api", "web"])
def test_every_route_as_every_caller_on_records_inside_and_outside(app, connection, make, db, api, settings, tree,
                                                                   layer):
    world = build_world(api, make, db, settings)
    matrix = Matrix(app, connection, make, world, in_api=layer == "api")
    matrix.run()
    log.info("access matrix (%s): %d cells", layer, matrix.cells)
    assert matrix.cells > 0 and matrix.failures == [], f"{len(matrix.failures)} of {matrix.cells} cells:\n" + \
        "\n".join(matrix.failures)
