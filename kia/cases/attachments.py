"""Attachments: the type is decided by the bytes (never the declared type or name), files are kept outside
the web root named by their SHA-256 (so stored once), and read only through the case's access rules."""
from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.lookup import handled_case, visible_case
from kia.cases.models import Attachment, Case
from kia.cases.read_log import log_case_read
from kia.cases.timeline import AS_REPORTER, record
from kia.errors import N_, DomainError, FieldErrors, Msg, NotFound
from kia.incidents.models import Incident

CHUNK = 64 * 1024
TEXT = "text/plain; charset=utf-8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

# The allow-list: content type -> the file name extensions that go with it (the first is added if missing).
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",), "image/webp": (".webp",), "image/heic": (".heic",), "image/heif": (".heif",),
    TEXT: (".txt", ".csv", ".log"),
    DOCX: (".docx",), XLSX: (".xlsx",), PPTX: (".pptx",), ODT: (".odt",), ODS: (".ods",), ODP: (".odp",),
}
MAGIC = [(b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
         (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif")]
# ISO base media "ftyp" brands of phone photos (iPhones save HEIC).
HEIF_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"hevc": "image/heic", b"hevx": "image/heic",
               b"heim": "image/heic", b"heis": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif"}
OOXML_MAIN_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
ODF_TYPES = {ODT, ODS, ODP}
# Office macros run code: refused even inside an otherwise allowed document.
MACRO_PARTS = re.compile(r"(^|/)vbaProject\.bin$|^(Basic|Scripts)/", re.IGNORECASE)
ARCHIVE_TYPES = {DOCX, XLSX, PPTX, ODT, ODS, ODP}   # zip archives inside
# A document unpacks to at most this many times its size, and to at most this many times the size limit: real Office
# files stay far below (text XML deflates some 5-20 times), a zip bomb (a megabyte that unpacks to gigabytes) does not.
UNPACK_RATIO, UNPACK_LIMIT_FACTOR = 100, 10
# A name with a folder in it is refused, not cut down: a browser sends the bare name, so a path is a client's mistake
# or a try at the store ("../../etc/passwd"), and the file is better sent again under the name its sender meant.
PATH_IN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.\.?$")
# C0 controls other than tab, newline, form feed and carriage return mark a binary file, not text.
BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class AttachmentTooLarge(DomainError):
    status = 413
    title = N_("The file is too large.")


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any(MACRO_PARTS.search(name) for name in names):
                return None
            if "mimetype" in names:   # OpenDocument: a stored "mimetype" entry names the type
                with archive.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
            if "[Content_Types].xml" in names:
                return next((t for part, t in OOXML_MAIN_PARTS.items() if part in names), None)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        pass
    return None


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                if BINARY_CONTROLS.search(decoder.decode(chunk)):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def unpacks_within(path: Path, packed: int, limit: int) -> bool:
    """Whether the archive unpacks to at most `limit` bytes and UNPACK_RATIO times its `packed` size. The sizes its
    directory declares are checked first, then every entry is unpacked (into nothing), so one that lies about its
    size is caught too (zipfile stops at the declared size and then fails the CRC)."""
    budget = min(limit, UNPACK_RATIO * packed)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if sum(entry.file_size for entry in entries) > budget:
                return False
            for entry in entries:
                with archive.open(entry) as unpacked:
                    while chunk := unpacked.read(CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            return False
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return False
    return True


def detect_type(path: Path) -> str | None:
    """The allowed content type of the file's bytes, or None when it is not on the allow-list."""
    with path.open("rb") as handle:
        head = handle.read(64)
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF_BRANDS[head[8:12]]
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    return TEXT if _is_utf8_text(path) else None


UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]')


def safe_filename(name: str, content_type: str) -> str:
    """The name as a download may carry it: no path, no control or reserved characters, and an extension
    that matches the content (so "report.exe" holding a PDF is offered as "report.exe.pdf")."""
    base = UNSAFE_IN_NAME.sub("_", re.split(r"[/\\]", name or "")[-1]).strip().lstrip(".") or "attachment"
    extensions = ALLOWED[content_type]
    if not base.lower().endswith(extensions):
        base += extensions[0]
    if len(base) > 200:
        stem, dot, extension = base.rpartition(".")
        base = stem[: 199 - len(extension)] + dot + extension
    return base


class AttachmentStore:
    """Files under <instance>/attachments/ab/abcdef… by SHA-256: written once, atomically, never changed."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def receive(self, stream: BinaryIO, max_bytes: int) -> tuple[Path, str, int]:
        """Copy the upload to a temporary file beside the store, hashing it; refuses more than max_bytes
        whatever the request claimed. Returns (temporary path, sha256, size); the caller places or drops it."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=tmp_dir)   # owner-only permissions
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise AttachmentTooLarge(Msg(N_("A file may be at most %(mib)s MiB."),
                                                     {"mib": round(max_bytes / 2**20, 1)}))
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, digest.hexdigest(), size

    def place(self, tmp_path: Path, sha256: str) -> None:
        """Move the received file to its name; the same bytes stored before are kept and the copy dropped."""
        final = self.path_for(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            # link() never replaces: two uploads of the same bytes racing here both end with one file.
            os.link(tmp_path, final)
        except FileExistsError:
            pass
        finally:
            tmp_path.unlink(missing_ok=True)


# A file younger than this may be an upload whose transaction has not committed yet; a temporary file this old
# is from an upload that never finished (its process died).
ORPHAN_GRACE = timedelta(days=1)


def remove_orphan_files(session: Session, root: Path, now: datetime, grace: timedelta = ORPHAN_GRACE) -> int:
    """Remove what the store holds that no attachment refers to: a file whose upload's transaction failed after
    it was placed, one whose attachment gallring erased when the process died before removing it (personal data
    that must go), and the temporary files of uploads that never finished. One of the store's 256 folders at a
    time, so memory stays bounded whatever the store's size. How many files went."""
    if not root.is_dir():
        return 0
    older_than = (now - grace).timestamp()
    removed = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        old = {path.name: path for path in folder.iterdir()
               if path.is_file() and path.stat().st_mtime < older_than}
        if folder.name != "tmp" and old:
            referenced = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(list(old)))))
            old = {name: path for name, path in old.items() if name not in referenced}
        for path in old.values():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def add_attachment(session: Session, actor: Actor, store: AttachmentStore, case_id: int, stream: BinaryIO,
                   filename: str, max_bytes: int) -> Attachment:
    """Store an uploaded file on a case the actor handles. 413 over max_bytes, 422 for a type not allowed.
    A file stored before the commit fails stays: it is named by its content and reused by the next upload."""
    return _store_on(session, actor, store, handled_case(session, actor, case_id), stream, filename, max_bytes, "")


def attach_to_own_report(session: Session, actor: Actor, store: AttachmentStore, incident_id: int,
                         stream: BinaryIO, filename: str, max_bytes: int) -> Attachment:
    """A reporter adds a file to the report they filed under their name (it goes on its first case): they do
    not handle the case, but the photo of the damage or the threatening message is theirs to give."""
    case = session.scalar(select(Case).join(Case.incident).where(
        Case.incident_id == incident_id, Incident.reporter_id == actor.user_id).order_by(Case.id).limit(1))
    if case is None:
        raise NotFound(N_("No such incident."))
    return _store_on(session, actor, store, case, stream, filename, max_bytes, AS_REPORTER)


def _store_on(session: Session, actor: Actor, store: AttachmentStore, case: Case, stream: BinaryIO,
              filename: str, max_bytes: int, note: str) -> Attachment:
    errors = FieldErrors()
    if PATH_IN_NAME.search(filename):   # before a byte is received: nothing to drop
        errors.add("file", N_("The file name may not contain a folder (/ or \\) or control characters: "
                              "send the file under its own name."))
        errors.raise_if_any()
    tmp_path, sha256, size = store.receive(stream, max_bytes)
    content_type = detect_type(tmp_path) if size else None
    if not size:
        errors.add("file", N_("The file is empty."))
    elif content_type is None:
        errors.add("file", N_("This kind of file is not accepted. Send PDF, images (JPEG, PNG, GIF, WebP, HEIC), "
                              "plain text or Office/OpenDocument documents without macros."))
    elif content_type in ARCHIVE_TYPES and not unpacks_within(tmp_path, size, UNPACK_LIMIT_FACTOR * max_bytes):
        errors.add("file", N_("This document unpacks to far more than its size (more than %(ratio)s times, or over "
                              "%(mib)s MiB): it is not accepted."),
                   ratio=UNPACK_RATIO, mib=round(UNPACK_LIMIT_FACTOR * max_bytes / 2**20))
    if errors:
        tmp_path.unlink(missing_ok=True)
        errors.raise_if_any()
    store.place(tmp_path, sha256)
    attachment = Attachment(case_id=case.id, filename=safe_filename(filename, content_type),
                            content_type=content_type, size=size, sha256=sha256, uploaded_by_id=actor.user_id)
    session.add(attachment)
    session.flush()
    record(session, case, actor.user_id, "attachment_added", field=f"attachments[{attachment.id}]",
           new=attachment.filename, note=note)
    session.commit()
    return attachment


def list_attachments(session: Session, actor: Actor, case_id: int) -> list[Attachment]:
    case = visible_case(session, actor, case_id)
    return list(session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)))


def open_attachment(session: Session, actor: Actor, store: AttachmentStore, case_id: int,
                    attachment_id: int) -> tuple[Attachment, Path]:
    """An attachment of a case the actor may read, and where its bytes are. The download is written to the read
    log, committed before the file is sent."""
    case: Case = visible_case(session, actor, case_id)
    attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                         Attachment.case_id == case.id))
    if attachment is None:
        raise NotFound(N_("No such attachment."))
    path = store.path_for(attachment.sha256)
    if not path.is_file():
        raise NotFound(N_("The file of this attachment is missing."))
    log_case_read(session, actor, case, "download", detail=f"attachment {attachment.id}")
    return attachment, path
