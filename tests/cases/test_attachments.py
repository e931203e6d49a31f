"""Attachments: the type from the bytes, storage by hash outside the web root, access rules and the log."""
from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kia.cases.attachments import (
    DOCX, ODT, TEXT, XLSX, AttachmentStore, AttachmentTooLarge, add_attachment, detect_type, list_attachments,
    open_attachment, remove_orphan_files, safe_filename,
)
from kia.cases.models import AccessLogEntry
from kia.errors import Forbidden, NotFound, ValidationFailed
from tests.cases.conftest import errors_of, timeline

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64) + b"This program cannot be run in DOS mode"


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(**extra: bytes) -> bytes:
    return zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", **extra})


def odf(mimetype: str) -> bytes:
    return zipped({"mimetype": mimetype.encode(), "content.xml": b"<office:document-content/>"})


@pytest.mark.parametrize("data, expected", [
    (PDF, "application/pdf"),
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20), "image/jpeg"),
    (b"GIF89a" + bytes(20), "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    ("Eleven sa: ”jag slår dig”.\r\nKlass 8B\tåäö\n".encode(), TEXT),
    (b"\xef\xbb\xbfmed BOM\n", TEXT),
    (docx(), DOCX),
    (zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), XLSX),
    (odf(ODT), ODT),
    # refused:
    (EXE, None),
    ("Elev på skolan".encode("latin-1"), None),                        # not UTF-8
    (b"text with a NUL \x00 inside", None),
    (zipped({"payload.exe": EXE}), None),                              # a zip archive is not a document
    (docx(**{"word/vbaProject.bin": b"macro"}), None),                 # a macro-enabled document
    (odf("application/x-something"), None),
    (b"PK\x03\x04 broken zip", None),
    (b"\x00\x00\x00\x18ftypisom", None),                               # MP4 video: not on the list
])
def test_the_type_is_decided_by_the_content(tmp_path, data, expected):
    path = tmp_path / "upload"
    path.write_bytes(data)
    assert detect_type(path) == expected


@pytest.mark.parametrize("name, content_type, expected", [
    ("rapport.pdf", "application/pdf", "rapport.pdf"),
    ("RAPPORT.PDF", "application/pdf", "RAPPORT.PDF"),
    ("virus.exe", "application/pdf", "virus.exe.pdf"),
    ("../../etc/passwd", TEXT, "passwd.txt"),
    ("C:\\Users\\anna\\bild.jpeg", "image/jpeg", "bild.jpeg"),
    ('a"b\r\nc.png', "image/png", "a_b__c.png"),
    (".hidden", TEXT, "hidden.txt"),
    ("", "application/pdf", "attachment.pdf"),
    ("x" * 300 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),   # 200 characters
])
def test_download_names_are_safe_and_match_the_content(name, content_type, expected):
    assert safe_filename(name, content_type) == expected


@pytest.fixture
def store(tmp_path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments")


def upload(db, actor, store, case, data: bytes, name: str = "fil.pdf", limit: int = 1024 * 1024):
    return add_attachment(db, actor, store, case.id, io.BytesIO(data), name, limit)


def test_a_file_is_stored_once_by_its_hash(db, filing, people, store):
    first_case, second_case = filing.threat(), filing.fire()
    first = upload(db, people.handler, store, first_case, PDF)
    second = upload(db, people.handler, store, second_case, PDF, name="kopia.pdf")
    assert first.sha256 == second.sha256 and first.id != second.id
    stored = [p for p in store.root.rglob("*") if p.is_file()]
    assert stored == [store.path_for(first.sha256)]        # one file, no temporary left behind
    assert stored[0].read_bytes() == PDF
    assert (first.content_type, first.size, first.filename) == ("application/pdf", len(PDF), "fil.pdf")
    assert timeline(db, first_case, "attachment_added") == [
        ("attachment_added", f"attachments[{first.id}]", None, "fil.pdf", people.handler.user_id, "")]


def test_a_renamed_program_is_refused_and_nothing_is_kept(db, filing, people, store):
    case = filing.threat()
    with pytest.raises(ValidationFailed) as excinfo:
        upload(db, people.handler, store, case, EXE, name="intyg.pdf")
    assert list(errors_of(excinfo)) == ["file"]
    with pytest.raises(ValidationFailed):
        upload(db, people.handler, store, case, b"", name="tom.txt")
    assert not [p for p in store.root.rglob("*") if p.is_file()]
    assert list_attachments(db, people.handler, case.id) == []


def test_the_size_limit_counts_the_bytes_actually_sent(db, filing, people, store):
    case = filing.threat()
    upload(db, people.handler, store, case, PDF, limit=len(PDF))   # exactly the limit is fine
    with pytest.raises(AttachmentTooLarge):
        upload(db, people.handler, store, case, PDF + b" ", limit=len(PDF))
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1


def test_only_whoever_handles_the_case_uploads(db, filing, people, store):
    case = filing.threat()
    with pytest.raises(Forbidden):
        upload(db, people.safety_rep, store, case, PDF)
    with pytest.raises(NotFound):
        upload(db, people.other_handler, store, case, PDF)


def downloads(db) -> list[tuple]:
    return [(e.case_id, e.user_id, e.detail) for e in db.scalars(
        select(AccessLogEntry).where(AccessLogEntry.action == "download"))]


def test_downloads_follow_the_access_rules_and_each_is_logged(db, filing, people, store):
    threat, secret = filing.threat(), filing.victimisation()[0]
    ordinary = upload(db, people.handler, store, threat, PDF)
    confidential = upload(db, people.handler, store, secret, PNG, name="bild.png")

    attachment, path = open_attachment(db, people.safety_rep, store, threat.id, ordinary.id)
    assert attachment == ordinary and path.read_bytes() == PDF
    assert downloads(db) == [(threat.id, people.safety_rep.user_id, f"attachment {ordinary.id}")]   # any case
    with pytest.raises(NotFound):
        open_attachment(db, people.safety_rep, store, secret.id, confidential.id)   # never a kränkning case
    with pytest.raises(NotFound):
        open_attachment(db, people.handler, store, threat.id, confidential.id)      # not this case's file
    open_attachment(db, people.principal_org, store, secret.id, confidential.id)
    assert downloads(db)[1:] == [(secret.id, people.principal_org.user_id, f"attachment {confidential.id}")]


def test_a_serious_cases_downloads_are_logged_too(db, filing, people, store):
    threat = filing.threat()
    attachment = upload(db, people.handler, store, threat, PDF)
    threat.serious = True
    db.commit()
    open_attachment(db, people.handler, store, threat.id, attachment.id)
    assert downloads(db) == [(threat.id, people.handler.user_id, f"attachment {attachment.id}")]


def test_housekeeping_removes_old_files_no_attachment_refers_to(db, filing, people, store):
    case = filing.threat()
    kept = upload(db, people.handler, store, case, PDF)
    db.commit()
    # A placed file whose upload's transaction failed, or whose erasure's process died; an upload cut off midway.
    orphan_tmp, orphan_sha, _size = store.receive(io.BytesIO(PNG), 1024)
    store.place(orphan_tmp, orphan_sha)
    dead_upload = store.root / "tmp" / "tmpdeadupload"
    dead_upload.write_bytes(b"half a photo")
    young_tmp, young_sha, _size = store.receive(io.BytesIO(PDF + b"young"), 1024)   # an upload in progress
    store.place(young_tmp, young_sha)
    now = datetime.now(timezone.utc)
    two_days_ago = (now - timedelta(days=2)).timestamp()
    for path in (store.path_for(kept.sha256), store.path_for(orphan_sha), dead_upload):
        os.utime(path, (two_days_ago, two_days_ago))

    assert remove_orphan_files(db, store.root, now) == 2
    assert store.path_for(kept.sha256).is_file()          # referenced: kept however old
    assert store.path_for(young_sha).is_file()            # within the grace: its transaction may commit yet
    assert not store.path_for(orphan_sha).exists() and not dead_upload.exists()
    assert remove_orphan_files(db, store.root, now) == 0
    assert remove_orphan_files(db, store.root / "absent", now) == 0
