"""The event map: per-unit counts of a subtree by type and tertial, with the statistics' access rules and disclosure
control (a unit with a hidden count has no marker), at the units' coordinates only; the table carries the figures."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from kia.access import Actor
from kia.errors import Forbidden, InvalidQuery, NotFound
from kia.stats.map import MapQuery, event_map
from tests.conftest import TZ
from tests.stats.conftest import incidents  # noqa: F401 – fixture
from tests.web.test_admin import EN, html, sign_in

PAGE = "/karta?org_unit=UTBF&year=2026&tertial=2"
PLACES = {"S1": (59.345410, 18.073380), "S2": (59.339160, 18.059970), "G1": (59.332150, 18.036980),
          "F1": (59.293530, 18.006260)}


@pytest.fixture
def placed(db, tree):
    for code, (lat, lon) in PLACES.items():
        tree[code].latitude, tree[code].longitude = lat, lon
    db.commit()


@pytest.fixture
def figures(incidents, placed):  # noqa: F811
    incidents.add("S1", datetime(2026, 5, 4, 10), type="threat_violence", n=12)
    incidents.add("S1", datetime(2026, 6, 4, 10), type="fire", n=6)
    incidents.add("S2", datetime(2026, 5, 9, 10), type="threat_violence", n=2)    # too few: hidden
    incidents.add("G1", datetime(2026, 6, 4, 10), type="threat_violence", n=7)
    incidents.add("GRU", datetime(2026, 6, 4, 10), type="threat_violence", n=5)   # the smallest shown: complement
    incidents.add("GYM", datetime(2026, 6, 4, 10), type="threat_violence", n=10)  # no coordinates
    incidents.add("F1", datetime(2026, 6, 4, 10), type="threat_violence", n=9)    # another administration
    incidents.add("S1", datetime(2026, 2, 4, 10), type="threat_violence", n=30)   # another tertial


def counts(found) -> dict:
    return {u.code: (u.count.value, u.count.suppressed, u.on_map) for u in found.units}


def test_counts_per_unit_with_small_counts_and_what_reveals_them_hidden(db, make, figures):
    found = event_map(db, make.actor(("safety_officer", "UTBF")), MapQuery(2026, 2, "UTBF"), TZ, 5)
    shown = counts(found)
    assert shown["S1"] == (18, False, True) and shown["G1"] == (7, False, True)
    assert shown["GYM"] == (10, False, False)   # shown in the table, but no marker without coordinates
    assert shown["S2"] == (None, True, False)
    # With the total published, one hidden count would be the total minus the rest: the smallest other is hidden too.
    assert shown["GRU"] == (None, True, False)
    assert found.total.value == 42 and "F1" not in shown
    assert {m["code"] for m in found.markers()} <= {"S1", "G1"} and "S2" not in json.dumps(found.markers())


def test_a_type_filter_counts_only_that_type(db, make, figures):
    found = event_map(db, make.actor(("analyst", "STHLM")), MapQuery(2026, 2, "STHLM", type="fire"), TZ, 5)
    assert counts(found) == {"S1": (6, False, True)} and found.total.value == 6
    with pytest.raises(InvalidQuery):
        event_map(db, make.actor(("analyst", "STHLM")), MapQuery(2026, 2, "STHLM", type="no_such"), TZ, 5)


def test_the_statistics_access_rules_apply(db, make, figures):
    for roles in ((("reporter", "S1"),), (("safety_rep", "S1"),), (("safety_officer", "HAGALV"),)):
        with pytest.raises(NotFound):
            event_map(db, make.actor(*roles), MapQuery(2026, 2, "UTBF"), TZ, 5)
    user = make.user(("analyst", "UTBF"))
    with pytest.raises(Forbidden):   # a token without statistics:read
        event_map(db, Actor.for_user(user, scopes=frozenset({"incidents:read"})), MapQuery(2026, 2, "UTBF"), TZ, 5)


def map_data(body: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="map-data">(.*?)</script>', body, re.S)[1])


def test_the_page_shows_the_table_and_gives_the_map_only_shown_counts_at_unit_coordinates(client, db, make, figures):
    sign_in(client, make.user(("safety_officer", "UTBF"), language="en"))
    response = client.get(PAGE, headers=EN)
    body = html(response)
    assert response.status_code == 200
    table = body.split("<table>")[1].split("</table>")[0]
    assert "Skola Ett</th><td>18</td>" in table and "Skola Två</th><td><abbr" in table
    assert "No: the unit has no coordinates" in table and "Förskolan Ett" not in body
    data = map_data(body)
    markers = {m["code"]: m for m in data["markers"]}
    assert markers["S1"]["count"] == 18 and (markers["S1"]["lat"], markers["S1"]["lon"]) == PLACES["S1"]
    assert "S2" not in markers and all(m["count"] >= 5 for m in markers.values())
    assert data["tiles"] is None and "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
    assert {p["name"] for p in data["points"]} == {"Skola Ett", "Skola Två", "Gymnasium Ett"}
    # The map is off until the script draws it: without JavaScript the table is the page.
    assert 'id="map-section" hidden' in body and "vendor/leaflet.js" in body


def test_no_event_point_reaches_the_page(client, db, make, figures, api):
    api.as_roles(("reporter", "S1")).file(__import__("tests.factories").factories.incident_body(
        occurred_at="2026-05-10T09:30:00", known_at="2026-05-10T09:31:00", latitude=59.347111, longitude=18.074222))
    sign_in(client, make.user(("analyst", "STHLM")))
    body = html(client.get(PAGE))
    assert "59.347111" not in body and "18.074222" not in body


def test_tiles_are_on_only_when_configured_and_allowed_by_the_csp(app, client, make, figures):
    app.extensions["kia"].settings = app.extensions["kia"].settings.__class__(**{
        **app.extensions["kia"].settings.__dict__, "map_tiles_url": "https://{s}.tiles.example.se/{z}/{x}/{y}.png",
        "map_tiles_attribution": "© Exempel"})
    sign_in(client, make.user(("analyst", "STHLM")))
    response = client.get(PAGE)
    assert map_data(html(response))["tiles"] == {"url": "https://{s}.tiles.example.se/{z}/{x}/{y}.png",
                                                  "attribution": "© Exempel"}
    assert "img-src 'self' data: https://*.tiles.example.se;" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("roles, status", [((("reporter", "S1"),), 404), ((("safety_rep", "S1"),), 404),
                                           ((("safety_officer", "HAGALV"),), 404), ((("analyst", "UTBF"),), 200),
                                           ((("handler", "S1"),), 404)])
def test_the_page_is_404_for_who_may_not_read_the_units_statistics(client, make, figures, roles, status):
    sign_in(client, make.user(*roles))
    assert client.get(PAGE).status_code == status


def test_bad_filters_are_400_and_signed_out_go_to_sign_in(client, make, figures):
    assert "/login" in client.get(PAGE).location
    sign_in(client, make.user(("analyst", "STHLM")))
    for query in ("year=x", "tertial=4", "year=1999", "type=no_such"):
        assert client.get(f"/karta?org_unit=UTBF&{query}").status_code == 400, query


def test_swedish_page(client, make, figures):
    sign_in(client, make.user(("analyst", "STHLM")))
    body = html(client.get(PAGE))
    assert '<html lang="sv">' in body and "Karta över händelser" in body
