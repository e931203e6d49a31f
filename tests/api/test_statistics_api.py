"""GET /api/v1/statistics/tertial: the contract, the three formats with the same numbers, access, errors."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime

import openpyxl
import pytest

from tests.stats.conftest import incidents  # noqa: F401 – fixture

URL = "/api/v1/statistics/tertial"
QUERY = "year=2026&tertial=2&org_unit=UTBF&group_by=type,unit&compare=previous,last_year"


@pytest.fixture
def t2_2026(incidents):  # noqa: F811
    """T2 2026 under UTBF: GRU has 9 threats and 2 fires, GYM 7 threats and 6 fires;
    T1 2026 (previous): 12 threats at GRU; T2 2025: 5 threats at GYM."""
    incidents.add("S1", datetime(2026, 5, 4, 10), type="threat_violence", n=6)
    incidents.add("S2", datetime(2026, 8, 31, 23, 59), type="threat_violence", n=3)
    incidents.add("S1", datetime(2026, 6, 1, 10), type="fire", n=2)
    incidents.add("G1", datetime(2026, 7, 1, 10), type="threat_violence", n=7)
    incidents.add("G1", datetime(2026, 7, 1, 10), type="fire", n=6, states=("closed",))
    incidents.add("S1", datetime(2026, 3, 1, 10), type="threat_violence", n=12)
    incidents.add("G1", datetime(2025, 6, 1, 10), type="threat_violence", n=5)
    incidents.add("F1", datetime(2026, 6, 1, 10), type="fire", n=40)  # HAGALV: never in UTBF's figures


def cells(body) -> dict:
    return {(r["type"], r["unit"]): r["count"] for r in body["rows"]}


def test_json_report(api, tree, t2_2026):
    response = api.as_roles(("analyst", "STHLM")).get(f"{URL}?{QUERY}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["measure"] == "incidents" and body["suppression_threshold"] == 5
    assert body["period"] == {"year": 2026, "tertial": 2, "scope": "period",
                              "first_day": "2026-05-01", "last_day": "2026-08-31"}
    assert body["comparisons"]["previous"]["tertial"] == 1
    # GRU's 2 fires are hidden; the rectangle GRU/GYM × fire/threat keeps them from being worked out.
    assert cells(body) == {("fire", "GRU"): None, ("fire", "GYM"): None,
                           ("threat_violence", "GRU"): None, ("threat_violence", "GYM"): None}
    assert {r["unit"]: r["count"] for r in body["subtotals"]["unit"]} == {"GRU": 11, "GYM": 13}
    assert {r["type"]: r["count"] for r in body["subtotals"]["type"]} == {"fire": 8, "threat_violence": 16}
    total = body["total"]
    assert (total["count"], total["previous"]["count"], total["last_year"]["count"]) == (24, 12, 5)
    assert (total["previous"]["change"], total["previous"]["change_percent"]) == (12, 100.0)
    assert total["share_closed"] == round(6 / 24, 3)
    assert body["labels"]["unit"] == {"GRU": "Grundskoleavdelningen", "GYM": "Gymnasieavdelningen"}
    assert body["case_figures"] == ["share_closed", "median_days_to_close", "share_overdue",
                                    "share_serious_reported_to_av"]


def test_unsuppressed_rows_with_comparisons(api, tree, t2_2026):
    body = api.as_roles(("analyst", "UTBF")).get(
        f"{URL}?year=2026&tertial=2&org_unit=UTBF&group_by=unit&compare=previous,last_year").get_json()
    rows = {r["unit"]: r for r in body["rows"]}
    assert (rows["GRU"]["count"], rows["GRU"]["previous"]["count"], rows["GRU"]["previous"]["change"]) == (11, 12, -1)
    assert (rows["GYM"]["count"], rows["GYM"]["last_year"]["count"], rows["GYM"]["last_year"]["change"]) == (13, 5, 8)
    # GRU had no incident in T2 2025 and GYM none in T1 2026: zeros are shown.
    assert rows["GRU"]["last_year"] == {"count": 0, "suppressed": False, "change": 11, "change_percent": None}
    assert rows["GYM"]["share_closed"] == round(6 / 13, 3)


def test_csv_and_xlsx_hold_the_same_numbers_as_json(api, tree, t2_2026):
    client = api.as_roles(("analyst", "STHLM"))
    body = client.get(f"{URL}?{QUERY}").get_json()
    expected = {("row", r["type"], r["unit"]): r["count"] for r in body["rows"]}
    expected.update({("subtotal:unit", "", r["unit"]): r["count"] for r in body["subtotals"]["unit"]})
    expected[("total", "", "")] = body["total"]["count"]

    response = client.get(f"{URL}?{QUERY}&format=csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    from_csv = {(r["level"], r["type"], r["unit"]): None if r["count"] == ".." else int(r["count"]) for r in table}
    assert {k: from_csv[k] for k in expected} == expected
    assert sum(1 for r in table if r["count"] == "..") == 4

    response = client.get(f"{URL}?{QUERY}&format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:6] == ["level", "type", "type_name", "unit", "unit_name", "count"]
    from_xlsx = {(line[0], line[1] or "", line[3] or ""): None if line[5] == ".." else line[5] for line in lines}
    assert {k: from_xlsx[k] for k in expected} == expected
    assert isinstance(from_xlsx[("total", "", "")], int)


def test_only_aggregates_leave(api, tree, t2_2026):
    body = api.as_roles(("analyst", "STHLM")).get(f"{URL}?{QUERY}").get_data(as_text=True)
    for forbidden in ('"id"', "description", "T-1", '"name": "User'):
        assert forbidden not in body


@pytest.mark.parametrize("query, field", [
    ("year=2026&tertial=4&org_unit=UTBF", "tertial"),
    ("year=twenty&tertial=1&org_unit=UTBF", "year"),
    ("year=1850&tertial=1&org_unit=UTBF", "year"),
    ("year=2026&tertial=1", "org_unit"),
    ("year=2026&tertial=1&org_unit=UTBF&group_by=type,colour", "group_by"),
    ("year=2026&tertial=1&org_unit=UTBF&group_by=type,type", "group_by"),
    ("year=2026&tertial=1&org_unit=UTBF&group_by=state,gender", "group_by"),
    ("year=2026&tertial=1&org_unit=UTBF&compare=next", "compare"),
    ("year=2026&tertial=1&org_unit=UTBF&scope=decade", "scope"),
    ("year=2026&tertial=1&org_unit=UTBF&format=pdf", "format"),
])
def test_bad_parameters_are_400_with_a_message_per_parameter(api, tree, query, field):
    response = api.as_roles(("analyst", "STHLM"), language="en").get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize("roles", [(("analyst", "HAGALV"),), (("reporter", "S1"),), (("safety_rep", "UTBF"),)])
def test_unit_out_of_reach_is_404(api, tree, roles):
    response = api.as_roles(*roles).get(f"{URL}?year=2026&tertial=2&org_unit=UTBF")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_unknown_unit_is_404_like_one_out_of_reach(api, tree):
    response = api.as_roles(("analyst", "STHLM")).get(f"{URL}?year=2026&tertial=2&org_unit=NOPE")
    assert response.status_code == 404


def test_token_without_statistics_scope_is_403(api, tree):
    client = api.as_roles(("analyst", "STHLM"), scopes=["incidents:read"])
    assert client.get(f"{URL}?year=2026&tertial=2&org_unit=UTBF").status_code == 403


def test_anonymous_is_401(client, tree):
    assert client.get(f"{URL}?year=2026&tertial=2&org_unit=UTBF").status_code == 401


def test_threshold_comes_from_the_settings(api, tree, settings, app, incidents):  # noqa: F811
    incidents.add("S1", datetime(2026, 5, 4, 10), n=3)
    app.extensions["kia"].settings = replace(settings, stats_suppression_threshold=3)
    body = api.as_roles(("analyst", "STHLM")).get(f"{URL}?year=2026&tertial=2&org_unit=UTBF").get_json()
    assert body["total"] == {"count": 3, "suppressed": False, "share_closed": 0.0, "median_days_to_close": None,
                             "share_overdue": 0.0, "share_serious_reported_to_av": None}


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/statistics/tertial"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"year", "tertial", "org_unit", "group_by", "format"}
    assert "affected persons" in operation["description"]


def test_case_figures_can_be_left_out(api, tree, t2_2026):
    client = api.as_roles(("analyst", "STHLM"))
    body = client.get(f"{URL}?{QUERY}&case_figures=false").get_json()
    assert body["case_figures"] == [] and set(body["total"]) == {"count", "suppressed", "previous", "last_year"}
    header = client.get(f"{URL}?{QUERY}&case_figures=false&format=csv").data.decode("utf-8-sig").splitlines()[0]
    assert "share_closed" not in header
