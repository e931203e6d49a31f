"""Demo data: a Stockholm-like org tree, one user per role, and realistic incidents filed through the
same service as the API (so numbers, cases and validation are the real ones)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from kia.access import Actor
from kia.auth.passwords import verify_password
from kia.cases.milestones import MilestoneInput, record_milestone, update_case
from kia.cases.models import Case
from kia.cases.workflow import TransitionInput, transition
from kia.outbox.models import DeliveryStatus, Notification
from kia.db import utcnow
from kia.incidents.models import FieldKind, IncidentType
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.property.models import DeliveryMethod, PropertyOwner, PropertyOwnerUnit
from kia.orgs.models import OrgUnit, User
from kia.orgs.services import create_org_unit, create_user, user_by_email
from kia.retention.holds import place_hold

DEMO_PASSWORD = "kia-demo-2026"
DEMO_DOMAIN = "demo.kia.stockholm.se"
DEMO_ADMIN = f"admin@{DEMO_DOMAIN}"

GRUNDSKOLOR = [
    ("ENGEL", "Engelbrektsskolan"), ("ADOLF", "Adolf Fredriks skola"), ("ERIKS", "Eriksdalsskolan"),
    ("HOGAL", "Högalidsskolan"), ("KATNO", "Katarina Norra skola"), ("MATTE", "Matteusskolan"),
    ("VASAS", "Vasaskolan"), ("BJORN", "Björngårdsskolan"), ("FRUAN", "Fruängsskolan"),
    ("ASPUD", "Aspuddens skola"), ("HAGAS", "Hägerstensåsens skola"), ("VALLS", "Vällingbyskolan"),
]
GYMNASIER = [("KUNGS", "Kungsholmens gymnasium"), ("NORRA", "Norra Real"),
             ("SOLAT", "Södra Latins gymnasium"), ("KUNGT", "Kungstensgymnasiet")]
FORSKOLOR_HA = [("FSOLR", "Förskolan Solrosen"), ("FEKOR", "Förskolan Ekorren"), ("FLIND", "Förskolan Linden")]
FORSKOLOR_HV = [("FBLAB", "Förskolan Blåbäret"), ("FHUMM", "Förskolan Humlan"), ("FSKOG", "Förskolan Skogsgläntan")]

# Where the demo units are (WGS84 latitude, longitude): points in the parts of Stockholm the schools are named after,
# for the map. The offices are near Stadshuset, Fleminggatan, Liljeholmen and Vällingby centrum.
COORDINATES = {
    "STHLM": (59.327520, 18.054340), "UTBF": (59.333190, 18.043520),
    "HAGALV": (59.309910, 18.022110), "HASVAL": (59.363060, 17.871920),
    "ENGEL": (59.345410, 18.073380), "ADOLF": (59.339160, 18.059970), "ERIKS": (59.306890, 18.069270),
    "HOGAL": (59.316630, 18.042960), "KATNO": (59.315650, 18.081740), "MATTE": (59.344880, 18.048170),
    "VASAS": (59.342090, 18.041600), "BJORN": (59.316240, 18.064600), "FRUAN": (59.285960, 17.964860),
    "ASPUD": (59.306470, 18.000420), "HAGAS": (59.296080, 17.981020), "VALLS": (59.362640, 17.869810),
    "KUNGS": (59.332150, 18.036980), "NORRA": (59.349480, 18.060470), "SOLAT": (59.317420, 18.059640),
    "KUNGT": (59.341370, 18.027540), "FSOLR": (59.293530, 18.006260), "FEKOR": (59.283440, 18.011290),
    "FLIND": (59.288510, 17.993130), "FBLAB": (59.367120, 17.840610), "FHUMM": (59.358870, 17.858730),
    "FSKOG": (59.374620, 17.826150),
}
# Demo events with a point are placed this far (metres, at most) from their unit, on its site.
DEMO_POINT_SPREAD_M = 150

# (e-mail local part, name, role, unit code): the README lists these.
ROLE_USERS = [
    ("medarbetare", "Maja Medarbetare", "reporter", "ENGEL"),
    ("rektor", "Rolf Rektor", "handler", "ENGEL"),
    ("skyddsombud", "Sara Skyddsombud", "safety_rep", "ENGEL"),
    ("sakerhet", "Sam Säkerhetssamordnare", "safety_officer", "UTBF"),
    ("huvudman", "Hanna Huvudman", "principal_org", "UTBF"),
    ("analytiker", "Ali Analytiker", "analyst", "STHLM"),
    ("admin", "Ada Admin", "admin", "STHLM"),
]

TYPE_WEIGHTS = {
    "threat_violence": 24, "victimisation": 26, "pupil_injury": 15, "accident": 8, "near_miss": 8,
    "risk_observation": 5, "property_damage": 5, "fire": 3, "data_breach": 2, "serious_near_miss": 1,
    "commuting_accident": 1, "occupational_illness": 1, "undue_influence": 1,
}
DESCRIPTIONS = {
    "threat_violence": ["En elev hotade att slå läraren efter en tillsägelse i klassrummet.",
                        "Vårdnadshavare uppträdde hotfullt i receptionen och skrek åt personalen.",
                        "Elev sparkade en fritidspedagog under rasten."],
    "victimisation": ["Eleven har blivit kallad kränkande saker i omklädningsrummet.",
                      "Eleven har uteslutits ur gruppchatten och hånats där.",
                      "Eleven knuffades och hånades i matsalskön."],
    "pupil_injury": ["Eleven föll från klätterställningen på skolgården.",
                     "Eleven skadade handen under idrottslektionen."],
    "accident": ["Medarbetaren halkade på vått golv i matsalen.", "Medarbetaren klämde fingret i en branddörr."],
    "near_miss": ["En hylla i slöjdsalen var nära att välta.", "Elev var nära att bli påkörd av leveransbil på skolgården."],
    "risk_observation": ["Trasig belysning i trapphuset mot idrottshallen.", "Lös trappkant vid huvudentrén."],
    "property_damage": ["Fönster krossat i matsalen under natten.", "Inbrott i datorsalen, tre datorer saknas."],
    "fire": ["Brandlarmet utlöstes av rök från papperskorg på toaletten.", "Falsklarm under lektionstid."],
    "data_breach": ["E-post med elevlista skickades till fel mottagare.", "En lärares dator med elevdokumentation stals."],
    "serious_near_miss": ["Ett tungt takelement föll ned i korridoren strax efter att elever passerat."],
    "commuting_accident": ["Medarbetaren cyklade omkull på väg till arbetet."],
    "occupational_illness": ["Långvarig hög arbetsbelastning har gett sömnproblem och stress."],
    "undue_influence": ["Vårdnadshavare erbjöd pengar för ett högre betyg."],
}
LOCATIONS = ["Klassrum", "Korridor", "Skolgården", "Matsalen", "Idrottshallen", "Omklädningsrum", "Entré", "Fritids"]


def has_demo_sign_in(session: Session) -> bool:
    """Whether the demo admin can sign in with the README's password (not deactivated, not changed)."""
    admin = user_by_email(session, DEMO_ADMIN)
    return admin is not None and admin.active and verify_password(admin.password_hash, DEMO_PASSWORD)


def build_demo_organisation(session: Session) -> bool:
    """Create the tree and users unless present; returns False if the demo organisation exists."""
    if session.scalar(select(OrgUnit.id).where(OrgUnit.code == "STHLM")) is not None:
        return False
    city = create_org_unit(session, "STHLM", "Stockholms stad", "city", commit=False)
    utbf = create_org_unit(session, "UTBF", "Utbildningsförvaltningen", "administration", city, commit=False)
    gru = create_org_unit(session, "GRU", "Grundskoleavdelningen", "department", utbf, commit=False)
    gym = create_org_unit(session, "GYM", "Gymnasieavdelningen", "department", utbf, commit=False)
    schools = [create_org_unit(session, c, n, "unit", gru, commit=False) for c, n in GRUNDSKOLOR]
    schools += [create_org_unit(session, c, n, "unit", gym, commit=False) for c, n in GYMNASIER]
    for admin_code, admin_name, dept_code, preschools in (
        ("HAGALV", "Hägersten-Älvsjö stadsdelsförvaltning", "HAFSK", FORSKOLOR_HA),
        ("HASVAL", "Hässelby-Vällingby stadsdelsförvaltning", "HVFSK", FORSKOLOR_HV),
    ):
        administration = create_org_unit(session, admin_code, admin_name, "administration", city, commit=False)
        department = create_org_unit(session, dept_code, "Förskoleavdelningen", "department", administration,
                                     commit=False)
        schools += [create_org_unit(session, c, n, "unit", department, commit=False) for c, n in preschools]
    place_demo_units(session)
    for local, name, role, unit in ROLE_USERS:
        create_user(session, f"{local}@{DEMO_DOMAIN}", name, DEMO_PASSWORD, [(role, unit)], commit=False)
    # Every other unit gets a rektor/förskolechef and a staff member who files (no password: no login).
    for unit in schools:
        if unit.code == "ENGEL":
            continue
        create_user(session, f"rektor.{unit.code.lower()}@{DEMO_DOMAIN}", f"Rektor {unit.name}", None,
                    [("handler", unit.code)], commit=False)
        create_user(session, f"personal.{unit.code.lower()}@{DEMO_DOMAIN}", f"Personal {unit.name}", None,
                    [("reporter", unit.code)], commit=False)
    # SISAB owns the school buildings: its fault reports go by e-mail here (the local mail folder under `make run`);
    # an admin can switch it to SISAB's Open311 endpoint on /admin/property-owners.
    session.flush()
    session.add(PropertyOwner(name="SISAB", method=DeliveryMethod.EMAIL, email=f"felanmalan.sisab@{DEMO_DOMAIN}",
                              endpoint_url="", api_key="", jurisdiction_id="", service_codes={},
                              units=[PropertyOwnerUnit(org_unit_id=unit.id) for unit in (gru, gym)]))
    session.commit()
    return True


def place_demo_units(session: Session) -> int:
    """Give the demo units that have none their coordinates (also in a demo database made before units had any);
    returns how many were placed. Not committed."""
    placed = 0
    for unit in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(COORDINATES), OrgUnit.latitude.is_(None))):
        unit.latitude, unit.longitude = COORDINATES[unit.code]
        placed += 1
    return placed


def _demo_point(rng: random.Random, unit: OrgUnit) -> tuple[float | None, float | None]:
    """A point on the unit's site for about a third of the events, none for the others."""
    if not unit.has_coordinates or rng.random() < 0.65:
        return None, None
    # 1 degree of latitude is about 111 km; one of longitude at 59.3° N about 57 km.
    north, east = (rng.uniform(-DEMO_POINT_SPREAD_M, DEMO_POINT_SPREAD_M) / 1.41 for _ in range(2))
    return round(unit.latitude + north / 111_000, 6), round(unit.longitude + east / 56_800, 6)


def _demo_value(rng: random.Random, kind: FieldKind, choices: list[str], at: datetime):
    if kind == FieldKind.CHOICE:
        return rng.choice(choices)
    if kind == FieldKind.MULTICHOICE:
        return rng.sample(choices, k=rng.randint(1, min(2, len(choices))))
    if kind == FieldKind.BOOLEAN:
        return rng.random() < 0.5
    if kind == FieldKind.NUMBER:
        return rng.randint(1, 40)
    if kind == FieldKind.DATE:
        return (at.date() - timedelta(days=rng.randint(0, 60))).isoformat()
    if kind == FieldKind.DATETIME:
        return (at + timedelta(minutes=rng.randint(0, 600))).isoformat()
    return "Se beskrivningen."


def _demo_persons(rng: random.Random, code: str) -> list[PersonInput]:
    def pupil(role):
        return PersonInput(role=role, category="pupil", gender=rng.choices(["female", "male", "other"], [47, 50, 3])[0],
                           class_name=f"{rng.randint(1, 9)}{rng.choice('ABC')}")

    def staff(role="affected"):
        return PersonInput(role=role, category="staff", gender=rng.choices(["female", "male"], [74, 26])[0])

    if code == "victimisation":
        return [pupil("affected") for _ in range(rng.choice([1, 1, 1, 2]))] + [pupil("perpetrator")]
    if code == "threat_violence":
        perpetrator = pupil("perpetrator") if rng.random() < 0.8 else PersonInput(
            role="perpetrator", category="guardian", gender=rng.choice(["female", "male"]))
        return [staff(), perpetrator]
    if code == "pupil_injury":
        return [pupil("affected")]
    if code in ("accident", "commuting_accident", "occupational_illness", "undue_influence"):
        return [staff()]
    return []


def file_demo_incidents(session: Session, count: int, tz: ZoneInfo, seed: int = 2026,
                        progress: Callable[[int], None] = lambda _n: None) -> None:
    """File `count` incidents spread over the last two years, each by a staff member of its unit, in the
    order they were reported (so numbers run as in a real register), then work each case as far as its
    age makes plausible: older cases closed, recent ones still being handled."""
    rng = random.Random(seed)
    # Its own generator: the points leave the draws of everything else, and so the demo's events, as they were.
    point_rng = random.Random(seed + 1)
    types = {t.code: t for t in session.scalars(select(IncidentType).where(IncidentType.active.is_(True)))}
    codes = [c for c in TYPE_WEIGHTS if c in types]
    weights = [TYPE_WEIGHTS[c] for c in codes]
    filers = list(session.scalars(select(User).where(User.email.like(f"personal.%@{DEMO_DOMAIN}"))
                                  .options(selectinload(User.memberships))))
    filers.append(user_by_email(session, f"medarbetare@{DEMO_DOMAIN}"))
    actors = [Actor.for_user(u) for u in filers if u is not None]
    now = utcnow()
    reports = []
    for _ in range(count):
        code = rng.choices(codes, weights)[0]
        actor = rng.choice(actors)
        unit = session.get(OrgUnit, actor.grants[0].unit_id)
        occurred = now - timedelta(days=rng.uniform(1, 730))
        occurred = occurred.astimezone(tz).replace(hour=rng.randint(7, 17), minute=rng.randint(0, 59))
        known = occurred + timedelta(minutes=rng.choice([0, 0, 10, 60, 240]))
        reported = min(known + timedelta(hours=rng.randint(0, 30)), now)
        latitude, longitude = _demo_point(point_rng, unit)
        data = IncidentInput(
            type=code, org_unit=unit.code, occurred_at=occurred, known_at=known, latitude=latitude, longitude=longitude,
            location=rng.choice(LOCATIONS), description=rng.choice(DESCRIPTIONS[code]),
            persons=_demo_persons(rng, code),
            fields={f.key: _demo_value(rng, f.kind, f.choice_values, occurred)
                    for f in types[code].current_fields if f.required or rng.random() < 0.6},
        )
        reports.append((reported, actor, data))
    for reported, actor, data in sorted(reports, key=lambda r: r[0]):
        incident, _ = file_incident(session, actor, data, tz, now=reported)
        for case in incident.cases:
            work_demo_case(session, case.id, reported, now, tz, rng)
        progress(1)
    hold_a_demo_case(session, tz)
    # The history's notifications went out back then; only what is still open may notify from now on.
    session.execute(update(Notification).where(Notification.created_at < now - timedelta(days=1))
                    .values(status=DeliveryStatus.SENT, sent_at=Notification.created_at))
    session.commit()


def work_demo_case(session: Session, case_id: int, reported: datetime, now: datetime, tz: ZoneInfo,
                   rng: random.Random) -> None:
    """Take a case through the real workflow services as its handler would have, at plausible times."""
    case = session.get(Case, case_id)
    if case.assignee_id is None:
        return
    handler = Actor.for_user(session.get(User, case.assignee_id))
    age = now - reported

    def at(hours: float) -> datetime:
        return min(reported + timedelta(hours=hours), now)

    if age < timedelta(hours=20) or rng.random() < 0.05:
        return                                            # still waiting for the handler
    transition(session, handler, case_id, TransitionInput(to="acknowledged"), tz, now=at(rng.uniform(1, 18)))
    if age < timedelta(days=3):
        return
    transition(session, handler, case_id, TransitionInput(to="investigating"), tz, now=at(30))
    record_milestone(session, handler, case_id, MilestoneInput(kind="investigation_started", at=at(30)), tz,
                     now=at(30))
    if case.incident_type.case_per_affected_pupil:
        record_milestone(session, handler, case_id, MilestoneInput(kind="principal_org_notified", at=at(40)), tz,
                         now=at(40))
    update_case(session, handler, case_id, "Samtal med de inblandade; händelseförloppet är klarlagt.")
    if age < timedelta(days=21) or rng.random() < 0.1:
        return                                            # investigation still going on
    transition(session, handler, case_id, TransitionInput(
        to="closed", closing_summary="Händelsen är utredd och åtgärder är vidtagna.",
        decision="Åtgärder genomförda; ärendet avslutas."), tz, now=at(24 * rng.uniform(10, 20)))


def hold_a_demo_case(session: Session, tz: ZoneInfo) -> None:
    """The oldest closed kränkning case is under appeal: its handler holds it from gallring, as the demo shows."""
    case = session.scalar(select(Case).join(IncidentType, Case.incident_type_id == IncidentType.id)
                          .where(IncidentType.code == "victimisation", Case.state == "closed",
                                 Case.assignee_id.is_not(None)).order_by(Case.created_at).limit(1))
    if case is not None:
        place_hold(session, Actor.for_user(session.get(User, case.assignee_id)), case.id, "appeal")
