"""GET a case's obligations; GET, POST, PATCH and PUT the deadline rules (admins of the whole organisation),
problem+json at the fields, and open cases recomputed by the next sweep."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from kia.deadlines.admin import resync_if_rules_changed
from kia.deadlines.models import DeadlineRule, Obligation
from tests.conftest import TZ
from tests.factories import victimisation_body

RULES = "/api/v1/deadline-rules"
# Kränkande behandling: the guardians informed within two working days of when the school knew.
GUARDIANS = {"code": "guardians_informed", "name_sv": "Vårdnadshavare informerade", "name_en": "Guardians informed",
             "type": "victimisation", "start": "known_at", "due_working_days": 2,
             "met_by_milestone": "guardians_informed"}


@pytest.fixture
def filed(api, tree, make):
    make.user(("handler", "S1"))
    reporter = api.as_roles(("reporter", "S1"))
    return reporter.file(victimisation_body(occurred_at="2026-04-02T10:00", known_at="2026-04-02T10:00")).get_json()


def test_handler_reads_the_case_obligations(api, filed):
    handler = api.as_roles(("handler", "S1"))
    response = handler.get(f"/api/v1/cases/{filed['cases'][0]['id']}/obligations")
    assert response.status_code == 200
    by_rule = {o["rule"]: o for o in response.get_json()}
    assert by_rule["investigation_started"]["due_at"] == "2026-04-13T23:59:59+02:00"
    assert by_rule["investigation_started"]["status"] == "open"
    assert by_rule["staff_to_principal"]["status"] == "met"
    assert by_rule["principal_to_principal_org"]["name"] == {"sv": "Anmälan till huvudman",
                                                             "en": "Report to the principal organiser"}
    assert by_rule["investigation_started"]["overdue"] is True   # April 2026 is past


def test_obligations_out_of_scope_are_404(api, filed):
    safety_rep = api.as_roles(("safety_rep", "S1"))   # may not read victimisation cases
    assert safety_rep.get(f"/api/v1/cases/{filed['cases'][0]['id']}/obligations").status_code == 404


def test_only_organisation_admins_read_and_change_rules(api, tree):
    assert api.as_roles(("handler", "STHLM")).get("/api/v1/deadline-rules").status_code == 403
    assert api.as_roles(("admin", "UTBF")).get("/api/v1/deadline-rules").status_code == 403
    rules = api.as_roles(("admin", "STHLM")).get("/api/v1/deadline-rules").get_json()
    assert {r["code"] for r in rules} >= {"report_to_av", "report_to_imy", "acknowledged"}


def test_put_changes_rules_and_the_next_sweep_recomputes(api, db, filed):
    admin = api.as_roles(("admin", "STHLM"))
    rules = admin.get("/api/v1/deadline-rules").get_json()
    for rule in rules:
        if rule["code"] == "investigation_started":
            rule["due_working_days"] = 3
    rules = [r for r in rules if r["code"] != "report_to_fk"]   # left out: deactivated
    response = admin.client.put("/api/v1/deadline-rules", json=rules, headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    by_code = {r["code"]: r for r in response.get_json()}
    assert by_code["report_to_fk"]["active"] is False and by_code["investigation_started"]["due_working_days"] == 3

    assert resync_if_rules_changed(db, TZ, datetime(2026, 4, 2, 12, tzinfo=timezone.utc)) >= 1
    obligation = db.scalar(select(Obligation).join(DeadlineRule).where(
        Obligation.case_id == filed["cases"][0]["id"], DeadlineRule.code == "investigation_started"))
    assert obligation.due_at.astimezone(TZ).isoformat() == "2026-04-09T23:59:59+02:00"   # Tue, Wed, Thu
    assert resync_if_rules_changed(db, TZ, datetime(2026, 4, 2, 12, tzinfo=timezone.utc)) == 0   # once


@pytest.mark.parametrize("change, path", [
    ({"due_hours": 24}, "[0].due_hours"),                 # both hours and working days
    ({"start": "lunchtime"}, "[0].start"),
    ({"type": "no_such_type"}, "[0].type"),
    ({"met_by_state": "acknowledged"}, "[0].met_by_milestone"),   # both milestone and state
])
def test_invalid_rules_are_refused_and_nothing_changes(api, db, tree, change, path):
    admin = api.as_roles(("admin", "STHLM"))
    rules = admin.get("/api/v1/deadline-rules").get_json()
    first = next(r for r in rules if r["code"] == "investigation_started")
    rules.remove(first)
    rules.insert(0, {**first, **change})
    response = admin.client.put("/api/v1/deadline-rules", json=rules, headers=admin.headers)
    assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()
    assert db.scalar(select(DeadlineRule.due_working_days).where(DeadlineRule.code == "investigation_started")) == 5


def by_code(admin, code: str) -> dict:
    return next(r for r in admin.get(RULES).get_json() if r["code"] == code)


def test_post_adds_a_rule_patch_changes_it_and_the_next_sweep_recomputes(api, db, filed):
    admin = api.as_roles(("admin", "STHLM"), language="en")
    created = admin.post(RULES, json=GUARDIANS)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["type"], rule["category"], rule["only_serious"], rule["due_hours"], rule["due_working_days"],
            rule["escalate_after_hours"], rule["active"], rule["builtin"]) == (
        "victimisation", None, False, None, 2, 24, True, False)
    assert rule["changed_by"]["name"] and rule["changed_at"]
    resync_if_rules_changed(db, TZ, datetime(2026, 4, 2, 12, tzinfo=timezone.utc))
    due = db.scalar(select(Obligation.due_at).where(Obligation.case_id == filed["cases"][0]["id"],
                                                    Obligation.rule_id == rule["id"]))
    assert due.astimezone(TZ).isoformat() == "2026-04-08T23:59:59+02:00"   # past Easter: Tuesday, Wednesday

    changed = admin.patch(f"{RULES}/{rule['id']}", json={"due_hours": 24, "name_en": "Guardians told"})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["due_hours"], body["due_working_days"], body["name_en"], body["name_sv"]) == (
        24, None, "Guardians told", "Vårdnadshavare informerade")   # what was not sent is kept
    resync_if_rules_changed(db, TZ, datetime(2026, 4, 2, 12, tzinfo=timezone.utc))
    db.expire_all()
    due = db.scalar(select(Obligation.due_at).where(Obligation.case_id == filed["cases"][0]["id"],
                                                    Obligation.rule_id == rule["id"]))
    assert due.astimezone(TZ).isoformat() == "2026-04-03T10:00:00+02:00"

    off = admin.patch(f"{RULES}/{rule['id']}", json={"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert by_code(admin, "guardians_informed")["active"] is False   # switched off, still listed


@pytest.mark.parametrize("body, path", [
    ({**GUARDIANS, "code": "Not A Code"}, "code"),
    ({**GUARDIANS, "code": "report_to_imy"}, "code"),                         # taken
    ({**GUARDIANS, "type": "no_such_type"}, "type"),
    ({**GUARDIANS, "start": "field", "start_field": "classification"}, "start_field"),   # not a date field
    ({**GUARDIANS, "start": "milestone"}, "start_milestone"),
    ({**GUARDIANS, "due_hours": 48}, "due_hours"),                             # and working days
    ({**GUARDIANS, "due_working_days": "two"}, "due_working_days"),            # the schema's type check
    ({**GUARDIANS, "met_by_state": "closed"}, "met_by_milestone"),             # and a milestone
    ({**GUARDIANS, "met_by_milestone": None, "met_by_state": "rejected"}, "met_by_state"),
    ({key: value for key, value in GUARDIANS.items() if key != "name_en"}, "name_en"),   # required
    ({**GUARDIANS, "colour": "red"}, "colour"),                                # unknown keys are refused
])
def test_invalid_rules_are_problems_at_the_field(api, tree, body, path):
    admin = api.as_roles(("admin", "STHLM"), language="en")
    response = admin.post(RULES, json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert path in response.get_json()["errors"], response.get_json()
    assert "guardians_informed" not in {r["code"] for r in admin.get(RULES).get_json()}


def test_a_patch_with_a_bad_value_or_the_code_changes_nothing(api, tree):
    admin = api.as_roles(("admin", "STHLM"), language="en")
    imy = by_code(admin, "report_to_imy")
    for body, path in (({"start_field": "lost_at"}, "start_field"), ({"code": "imy"}, "code"),
                       ({"escalate_after_hours": -1}, "escalate_after_hours")):
        response = admin.patch(f"{RULES}/{imy['id']}", json=body)
        assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()
    assert by_code(admin, "report_to_imy") == imy


def test_messages_in_swedish_by_default(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    response = admin.post(RULES, json={**GUARDIANS, "due_working_days": None})
    assert response.get_json()["errors"]["due_hours"] == ["Ange fristen i timmar eller i arbetsdagar."]


@pytest.mark.parametrize("roles, scopes", [((("admin", "UTBF"),), None), ((("handler", "STHLM"),), None),
                                           ((("admin", "STHLM"),), ["cases:read"])])
def test_others_may_not_add_or_change_rules(api, db, tree, roles, scopes):
    other = api.as_roles(*roles, **({"scopes": scopes} if scopes else {}))
    imy_id = db.scalar(select(DeadlineRule.id).where(DeadlineRule.code == "report_to_imy"))
    assert other.post(RULES, json=GUARDIANS).status_code == 403
    assert other.patch(f"{RULES}/{imy_id}", json={"due_hours": 96}).status_code == 403
    assert db.scalar(select(DeadlineRule.due_hours).where(DeadlineRule.id == imy_id)) == 72


def test_an_unknown_rule_and_a_body_that_is_no_object(api, tree):
    admin = api.as_roles(("admin", "STHLM"))
    assert admin.patch(f"{RULES}/999999", json={"due_hours": 1}).status_code == 404
    assert admin.post(RULES, json=[GUARDIANS]).status_code == 400
    assert admin.post(RULES, data="code=x").status_code == 415


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/deadline-rules"]) == {"get", "post", "put"}
    assert set(spec["paths"]["/deadline-rules/{rule_id}"]) == {"patch"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["DeadlineRuleIn"]["required"]) == {"code", "name_sv", "name_en", "start"}
    assert "required" not in schemas["DeadlineRulePatchIn"] and "code" not in schemas["DeadlineRulePatchIn"]["properties"]
    assert {"id", "changed_by", "changed_at"} <= set(schemas["DeadlineRuleOut"]["properties"])


def test_a_patch_of_the_type_clears_the_category_and_switching_off_alone_is_never_refused(api, db, tree):
    admin = api.as_roles(("admin", "STHLM"), language="en")
    rule = by_code(admin, "report_to_av")   # every type, serious only
    category = admin.patch(f"{RULES}/{rule['id']}", json={"category": "work_environment"}).get_json()
    typed = admin.patch(f"{RULES}/{rule['id']}", json={"type": "accident"})
    assert typed.status_code == 200 and (typed.get_json()["type"], typed.get_json()["category"]) == ("accident", None)
    assert category["category"] == "work_environment"
    stored = db.get(DeadlineRule, rule["id"])
    stored.category = stored.incident_type.category   # as an older PUT could leave it: both
    db.commit()
    assert admin.patch(f"{RULES}/{rule['id']}", json={"active": False}).status_code == 200
    refused = admin.patch(f"{RULES}/{rule['id']}", json={"active": True})
    assert refused.status_code == 422 and "category" in refused.get_json()["errors"]
