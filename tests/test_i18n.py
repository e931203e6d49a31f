"""The message catalogues: every message of the source translated, and workers that start together on a fresh
checkout all boot."""
from __future__ import annotations

import ast
import os
import shutil
import threading

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kia.i18n import TRANSLATIONS, ensure_compiled
from tests.conftest import REPO_ROOT


GETTEXT_NAMES = {"_", "gettext", "lazy_gettext", "N_", "ngettext"}
SOURCE_PACKAGES = ("kia", "api", "web", "notifications")


def extracted(tmp_path) -> set:
    """The msgids `make messages` extracts (run from the repository's root)."""
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "lazy_gettext",
                                "-o", str(template), "--no-location", "."])
    with template.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def swedish_catalogue() -> dict:
    with (TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}


def test_every_message_of_the_source_has_a_swedish_translation(tmp_path, monkeypatch):
    # Extracted as `make messages` does, so a string added without `make messages` and a translation fails here.
    monkeypatch.chdir(REPO_ROOT)
    swedish = swedish_catalogue()
    missing = sorted(str(msgid) for msgid in extracted(tmp_path) if not swedish.get(msgid))
    assert not missing, f"{len(missing)} messages without Swedish (make messages, then translate):\n" + "\n".join(missing)


def test_no_message_of_the_python_source_hides_from_extraction(tmp_path, monkeypatch):
    """Every _("…") the Python source holds is one pybabel extracts. Its extractor reads tokens, and a call
    inside an f-string's braces is no token of its own: "The same figures are in the table below." in the
    lägesbild chart's f-string never reached the catalogue, and the Swedish page said it in English. The
    syntax tree sees every call, in f-strings too."""
    monkeypatch.chdir(REPO_ROOT)
    called = set()
    for package in SOURCE_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    called.add((node.args[0].value, f"{path.relative_to(REPO_ROOT)}:{node.lineno}"))
    wanted = {msgid[0] if isinstance(msgid, tuple) else msgid for msgid in extracted(tmp_path)}  # plurals: singular
    hidden = sorted(f"{where}: {msgid!r}" for msgid, where in called if msgid not in wanted)
    assert called
    assert not hidden, "messages pybabel does not extract (call _() outside the f-string):\n" + "\n".join(hidden)


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



def test_the_templates_follow_a_forced_and_a_refreshed_language(app):
    # The templates' catalogue is kept for the request: forcing another language, and refreshing after a change,
    # must still give the language asked for.
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    template = "{{ _('Sign in') }}"
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert render_template_string(template) == "Logga in"
        with force_locale("en"):
            assert render_template_string(template) == "Sign in"
        assert render_template_string(template) == "Logga in"
    with app.test_request_context("/"):
        session["language"] = "sv"
        assert render_template_string(template) == "Logga in"
        session["language"] = "en"
        refresh()
        assert render_template_string(template) == "Sign in"
