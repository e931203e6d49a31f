"""Registration numbers <ADMIN>-<YEAR>-<seq>, gapless per administration and year.

One atomic upsert on a counter row: under concurrent filing the row lock orders the writers,
and a rolled-back filing rolls its number back too, so no number is duplicated or skipped.
The caller allocates as late as possible in its transaction to hold the lock briefly.
"""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kia.incidents.models import RegistrationCounter
from kia.orgs.models import OrgUnit


def next_registration_number(session: Session, administration: OrgUnit, year: int) -> str:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = RegistrationCounter.__table__
    statement = (
        dialect.insert(table)
        .values(administration_id=administration.id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.administration_id, table.c.year],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    sequence = session.execute(statement).scalar_one()
    return f"{administration.code}-{year}-{sequence:05d}"
