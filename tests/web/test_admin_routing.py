"""The routing rules on /admin/rules: add one, change one on its own page, switch one off and on – messages at
the fields with what was typed kept, the fallback kept, and new cases routed by the changed rules."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kia.orgs.models import Role, User
from kia.routing.models import RoutingPurpose, RoutingRule
from tests.cases.conftest import filing, people  # noqa: F401 – fixtures
from tests.web.test_admin import EN, html, sign_in

ADD = {"purpose": "handle", "role": "safety_officer", "type": "fire", "category": "", "org_unit": "GRU",
       "priority": "2"}


@pytest.fixture
def token(client, db, people) -> str:
    return sign_in(client, db.get(User, people.admin.user_id))


def post(client, url: str, token: str, data: dict):
    return client.post(url, data={**data, "csrf_token": token}, headers=EN)


def fallback(db) -> RoutingRule:
    return db.scalar(select(RoutingRule).where(
        RoutingRule.purpose == RoutingPurpose.HANDLE, RoutingRule.role == Role.HANDLER,
        RoutingRule.incident_type_id.is_(None), RoutingRule.category.is_(None), RoutingRule.org_unit_id.is_(None)))


def latest_rule(db) -> RoutingRule:
    return db.scalar(select(RoutingRule).order_by(RoutingRule.id.desc()).limit(1))


def test_each_rule_has_a_change_link_and_a_switch_and_the_page_a_form_to_add_one(client, db, token):
    page = html(client.get("/admin/rules", headers=EN))
    rule = fallback(db)
    assert f'href="/admin/rules/{rule.id}">Edit<span class="visually-hidden"> rule {rule.id}</span>' in page
    assert f'action="/admin/rules/{rule.id}/active"' in page and "Switch off" in page
    form = page.split('id="add-rule"')[1]
    assert "<legend>What the role does</legend>" in form and '<label for="type">Event type</label>' in form
    assert '<option value="">Any type</option>' in form and '<label for="only_serious">' in form
    assert 'aria-describedby="priority-hint"' in form


def test_adding_a_rule_routes_new_cases_by_it(client, db, token, filing, people):
    response = post(client, "/admin/rules", token, {**ADD, "only_serious": "on"})
    assert response.status_code == 302 and response.location.endswith("/admin/rules")
    rule = latest_rule(db)
    assert (rule.incident_type.code, rule.category, rule.org_unit.code, rule.role, rule.only_serious,
            rule.priority, rule.changed_by_id) == ("fire", None, "GRU", Role.SAFETY_OFFICER, True, 2,
                                                   people.admin.user_id)
    page = html(client.get("/admin/rules", headers=EN))
    assert f"Routing rule {rule.id} added. New cases are routed by it." in page
    admin = db.get(User, people.admin.user_id)
    assert f"Last changed by {admin.name}" in html(client.get(f"/admin/rules/{rule.id}", headers=EN))
    rule.only_serious = False
    db.commit()
    assert filing.fire().assignee_id == people.safety_officer.user_id


def test_errors_are_shown_at_their_fields_and_what_was_typed_is_kept(client, db, token):
    before = latest_rule(db).id
    response = post(client, "/admin/rules", token, {**ADD, "type": "no_such_type", "role": "", "priority": "high"})
    assert response.status_code == 422
    page = html(response)
    assert 'id="type-error">Unknown event type: no_such_type.' in page
    assert 'id="role-error">Choose a role.' in page
    assert 'id="priority-error">Give a whole number from -1000 to 1000.' in page
    assert 'aria-describedby="priority-hint priority-error"' in page and 'value="high"' in page
    assert '<option value="GRU" selected>' in page   # the unit chosen is still chosen
    assert "The rule was not added: see the messages at the fields." in page
    both = post(client, "/admin/rules", token, {**ADD, "category": "safety"})
    assert both.status_code == 422 and 'id="category-error">Give an event type or a category, not both.' in html(both)
    analyst = post(client, "/admin/rules", token, {**ADD, "role": "analyst"})
    assert analyst.status_code == 422 and 'id="role-error">This role cannot handle cases.' in html(analyst)
    assert latest_rule(db).id == before


def test_changing_a_rule_on_its_page(client, db, token, filing, people):
    post(client, "/admin/rules", token, {**ADD, "org_unit": ""})
    rule = latest_rule(db)
    page = html(client.get(f"/admin/rules/{rule.id}", headers=EN))
    assert "<h1>Change routing rule" in page
    assert '<option value="fire" selected>' in page and '<option value="safety_officer" selected>' in page
    assert 'id="active" name="active" checked' in page and 'value="2"' in page

    response = post(client, f"/admin/rules/{rule.id}", token, {**ADD, "org_unit": "", "role": "principal_org",
                                                               "active": "on"})
    assert response.status_code == 302
    assert f"Routing rule {rule.id} saved." in html(client.get("/admin/rules", headers=EN))
    db.expire_all()   # changed by the app's own session
    assert filing.fire().assignee_id == people.principal_org.user_id

    bad = post(client, f"/admin/rules/{rule.id}", token, {**ADD, "org_unit": "NOPE", "active": "on"})
    assert bad.status_code == 422 and 'id="org_unit-error">Unknown org unit: NOPE.' in html(bad)
    db.expire_all()
    assert (rule.role, rule.org_unit_id) == (Role.PRINCIPAL_ORG, None)


def test_switching_a_rule_off_and_on(client, db, token, filing, people):
    post(client, "/admin/rules", token, ADD | {"org_unit": ""})
    rule = latest_rule(db)
    assert post(client, f"/admin/rules/{rule.id}/active", token, {"active": "false"}).status_code == 302
    assert f"Routing rule {rule.id} switched off." in html(client.get("/admin/rules", headers=EN))
    assert filing.fire().assignee_id == people.handler.user_id
    assert post(client, f"/admin/rules/{rule.id}/active", token, {"active": "true"}).status_code == 302
    db.expire_all()
    assert rule.active and filing.fire().assignee_id == people.safety_officer.user_id


def test_the_fallback_is_kept_with_a_message(client, db, token):
    rule = fallback(db)
    response = post(client, f"/admin/rules/{rule.id}/active", token, {"active": "false"})
    assert response.status_code == 409
    assert re.search(r'role="alert"><p>This is the last rule that gives every case to the nearest rektor',
                     html(response))
    narrowed = post(client, f"/admin/rules/{rule.id}", token, {"purpose": "handle", "role": "handler",
                                                               "type": "fire", "priority": "0", "active": "on"})
    assert narrowed.status_code == 409
    assert '<option value="fire" selected>' in html(narrowed)   # what was typed is kept
    db.expire_all()
    assert rule.active and rule.incident_type_id is None


def test_other_admins_may_not_change_rules_and_an_unknown_rule_is_404(client, db, make, tree, token):
    rule = fallback(db)
    assert client.get("/admin/rules/999999").status_code == 404
    assert post(client, "/admin/rules/999999/active", token, {"active": "false"}).status_code == 404
    sign_in(client, make.user(("admin", "UTBF")))
    for url, data in (("/admin/rules", ADD), (f"/admin/rules/{rule.id}", ADD),
                      (f"/admin/rules/{rule.id}/active", {"active": "false"})):
        assert post(client, url, token, data).status_code == 403, url
    assert client.get(f"/admin/rules/{rule.id}").status_code == 403


def test_the_page_is_in_swedish_by_default(client, token, db):
    page = html(client.get(f"/admin/rules/{fallback(db).id}", headers={"Accept-Language": "sv"}))
    assert "Ändra fördelningsregel" in page and "Vad rollen gör" in page
