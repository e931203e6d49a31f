"""The Swedish pages say nothing in English: no message of the catalogue appears untranslated in what they render,
whether it escaped extraction (a call inside an f-string), was never marked, or is built in Python (the SVG chart)."""
from __future__ import annotations

import html as html_module
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from kia.cases.models import Case
from tests.stats.conftest import incidents  # noqa: F401 – fixture
from tests.test_i18n import swedish_catalogue
from tests.web.test_lagesbild import sign_in

PAGES = ["/", "/me", "/inbox", "/inbox?overdue=1", "/report", "/my-reports", "/notifications", "/account/password",
         "/lagesbild?org_unit=UTBF&year=2026&tertial=2", "/lagesbild?org_unit=S1&year=2026&tertial=2",
         "/admin", "/admin/units", "/admin/users", "/admin/rules", "/admin/types", "/admin/types/new",
         "/admin/types/threat_violence", "/admin/notifications", "/admin/access-log", "/case", "/unit", "/user"]


def english_messages() -> dict[str, str]:
    """Catalogue messages whose Swedish differs, long enough (two words or more) not to be Swedish by chance;
    those with placeholders by their longest literal part."""
    found = {}
    for msgid, swedish in swedish_catalogue().items():
        msgid = msgid[0] if isinstance(msgid, tuple) else msgid
        swedish = swedish[0] if isinstance(swedish, tuple) else swedish
        if swedish == msgid:
            continue
        part = max(re.split(r"%\(\w+\)[sd]|%[sd]", msgid), key=len).strip(" .,:;")
        if " " in part and len(part) >= 12 and part not in swedish:
            found[part] = msgid
    return found


def visible_text(page: str) -> str:
    """What a reader (or screen reader) gets: text and the attributes read aloud, without scripts and styles
    (and without form values, which are data: a type's English labels are edited on its Swedish admin page)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    spoken = re.findall(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"', page)
    return html_module.unescape(" ".join([re.sub(r"<[^>]+>", " ", page), *spoken]))


@pytest.fixture
def user(make, tree, db, incidents):  # noqa: F811
    incidents.add("S1", datetime(2026, 5, 4, 10), n=12, persons=(("staff", "female"), ("pupil", "male")))
    incidents.add("S1", datetime(2026, 2, 4, 10), type="fire", n=2)
    incidents.add("G1", datetime(2025, 6, 4, 10), n=20)
    return make.user(("admin", "STHLM"), ("analyst", "STHLM"), ("handler", "S1"), language="sv")


@pytest.mark.parametrize("path", PAGES)
def test_a_swedish_page_shows_no_english_message(client, db, tree, user, path):
    path = {"/case": f"/cases/{db.scalar(select(Case.id).order_by(Case.id))}", "/unit": f"/admin/units/{tree['S1'].id}",
            "/user": f"/admin/users/{user.id}"}.get(path, path)
    sign_in(client, user)
    response = client.get(path, headers={"Accept-Language": "sv"})
    assert response.status_code == 200, path
    text = visible_text(response.get_data(as_text=True))
    english = sorted(msgid for part, msgid in english_messages().items() if part in text)
    assert not english, f"{path} in Swedish shows English: {english}"
