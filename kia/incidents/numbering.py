"""Registration numbers <ADMIN>-<YEAR>-<seq>, gapless per administration and year.

One atomic upsert on a counter row: under concurrent filing the row lock orders the writers,
and a rolled-back filing rolls its number back too, so no number is duplicated or skipped.
The lock is held until the filing commits, so a filing is written in full under a provisional
number first and numbered last (`number_incident`), right before its commit.
"""
from __future__ import annotations

import secrets

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kia.cases.models import Case
from kia.incidents.models import Incident, RegistrationCounter
from kia.orgs.models import OrgUnit

PROVISIONAL = "~"   # no registration number starts so: an administration's code is letters and digits

# On PostgreSQL one round trip: take the next number, give it to the incident and its cases ("…-1", "…-2",
# the suffixes of their provisional numbers). Data-modifying CTEs all run, whatever the outer query reads.
_NUMBER_ON_POSTGRESQL = text("""
WITH counter AS (
    INSERT INTO registration_counters (administration_id, year, last_number) VALUES (:administration_id, :year, 1)
    ON CONFLICT (administration_id, year) DO UPDATE SET last_number = registration_counters.last_number + 1
    RETURNING last_number),
numbered AS (
    UPDATE incidents SET number = :prefix || lpad(counter.last_number::text,
                                                  greatest(5, length(counter.last_number::text)), '0') FROM counter
    WHERE incidents.id = :incident_id RETURNING incidents.number),
cases_numbered AS (
    UPDATE cases SET number = numbered.number || substr(cases.number, strpos(cases.number, '-')) FROM numbered
    WHERE cases.incident_id = :incident_id)
SELECT number FROM numbered""")


def provisional_number() -> str:
    """Unique until the real number replaces it, in the same transaction."""
    return f"{PROVISIONAL}{secrets.token_hex(8)}"


def _upsert(session: Session, administration: OrgUnit, year: int) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = RegistrationCounter.__table__
    statement = (
        dialect.insert(table)
        .values(administration_id=administration.id, year=year, last_number=1)
        .on_conflict_do_update(index_elements=[table.c.administration_id, table.c.year],
                               set_={"last_number": table.c.last_number + 1})
        .returning(table.c.last_number)
    )
    return session.execute(statement).scalar_one()


def next_registration_number(session: Session, administration: OrgUnit, year: int) -> str:
    return f"{administration.code}-{year}-{_upsert(session, administration, year):05d}"


def number_incident(session: Session, incident: Incident, administration: OrgUnit, year: int) -> str:
    """Give a flushed incident under a provisional number its registration number, and its cases theirs
    (`<number>-1`, …). Takes the counter's row lock: call it last before the commit."""
    prefix = f"{administration.code}-{year}-"
    if session.get_bind().dialect.name == "postgresql":
        number = session.execute(_NUMBER_ON_POSTGRESQL, {
            "administration_id": administration.id, "year": year, "prefix": prefix,
            "incident_id": incident.id}).scalar_one()
    else:   # SQLite lets one writer in at a time anyway: plain statements
        number = next_registration_number(session, administration, year)
        incidents, cases = Incident.__table__, Case.__table__
        session.execute(update(incidents).where(incidents.c.id == incident.id).values(number=number))
        session.execute(update(cases).where(cases.c.id == bindparam("case_id")).values(number=bindparam("new_number")),
                        [{"case_id": case.id, "new_number": number + _suffix(case)} for case in incident.cases])
    set_committed_value(incident, "number", number)
    for case in incident.cases:
        set_committed_value(case, "number", number + _suffix(case))
    return number


def _suffix(case: Case) -> str:
    return case.number[case.number.index("-"):]
