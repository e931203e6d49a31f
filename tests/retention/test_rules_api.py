"""GET and PUT an event type's retention rule (admins of the whole organisation): the seeded defaults, the legal
minimum refused at months with the minimum named (in Swedish by default), and a type without a rule."""
import pytest
from sqlalchemy import select

from kia.incidents.models import IncidentType
from kia.retention.defaults import DEFAULT_RULES, ensure_default_retention_rules
from kia.retention.models import RetentionRule

URL = "/api/v1/incident-types/{}/retention"


@pytest.fixture
def admin(api, tree):
    return api.as_roles(("admin", "STHLM"))


def test_every_builtin_type_has_its_default_rule_seeded(db):
    rules = {r.incident_type.code: (r.months, r.minimum_months, str(r.action))
             for r in db.scalars(select(RetentionRule))}
    assert rules == {code: (months, minimum, "anonymise") for code, (months, minimum) in DEFAULT_RULES.items()}
    assert rules["victimisation"][1] == 24 and rules["threat_violence"][1] == 24
    assert ensure_default_retention_rules(db) == 0   # seeded once, never again


def test_admin_reads_and_sets_a_rule(admin):
    assert admin.get(URL.format("victimisation")).get_json()["months"] == 60
    response = admin.put(URL.format("victimisation"), json={"months": 84, "action": "anonymise"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["months"], body["minimum_months"], body["action"]) == (84, 24, "anonymise")
    assert body["changed_by"]["id"] and body["changed_at"]
    assert admin.get(URL.format("victimisation")).get_json()["months"] == 84
    listed = {r["type"]: r for r in admin.get("/api/v1/retention-rules").get_json()}
    assert listed["victimisation"]["months"] == 84 and listed["fire"]["months"] == 36


def test_a_rule_below_the_legal_minimum_is_refused_at_months(admin):
    response = admin.put(URL.format("victimisation"), json={"months": 12})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    [message] = response.get_json()["errors"]["months"]
    assert "24" in message and "månader" in message
    english = admin.put(URL.format("threat_violence"), json={"months": 23}, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert english.get_json()["errors"]["months"] == [
        "At least 24 months for this event type: the law or the city archive requires its records to be kept "
        "that long after the cases close."]
    assert admin.get(URL.format("victimisation")).get_json()["months"] == 60   # unchanged


@pytest.mark.parametrize("body, field", [({"months": -1}, "months"), ({"months": 99999}, "months"),
                                         ({"months": 60, "action": "shred"}, "action"), ({}, "months")])
def test_bad_input_is_a_422_at_its_field(admin, body, field):
    response = admin.put(URL.format("fire"), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_type_without_minimum_may_be_destroyed_at_once(admin):
    response = admin.put(URL.format("fire"), json={"months": 0, "action": "destroy"})
    assert response.status_code == 200
    assert (response.get_json()["months"], response.get_json()["action"]) == (0, "destroy")


def test_a_type_added_later_has_no_rule_until_one_is_set(admin, db):
    db.add(IncidentType(code="own_type", name_sv="Egen", name_en="Own", category="safety"))
    db.commit()
    assert admin.get(URL.format("own_type")).get_json()["months"] is None
    assert admin.put(URL.format("own_type"), json={"months": 6}).get_json()["months"] == 6


def test_unknown_type_is_404_and_others_may_not(api, admin, tree):
    assert admin.get(URL.format("no_such_type")).status_code == 404
    handler = api.as_roles(("handler", "S1"))
    assert handler.put(URL.format("fire"), json={"months": 1}).status_code == 403
    administration_admin = api.as_roles(("admin", "UTBF"))
    assert administration_admin.get(URL.format("fire")).status_code == 403
