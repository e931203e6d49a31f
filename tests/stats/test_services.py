"""Tertial statistics from the database: periods, roll-up, measures, comparisons, case figures, access."""
from __future__ import annotations

from datetime import datetime

import pytest

from kia.errors import InvalidQuery, NotFound
from kia.stats.services import StatisticsQuery, tertial_statistics
from tests.conftest import TZ

NO_SUPPRESSION = 1


@pytest.fixture
def analyst(make, tree):
    return make.actor(("analyst", "STHLM"))


def stats(db, actor, threshold=NO_SUPPRESSION, **query):
    query.setdefault("year", 2026)
    query.setdefault("tertial", 2)
    query.setdefault("org_unit", "UTBF")
    for key in ("group_by", "compare"):
        query[key] = tuple(query.get(key, ()))
    return tertial_statistics(db, actor, StatisticsQuery(**query), TZ, threshold)


def by_key(report) -> dict:
    return {tuple(r.key.values()): r.count.value for r in report.rows}


def test_last_minute_of_august_is_t2_and_first_of_september_t3(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 8, 31, 23, 59), n=2)      # 21:59 UTC, summer time
    incidents.add("S1", datetime(2026, 9, 1, 0, 0), n=3)         # 22:00 UTC on 31 August
    incidents.add("S1", datetime(2026, 4, 30, 23, 59, 59), n=4)  # T1
    assert stats(db, analyst, tertial=2).total.count.value == 2
    assert stats(db, analyst, tertial=3).total.count.value == 3
    assert stats(db, analyst, tertial=1).total.count.value == 4


def test_new_year_in_winter_time(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 12, 31, 23, 30), n=2)     # 22:30 UTC: still T3 2026
    incidents.add("S1", datetime(2027, 1, 1, 0, 30), n=5)        # 23:30 UTC on 31 December: T1 2027
    assert stats(db, analyst, year=2026, tertial=3).total.count.value == 2
    assert stats(db, analyst, year=2027, tertial=1).total.count.value == 5


def test_unit_rolls_up_whole_subtrees_of_the_direct_children(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), n=3)
    incidents.add("S2", datetime(2026, 6, 10, 12), n=2)
    incidents.add("GRU", datetime(2026, 6, 11, 12), n=1)
    incidents.add("G1", datetime(2026, 7, 1, 12), n=4)
    incidents.add("UTBF", datetime(2026, 7, 2, 12), n=1)          # on the root itself: its own row
    incidents.add("F1", datetime(2026, 7, 2, 12), n=9)            # another administration: not counted
    report = stats(db, analyst, group_by=["unit"])
    assert by_key(report) == {("GRU",): 6, ("GYM",): 4, ("UTBF",): 1}
    assert report.total.count.value == 11
    assert report.labels["unit"]["GRU"] == "Grundskoleavdelningen"
    assert by_key(stats(db, analyst, group_by=["unit"], org_unit="GRU")) == {("S1",): 3, ("S2",): 2, ("GRU",): 1}
    assert by_key(stats(db, analyst, group_by=["unit"], org_unit="STHLM")) == {("UTBF",): 11, ("HAGALV",): 9}


def test_type_and_category(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), type="threat_violence", n=3)
    incidents.add("S1", datetime(2026, 5, 10, 12), type="fire", n=2)
    incidents.add("S2", datetime(2026, 5, 10, 12), type="property_damage", n=1)
    report = stats(db, analyst, group_by=["category", "type"])
    assert str(report.measure) == "incidents"
    assert by_key(report) == {("safety", "fire"): 2, ("safety", "property_damage"): 1,
                              ("work_environment", "threat_violence"): 3}
    assert {r.key["category"]: r.count.value for r in report.subtotals["category"]} == {
        "safety": 3, "work_environment": 3}
    assert {r.key["type"]: r.count.value for r in report.subtotals["type"]} == {
        "fire": 2, "property_damage": 1, "threat_violence": 3}


def test_gender_and_person_category_count_affected_persons(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), n=2, persons=(("pupil", "female"), ("pupil", "male")))
    incidents.add("S1", datetime(2026, 5, 10, 12), n=1, persons=(("staff", "female"),))
    incidents.add("S1", datetime(2026, 5, 10, 12), n=1, persons=())  # nobody affected: not counted
    report = stats(db, analyst, group_by=["gender", "person_category"])
    assert str(report.measure) == "affected_persons"
    assert by_key(report) == {("female", "pupil"): 2, ("female", "staff"): 1, ("male", "pupil"): 2}
    assert report.total.count.value == 5
    assert stats(db, analyst).total.count.value == 4  # without person keys: incidents


def test_state_counts_cases(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), type="victimisation", n=2, states=("closed", "investigating"))
    incidents.add("S1", datetime(2026, 5, 10, 12), n=1, states=("closed",))
    report = stats(db, analyst, group_by=["state"])
    assert str(report.measure) == "cases"
    assert by_key(report) == {("closed",): 3, ("investigating",): 2}
    with pytest.raises(InvalidQuery) as excinfo:
        stats(db, analyst, group_by=["state", "gender"])
    assert "group_by" in excinfo.value.errors


def test_share_closed_per_row_and_in_total(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), type="victimisation", n=2, states=("closed", "investigating"))
    incidents.add("S1", datetime(2026, 5, 10, 12), n=3, states=("closed",))
    report = stats(db, analyst, group_by=["type"])
    assert {r.key["type"]: r.case_figures["share_closed"] for r in report.rows} == {
        "threat_violence": 1.0, "victimisation": 0.5}
    assert report.total.case_figures["share_closed"] == round(5 / 7, 3)
    # Below the threshold of cases the share is not published.
    thresholded = stats(db, analyst, threshold=4, group_by=["type"])
    assert {r.key["type"]: r.case_figures["share_closed"] for r in thresholded.rows} == {
        "threat_violence": None, "victimisation": None}
    assert thresholded.total.case_figures["share_closed"] == round(5 / 7, 3)


def test_comparisons_previous_tertial_and_same_tertial_last_year(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 2, 1, 12), n=7)   # T1 2026
    incidents.add("S1", datetime(2025, 11, 1, 12), n=5)  # T3 2025: T1's previous
    incidents.add("S1", datetime(2025, 3, 1, 12), n=9)   # T1 2025: last year
    report = stats(db, analyst, tertial=1, compare=["previous", "last_year"])
    total = report.total
    assert (total.count.value, total.compared["previous"].value, total.compared["last_year"].value) == (7, 5, 9)
    assert (total.change("previous"), total.change("last_year")) == (2, -2)
    assert report.comparisons["previous"].tertial.label() == "T3 2025"


def test_year_to_date(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 1, 1, 0, 0), n=2)
    incidents.add("S1", datetime(2026, 6, 1, 12), n=3)
    incidents.add("S1", datetime(2026, 9, 1, 0, 0), n=4)
    assert stats(db, analyst, tertial=2, scope="ytd").total.count.value == 5
    assert stats(db, analyst, tertial=2, scope="period").total.count.value == 3
    assert stats(db, analyst, tertial=3, scope="ytd").total.count.value == 9


def test_small_counts_are_suppressed_with_a_partner(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), type="fire", n=2)
    incidents.add("S1", datetime(2026, 5, 10, 12), type="threat_violence", n=6)
    incidents.add("S1", datetime(2026, 5, 10, 12), type="accident", n=8)
    report = stats(db, analyst, threshold=5, group_by=["type"])
    assert {r.key["type"]: (r.count.value, r.count.suppressed) for r in report.rows} == {
        "accident": (8, False), "fire": (None, True), "threat_violence": (None, True)}
    assert report.total.count.value == 16


@pytest.mark.parametrize("roles, unit", [
    ((("analyst", "HAGALV"),), "UTBF"),      # analyst of another administration
    ((("analyst", "S1"),), "GRU"),           # a role below the unit does not reach up
    ((("reporter", "UTBF"),), "UTBF"),
    ((("safety_rep", "UTBF"),), "UTBF"),
    ((("analyst", "UTBF"),), "NO_SUCH_UNIT"),
])
def test_units_out_of_reach_are_not_found(db, make, tree, roles, unit):
    with pytest.raises(NotFound):
        stats(db, make.actor(*roles), org_unit=unit)


@pytest.mark.parametrize("role", ["analyst", "handler", "principal_org", "safety_officer"])
def test_statistics_roles_read_their_subtree(db, make, tree, role, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), type="victimisation", n=3)
    assert stats(db, make.actor((role, "GRU")), org_unit="S1").total.count.value == 3


def test_case_figures_and_state_are_about_cases_opened_in_the_period(db, analyst, incidents):
    # Happened on the last evening of August, reported and opened on 2 September: an incident of T2,
    # a case of T3.
    incidents.add("S1", datetime(2026, 8, 31, 22), n=5, states=("closed",), opened=datetime(2026, 9, 2, 8))
    t2, t3 = stats(db, analyst, tertial=2, group_by=["state"]), stats(db, analyst, tertial=3, group_by=["state"])
    assert (by_key(t2), by_key(t3)) == ({}, {("closed",): 5})
    assert stats(db, analyst, tertial=2).total.count.value == 5
    assert stats(db, analyst, tertial=2).total.case_figures["share_closed"] is None  # no case opened in T2
    assert stats(db, analyst, tertial=3).total.case_figures["share_closed"] == 1.0


def test_comparison_counts_are_suppressed_on_their_own(db, analyst, incidents):
    incidents.add("S1", datetime(2026, 5, 10, 12), n=9)
    incidents.add("S2", datetime(2026, 5, 10, 12), n=8)
    incidents.add("S1", datetime(2025, 5, 10, 12), n=2)   # last year: S1 had 2, S2 had 7
    incidents.add("S2", datetime(2025, 5, 10, 12), n=7)
    report = stats(db, analyst, threshold=5, org_unit="GRU", group_by=["unit"], compare=["last_year"])
    rows = {r.key["unit"]: r for r in report.rows}
    assert [(r.count.value, r.compared["last_year"].value) for r in (rows["S1"], rows["S2"])] == [(9, None), (8, None)]
    assert rows["S1"].compared["last_year"].suppressed and rows["S1"].change("last_year") is None
    assert (report.total.compared["last_year"].value, report.total.change("last_year")) == (9, 8)


def test_median_days_to_close_overdue_and_reported_to_av(db, analyst, incidents):
    now = datetime(2026, 9, 1, 12, tzinfo=TZ)
    incidents.add("S1", datetime(2026, 5, 4, 10), n=3, states=("closed",), days_to_close=2)
    incidents.add("S1", datetime(2026, 5, 4, 10), n=2, states=("closed",), days_to_close=10)
    incidents.add("G1", datetime(2026, 5, 4, 10), n=2, states=("closed",), days_to_close=30, serious=True,
                  reported_to_av=True)
    incidents.add("G1", datetime(2026, 5, 4, 10), n=3, states=("investigating",), serious=True,
                  due=datetime(2026, 8, 1, 12))                                  # overdue now
    incidents.add("G1", datetime(2026, 5, 4, 10), n=1, states=("actions",), due=datetime(2026, 9, 30, 12))
    report = tertial_statistics(db, analyst, StatisticsQuery(2026, 2, "UTBF", group_by=("unit",)), TZ, 1, now=now)
    figures = {r.key["unit"]: r.case_figures for r in report.rows}
    # GRU: closed after 2, 2, 2, 10, 10 days; GYM: 30, 30.
    assert figures["GRU"] == {"share_closed": 1.0, "median_days_to_close": 2.0, "share_overdue": 0.0,
                              "share_serious_reported_to_av": None}
    assert figures["GYM"] == {"share_closed": round(2 / 6, 3), "median_days_to_close": 30.0,
                              "share_overdue": 0.5, "share_serious_reported_to_av": round(2 / 5, 3)}
    assert report.total.case_figures == {"share_closed": round(7 / 11, 3), "median_days_to_close": 10.0,
                                         "share_overdue": round(3 / 11, 3),
                                         "share_serious_reported_to_av": round(2 / 5, 3)}
    # With the threshold at 5, GYM's 2 closed cases are too few for a median, its 5 serious enough.
    strict = tertial_statistics(db, analyst, StatisticsQuery(2026, 2, "UTBF", group_by=("unit",)), TZ, 5, now=now)
    gym = next(r for r in strict.rows if r.key["unit"] == "GYM").case_figures
    assert (gym["median_days_to_close"], gym["share_serious_reported_to_av"]) == (None, 0.4)
