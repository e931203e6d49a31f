"""Registerutdrag: the records naming a person in the searcher's subtree, the number validated, and the search in
the read log as a keyed hash, never the number."""
from __future__ import annotations

import base64
import re
import zlib
from datetime import datetime

import pytest
from sqlalchemy import select

from kia.access import Actor
from kia.cases.models import AccessLogEntry
from kia.cases.read_log import subject_hash
from kia.errors import Forbidden, ValidationFailed
from kia.incidents.services import IncidentInput, PersonInput, file_incident
from kia.subject_access.export import report_data, report_pdf
from kia.subject_access.services import subject_access_report
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

SECRET = "app-secret"
PUPIL = "20121212-1212"


def file(db, reporter: Actor, unit: str, persons: list[PersonInput], description="Eleven blev slagen på gården."):
    data = IncidentInput(type="threat_violence", org_unit=unit, occurred_at=datetime(2026, 3, 10, 9, 30),
                         description=description, fields=dict(THREAT_FIELDS), persons=persons)
    return file_incident(db, reporter, data, TZ)[0]


def pupil(number=PUPIL, name="Åsa Öberg") -> PersonInput:
    return PersonInput(role="affected", category="pupil", gender="female", name=name, class_name="7Ä",
                       personal_number=number)


@pytest.fixture
def filed(db, make, tree):
    make.user(("handler", "S1"))
    reporter, gym_reporter = make.actor(("reporter", "S1")), make.actor(("reporter", "G1"))
    other = PersonInput(role="perpetrator", category="pupil", gender="male", name="Nils Annan",
                        personal_number="20100101-0006")
    return [file(db, reporter, "S1", [pupil(), other]),
            file(db, reporter, "S1", [pupil("121212-1212")]),          # the short form: the same person
            file(db, gym_reporter, "G1", [pupil()]),
            file(db, reporter, "S1", [other])]


def test_a_data_protection_officer_gets_every_record_naming_the_person_in_their_subtree(db, make, filed):
    dpo = make.actor(("data_protection_officer", "GRU"))
    report = subject_access_report(db, dpo, "121212-1212", SECRET)
    assert report.personal_number == PUPIL
    assert [r.incident_number for r in report.records] == [filed[0].number, filed[1].number]   # not G1's
    first = report.records[0]
    assert first.person == {"role": "affected", "category": "pupil", "gender": "female", "name": "Åsa Öberg",
                            "class_name": "7Ä", "personal_number": PUPIL}
    assert first.description == "Eleven blev slagen på gården." and first.cases[0].number == filed[0].cases[0].number
    data = report_data(report, TZ)
    assert "Nils Annan" not in str(data) and "20100101" not in str(data)   # the other person is not theirs
    city = subject_access_report(db, make.actor(("admin", "STHLM")), PUPIL, SECRET)
    assert len(city.records) == 3


def test_the_search_is_read_logged_with_a_keyed_hash_of_the_number(db, make, filed, tree):
    dpo = make.actor(("data_protection_officer", "GRU"))
    subject_access_report(db, dpo, PUPIL, SECRET)
    entry = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "subject_access_search")).one()
    assert entry.user_id == dpo.user_id and entry.org_unit_id == tree["GRU"].id and entry.detail == "2 found"
    assert entry.subject_hash == subject_hash(SECRET, PUPIL) != subject_hash("another secret", PUPIL)
    columns = [getattr(entry, c.key) for c in AccessLogEntry.__table__.columns]
    assert not any("1212" in str(value) for value in columns if value != entry.subject_hash)


@pytest.mark.parametrize("typed", ["", "hello", "20121212-1213", "20121312-1217", "2012121212121212"])
def test_a_bad_personal_number_is_refused_with_a_clear_error_and_not_logged(db, make, filed, typed):
    with pytest.raises(ValidationFailed) as excinfo:
        subject_access_report(db, make.actor(("data_protection_officer", "STHLM")), typed, SECRET)
    assert [m.text for m in excinfo.value.errors["personal_number"]] == [
        "Not a valid personal identity number (personnummer or samordningsnummer)."]
    assert db.scalar(select(AccessLogEntry).where(AccessLogEntry.action == "subject_access_search")) is None


def test_only_admins_and_data_protection_officers_search(db, make, filed):
    dpo = make.user(("data_protection_officer", "STHLM"))
    for actor in (make.actor(("handler", "STHLM")), make.actor(("auditor", "STHLM")),
                  make.actor(("principal_org", "STHLM")), Actor.for_user(dpo, frozenset({"cases:read"}))):
        with pytest.raises(Forbidden):
            subject_access_report(db, actor, PUPIL, SECRET)


def test_the_pdf_holds_swedish_letters(db, make, filed):
    report = subject_access_report(db, make.actor(("admin", "STHLM")), PUPIL, SECRET)
    pdf = report_pdf(report, TZ, lambda text: text)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Åsa Öberg" in text and "slagen på gården" in text and PUPIL in text


def pdf_text(pdf: bytes) -> str:
    """The page streams' text: reportlab writes them ASCII85 and zlib encoded, the letters outside ASCII as octal
    escapes of its Helvetica's WinAnsi encoding."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    raw = b"".join(zlib.decompress(base64.a85decode(s.strip().removesuffix(b"~>"))) for s in streams)
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), raw).decode("cp1252")
