"""Unit coordinates (admin page, API, history) and an event's optional point near its unit (API and report form)."""
from __future__ import annotations

import pytest

from kia.access import Actor
from kia.errors import Forbidden, ValidationFailed
from kia.geo import distance_m
from kia.incidents.models import Incident
from kia.orgs import admin
from kia.orgs.history import history_of
from tests.factories import incident_body
from tests.web.test_admin import EN, html, sign_in

# Skola Ett at Engelbrektsskolan's place; 300 m north of it, and 2 km north.
S1_AT = (59.345410, 18.073380)
NEAR = (59.348100, 18.073380)
FAR = (59.363400, 18.073380)


@pytest.fixture
def city_admin(make, tree) -> Actor:
    return make.actor(("admin", "STHLM"))


@pytest.fixture
def placed(db, tree, city_admin):
    return admin.set_unit_coordinates(db, city_admin, tree["S1"].id, *S1_AT)


def test_geometry_is_metres_on_the_earth():
    assert distance_m(*S1_AT, *S1_AT) == 0
    assert 295 < distance_m(*S1_AT, *NEAR) < 305
    assert 1990 < distance_m(*S1_AT, *FAR) < 2010


def test_an_admin_sets_and_clears_coordinates_and_each_change_is_recorded(db, tree, city_admin):
    unit = admin.set_unit_coordinates(db, city_admin, tree["S1"].id, 59.3454101234, 18.0733799)
    assert (unit.latitude, unit.longitude) == (59.34541, 18.07338)
    admin.set_unit_coordinates(db, city_admin, tree["S1"].id, 59.34541, 18.07338)   # the same: nothing recorded
    admin.set_unit_coordinates(db, city_admin, tree["S1"].id, None, None)
    assert not db.get(type(unit), unit.id).has_coordinates
    assert [(c.what, c.old, c.new) for c in reversed(history_of(db, unit))] == [
        ("coordinates", None, "59.345410, 18.073380"), ("coordinates", "59.345410, 18.073380", None)]


@pytest.mark.parametrize("latitude, longitude, path", [(91, 18, "latitude"), (59, -181, "longitude"),
                                                       (59.3, None, "longitude"), (None, 18.0, "latitude"),
                                                       ("59,3", 18.0, "latitude")])
def test_coordinates_out_of_range_or_alone_are_refused(db, tree, city_admin, latitude, longitude, path):
    with pytest.raises(ValidationFailed) as refused:
        admin.set_unit_coordinates(db, city_admin, tree["S1"].id, latitude, longitude)
    assert path in refused.value.errors


def test_only_an_organisation_admin_places_units(db, make, tree):
    with pytest.raises(Forbidden):
        admin.set_unit_coordinates(db, make.actor(("admin", "UTBF")), tree["S1"].id, *S1_AT)


def test_the_api_sets_coordinates_and_lists_them(api, make, tree):
    city = api.as_roles(("admin", "STHLM"))
    response = city.put(f"/api/v1/org-units/{tree['S1'].id}/coordinates",
                        json={"latitude": S1_AT[0], "longitude": S1_AT[1]})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["latitude"], response.get_json()["longitude"]) == S1_AT
    listed = {u["code"]: u for u in city.get("/api/v1/org-units").get_json()}
    assert (listed["S1"]["latitude"], listed["S1"]["longitude"]) == S1_AT and listed["S2"]["latitude"] is None
    refused = city.put(f"/api/v1/org-units/{tree['S1'].id}/coordinates", json={"latitude": 100, "longitude": 18})
    assert refused.status_code == 422 and "latitude" in str(refused.get_json())
    assert api.as_roles(("admin", "UTBF")).put(f"/api/v1/org-units/{tree['S1'].id}/coordinates",
                                               json={"latitude": 59.3, "longitude": 18.0}).status_code == 403
    assert city.put("/api/v1/org-units/999999/coordinates",
                    json={"latitude": 59.3, "longitude": 18.0}).status_code == 404


def test_the_unit_page_sets_coordinates_with_a_swedish_comma_and_keeps_what_was_typed_on_an_error(
        client, db, make, tree):
    token = sign_in(client, make.user(("admin", "STHLM"), language="en"))
    page = f"/admin/units/{tree['S1'].id}"
    saved = client.post(f"{page}/coordinates", headers=EN,
                        data={"csrf_token": token, "latitude": "59,34541", "longitude": "18,07338"})
    assert saved.status_code == 302
    db.expire_all()
    assert (db.get(type(tree["S1"]), tree["S1"].id).latitude) == 59.34541
    shown = html(client.get(page, headers=EN))
    assert 'value="59.34541"' in shown and "Coordinates" in shown   # in the history too
    refused = client.post(f"{page}/coordinates", headers=EN,
                          data={"csrf_token": token, "latitude": "norr", "longitude": "18,07338"})
    body = html(refused)
    assert refused.status_code == 422 and 'value="norr"' in body and 'aria-invalid="true"' in body
    assert 'href="#latitude"' in body


def test_an_event_point_near_its_unit_is_kept_and_shown(api, db, make, tree, placed):
    reporter = api.as_roles(("reporter", "S1"))
    filed = reporter.file(incident_body(latitude=NEAR[0], longitude=NEAR[1]))
    assert filed.status_code == 201, filed.get_json()
    assert (filed.get_json()["latitude"], filed.get_json()["longitude"]) == NEAR
    assert db.get(Incident, filed.get_json()["id"]).latitude == NEAR[0]
    assert reporter.file(incident_body()).get_json()["latitude"] is None   # optional


@pytest.mark.parametrize("point, message", [(FAR, "within 1000 m"), ((NEAR[0], None), "both latitude and longitude"),
                                            ((95.0, 18.0), "-90 to 90")])
def test_a_point_far_from_the_unit_or_half_given_is_refused_clearly(api, make, tree, placed, point, message):
    response = api.as_roles(("reporter", "S1"), language="en").file(
        incident_body(latitude=point[0], longitude=point[1]))
    assert response.status_code == 422
    assert message in str(response.get_json())


def test_a_point_on_a_unit_without_coordinates_is_refused(api, make, tree):
    response = api.as_roles(("reporter", "S2"), language="en").file(
        incident_body(org_unit="S2", latitude=NEAR[0], longitude=NEAR[1]))
    assert response.status_code == 422 and "no coordinates yet" in str(response.get_json())


def test_the_report_form_takes_an_optional_point(client, db, make, tree, placed):
    token = sign_in(client, make.user(("reporter", "S1"), language="en"))
    form = client.get("/report?type=threat_violence&org_unit=S1", headers=EN)
    assert 'id="latitude"' in html(form) and 'for="longitude"' in html(form)
    data = {"csrf_token": token, "type": "threat_violence", "org_unit": "S1", "occurred_at.date": "2026-03-10",
            "occurred_at.time": "09:30", "description": "Hot i korridoren.", "fields.threat_kind": "verbal_threat",
            "fields.weapon": "none", "fields.police_report_made": "no", "persons-count": "0"}
    far = client.post("/report", headers=EN, data={**data, "latitude": "59,3634", "longitude": "18,07338"})
    assert far.status_code == 422 and "within 1000 m" in html(far) and 'value="59,3634"' in html(far)
    filed = client.post("/report", headers=EN, data={**data, "latitude": "59,3481", "longitude": "18,07338"})
    assert filed.status_code == 200, html(filed)[:2000]
    assert db.query(Incident).filter(Incident.latitude == 59.3481).count() == 1
