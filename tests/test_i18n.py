"""Compiling the message catalogues: workers that start together on a fresh checkout all boot."""
from __future__ import annotations

import os
import shutil
import threading

from babel.messages.mofile import read_mo

from kia.i18n import TRANSLATIONS, ensure_compiled


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


def test_every_message_of_the_catalogue_is_translated_into_swedish():
    # `make messages` extracts the source into messages.pot and updates the Swedish catalogue from it.
    from babel.messages.pofile import read_po

    with (TRANSLATIONS / "messages.pot").open(encoding="utf-8") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    with (TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po").open(encoding="utf-8") as handle:
        swedish = read_po(handle)
    assert extracted - {m.id for m in swedish if m.id} == set(), "run `make messages`"
    assert [m.id for m in swedish if m.id and (not m.string or m.fuzzy)] == []
