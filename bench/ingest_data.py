"""The ingest benchmark's database (demo organisation, reporters with tokens and one password) and its varied
reports, as the API's JSON bodies and as the web form's fields."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from urllib.parse import urlencode
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import kia.models  # noqa: F401 – every mapped class, so relationships resolve
from bench.ingest_app import metadata as bench_metadata
from kia import migrate
from kia.auth.passwords import hash_password
from kia.auth.tokens import create_token
from kia.db import make_engine, recreate_postgres_database
from kia.demo import DEMO_DOMAIN, DESCRIPTIONS, LOCATIONS, TYPE_WEIGHTS, build_demo_organisation
from kia.incidents.models import FieldKind, IncidentType
from kia.orgs.models import User
from kia.seed import ensure_reference_data

TZ = ZoneInfo("Europe/Stockholm")
PASSWORD = "kia-bench-ingest"   # every reporter's, for the web form's sign-in
FIRST_NAMES = ["Alva", "Elias", "Maja", "Noah", "Ella", "Hugo", "Saga", "Liam", "Selma", "Omar", "Wilma", "Ali"]


@dataclass(frozen=True)
class Reporter:
    token: str
    unit_code: str
    email: str


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    required: bool
    choices: tuple[str, ...]


@dataclass(frozen=True)
class BenchData:
    reporters: list[Reporter]
    types: dict[str, list[FieldSpec]]   # each active type's field definitions
    anonymous_types: frozenset[str]     # the active types that can be reported without an account


def prepare_database(url: str) -> BenchData:
    """Migrate and seed as `kia db upgrade` does, build the demo organisation, give every unit's staff member
    a token and the bench's password, add the baseline's table."""
    recreate_postgres_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
        bench_metadata.create_all(connection)  # the baseline's table: bench-only, so not an Alembic revision
    with Session(engine) as session:
        ensure_reference_data(session)  # as `kia db upgrade`: types, workflow, deadline and routing rules
        build_demo_organisation(session)
        staff = session.scalars(select(User).order_by(User.id).where(
            User.email.like(f"personal.%@{DEMO_DOMAIN}") | (User.email == f"medarbetare@{DEMO_DOMAIN}"))).all()
        password_hash = hash_password(PASSWORD)   # argon2 takes a fifth of a second: once, not per reporter
        for user in staff:
            user.password_hash = password_hash
        reporters = [Reporter(create_token(session, user, ["incidents:read", "incidents:write"])[1],
                              user.memberships[0].org_unit.code, user.email) for user in staff]
        active = session.scalars(select(IncidentType).where(IncidentType.active.is_(True))).all()
        data = BenchData(reporters,
                         {t.code: [FieldSpec(f.key, f.kind, f.required, tuple(f.choice_values)) for f in t.fields]
                          for t in active},
                         frozenset(t.code for t in active if t.allows_anonymous))
        session.commit()
    engine.dispose()
    return data


def _personnummer(rng: random.Random, born: date) -> str:
    """A valid personnummer (YYYYMMDD-NNNC, Luhn check digit) for someone born on `born`."""
    digits = born.strftime("%y%m%d") + f"{rng.randint(0, 999):03d}"
    total = sum(d - 9 if d > 9 else d for d in (int(c) * (2 - i % 2) for i, c in enumerate(digits)))
    return f"{born:%Y%m%d}-{digits[6:]}{(10 - total % 10) % 10}"


def _person(rng: random.Random, role: str, category: str, named: bool) -> dict:
    person = {"role": role, "category": category,
              "gender": rng.choices(["female", "male", "other", "unknown"], [48, 48, 2, 2])[0]}
    if named:  # the handler chain needs to know who; names and numbers are optional otherwise
        person["name"] = f"{rng.choice(FIRST_NAMES)} {rng.choice('ABCDEFGHJKLMNS')}."
        if category == "pupil":
            person["class_name"] = f"{rng.randint(1, 9)}{rng.choice('ABC')}"
            if rng.random() < 0.5:
                born = date(rng.randint(2010, 2019), rng.randint(1, 12), rng.randint(1, 28))
                person["personal_number"] = _personnummer(rng, born)
    return person


def _persons(rng: random.Random, code: str) -> list[dict]:
    if code == "victimisation":
        affected = [_person(rng, "affected", "pupil", True) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        return affected + [_person(rng, "perpetrator", "pupil", rng.random() < 0.5)]
    if code == "threat_violence":
        return [_person(rng, "affected", "staff", False),
                _person(rng, "perpetrator", rng.choice(["pupil", "pupil", "pupil", "guardian"]), False),
                *[_person(rng, "witness", "staff", False) for _ in range(rng.randint(0, 2))]]
    if code == "pupil_injury":
        return [_person(rng, "affected", "pupil", True)]
    if code in ("accident", "commuting_accident", "occupational_illness", "undue_influence"):
        return [_person(rng, "affected", "staff", False)]
    return []


def _field_value(rng: random.Random, spec: FieldSpec, occurred: datetime):
    if spec.kind == FieldKind.CHOICE:
        return rng.choice(spec.choices)
    if spec.kind == FieldKind.MULTICHOICE:
        return rng.sample(spec.choices, k=rng.randint(1, min(3, len(spec.choices))))
    if spec.kind == FieldKind.BOOLEAN:
        return rng.random() < 0.5
    if spec.kind == FieldKind.NUMBER:
        return rng.randint(1, 200)
    if spec.kind == FieldKind.DATE:
        return (occurred.date() - timedelta(days=rng.randint(0, 90))).isoformat()
    if spec.kind == FieldKind.DATETIME:
        return (occurred + timedelta(minutes=rng.randint(0, 300))).isoformat(timespec="minutes")
    return rng.choice(["Se beskrivningen.", "Samtal med berörda har hållits.", "Skadan dokumenterades med foto."])


def incident_report(rng: random.Random, unit_code: str, types: dict[str, list[FieldSpec]], now: datetime) -> dict:
    """One realistic POST /api/v1/incidents body: type (of `types`) by the demo's frequencies, times in the
    past month."""
    codes = [c for c in TYPE_WEIGHTS if c in types]
    code = rng.choices(codes, [TYPE_WEIGHTS[c] for c in codes])[0]
    occurred = (now - timedelta(days=rng.uniform(0.1, 30))).astimezone(TZ).replace(second=0, microsecond=0)
    body = {
        "type": code, "org_unit": unit_code,
        "occurred_at": occurred.replace(tzinfo=None).isoformat(timespec="minutes"),
        "known_at": (occurred + timedelta(minutes=rng.choice([0, 5, 30, 120]))).replace(tzinfo=None)
        .isoformat(timespec="minutes"),
        "location": rng.choice(LOCATIONS),
        "description": " ".join(rng.choice(DESCRIPTIONS[code]) for _ in range(rng.randint(1, 4))),
        "persons": _persons(rng, code),
        "fields": {s.key: _field_value(rng, s, occurred) for s in types[code] if s.required or rng.random() < 0.6},
    }
    return body


def as_json(report: dict) -> bytes:
    return json.dumps(report, ensure_ascii=False).encode()


def incident_body(rng: random.Random, unit_code: str, types: dict[str, list[FieldSpec]], now: datetime) -> bytes:
    return as_json(incident_report(rng, unit_code, types, now))


def as_form(report: dict, types: dict[str, list[FieldSpec]]) -> bytes:
    """The report as the web form posts it (web/report_form.py's input names), without the csrf_token and
    idempotency_key a page gives it."""
    pairs = [("type", report["type"]), ("org_unit", report["org_unit"]), ("location", report["location"]),
             ("description", report["description"])]
    for name in ("occurred_at", "known_at"):
        day, _, clock = report[name].partition("T")
        pairs += [(f"{name}.date", day), (f"{name}.time", clock)]
    pairs.append(("persons-count", str(len(report["persons"]))))
    for index, person in enumerate(report["persons"]):
        pairs += [(f"persons[{index}].{key}", value) for key, value in person.items()]
    kinds = {spec.key: spec.kind for spec in types[report["type"]]}
    for key, value in report["fields"].items():
        if kinds[key] == FieldKind.MULTICHOICE:   # one checkbox ticked per choice
            pairs += [(f"fields.{key}", choice) for choice in value]
        elif kinds[key] == FieldKind.BOOLEAN:
            pairs.append((f"fields.{key}", "true" if value else "false"))
        elif kinds[key] == FieldKind.DATETIME:    # a datetime-local input: local time, no offset
            pairs.append((f"fields.{key}", datetime.fromisoformat(value).replace(tzinfo=None).isoformat()[:16]))
        else:
            pairs.append((f"fields.{key}", str(value)))
    pairs.append(("action", "file"))
    return urlencode(pairs).encode()
