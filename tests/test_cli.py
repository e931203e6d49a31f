"""The `kia` command line, run against a real SQLite database in a temporary instance folder."""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
from contextlib import closing, contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from kia.app import create_app
from kia.auth.models import ApiToken
from kia.auth.passwords import verify_password
from kia.cli import main
from kia.config import SETTINGS_DOC, Settings
from kia.db import make_engine
from kia.incidents.models import Incident, IncidentType
from kia.orgs.models import User
from kia.retention.models import RetentionRule
from tests.conftest import REPO_ROOT

TZ = ZoneInfo("Europe/Stockholm")
DEMO_ADMIN = "admin@demo.kia.stockholm.se"
DEMO_REPORTER = "medarbetare@demo.kia.stockholm.se"

GRAFFITI_TYPE = {
    "code": "graffiti",
    "name": {"sv": "Klotter", "en": "Graffiti"},
    "category": "safety",
    "fields": [
        {"key": "surface", "type": "choice", "required": True, "label": {"sv": "Yta", "en": "Surface"},
         "choices": [{"value": "wall", "sv": "Vägg", "en": "Wall"}, {"value": "door", "sv": "Dörr", "en": "Door"}]},
        {"key": "offensive", "type": "boolean", "label": {"sv": "Kränkande innehåll", "en": "Offensive content"}},
    ],
}


class Cli:
    """`kia` with its settings pointing at one temporary instance folder and SQLite file."""

    def __init__(self, instance: Path):
        self.instance = instance
        self.url = f"sqlite:///{instance / 'cli.db'}"
        # None unsets the variable: the secret key must come from the instance folder.
        self.env = {"KIA_INSTANCE_PATH": str(instance), "KIA_DATABASE_URL": self.url, "KIA_SECRET_KEY": None}
        self.runner = CliRunner()

    def __call__(self, *args: str):
        # Exceptions propagate: a traceback is a failure, a refusal is an exit code and a message.
        return self.runner.invoke(main, list(args), env=self.env, catch_exceptions=False)

    @contextmanager
    def session(self):
        engine = make_engine(self.url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def count(self, model, *where) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))

    @contextmanager
    def app_client(self):
        """The web/API app on the same database, as a server started from this instance would run it."""
        app = create_app(Settings(instance_path=self.instance, database_url=self.url, secret_key="cli-test",
                                  timezone=TZ, session_cookie_secure=False))
        try:
            yield app.test_client()
        finally:
            app.extensions["kia"].session_factory.kw["bind"].dispose()


@pytest.fixture
def kia(tmp_path) -> Cli:
    return Cli(tmp_path)


def _copy_database(source: Path, target: Path) -> None:
    # SQLite's backup API: a consistent copy even while the source's WAL is not checkpointed.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> Path:
    """A migrated database with the demo organisation (no incidents), built once by the commands themselves."""
    builder = Cli(tmp_path_factory.mktemp("demo-template"))
    assert builder("db", "upgrade").exit_code == 0
    assert builder("demo-data").exit_code == 0
    template = builder.instance / "template.db"
    _copy_database(builder.instance / "cli.db", template)
    return template


@pytest.fixture
def demo_kia(kia, demo_database) -> Cli:
    """`kia` on a private copy of the demo database."""
    _copy_database(demo_database, kia.instance / "cli.db")
    return kia


def test_db_upgrade_creates_the_schema_and_the_13_built_in_types_and_can_run_again(kia):
    first = kia("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert re.search(r"\b13 (built-in )?event types", first.output)
    with kia.session() as session:
        tables = set(inspect(session.get_bind()).get_table_names())
    assert {"org_units", "users", "memberships", "api_tokens", "incident_types", "incidents", "cases",
            "alembic_version"} <= tables
    assert kia.count(IncidentType) == 13

    second = kia("db", "upgrade")
    assert second.exit_code == 0, second.output
    assert re.search(r"\b0 (built-in )?event types", second.output)
    assert kia.count(IncidentType) == 13


def test_db_is_new_exits_0_until_the_demo_data_is_loaded_then_1(kia):
    assert kia("db", "is-new").exit_code == 0  # no tables at all yet
    kia("db", "upgrade")
    assert kia("db", "is-new").exit_code == 0  # schema, but no org units
    kia("demo-data")
    assert kia("db", "is-new").exit_code == 1


def test_demo_data_runs_once_and_files_the_requested_number_of_incidents(kia):
    kia("db", "upgrade")
    first = kia("demo-data", "--incidents", "5")
    assert first.exit_code == 0, first.output
    assert "Demo organisation and users created." in first.output
    assert "5 incidents filed." in first.output
    users = kia.count(User)

    again = kia("demo-data")
    assert again.exit_code == 0, again.output
    assert "Demo organisation already present." in again.output
    assert kia.count(User) == users
    assert kia.count(Incident) == 5


def test_db_upgrade_seeds_the_retention_rules_and_gallring_runs_once_a_night(kia):
    kia("db", "upgrade")
    assert re.search(r"\b13 retention rules", kia("db", "upgrade").output) is None   # the migration seeded them
    with kia.session() as session:
        assert session.scalar(select(func.count()).select_from(RetentionRule)) == 13
    first = kia("gallring", "run", "--now", "2030-01-01T02:30")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Gallring as of 2030-01-01T02:30:00+01:00: 0 records")
    again = kia("gallring", "run", "--now", "2030-01-01T03:00")
    assert again.output == "Gallring has already run this night.\n"
    assert kia("gallring", "run", "--now", "not-a-time").exit_code == 2


def test_users_create_makes_a_user_with_a_role_per_unit_and_a_working_password(demo_kia):
    result = demo_kia("users", "create", "--email", "Ny.Rektor@Example.se", "--name", "Nora Ny",
                      "--password", "ett-långt-lösenord", "--role", "handler", "--unit", "ENGEL",
                      "--role", "reporter", "--unit", "ADOLF", "--language", "en")
    assert result.exit_code == 0, result.output
    assert "User ny.rektor@example.se created" in result.output
    with demo_kia.session() as session:
        user = session.scalar(select(User).where(User.email == "ny.rektor@example.se"))
        assert user.name == "Nora Ny"
        assert user.language == "en"
        assert {(m.role.value, m.org_unit.code) for m in user.memberships} == {("handler", "ENGEL"),
                                                                              ("reporter", "ADOLF")}
        assert verify_password(user.password_hash, "ett-långt-lösenord")
        assert not verify_password(user.password_hash, "fel-lösenord-här")


@pytest.mark.parametrize("args, message", [
    (["--email", "inte-en-adress", "--password", "tillräckligt-långt"], "email: Not a valid e-mail address."),
    (["--password", "kort"], "password: A password has at least 10 characters."),
    (["--password", "tillräckligt-långt", "--role", "boss", "--unit", "ENGEL"], "roles[0].role: Unknown role: boss."),
    (["--password", "tillräckligt-långt", "--role", "handler", "--unit", "NOPE"],
     "roles[0].unit: No such org unit: NOPE."),
    (["--password", "tillräckligt-långt", "--role", "handler", "--role", "reporter", "--unit", "ENGEL"],
     "Give one --unit for every --role."),
], ids=["bad-email", "short-password", "unknown-role", "unknown-unit", "role-without-unit"])
def test_users_create_refuses_bad_input_naming_the_problem_and_creates_nothing(demo_kia, args, message):
    users_before = demo_kia.count(User)
    if "--email" not in args:
        args = ["--email", "ny@example.se", *args]
    result = demo_kia("users", "create", "--name", "Ny Användare", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert demo_kia.count(User) == users_before


def test_tokens_create_prints_a_token_that_authenticates_against_the_api(demo_kia):
    result = demo_kia("tokens", "create", "--email", DEMO_REPORTER, "--scopes", "incidents:read, incidents:write")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"kia_[A-Za-z0-9_-]{40,}", token)
    with demo_kia.session() as session:
        stored = session.scalar(select(ApiToken))
        # Only the hash is kept, and the scopes as given (spaces around the commas ignored).
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.scope_set == {"incidents:read", "incidents:write"}
        assert stored.user.email == DEMO_REPORTER

    with demo_kia.app_client() as client:
        types = client.get("/api/v1/incident-types", headers={"Authorization": f"Bearer {token}"})
        assert types.status_code == 200
        assert len(types.get_json()) == 13
        assert client.get("/api/v1/incident-types").status_code == 401
        assert client.get("/api/v1/incident-types", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_readme_curl_example_files_an_incident_with_a_cli_token(demo_kia):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    body = json.loads(re.search(r"-d '(\{.*?\})'", readme, re.S).group(1))
    token = demo_kia("tokens", "create", "--email", DEMO_REPORTER,
                     "--scopes", "incidents:read,incidents:write").stdout.strip()
    with demo_kia.app_client() as client:
        response = client.post("/api/v1/incidents", json=body,
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "demo-1"})
    assert response.status_code == 201, response.get_json()
    assert re.fullmatch(r"UTBF-2026-\d{5}", response.get_json()["number"])


@pytest.mark.parametrize("args, message", [
    (["--email", DEMO_REPORTER, "--scopes", "incidents:read,root"], "scopes: Unknown scope: root."),
    (["--email", DEMO_REPORTER, "--scopes", " , "], "scopes: At least one scope is required."),
    (["--email", "nobody@example.se", "--scopes", "incidents:read"], "No user with e-mail nobody@example.se."),
], ids=["unknown-scope", "no-scope", "unknown-email"])
def test_tokens_create_refuses_bad_input_and_stores_no_token(demo_kia, args, message):
    result = demo_kia("tokens", "create", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""  # nothing a script could take for a token
    assert demo_kia.count(ApiToken) == 0


def test_types_add_adds_a_type_that_can_be_filed_at_once(demo_kia, tmp_path):
    spec = tmp_path / "graffiti.json"
    spec.write_text(json.dumps(GRAFFITI_TYPE, ensure_ascii=False), encoding="utf-8")
    result = demo_kia("types", "add", str(spec), "--admin-email", DEMO_ADMIN)
    assert result.exit_code == 0, result.output
    assert "Event type graffiti added." in result.output

    token = demo_kia("tokens", "create", "--email", DEMO_REPORTER,
                     "--scopes", "incidents:read,incidents:write").stdout.strip()
    body = {"type": "graffiti", "org_unit": "ENGEL", "occurred_at": "2026-01-12T07:40",
            "description": "Klotter på skolgårdens vägg.", "fields": {"surface": "wall", "offensive": True}}
    with demo_kia.app_client() as client:
        headers = {"Authorization": f"Bearer {token}"}
        listed = {t["code"]: t for t in client.get("/api/v1/incident-types", headers=headers).get_json()}
        assert listed["graffiti"]["name"] == {"sv": "Klotter", "en": "Graffiti"}
        assert [f["key"] for f in listed["graffiti"]["fields"]] == ["surface", "offensive"]
        filed = client.post("/api/v1/incidents", json=body, headers=headers)
        assert filed.status_code == 201, filed.get_json()
        wrong_choice = client.post("/api/v1/incidents", headers=headers,
                                   json={**body, "fields": {"surface": "roof"}})
        assert wrong_choice.status_code == 422
        assert "fields.surface" in wrong_choice.get_json()["errors"]


@pytest.mark.parametrize("content, message", [
    ('{"code": "graffiti", ', "is not valid JSON"),
    ('[{"code": "graffiti"}]', "must hold one JSON object"),
    (json.dumps({**GRAFFITI_TYPE, "category": "weather"}), "category: Must be one of:"),
    (json.dumps({**GRAFFITI_TYPE, "fields": "surface"}), "fields: Not a valid list."),
    (json.dumps({**GRAFFITI_TYPE, "code": "Klotter!"}), "code: A code is lower-case letters, digits and _"),
    (json.dumps({**GRAFFITI_TYPE, "code": "threat_violence"}), "code: The code is already in use."),
    (json.dumps({**GRAFFITI_TYPE, "fields": [{**GRAFFITI_TYPE["fields"][0], "choices": []}]}),
     "fields[0].choices: A choice field needs at least one choice."),
], ids=["invalid-json", "not-an-object", "unknown-category", "fields-not-a-list", "bad-code", "code-in-use",
        "choice-without-choices"])
def test_types_add_refuses_an_invalid_file_with_a_message_per_problem(demo_kia, tmp_path, content, message):
    spec = tmp_path / "type.json"
    spec.write_text(content, encoding="utf-8")
    result = demo_kia("types", "add", str(spec), "--admin-email", DEMO_ADMIN)
    assert result.exit_code == 2
    assert message in result.output
    assert demo_kia.count(IncidentType) == 13


@pytest.mark.parametrize("email, message", [
    (DEMO_REPORTER, "Only an administrator of the whole organisation may add event types."),
    ("nobody@example.se", "No user with e-mail nobody@example.se."),
])
def test_types_add_is_refused_unless_by_an_administrator(demo_kia, tmp_path, email, message):
    spec = tmp_path / "graffiti.json"
    spec.write_text(json.dumps(GRAFFITI_TYPE), encoding="utf-8")
    result = demo_kia("types", "add", str(spec), "--admin-email", email)
    assert result.exit_code == 2
    assert message in result.output
    assert demo_kia.count(IncidentType, IncidentType.code == "graffiti") == 0


def _variables_read_by_the_code() -> set[str]:
    names = set()
    for package in ("kia", "api", "web", "notifications"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"[\"'](KIA_[A-Z_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def test_settings_lists_every_kia_variable_the_code_reads(kia):
    result = kia("settings")
    assert result.exit_code == 0
    listed = set(re.findall(r"^(KIA_[A-Z_]+)  \(default: ", result.output, re.M))
    assert listed == set(SETTINGS_DOC)
    assert _variables_read_by_the_code() <= listed
    assert "KIA_SECRET_KEY  (default: generated into <instance>/secret_key)" in result.output


def test_the_readmes_settings_table_lists_every_setting():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.partition("## Settings")[2].partition("\n## ")[0]
    assert sorted(re.findall(r"^\| `(KIA_[A-Z_]+)` \|", table, re.M)) == sorted(SETTINGS_DOC)


def test_every_command_works_in_a_fresh_interpreter(tmp_path):
    """In the test process every model module is already imported; a real `kia` starts without them."""
    cli = Cli(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "KIA_SECRET_KEY"}
    env.update(KIA_INSTANCE_PATH=str(tmp_path), KIA_DATABASE_URL=cli.url)
    spec = tmp_path / "graffiti.json"
    spec.write_text(json.dumps(GRAFFITI_TYPE), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "import sys; from kia.cli import main; sys.exit(main())", *args],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    for args in (["db", "upgrade"], ["demo-data", "--incidents", "3"],
                 ["users", "create", "--email", "ny@example.se", "--name", "Ny", "--password", "tillräckligt-långt",
                  "--role", "handler", "--unit", "ENGEL"],
                 ["tokens", "create", "--email", "ny@example.se", "--scopes", "incidents:read"],
                 ["types", "add", str(spec), "--admin-email", DEMO_ADMIN], ["settings"],
                 ["gallring", "run", "--now", "2026-12-05T02:30"]):
        completed = run(*args)
        assert completed.returncode == 0, (args, completed.stderr)
    assert run("db", "is-new").returncode == 1


def test_secret_key_is_generated_once_into_the_instance_folder_owner_only(tmp_path, monkeypatch):
    instance = tmp_path / "instance"  # not there yet: from_env creates it
    monkeypatch.delenv("KIA_SECRET_KEY", raising=False)
    monkeypatch.delenv("KIA_DATABASE_URL", raising=False)
    monkeypatch.setenv("KIA_INSTANCE_PATH", str(instance))

    first = Settings.from_env()
    key_file = instance / "secret_key"
    assert len(first.secret_key) >= 40
    assert key_file.read_text() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.database_url == f"sqlite:///{instance / 'kia.db'}"

    assert Settings.from_env().secret_key == first.secret_key
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]  # no temporary files left

    monkeypatch.setenv("KIA_SECRET_KEY", "configured-on-every-host")
    assert Settings.from_env().secret_key == "configured-on-every-host"
    assert key_file.read_text() == first.secret_key


def test_workers_starting_together_on_a_fresh_instance_share_one_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("KIA_SECRET_KEY", raising=False)
    for attempt in range(20):
        instance = tmp_path / f"instance{attempt}"
        monkeypatch.setenv("KIA_INSTANCE_PATH", str(instance))
        start = threading.Barrier(8)
        keys: list[str] = []

        def start_worker():
            start.wait()
            keys.append(Settings.from_env().secret_key)

        workers = [threading.Thread(target=start_worker) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(set(keys)) == 1 and keys[0], keys
        assert (instance / "secret_key").read_text() == keys[0]

