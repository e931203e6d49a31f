"""What a filing writes, row for row: the same inputs filed into a fresh database must write exactly the rows recorded
in filing_rows.json, which was written by the filing code before it was made faster (issue 12). Any change to the
filing path that changes a stored value, adds or drops a row, fails here; a deliberate change of what is stored
rewrites the file (KIA_WRITE_FILING_ROWS=1) and shows in its diff.

The database is a fresh one (SQLite file, or a PostgreSQL database of its own beside the suite's), so ids are the
same on every run and on both databases."""
from __future__ import annotations

import enum
import hashlib
import json
import os
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import kia.models  # noqa: F401
from api.schemas import IncidentIn
from kia import migrate
from kia.access import Actor
from kia.config import Settings
from kia.db import Base, make_engine, recreate_postgres_database
from kia.demo import DEMO_DOMAIN, build_demo_organisation
from kia.feedback.limits import ClientGuard
from kia.feedback.services import file_anonymous_report, file_anonymously_as_staff
from kia.incidents.services import file_incident
from kia.orgs.models import User
from kia.orgs.services import create_user
from kia.outbox.models import WebhookSubscription
from kia.routing.models import Substitute
from kia.seed import ensure_reference_data
from tests.conftest import POSTGRES_URL, TZ

EXPECTED = Path(__file__).with_name("filing_rows.json")
NOW = datetime(2026, 10, 6, 7, 30, tzinfo=timezone.utc)   # a Tuesday
# Values no filing decides: a follow-up code is random by design (only its hash is stored).
RANDOM_COLUMNS = {("follow_up_codes", "code_hash")}


def _database_url(tmp_path: Path) -> str:
    if POSTGRES_URL:
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + POSTGRES_URL.rsplit("/", 1)[1] + "_rows"
        recreate_postgres_database(url)
        return url
    return f"sqlite:///{tmp_path / 'filing-rows.db'}"


def _prepare(session: Session) -> None:
    """The demo organisation, with a substitute standing in for ENGEL's rektor and a webhook for UTBF, so routing's
    stand-in and the webhook notices are written too."""
    ensure_reference_data(session)
    build_demo_organisation(session)
    rektor = session.scalar(select(User).where(User.email == f"rektor@{DEMO_DOMAIN}"))
    stand_in = create_user(session, f"ersattare@{DEMO_DOMAIN}", "Erik Ersättare", None, [("handler", "ENGEL")],
                           commit=False)
    session.flush()
    session.add(Substitute(user_id=rektor.id, substitute_id=stand_in.id, starts_at=NOW - timedelta(days=2),
                           ends_at=NOW + timedelta(days=2), created_by_id=rektor.id,
                           created_at=NOW - timedelta(days=3)))
    utbf = rektor.memberships[0].org_unit.parent.parent.parent
    session.add(WebhookSubscription(name="SMS-gateway", url="https://sms.example/kia", secret="s" * 32,
                                    org_unit_id=utbf.id, kinds="", created_at=NOW - timedelta(days=3)))
    session.commit()


def _inputs(session: Session) -> list[dict]:
    """The filings: the bench's realistic bodies (every type by the demo's frequencies), each with its reporter."""
    from bench.ingest_data import FieldSpec, incident_body
    from kia.incidents.models import IncidentType
    types = {t.code: [FieldSpec(f.key, f.kind, f.required, tuple(f.choice_values)) for f in t.fields]
             for t in session.scalars(select(IncidentType).where(IncidentType.active.is_(True)))}
    rng = random.Random(12)
    units = ["ENGEL", "ENGEL", "ENGEL"] + sorted(
        u.memberships[0].org_unit.code for u in session.scalars(select(User).where(User.email.like("personal.%"))))
    # Rare types with deadlines of their own (IMY's 72 hours from discovery, AML 3:3a) are filed on purpose.
    chosen = {16: "data_breach", 26: "serious_near_miss", 36: "data_breach"}
    inputs = []
    for index in range(40):
        unit = units[index % len(units)] if index % 3 else "ENGEL"
        body = json.loads(incident_body(rng, unit, types, NOW))
        while chosen.get(index, body["type"]) != body["type"]:
            body = json.loads(incident_body(rng, unit, types, NOW))
        how = "anonymous" if index % 13 == 5 else "staff_anonymous" if index % 13 == 9 else "staff"
        if how != "staff":
            body.update(type="risk_observation", persons=[], fields={"risk": "Trasig branddörr i korridoren."})
        inputs.append({"how": how, "body": body})
    return inputs


def _reporter(session: Session, unit: str) -> Actor:
    email = f"medarbetare@{DEMO_DOMAIN}" if unit == "ENGEL" else f"personal.{unit.lower()}@{DEMO_DOMAIN}"
    return Actor.for_user(session.scalar(select(User).where(User.email == email)))


def _file(session: Session, settings: Settings, filing: dict, at: datetime) -> None:
    data = IncidentIn().load(filing["body"])
    if filing["how"] == "anonymous":
        file_anonymous_report(session, data, TZ, ClientGuard(session, settings, "192.0.2.7", now=at), now=at)
        return
    actor = _reporter(session, filing["body"]["org_unit"])
    if filing["how"] == "staff_anonymous":
        file_anonymously_as_staff(session, actor, data, TZ, now=at)
        return
    fingerprint = hashlib.sha256(json.dumps(filing["body"], sort_keys=True).encode()).hexdigest()
    key = f"key-{at:%H%M}"
    file_incident(session, actor, data, TZ, idempotency=(key, fingerprint), now=at)
    # A retry with the same key writes nothing more.
    file_incident(session, actor, IncidentIn().load(filing["body"]), TZ, idempotency=(key, fingerprint), now=at)


def _value(table: str, column: str, value, started: datetime):
    if (table, column) in RANDOM_COLUMNS and value is not None:
        return "<random>"
    if isinstance(value, datetime):
        # A time taken from the clock (a column's default) rather than from the filing's `now`.
        return "<clock>" if value >= started else value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dict, list)):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    return value


def _tables(session: Session, started: datetime) -> dict[str, dict[str, dict]]:
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        rows = session.execute(select(table).order_by(*key)).mappings().all()
        snapshot[table.name] = {
            "/".join(str(row[c.name]) for c in key): {name: _value(table.name, name, v, started)
                                                     for name, v in row.items()}
            for row in rows}
    return snapshot


def _written(before: dict, after: dict) -> dict:
    """Per table, the rows the filings added and those they changed (as they are afterwards)."""
    written = {}
    for name, rows in after.items():
        changed = {key: row for key, row in rows.items() if before[name].get(key) != row}
        gone = sorted(set(before[name]) - set(rows))
        if changed or gone:
            written[name] = {"written": changed, **({"deleted": gone} if gone else {})}
    return written


@pytest.fixture
def fresh(tmp_path):
    engine = make_engine(_database_url(tmp_path))
    with engine.begin() as connection:
        migrate.upgrade(connection)
    yield engine
    engine.dispose()


def test_a_filing_writes_exactly_the_recorded_rows(fresh, tmp_path):
    settings = Settings(instance_path=tmp_path, database_url=str(fresh.url), secret_key="filing-rows-secret",
                        timezone=TZ, session_cookie_secure=False)
    started = datetime.now(timezone.utc) - timedelta(minutes=1)
    with Session(fresh, expire_on_commit=False) as session:
        _prepare(session)
        inputs = EXPECTED.exists() and not os.environ.get("KIA_WRITE_FILING_ROWS") and json.loads(
            EXPECTED.read_text(encoding="utf-8"))["inputs"] or _inputs(session)
        before = _tables(session, started)
        for index, filing in enumerate(inputs):
            _file(session, settings, filing, NOW + timedelta(minutes=index))
        session.expunge_all()
        written = _written(before, _tables(session, started))
    if os.environ.get("KIA_WRITE_FILING_ROWS"):
        EXPECTED.write_text(json.dumps({"inputs": inputs, "rows": written}, ensure_ascii=False, indent=1,
                                       sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["rows"]
    assert sorted(written) == sorted(expected)
    for table in expected:
        assert written[table] == expected[table], table
