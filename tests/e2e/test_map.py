"""The event map in a real browser: Leaflet's clustered markers drawn from the table's figures (a hidden count has no
marker), axe-clean in Swedish and English and on a phone, and the table alone without JavaScript."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from kia.orgs.models import OrgUnit
from tests.e2e.conftest import PHONE, check_page, sign_in
from tests.stats.conftest import Incidents

PAGE = "/karta?org_unit=UTBF&year=2026&tertial=2"
PLACES = {"S1": (59.345410, 18.073380), "S2": (59.339160, 18.059970), "G1": (59.332150, 18.036980)}


@pytest.fixture(scope="module")
def placed_figures(world):
    units = {u.code: u for u in world.session.scalars(select(OrgUnit))}
    for code, (lat, lon) in PLACES.items():
        units[code].latitude, units[code].longitude = lat, lon
    world.session.commit()
    incidents = Incidents(world.session, units)
    incidents.add("S1", datetime(2026, 5, 12, 9), type="property_damage", n=18)
    incidents.add("G1", datetime(2026, 6, 12, 9), type="property_damage", n=7)
    incidents.add("G1", datetime(2026, 6, 12, 9), type="fire", n=9)
    incidents.add("S2", datetime(2026, 6, 12, 9), type="property_damage", n=2)   # hidden: no marker


def marker_numbers(page) -> list[int]:
    page.wait_for_selector(".map-count")
    return [int(text) for text in page.locator(".leaflet-marker-pane .map-count span").all_inner_texts()]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_map_draws_the_tables_shown_counts(new_page, world, placed_figures, language):
    page = new_page(language=language)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, world.user(("analyst", "STHLM"), language=language))
    assert page.goto(PAGE + "&type=property_damage").status == 200
    assert page.locator("#map-section").is_visible()
    # Clustered or not, the numbers add up to the shown counts; S2's 2 (and what would reveal it) are not drawn.
    numbers = marker_numbers(page)
    assert sum(numbers) in (18, 25) and 2 not in numbers
    assert page.locator(".leaflet-tile").count() == 0   # no tiles configured: nothing fetched from outside
    assert errors == []
    check_page(page, f"map-{language}")


def on_map_total(page) -> int:
    """The table's counts of the units it says are on the map."""
    rows = [row for row in page.locator("table tbody tr").all() if row.locator("td").nth(1).inner_text() == "Ja"]
    return sum(int(row.locator("td").first.inner_text()) for row in rows)


def test_every_type_and_a_marker_opens_its_popup(new_page, world, placed_figures):
    page = new_page()
    sign_in(page, world.user(("safety_officer", "UTBF")))
    page.goto(PAGE)
    # The markers add up to the table's counts of the units it says are on the map (other tests' events included).
    assert sum(marker_numbers(page)) == on_map_total(page) >= 18
    page.locator("#map-type").select_option("fire")
    page.get_by_role("button", name="Visa").click()
    numbers = marker_numbers(page)
    assert len(numbers) == 1 and numbers[0] == on_map_total(page) >= 9   # Gymnasium Ett's fires alone
    page.locator(".leaflet-marker-pane .map-count").first.click()
    assert f"Gymnasium Ett: {numbers[0]}" in page.locator(".leaflet-popup-content").inner_text()


def test_the_map_on_a_phone(new_page, world, placed_figures):
    page = new_page(viewport=PHONE)
    sign_in(page, world.user(("analyst", "STHLM")))
    page.goto(PAGE)
    marker_numbers(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    check_page(page, "map-phone-sv")


def test_without_javascript_the_table_is_the_page(browser, live_server, world, placed_figures):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="sv",
                                  extra_http_headers={"Accept-Language": "sv"})
    try:
        page = context.new_page()
        sign_in(page, world.user(("analyst", "STHLM")))
        page.goto(PAGE + "&type=property_damage")
        assert not page.locator("#map-section").is_visible()
        rows = page.locator("table tbody tr").all_inner_texts()
        assert any("Skola Ett" in r and "18" in r for r in rows) and any("Skola Två" in r and ".." in r for r in rows)
    finally:
        context.close()
