"""The lägesbild in a real browser: chart, tables and form axe-clean in Swedish and English, and on a
phone nothing wider than the screen."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from kia.orgs.models import OrgUnit
from tests.e2e.conftest import PHONE, check_page, sign_in
from tests.stats.conftest import Incidents

PAGE = "/lagesbild?org_unit=UTBF&year=2026&tertial=2"


@pytest.fixture(scope="module")
def figures(world):
    units = {u.code: u for u in world.session.scalars(select(OrgUnit))}
    incidents = Incidents(world.session, units)
    for when, n in ((datetime(2025, 10, 3, 9), 7), (datetime(2026, 2, 3, 9), 9), (datetime(2026, 6, 3, 9), 12)):
        incidents.add("S1", when, type="threat_violence", n=n, persons=(("staff", "female"), ("pupil", "male")))
    incidents.add("G1", datetime(2026, 6, 3, 9), type="fire", n=2)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_situation_picture(new_page, world, figures, language):
    page = new_page(language=language)
    sign_in(page, world.user(("analyst", "STHLM"), language=language))
    response = page.goto(PAGE)
    assert response.status == 200
    assert page.locator("svg[role=img] polyline").count() >= 1
    check_page(page, f"lagesbild-{language}")


def test_situation_picture_on_a_phone(new_page, world, figures):
    page = new_page(viewport=PHONE)
    sign_in(page, world.user(("safety_officer", "UTBF")))
    page.goto(PAGE)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    check_page(page, "lagesbild-phone-sv")
