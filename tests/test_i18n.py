"""The message catalogues: every message of the source translated, and workers that start together on a fresh
checkout all boot."""
from __future__ import annotations

import os
import shutil
import threading

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kia.i18n import TRANSLATIONS, ensure_compiled
from tests.conftest import REPO_ROOT


def test_every_message_of_the_source_has_a_swedish_translation(tmp_path, monkeypatch):
    # Extracted as `make messages` does, so a string added without `make messages` and a translation fails here.
    monkeypatch.chdir(REPO_ROOT)
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "lazy_gettext",
                                "-o", str(template), "--no-location", "."])
    with template.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        swedish = {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}
    missing = sorted(str(msgid) for msgid in wanted if not swedish.get(msgid))
    assert not missing, f"{len(missing)} messages without Swedish (make messages, then translate):\n" + "\n".join(missing)


def test_workers_compiling_a_fresh_checkouts_catalogue_together_all_succeed(tmp_path):
    # `make run` on a fresh clone: no .mo yet (it is not in git), and gunicorn boots its workers at once.
    for attempt in range(10):
        directory = tmp_path / f"checkout{attempt}"
        shutil.copytree(TRANSLATIONS, directory, ignore=shutil.ignore_patterns("*.mo", "*.tmp"))
        start = threading.Barrier(8)
        failures: list[BaseException] = []

        def boot_worker():
            start.wait()
            try:
                ensure_compiled(directory)
            except BaseException as error:  # noqa: BLE001 – any failure kills the worker
                failures.append(error)

        workers = [threading.Thread(target=boot_worker) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        mo_path = directory / "sv" / "LC_MESSAGES" / "messages.mo"
        with mo_path.open("rb") as handle:
            assert read_mo(handle).get("Sign in").string == "Logga in"
        assert sorted(p.name for p in mo_path.parent.iterdir()) == ["messages.mo", "messages.po"]


def test_a_catalogue_is_recompiled_when_its_po_file_is_newer(tmp_path):
    directory = tmp_path / "checkout"
    shutil.copytree(TRANSLATIONS, directory, ignore=shutil.ignore_patterns("*.mo", "*.tmp"))
    ensure_compiled(directory)
    po_path = directory / "sv" / "LC_MESSAGES" / "messages.po"
    po_path.write_text(po_path.read_text(encoding="utf-8").replace('msgstr "Logga in"', 'msgstr "Logga på"'),
                       encoding="utf-8")
    mo_path = po_path.with_suffix(".mo")
    stale = mo_path.stat().st_mtime
    os.utime(po_path, (stale + 10, stale + 10))
    ensure_compiled(directory)
    with mo_path.open("rb") as handle:
        assert read_mo(handle).get("Sign in").string == "Logga på"

