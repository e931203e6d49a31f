"""The demo data: the organisation and users the README promises, and realistic incidents filed for real."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kia.auth.passwords import verify_password
from kia.db import utcnow
from kia.demo import DEMO_DOMAIN, DEMO_PASSWORD, build_demo_organisation, file_demo_incidents
from kia.incidents.models import Incident, IncidentType, PersonCategory, PersonRole
from kia.orgs.models import OrgKind, OrgUnit, User
from kia.orgs.services import administration_in
from kia.reference import reference_data
from tests.conftest import REPO_ROOT

TZ = ZoneInfo("Europe/Stockholm")
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _readme_demo_users() -> list[tuple[str, str, str]]:
    """(e-mail, role, unit code) from the README's table of demo users."""
    rows = re.findall(r"^\| `([^`]+@demo\.kia\.stockholm\.se)` \| (\w+)(?: \(.*?\))? \| .*?\((\w+)\) \|$", README, re.M)
    assert len(rows) == 7, "the README's demo user table changed shape"
    return rows


def _children(db, code: str) -> list[OrgUnit]:
    parent = db.scalar(select(OrgUnit).where(OrgUnit.code == code))
    return list(db.scalars(select(OrgUnit).where(OrgUnit.parent_id == parent.id)))


def test_demo_tree_is_the_stockholm_tree_the_readme_describes(db):
    assert build_demo_organisation(db) is True
    city = db.scalar(select(OrgUnit).where(OrgUnit.code == "STHLM"))
    assert (city.name, city.kind, city.parent_id) == ("Stockholms stad", OrgKind.CITY, None)
    assert {u.code: u.kind for u in _children(db, "STHLM")} == {
        "UTBF": OrgKind.ADMINISTRATION, "HAGALV": OrgKind.ADMINISTRATION, "HASVAL": OrgKind.ADMINISTRATION}
    assert {u.code for u in _children(db, "UTBF")} == {"GRU", "GYM"}

    grundskolor, gymnasier = _children(db, "GRU"), _children(db, "GYM")
    # README: "Grundskoleavdelningen (12 schools) and Gymnasieavdelningen (4 schools)".
    assert "Grundskoleavdelningen (12 schools)" in README and len(grundskolor) == 12
    assert "Gymnasieavdelningen (4 schools)" in README and len(gymnasier) == 4
    assert all(u.kind == OrgKind.UNIT for u in grundskolor + gymnasier)
    engel = db.scalar(select(OrgUnit).where(OrgUnit.code == "ENGEL"))
    assert engel.name == "Engelbrektsskolan" and engel in grundskolor

    for district in ("HAGALV", "HASVAL"):
        forskolor = [u for dept in _children(db, district) for u in _children(db, dept.code)]
        assert len(forskolor) >= 2
        assert all(u.name.startswith("Förskolan ") for u in forskolor)
        # The förskolor number their incidents in their own stadsdelsförvaltning's series.
        assert {administration_in(reference_data(db).active_unit_with_ancestors(u.code)).code for u in forskolor} == {district}
    # Materialised paths agree with the parent links.
    for unit in db.scalars(select(OrgUnit)):
        expected = f"{unit.parent.path if unit.parent else '/'}{unit.id}/"
        assert unit.path == expected, unit.code


@pytest.mark.parametrize("email, role, unit", _readme_demo_users())
def test_each_readme_demo_user_signs_in_with_the_readme_password_and_holds_its_role(db, email, role, unit):
    build_demo_organisation(db)
    assert f"**`{DEMO_PASSWORD}`**" in README
    user = db.scalar(select(User).where(User.email == email))
    assert verify_password(user.password_hash, DEMO_PASSWORD)
    assert not verify_password(user.password_hash, DEMO_PASSWORD.upper())
    assert [(m.role.value, m.org_unit.code) for m in user.memberships] == [(role, unit)]


def test_the_demo_users_cover_every_role_once(db):
    build_demo_organisation(db)
    roles = [role for _email, role, _unit in _readme_demo_users()]
    assert sorted(roles) == sorted(["reporter", "handler", "safety_rep", "safety_officer", "principal_org",
                                    "analyst", "admin"])


def test_every_other_unit_has_a_rektor_and_a_staff_member_without_a_password(db):
    build_demo_organisation(db)
    units = db.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.UNIT, OrgUnit.code != "ENGEL")).all()
    assert len(units) >= 16
    for unit in units:
        for local, role in (("rektor", "handler"), ("personal", "reporter")):
            user = db.scalar(select(User).where(User.email == f"{local}.{unit.code.lower()}@{DEMO_DOMAIN}"))
            assert user is not None, (local, unit.code)
            assert user.password_hash is None
            assert [(m.role.value, m.org_unit_id) for m in user.memberships] == [(role, unit.id)]


def test_building_the_demo_organisation_twice_changes_nothing(db):
    assert build_demo_organisation(db) is True
    counts = (db.scalar(select(func.count()).select_from(OrgUnit)), db.scalar(select(func.count()).select_from(User)))
    assert build_demo_organisation(db) is False
    assert (db.scalar(select(func.count()).select_from(OrgUnit)),
            db.scalar(select(func.count()).select_from(User))) == counts


DEMO_COUNT = 120   # enough for every type and unit to show up; each one is filed and worked for real


@pytest.fixture
def demo_incidents(db):
    """DEMO_COUNT demo incidents and the progress reported while filing them."""
    build_demo_organisation(db)
    steps: list[int] = []
    file_demo_incidents(db, DEMO_COUNT, TZ, progress=steps.append)
    return list(db.scalars(select(Incident).order_by(Incident.id))), steps


def test_demo_incidents_spread_over_the_last_two_years(demo_incidents):
    incidents, steps = demo_incidents
    assert len(incidents) == DEMO_COUNT
    assert steps == [1] * DEMO_COUNT
    now = utcnow()
    occurred = sorted(i.occurred_at for i in incidents)
    assert now - timedelta(days=731) < occurred[0] < now - timedelta(days=600)
    assert now - timedelta(days=60) < occurred[-1] < now
    assert len({(o.astimezone(TZ).year, o.astimezone(TZ).month) for o in occurred}) >= 20
    for incident in incidents:
        assert incident.occurred_at <= incident.known_at <= incident.reported_at <= now
        assert 7 <= incident.occurred_at.astimezone(TZ).hour <= 17  # school hours


def test_demo_incidents_cover_several_types_units_and_both_administrations_number_series(demo_incidents):
    incidents, _ = demo_incidents
    types = Counter(i.incident_type.code for i in incidents)
    assert len(types) >= 8
    assert {code for code, _n in types.most_common(2)} == {"victimisation", "threat_violence"}
    assert len({i.org_unit_id for i in incidents}) >= 18

    series: dict[tuple[str, int], list[int]] = defaultdict(list)
    for incident in incidents:
        prefix, year, seq = re.fullmatch(r"([A-Z]+)-(\d{4})-(\d{5})", incident.number).groups()
        assert int(year) == incident.reported_at.astimezone(TZ).year
        series[prefix, int(year)].append(int(seq))
    assert {prefix for prefix, _year in series} == {"UTBF", "HAGALV", "HASVAL"}
    for key, numbers in series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), key  # gapless per series and year


def test_demo_incidents_are_filed_by_staff_of_their_unit_with_plausible_persons(demo_incidents):
    incidents, _ = demo_incidents
    for incident in incidents:
        assert not incident.anonymous
        reporter_units = {m.org_unit_id for m in incident.reporter.memberships if str(m.role) == "reporter"}
        assert incident.org_unit_id in reporter_units
    persons = [p for i in incidents for p in i.persons]
    genders = Counter(str(p.gender) for p in persons)
    assert genders["female"] > 0 and genders["male"] > 0
    staff = Counter(str(p.gender) for p in persons if p.category == PersonCategory.STAFF)
    assert staff["female"] > staff["male"]  # most school staff are women


def test_each_demo_victimisation_incident_has_a_case_per_affected_pupil(demo_incidents):
    incidents, _ = demo_incidents
    victimisation = [i for i in incidents if i.incident_type.code == "victimisation"]
    assert len(victimisation) >= 20
    for incident in victimisation:
        affected = [p for p in incident.persons
                    if p.role == PersonRole.AFFECTED and p.category == PersonCategory.PUPIL]
        assert affected
        assert sorted(c.subject_person_id for c in incident.cases) == sorted(p.id for p in affected)
    assert any(len(i.cases) > 1 for i in victimisation)
    for incident in incidents:
        if incident.incident_type.code != "victimisation":
            assert len(incident.cases) == 1 and incident.cases[0].subject_person_id is None
        for case in incident.cases:
            if str(case.state) == "closed":   # closed through the workflow, guards and all
                assert case.closed_at and case.closing_summary and case.decision


def test_demo_cases_are_worked_as_far_as_their_age_makes_plausible(demo_incidents):
    incidents, _ = demo_incidents
    states = [str(c.state) for i in incidents for c in i.cases]
    assert states.count("closed") > len(states) / 2          # two years of history: most are done
    assert {"closed", "investigating"} <= set(states)
    recent = [c for i in incidents for c in i.cases if i.reported_at > utcnow() - timedelta(hours=20)]
    assert all(str(c.state) == "received" for c in recent)     # nobody has had time to look yet


def test_the_demo_holds_its_oldest_closed_kraenkning_case_from_gallring(db, demo_incidents):
    from kia.retention.models import LegalHold, RetentionRule

    [hold] = db.scalars(select(LegalHold)).all()
    assert (hold.reason, hold.case.state, hold.case.incident_type.code) == ("appeal", "closed", "victimisation")
    assert hold.held_by_id == hold.case.assignee_id
    assert db.scalar(select(RetentionRule).join(RetentionRule.incident_type)
                     .where(IncidentType.code == "victimisation")).months == 60


def test_demo_units_are_placed_in_stockholm_and_a_third_of_the_events_on_their_sites(db):
    from kia.demo import COORDINATES
    from kia.geo import EVENT_POINT_RADIUS_M, distance_m

    build_demo_organisation(db)
    units = {u.code: u for u in db.scalars(select(OrgUnit))}
    schools = [u for u in units.values() if u.kind == OrgKind.UNIT]
    assert schools and all(u.has_coordinates for u in schools)
    assert set(COORDINATES) <= set(units)
    for unit in units.values():
        if unit.has_coordinates:   # within 20 km of Stadshuset: Stockholm, not the Gulf of Guinea
            assert distance_m(unit.latitude, unit.longitude, 59.3275, 18.0543) < 20_000, unit.code
    file_demo_incidents(db, 60, TZ)
    incidents = db.scalars(select(Incident)).all()
    placed = [i for i in incidents if i.latitude is not None]
    assert 5 <= len(placed) <= 40
    assert all(distance_m(i.latitude, i.longitude, i.org_unit.latitude, i.org_unit.longitude) < EVENT_POINT_RADIUS_M
               for i in placed)
