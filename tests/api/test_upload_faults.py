"""Uploads that must be refused – over the size limit, a wrong content type, a zip bomb shaped as a Word document, a
file name with a folder in it – each a clear 4xx problem with a message at `file`, and nothing stored: no file (not
even a temporary one), no attachment row, no timeline entry. A real document of some size still goes through."""
from __future__ import annotations

import dataclasses
import io
import random
import struct
import zipfile

import pytest
from sqlalchemy import func, select

from kia.app import create_app
from kia.cases.models import Attachment, TimelineEntry
from tests.api.test_case_work_api import EXE, PDF, PROBLEM, case_id, rektor, rektor_user, staff  # noqa: F401 – fixtures
from tests.factories import ApiClient

MIB = 2**20


def _zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _docx(document: bytes | None = None, stream_zeros: int = 0) -> bytes:
    """A Word document; its main part `document`, or that many zero bytes written without holding them in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        if stream_zeros:
            with archive.open("word/document.xml", "w", force_zip64=True) as entry:
                zeros = bytes(MIB)
                for _ in range(stream_zeros // MIB):
                    entry.write(zeros)
        else:
            archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def _lying_docx() -> bytes:
    """A Word document whose main part says it unpacks to 1,000 bytes, in both headers, and unpacks to 8 MiB."""
    data = bytearray(_docx(bytes(8 * MIB)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        entry = archive.getinfo("word/document.xml")
    struct.pack_into("<I", data, entry.header_offset + 22, 1000)           # the local header's size
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(entry.filename)] != entry.filename.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 1000)                      # the central directory's
    return bytes(data)


def _varied_document(size: int) -> bytes:
    """XML text like a real long document's: it deflates a few times, not a thousand."""
    rng = random.Random(15)
    words = ["eleven", "läraren", "korridoren", "rasten", "skadan", "samtal", "vårdnadshavare", "åtgärd", "uppföljning"]
    paragraphs, length = [], 0
    while length < size:
        paragraph = f"<w:p><w:r><w:t>{' '.join(rng.choice(words) for _ in range(40))} {rng.random()}</w:t></w:r></w:p>"
        paragraphs.append(paragraph)
        length += len(paragraph)
    return ("<w:document><w:body>" + "".join(paragraphs) + "</w:body></w:document>").encode()


@pytest.fixture
def rektor_sv(api, rektor_user):   # noqa: F811 – the fixture imported above
    return api.as_user(rektor_user)   # no Accept-Language: Swedish


def upload(user, case_id: int, data: bytes, name: str):   # noqa: F811
    return user.post(f"/api/v1/cases/{case_id}/attachments", content_type="multipart/form-data",
                     data={"file": (io.BytesIO(data), name, "application/octet-stream")})


def _nothing_stored(db, settings, case_id: int) -> None:   # noqa: F811
    assert [p for p in (settings.instance_path / "attachments").rglob("*") if p.is_file()] == []
    assert db.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)) == 0
    assert db.scalar(select(func.count()).select_from(TimelineEntry).where(
        TimelineEntry.case_id == case_id, TimelineEntry.kind == "attachment_added")) == 0


@pytest.mark.parametrize("name", [
    "../../etc/passwd.pdf", "../intyg.pdf", "mapp/intyg.pdf", "/tmp/intyg.pdf", "..",
    "intyg\x00.pdf.exe", "intyg\x1b[2J.pdf",
    # The test client puts the name into the header as it is, and the header's quoting takes a backslash as an
    # escape: doubled here, so the server receives ..\..\intyg.pdf and C:\Users\…
    "..\\\\..\\\\intyg.pdf", "C:\\\\Users\\\\rektor\\\\intyg.pdf",
])
def test_a_file_name_with_a_folder_in_it_is_refused_before_anything_is_stored(rektor_sv, case_id, db,  # noqa: F811
                                                                              settings, name):
    response = upload(rektor_sv, case_id, PDF, name)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"]["file"] == [
        "Filnamnet får inte innehålla en mapp (/ eller \\) eller styrtecken: skicka filen under sitt eget namn."]
    _nothing_stored(db, settings, case_id)


@pytest.mark.parametrize("data, what", [
    (EXE, "a Windows program"),
    (b"\x7fELF\x02\x01\x01" + bytes(60), "a Linux program"),
    (b"\x00\x00\x00\x18ftypisom" + bytes(40), "an MP4 video"),
    (_docx(b"<w:document/>")[:-30], "a cut-off document"),
    (_zip_of({"intyg.pdf.exe": EXE}), "a program in a zip archive"),
])
def test_a_wrong_content_type_is_422_and_nothing_is_stored(rektor_sv, case_id, db, settings, data, what):  # noqa: F811
    response = upload(rektor_sv, case_id, data, "intyg.pdf")
    assert response.status_code == 422 and response.mimetype == PROBLEM, what
    assert response.get_json()["errors"]["file"][0].startswith("Den här filtypen tas inte emot."), what
    _nothing_stored(db, settings, case_id)


@pytest.mark.parametrize("bomb, what", [
    (lambda: _docx(stream_zeros=256 * MIB), "256 MiB of zeros in a 250 kB document"),
    (lambda: _docx(bytes(4 * MIB)), "4 MiB in 4 kB: a thousand times its size"),
    (_lying_docx, "a main part that says 1,000 bytes and unpacks to 8 MiB"),
])
def test_a_zip_bomb_shaped_as_a_document_is_refused(rektor, case_id, db, settings, bomb, what):  # noqa: F811
    data = bomb()
    response = upload(rektor, case_id, data, "protokoll.docx")
    assert response.status_code == 422 and response.mimetype == PROBLEM, what
    assert response.get_json()["errors"]["file"] == [
        "This document unpacks to far more than its size (more than 100 times, or over 200 MiB): it is not accepted."]
    _nothing_stored(db, settings, case_id)


def test_a_real_document_of_some_size_goes_through(rektor, case_id):  # noqa: F811
    document = _varied_document(3 * MIB)
    packed = _docx(document)
    assert len(document) / len(packed) > 3   # it does deflate, as XML does
    response = upload(rektor, case_id, packed, "utredning.docx")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["content_type"].endswith("wordprocessingml.document")


def test_over_the_size_limit_is_413_with_nothing_stored(settings, session_factory, make, rektor_user, case_id,  # noqa: F811
                                                         db):
    app = create_app(dataclasses.replace(settings, attachment_max_bytes=64 * 1024), session_factory=session_factory)
    app.config["TESTING"] = True
    rektor = ApiClient(app.test_client(), make).as_user(rektor_user)
    for size in (64 * 1024 + 1, 8 * MIB):   # just over: counted while receiving; far over: refused by its length
        response = upload(rektor, case_id, PDF + bytes(size - len(PDF)), "intyg.pdf")
        assert response.status_code == 413 and response.mimetype == PROBLEM
        assert response.get_json()["title"] in ("Filen är för stor.", "Begäran är för stor.")
    _nothing_stored(db, settings, case_id)
