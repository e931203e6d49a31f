"""Concurrent filing with real commits: registration numbers stay unique and gapless, and a burst of
retries with one Idempotency-Key stores one incident. Runs on SQLite and PostgreSQL (the issue's case)."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.auth.models import ApiToken
from kia.cases.models import Case
from kia.incidents.models import IdempotencyKey, Incident, RegistrationCounter
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.orgs.models import Membership, OrgUnit, User
from kia.orgs.services import create_org_unit, create_user
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

THREADS = 20
PER_THREAD = 5


@pytest.fixture
def committed_org(engine):
    """A separate tree committed for real (threads need their own connections), removed afterwards."""
    suffix = uuid.uuid4().hex[:6].upper()
    with Session(engine) as session:
        root = create_org_unit(session, f"C{suffix}", "Concurrency city", "city")
        admin = create_org_unit(session, f"A{suffix}", "Concurrency administration", "administration", root)
        school = create_org_unit(session, f"S{suffix}", "Concurrency school", "unit", admin)
        user = create_user(session, f"c{suffix.lower()}@test.kia.se", "Concurrent", None,
                           [("reporter", school.code)])
        ids = dict(root=root.id, admin=admin.id, school_code=school.code, admin_code=admin.code, user=user.id)
    yield ids
    with Session(engine) as session:
        incident_ids = select(Incident.id).where(Incident.reporter_id == ids["user"])
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == ids["user"]))
        session.execute(delete(Case).where(Case.incident_id.in_(incident_ids)))
        session.execute(delete(Incident).where(Incident.reporter_id == ids["user"]))
        session.execute(delete(RegistrationCounter).where(RegistrationCounter.administration_id == ids["admin"]))
        session.execute(delete(ApiToken).where(ApiToken.user_id == ids["user"]))
        session.execute(delete(Membership).where(Membership.user_id == ids["user"]))
        session.execute(delete(User).where(User.id == ids["user"]))
        for unit in session.scalars(select(OrgUnit).where(OrgUnit.path.like(f"/{ids['root']}/%"))
                                    .order_by(OrgUnit.path.desc())):
            session.delete(unit)
            session.flush()
        session.commit()


def _report(school_code: str) -> IncidentInput:
    return IncidentInput(type="threat_violence", org_unit=school_code, occurred_at=datetime(2026, 3, 10, 9, 30),
                         description="Samtidig rapport.", fields=dict(THREAT_FIELDS),
                         persons=[PersonInput(role="affected", category="staff", gender="female")])


def _file_as(engine, user_id: int, data: IncidentInput, idempotency=None) -> tuple[int, str, bool]:
    with Session(engine, expire_on_commit=False) as session:
        actor = Actor.for_user(session.get(User, user_id))
        incident, created = file_incident(session, actor, data, TZ, idempotency=idempotency)
        return incident.id, incident.number, created


def test_concurrent_filing_gives_unique_gapless_numbers(engine, committed_org):
    start = threading.Barrier(THREADS)

    def worker(_):
        start.wait()
        return [_file_as(engine, committed_org["user"], _report(committed_org["school_code"]))[1]
                for _ in range(PER_THREAD)]

    with ThreadPoolExecutor(THREADS) as pool:
        numbers = [n for batch in pool.map(worker, range(THREADS)) for n in batch]
    year = datetime.now(TZ).year
    expected = {f"{committed_org['admin_code']}-{year}-{i:05d}" for i in range(1, THREADS * PER_THREAD + 1)}
    assert len(numbers) == THREADS * PER_THREAD
    assert set(numbers) == expected   # no duplicate, none skipped


def test_concurrent_retries_with_one_key_store_one_incident(engine, committed_org):
    start = threading.Barrier(10)
    key = ("burst-" + uuid.uuid4().hex, "fingerprint")

    def worker(_):
        start.wait()
        return _file_as(engine, committed_org["user"], _report(committed_org["school_code"]), idempotency=key)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(worker, range(10)))
    assert len({incident_id for incident_id, _, _ in results}) == 1
    assert sum(created for _, _, created in results) == 1
    with Session(engine) as session:
        stored = session.scalars(select(Incident.id).where(Incident.reporter_id == committed_org["user"])).all()
    assert len(stored) == 1
