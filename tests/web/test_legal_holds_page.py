"""The admins' list of the legal holds standing on cases of their subtree."""
from __future__ import annotations

from tests.factories import incident_body
from tests.web.test_admin import EN, html, sign_in


def test_an_admin_lists_the_holds_of_their_subtree(client, api, make, tree):
    handler = api.as_roles(("handler", "S1"))
    reporter = api.as_roles(("reporter", "S1"))
    held, free = (reporter.file(incident_body()).get_json()["cases"][0] for _ in range(2))
    assert handler.put(f"/api/v1/cases/{held['id']}/legal-hold", json={"reason": "appeal"}).status_code == 200
    sign_in(client, make.user(("admin", "UTBF"), language="en"))
    page = html(client.get("/admin/legal-holds", headers=EN))
    assert held["number"] in page and free["number"] not in page and "Appeal" in page
    sign_in(client, make.user(("admin", "HAGALV"), language="en"))
    page = html(client.get("/admin/legal-holds", headers=EN))
    assert held["number"] not in page and "No case is held." in page
    sign_in(client, make.user(("auditor", "STHLM"), language="en"))
    assert client.get("/admin/legal-holds").status_code == 403
