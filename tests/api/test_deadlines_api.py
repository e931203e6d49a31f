"""GET a case's obligations; GET/PUT the deadline rules (admins), recomputed by the next sweep."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from kia.deadlines.admin import resync_if_rules_changed
from kia.deadlines.models import DeadlineRule, Obligation
from tests.conftest import TZ
from tests.factories import victimisation_body


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
