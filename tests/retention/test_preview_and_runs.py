"""What the next run would erase (counts per type and the earliest registration numbers, never content) and the
runs' log, for admins of the whole organisation, in the API and on the admin page."""
from __future__ import annotations

from datetime import datetime

from kia.retention.runs import nightly_gallring, preview
from tests.conftest import TZ
from tests.retention.conftest import GALLRING_AT, PERSONAL_NUMBER
from tests.web.test_handling import post, sign_in


def test_the_preview_counts_what_a_run_then_takes(make, db, session_factory, scenario):
    admin = make.actor(("admin", "STHLM"))
    rows = {r.type: r for r in preview(db, admin, GALLRING_AT)}
    assert {t: r.count for t, r in rows.items()} == {"threat_violence": 7, "victimisation": 7, "fire": 1}
    assert len(rows["threat_violence"].earliest) == 7 and rows["threat_violence"].earliest[0].startswith("R-")
    result = nightly_gallring(session_factory, TZ, scenario.store, GALLRING_AT)
    assert {t: c["anonymised"] for t, c in result.counts.items()} == {t: r.count for t, r in rows.items()}
    assert preview(db, admin, GALLRING_AT) == []
    assert preview(db, admin, datetime(2024, 1, 1, tzinfo=TZ)) == []   # nothing has run out yet then


def test_the_api_shows_the_preview_and_the_runs_log(api, session_factory, scenario):
    admin = api.as_roles(("admin", "STHLM"))
    assert admin.put("/api/v1/incident-types/fire/retention", json={"months": 0}).status_code == 200
    [fire] = [row for row in admin.get("/api/v1/retention/preview").get_json() if row["type"] == "fire"]
    assert (fire["type"], fire["count"], fire["action"], len(fire["earliest"])) == ("fire", 1, "anonymise", 1)
    assert set(fire) == {"type", "name", "action", "months", "count", "earliest"}   # counts and numbers only
    nightly_gallring(session_factory, TZ, scenario.store, GALLRING_AT)
    [run] = admin.get("/api/v1/retention/runs").get_json()
    assert run["night"] == "2029-03-01" and run["status"] == "finished"
    assert run["counts"]["victimisation"] == {"anonymised": 7, "destroyed": 0, "files": 7}
    assert run["counts"]["fire"]["anonymised"] == 1
    assert PERSONAL_NUMBER not in str(run) and "Olle" not in str(run)
    assert api.as_roles(("handler", "S1")).get("/api/v1/retention/runs").status_code == 403


def test_the_admin_page_lists_the_rules_and_refuses_one_below_the_minimum(client, make, db, tree):
    sign_in(client, make.actor(("admin", "STHLM")))
    html = client.get("/admin/retention").get_data(as_text=True)
    assert "Gallringsregler" in html and "Kränkande behandling" in html and "24 månader" in html
    assert "tertialstatistiken för tidigare perioder räknar den då inte längre" in html   # destroy's cost, stated
    response = post(client, "/admin/retention/victimisation", {"months": "6", "action": "anonymise"})
    assert response.status_code == 422
    assert "At least 24 months" in response.get_data(as_text=True)
    response = post(client, "/admin/retention/victimisation", {"months": "36", "action": "destroy"})
    assert response.status_code == 302
    html = client.get("/admin/retention", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="months-victimisation" name="months" type="number" min="24" value="36"' in html
