"""The read log's page (auditors: filters by case and user, pages) and the registerutdrag page (data protection
officers: the download as JSON or PDF, a clear message for a bad number, CSRF)."""
from __future__ import annotations

import json

from sqlalchemy import select

from kia.cases.models import AccessLogEntry, Case
from tests.factories import incident_body, victimisation_body
from tests.web.test_admin import EN, html, sign_in

PUPIL = "20121212-1212"


def test_an_auditor_filters_the_read_log_by_case_and_by_user(client, api, make, tree, db):
    api.as_roles(("handler", "S1"))
    reporter = api.as_roles(("reporter", "S1"))
    first, second = (reporter.file(incident_body()).get_json()["cases"][0]["id"] for _ in range(2))
    reader = make.user(("handler", "S1"), name="Läsande Rektor")
    other = make.user(("handler", "S1"), name="Annan Rektor")
    api.as_user(reader).get(f"/api/v1/cases/{first}")
    api.as_user(other).get(f"/api/v1/cases/{second}")
    sign_in(client, make.user(("auditor", "UTBF"), language="en"))
    page = html(client.get("/admin/access-log", headers=EN))
    assert "Läsande Rektor" in page and "Annan Rektor" in page and "Read log" in page
    assert "Org units" not in page   # the admin pages are not offered to an auditor
    by_case = html(client.get(f"/admin/access-log?case_id={first}", headers=EN))
    assert "Läsande Rektor" in by_case and "Annan Rektor" not in by_case
    by_user = html(client.get(f"/admin/access-log?user_id={other.id}", headers=EN))
    assert "Annan Rektor" in by_user and "Läsande Rektor" not in by_user
    assert client.get("/admin").status_code == 403 and client.get("/admin/subject-access").status_code == 403


def test_the_read_log_pages_back_in_time(client, api, make, tree, db):
    api.as_roles(("handler", "S1"))
    case_id = api.as_roles(("reporter", "S1")).file(incident_body()).get_json()["cases"][0]["id"]
    reader = api.as_roles(("handler", "S1"))
    for _ in range(3):
        reader.get(f"/api/v1/cases/{case_id}")
    sign_in(client, make.user(("auditor", "UTBF"), language="en"))
    page = html(client.get("/admin/access-log?limit=2", headers=EN))
    assert page.count("<td>Opened the case</td>") == 2 and "Older" in page and "limit=2" in page
    last = db.scalars(select(AccessLogEntry.id).order_by(AccessLogEntry.id)).all()
    older = html(client.get(f"/admin/access-log?limit=2&cursor={last[1]}", headers=EN))
    assert older.count("<td>Opened the case</td>") == 1 and "Older" not in older


def test_a_data_protection_officer_downloads_a_registerutdrag(client, api, make, tree, db):
    api.as_roles(("handler", "S1"))
    filed = api.as_roles(("reporter", "S1")).file(victimisation_body()).get_json()
    csrf = sign_in(client, make.user(("data_protection_officer", "UTBF"), language="en"))
    form = html(client.get("/admin/subject-access", headers=EN))
    assert 'for="personal_number"' in form and "Registerutdrag" in form
    assert client.post("/admin/subject-access", data={"personal_number": PUPIL}).status_code == 400   # no CSRF
    response = client.post("/admin/subject-access", data={"csrf_token": csrf, "personal_number": PUPIL,
                                                          "format": "json"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert [r["incident"] for r in json.loads(response.data)["records"]] == [filed["number"]]
    pdf = client.post("/admin/subject-access", data={"csrf_token": csrf, "personal_number": PUPIL, "format": "pdf"})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "subject_access_search")).all()) == 2


def test_a_bad_number_is_shown_at_the_field_and_not_echoed(client, make, tree):
    csrf = sign_in(client, make.user(("data_protection_officer", "UTBF"), language="en"))
    response = client.post("/admin/subject-access", headers=EN,
                           data={"csrf_token": csrf, "personal_number": "20121212-1213", "format": "pdf"})
    page = html(response)
    assert response.status_code == 422
    assert "Not a valid personal identity number" in page and 'aria-invalid="true"' in page
    assert "20121212-1213" not in page
    assert client.get("/admin/access-log").status_code == 403   # not an auditor


def test_the_header_links_to_the_pages_of_the_new_roles(client, make, tree):
    sign_in(client, make.user(("auditor", "UTBF"), ("data_protection_officer", "UTBF"), language="en"))
    page = html(client.get("/", headers=EN))
    assert "/admin/access-log" in page and "/admin/subject-access" in page and ">Inbox<" not in page


def test_every_read_log_action_has_a_name_on_the_page():
    from kia.cases.read_log import ACTIONS
    from web.labels import READ_ACTIONS
    assert set(READ_ACTIONS) == set(ACTIONS)


def test_a_city_admin_gives_the_new_roles_on_the_users_page(client, make, tree, db):
    from kia.orgs.models import Role
    csrf = sign_in(client, make.user(("admin", "STHLM"), language="en"))
    user = make.user(("reporter", "S1"))
    form = html(client.get(f"/admin/users/{user.id}", headers=EN))
    assert 'value="auditor"' in form and "Data protection officer (dataskyddsombud)" in form
    for role in ("auditor", "data_protection_officer"):
        assert client.post(f"/admin/users/{user.id}/memberships",
                           data={"csrf_token": csrf, "role": role, "unit": "UTBF"}).status_code == 302
    db.expire_all()
    assert {m.role for m in user.memberships} == {Role.REPORTER, Role.AUDITOR, Role.DATA_PROTECTION_OFFICER}
