"""Message catalogues (Swedish first, English msgids): compiled from the .po files when they change."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("sv", "en")   # Swedish first
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def ensure_compiled(directory: Path = TRANSLATIONS) -> Path:
    """Compile every messages.po whose .mo is missing or older, so a checkout never serves stale text."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        # A temporary file of this process's own: gunicorn's workers boot together on a fresh checkout,
        # and with one shared name the first rename left the others without their file (worker failed to boot).
        fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, prefix=".messages.", suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                write_mo(handle, catalog)
            os.chmod(tmp_name, 0o644)  # mkstemp makes it owner-only; the catalogue is not secret
            os.replace(tmp_name, mo_path)  # atomic: parallel workers never read a half-written file
        except BaseException:
            os.unlink(tmp_name)
            raise
    return directory
