"""The lägesbild page and PDF: signed-in only, the API's access rules, the same suppressed figures."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from kia.orgs.services import create_org_unit

from tests.conftest import record_statements
from tests.stats.conftest import incidents  # noqa: F401 – fixture

PAGE = "/lagesbild?org_unit=UTBF&year=2026&tertial=2"


def sign_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["two_factor_verified"] = True   # as after the second step (web.two_factor)


@pytest.fixture
def figures(incidents):  # noqa: F811
    incidents.add("S1", datetime(2026, 5, 4, 10), type="threat_violence", n=12,
                  persons=(("staff", "female"), ("staff", "male")))
    incidents.add("G1", datetime(2026, 6, 4, 10), type="fire", n=6)
    incidents.add("G1", datetime(2025, 6, 4, 10), type="threat_violence", n=20)
    incidents.add("S1", datetime(2025, 10, 4, 10), type="threat_violence", n=7)
    incidents.add("S1", datetime(2026, 2, 4, 10), type="threat_violence", n=8)
    incidents.add("S1", datetime(2026, 2, 4, 10), type="fire", n=2)


def table(html: str, caption: str) -> str:
    return html.split(f"<caption>{caption}")[1].split("</table>")[0]


def test_page_shows_trend_chart_and_tables(client, make, tree, figures):
    sign_in(client, make.user(("safety_officer", "UTBF")))
    response = client.get(PAGE, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    trend = table(html, "Events by type and tertial")
    # T3 2024 … T2 2026; in T1 2026 the 2 fires are hidden, and the 8 threats with them.
    threats = trend.split("</tr>")[1]
    assert threats.count("<td>") == 6
    assert threats.split("</th>")[1].replace("</td>", "").split("<td>")[1:] == [
        "0", "0", "20", "7", '<abbr title="Hidden: too few to show without identifying anyone">..</abbr>', "12"]
    assert "<td>0</td><td>0</td><td>20</td><td>7</td><td>10</td><td>18</td>" in trend  # all events
    changes = table(html, "Units with the largest changes")
    assert changes.index("GYM") < changes.index("GRU")  # −14 before +12
    assert '<th scope="row">GYM</th><td>6</td><td>20</td><td>-14</td>' in changes
    assert '<th scope="row">GRU</th><td>12</td><td>0</td><td>+12</td>' in changes
    gender = table(html, "Affected persons by gender and category, T2 2026")
    assert '<th scope="row">Female</th><td>Staff</td><td>18</td>' in gender
    assert '<th scope="row">Male</th><td>Staff</td><td>12</td>' in gender


def main(html: str) -> str:
    return html.split('<main id="main"')[1].split("</main>")[0]


def test_the_rektors_page_shows_the_schools_figures_as_the_analysts_does(client, make, tree, figures):
    school = "/lagesbild?org_unit=S1&year=2026&tertial=2"
    sign_in(client, make.user(("handler", "S1")))
    rektors = client.get("/lagesbild?year=2026&tertial=2", headers={"Accept-Language": "en"})  # S1: their own
    assert rektors.status_code == 200
    html = rektors.get_data(as_text=True)
    threats = table(html, "Events by type and tertial").split("</tr>")[1]
    hidden = '<abbr title="Hidden: too few to show without identifying anyone">..</abbr>'
    # S1 alone: 7 threats in T3 2025; in T1 2026 2 fires hide the 8 threats; 12 in T2 2026.
    assert threats.split("</th>")[1].replace("</td>", "").split("<td>")[1:] == ["0", "0", "0", "7", hidden, "12"]
    gender = table(html, "Affected persons by gender and category, T2 2026")
    assert '<th scope="row">Female</th><td>Staff</td><td>12</td>' in gender
    assert '<th scope="row">Male</th><td>Staff</td><td>12</td>' in gender
    sign_in(client, make.user(("analyst", "STHLM")))
    analysts = client.get(school, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert main(analysts) == main(html)


def test_the_rektors_page_takes_as_many_statements_whatever_the_school_holds(
        client, db, make, tree, incidents, connection, request):
    """No query per unit, type, tertial's case or person: more of them cost no more statements."""
    sign_in(client, make.user(("handler", "GRU")))   # a rektor over two schools
    page = "/lagesbild?org_unit=GRU&year=2026&tertial=2"
    client.get(page)
    statements = record_statements(connection, request)
    assert client.get(page).status_code == 200
    few = len(statements)
    assert few <= 25, statements
    for code in ("S3", "S4"):
        tree.units[code] = create_org_unit(db, code, f"Skola {code}", "unit", tree["GRU"])
    for unit in ("S1", "S2", "S3", "S4"):
        for month in (1, 3, 5, 7, 10, 12):
            for kind in ("threat_violence", "fire", "accident"):
                incidents.add(unit, datetime(2025 + month % 2, month, 4, 10), type=kind, n=3,
                              persons=(("staff", "female"), ("pupil", "male")), states=("received", "closed"))
    statements.clear()
    assert client.get(page).status_code == 200
    assert len(statements) == few, statements


def test_pdf_is_a_pdf(client, make, tree, figures):
    sign_in(client, make.user(("analyst", "STHLM")))
    response = client.get(PAGE.replace("/lagesbild", "/lagesbild.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_signed_out_goes_to_login(client, tree):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("roles", [(("reporter", "S1"),), (("analyst", "HAGALV"),)])
def test_out_of_reach_is_404(client, make, tree, roles):
    sign_in(client, make.user(*roles))
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE.replace("/lagesbild", "/lagesbild.pdf")).status_code == 404


def test_bad_tertial_is_400(client, make, tree):
    sign_in(client, make.user(("analyst", "STHLM")))
    assert client.get("/lagesbild?org_unit=UTBF&year=2026&tertial=4").status_code == 400
    assert client.get("/lagesbild?org_unit=UTBF&year=x&tertial=1").status_code == 400


def test_default_unit_is_the_users_own(client, make, tree):
    sign_in(client, make.user(("handler", "S1")))
    response = client.get("/lagesbild?year=2026&tertial=2")
    assert response.status_code == 200 and "Skola Ett" in response.get_data(as_text=True)


def test_navigation_links_the_page_for_statistics_roles_only(client, make, tree):
    sign_in(client, make.user(("reporter", "S1")))
    assert "/lagesbild" not in client.get("/me").get_data(as_text=True)
    sign_in(client, make.user(("handler", "S1")))
    assert "/lagesbild" in client.get("/me").get_data(as_text=True)


def test_the_page_offers_the_same_figures_as_csv_and_xlsx(client, make, tree, figures):
    sign_in(client, make.user(("safety_officer", "UTBF")))
    html = client.get(PAGE, headers={"Accept-Language": "en"}).get_data(as_text=True)
    links = re.findall(r'href="(/api/v1/statistics/tertial\?[^"]+)" download', html)
    assert len(links) == 2
    for link, mimetype in zip(sorted(links), ("text/csv", "application/vnd.openxmlformats")):
        response = client.get(link.replace("&amp;", "&"))   # the web session reads the API too
        assert response.status_code == 200 and response.mimetype.startswith(mimetype), response.get_data()[:200]
